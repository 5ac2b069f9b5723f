"""The data contract: one explicit pyarrow schema per output table.

Column names here are public (consumers and ``zhnews validate`` rely on them);
columns may be added, never renamed. ``KEYS`` says which column ties a row to
the unit it is replaced by when its input changes.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

_removal = pa.struct([("rule", pa.string()), ("text", pa.string())])

ARTICLES = pa.schema(
    [
        ("article_id", pa.string()),
        ("source_path", pa.string()),
        ("part_index", pa.int32()),
        ("outlet", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("url", pa.string()),
        ("published_date", pa.date32()),
        ("encoding", pa.string()),
        ("script", pa.string()),
        ("region", pa.string()),
        ("text_original", pa.string()),
        ("text_normalized", pa.string()),
        ("text_final", pa.string()),
        ("norm_offsets", pa.list_(pa.int32())),
        ("spin_score", pa.float64()),
        ("is_spun", pa.bool_()),
        ("quality_flags", pa.list_(pa.string())),
        ("removed", pa.list_(_removal)),
        ("near_duplicate_of", pa.string()),
        ("n_chars", pa.int32()),
        ("pipeline_version", pa.string()),
        ("run_id", pa.string()),
    ]
)

SENTENCES = pa.schema(
    [
        ("article_id", pa.string()),
        ("sent_index", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
    ]
)

SPIN_EDITS = pa.schema(
    [
        ("article_id", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("spun", pa.string()),
        ("restored", pa.string()),
        ("confidence", pa.float64()),
    ]
)

MENTIONS = pa.schema(
    [
        ("article_id", pa.string()),
        ("sent_index", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("label", pa.string()),
        ("entity_id", pa.string()),
        ("confidence", pa.float64()),
        ("detector", pa.string()),
    ]
)

# Corpus level: recomputed from all mentions at every commit.
ENTITIES = pa.schema(
    [
        ("entity_id", pa.string()),
        ("name", pa.string()),
        ("label", pa.string()),
        ("aliases", pa.list_(pa.string())),
        ("mention_count", pa.int64()),
    ]
)

QUANTITIES = pa.schema(
    [
        ("article_id", pa.string()),
        ("quantity_id", pa.string()),
        ("sent_index", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("surface", pa.string()),
        ("value", pa.float64()),
        ("value_low", pa.float64()),
        ("value_high", pa.float64()),
        ("unit", pa.string()),
        ("unit_kind", pa.string()),
        ("approx", pa.string()),
    ]
)

CLAIMS = pa.schema(
    [
        ("claim_id", pa.string()),
        ("article_id", pa.string()),
        ("sent_index", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("subject_entity_id", pa.string()),
        ("subject_text", pa.string()),
        ("metric", pa.string()),
        ("aspect", pa.string()),
        ("quantity_ids", pa.list_(pa.string())),
        ("period", pa.string()),
        ("period_norm", pa.string()),
        ("kind", pa.string()),
        ("speaker", pa.string()),
        ("speaker_entity_id", pa.string()),
        ("hedged", pa.bool_()),
        ("hedge_cue", pa.string()),
    ]
)

# One row per sentence (scope "sentence") and one per article (scope "article",
# sent_index null); score > 0 is bullish.
STANCE = pa.schema(
    [
        ("article_id", pa.string()),
        ("scope", pa.string()),
        ("sent_index", pa.int32()),
        ("target", pa.string()),
        ("target_kind", pa.string()),
        ("label", pa.string()),
        ("score", pa.float64()),
        ("evidence", pa.string()),
    ]
)

RUNS = pa.schema(
    [
        ("run_id", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("n_new", pa.int32()),
        ("n_unchanged", pa.int32()),
        ("n_failed", pa.int32()),
        ("n_removed", pa.int32()),
        ("n_files", pa.int32()),
        ("stage_seconds", pa.map_(pa.string(), pa.float64())),
        ("chars", pa.int64()),
        ("status", pa.string()),
        ("pipeline_version", pa.string()),
    ]
)

REJECTS = pa.schema(
    [
        ("source_path", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("run_id", pa.string()),
    ]
)

# Bookkeeping for incremental runs: which file (by content hash) produced which
# articles. Not part of the public contract, but written the same atomic way.
SOURCES = pa.schema(
    [
        ("source_path", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("article_ids", pa.list_(pa.string())),
        ("status", pa.string()),  # ok | rejected
        ("run_id", pa.string()),
    ]
)

# MinHash signatures of articles, to flag near-duplicates of new articles.
FINGERPRINTS = pa.schema(
    [
        ("article_id", pa.string()),
        ("minhash", pa.list_(pa.uint32())),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "sentences": SENTENCES,
    "spin_edits": SPIN_EDITS,
    "mentions": MENTIONS,
    "entities": ENTITIES,
    "quantities": QUANTITIES,
    "claims": CLAIMS,
    "stance": STANCE,
    "runs": RUNS,
    "rejects": REJECTS,
    "sources": SOURCES,
    "fingerprints": FINGERPRINTS,
}

# The column whose value identifies the rows to drop when their input is replaced.
KEYS: dict[str, str | None] = {
    "articles": "article_id",
    "sentences": "article_id",
    "spin_edits": "article_id",
    "mentions": "article_id",
    "entities": "entity_id",
    "quantities": "article_id",
    "claims": "article_id",
    "stance": "article_id",
    "rejects": "source_path",
    "sources": "source_path",
    "fingerprints": "article_id",
    "runs": None,  # append-only history
}

# Tables whose rows each slice a text column of ``articles`` (for validation).
SPAN_TABLES: dict[str, str] = {
    "sentences": "text_final",
    "spin_edits": "text_normalized",
    "mentions": "text_final",
    "quantities": "text_final",
    "claims": "text_final",
}


def empty_table(name: str) -> pa.Table:
    return SCHEMAS[name].empty_table()


def to_table(name: str, rows: list[dict]) -> pa.Table:
    """Build a table of the contract's schema from row dicts (missing keys → null)."""
    schema = SCHEMAS[name]
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
