"""``zhnews report``: a static HTML report of the datasets, readable offline.

One ``index.html`` (corpus overview, stance by outlet, entities and their
co-occurrence, claims with figures, spin restorations) and one page per viewed
article in ``articles/`` with its entities highlighted by spaCy's displacy.

Tables are read column by column through :class:`pipeline.store.Store`; text columns
are read only for the articles that are shown. Charts are matplotlib figures inlined
as SVG whose text stays text, so the browser's own CJK fonts draw the Chinese labels.
Nothing is fetched at view time: no scripts, fonts or styles from the network.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from matplotlib.figure import Figure
from spacy import displacy

from pipeline.config import load_config, project_path
from pipeline.runner import default_out_dir
from pipeline.schemas import SCHEMAS
from pipeline.store import Store, StoreError

STANCE_LABELS = ("bullish", "mixed", "neutral", "skeptical")
SENTENCE_LABELS = ("bullish", "neutral", "skeptical")
UNKNOWN_OUTLET = "(unknown)"
UNDATED = "undated"
OTHER = "other"

# Text stays text in the SVG (the browser draws it); matplotlib only measures it, with
# the first of these fonts it finds. A fixed salt makes the SVG ids reproducible.
CHART_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "zhnews",
    "font.sans-serif": [
        "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "PingFang SC",
        "Microsoft YaHei", "DejaVu Sans",
    ],
}
BAR_COLOR = "#5c6bc0"
# Shown before a figure for its qualifier (``quantities.approx``).
APPROX_SIGNS = {
    "about": "≈", "nearly": "≲", "over": ">", "under": "<", "at_least": "≥", "at_most": "≤",
}
# Largest first: 2.0e11 CNY reads 2,000亿 CNY.
SCALE_WORDS = ((1e12, "万亿"), (1e8, "亿"), (1e4, "万"))


class ReportError(Exception):
    """The report cannot be built (no datasets, a broken config)."""


@dataclass(frozen=True)
class ReportSettings:
    """``configs/report.yaml``; see the comments there."""

    max_outlets: int
    stance_target: str
    top_entities: int
    cooccurrence_size: int
    cooccurrence_pool: int
    top_pairs: int
    claim_chart_metrics: int
    max_claims: int
    max_spun_articles: int
    max_spin_edits: int
    spin_context_chars: int
    max_articles: int
    stance_colors: dict[str, str]
    entity_colors: dict[str, str]

    @classmethod
    def load(cls) -> ReportSettings:
        cfg = load_config("report")
        missing = [f.name for f in fields(cls) if f.name not in cfg]
        if missing:
            raise ReportError(f"configs/report.yaml lacks {', '.join(missing)}")
        return cls(**{f.name: cfg[f.name] for f in fields(cls)})


# -- reading ------------------------------------------------------------------------------


def open_dataset(out: str | Path | None) -> Store:
    """The store at ``out`` (default: the configured outputs); ReportError if it holds no data."""
    root = Path(out) if out is not None else default_out_dir()
    try:
        store = Store(root)
    except StoreError as exc:
        raise ReportError(str(exc)) from exc
    if not store.root.is_dir():
        raise ReportError(f"no dataset directory at {root}: run `zhnews run --out {root}` first")
    if not store.committed_parts("articles"):
        raise ReportError(
            f"{root} holds no datasets (no articles table): run `zhnews run --out {root}` first"
        )
    return store


def read_table(store: Store, table: str, columns: list[str]) -> pd.DataFrame:
    return store.read(table, columns).to_pandas()


def read_where(
    store: Store, table: str, columns: list[str], key: str, values: Iterable[str]
) -> pd.DataFrame:
    """The rows of ``table`` whose ``key`` is one of ``values`` (filtered while scanning)."""
    wanted = sorted(set(values))
    parts = store.committed_parts(table)
    if not wanted or not parts:
        return SCHEMAS[table].empty_table().select(columns).to_pandas()
    dataset = ds.dataset([str(p) for p in parts], schema=SCHEMAS[table], format="parquet")
    return dataset.to_table(columns=columns, filter=ds.field(key).isin(wanted)).to_pandas()


def read_articles(store: Store) -> pd.DataFrame:
    """Metadata of every article (no text columns)."""
    columns = [
        "article_id", "title", "outlet", "published_date", "script", "region", "n_chars",
        "spin_score", "is_spun",
    ]
    articles = read_table(store, "articles", columns)
    if articles.empty:
        raise ReportError(
            f"{store.root} holds no articles yet: run `zhnews run --out {store.root}` first"
        )
    articles["outlet"] = articles["outlet"].fillna(UNKNOWN_OUTLET)
    articles["published_date"] = pd.to_datetime(articles["published_date"])
    return articles


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with every missing value (NaN, NA, NaT) as None, for the templates."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def ranked(values: pd.Series) -> pd.DataFrame:
    """``name``/``count`` of each distinct value, commonest first, ties by name."""
    counts = values.value_counts().rename_axis("name").reset_index()
    return counts.sort_values(["count", "name"], ascending=[False, True], ignore_index=True)


def ranked_counts(values: pd.Series, limit: int) -> pd.DataFrame:
    """The ``limit`` commonest values as by :func:`ranked`, then one row summing the rest."""
    counts = ranked(values)
    top, rest = counts.head(limit), counts.iloc[limit:]
    if rest.empty:
        return top
    other = pd.DataFrame({"name": [f"{len(rest)} more"], "count": [int(rest["count"].sum())]})
    return pd.concat([top, other], ignore_index=True)


# -- formatting ---------------------------------------------------------------------------


def format_number(x: float) -> str:
    for size, word in SCALE_WORDS:
        if abs(x) >= size:
            return f"{x / size:,.4g}{word}"
    return f"{x:,.4g}"


def format_quantity(
    value: float | None, low: float | None, high: float | None, unit: str | None, approx: str | None
) -> str:
    """A normalized figure for reading: ``≈80亿 CNY``, ``20亿–90亿 CNY``, ``>90%``."""
    if pd.notna(value):
        number = format_number(value)
    elif pd.notna(low) and pd.notna(high):
        number = f"{format_number(low)}–{format_number(high)}"
    elif pd.notna(low) or pd.notna(high):
        number = format_number(low if pd.notna(low) else high)
    else:
        return ""
    sign = APPROX_SIGNS.get(approx, "") if isinstance(approx, str) else ""
    suffix = "" if not isinstance(unit, str) else unit if unit == "%" else f" {unit}"
    return f"{sign}{number}{suffix}"


def short(label: str, width: int = 18) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def page_name(article_id: str) -> str:
    """The article view's file name (ids are content hashes; anything else is made safe)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", article_id) + ".html"


# -- charts -------------------------------------------------------------------------------


def figure_svg(fig: Figure, name: str) -> Markup:
    """The figure as an inline ``<svg>`` (no XML prolog, no metadata), ids prefixed by ``name``."""
    buf = io.StringIO()
    with matplotlib.rc_context(CHART_STYLE), warnings.catch_warnings():
        # Without any CJK font installed, matplotlib warns per glyph it cannot measure.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(
            buf, format="svg", bbox_inches="tight",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buf.getvalue()
    return Markup(scope_ids(text[text.index("<svg"):], name))


def scope_ids(svg: str, prefix: str) -> str:
    """Prefix the SVG's ids and the references to them: all charts share one HTML page."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)


def new_axes(width: float, height: float) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def bar_chart(name: str, labels: list[str], values: list[int], title: str) -> Markup:
    """Horizontal bars, first label on top."""
    fig, ax = new_axes(5.5, 0.8 + 0.3 * len(labels))
    ax.barh([short(x) for x in labels][::-1], values[::-1], color=BAR_COLOR)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, loc="left")
    return figure_svg(fig, name)


def stacked_bar_chart(
    name: str,
    categories: list[str],
    stacks: dict[str, list[int]],
    colors: dict[str, str],
    notes: list[str],
    title: str,
) -> Markup:
    """Horizontal bars stacked by ``stacks`` keys, one note written after each bar."""
    fig, ax = new_axes(7.5, 1.2 + 0.35 * len(categories))
    y = np.arange(len(categories))[::-1]
    left = np.zeros(len(categories))
    for label, counts in stacks.items():
        ax.barh(y, counts, left=left, color=colors.get(label, "#888888"), label=label)
        left += counts
    for row, total, note in zip(y, left, notes):
        ax.annotate(note, (total, row), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(y, [short(c) for c in categories])
    ax.set_xlim(0, left.max() * 1.2)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(ncols=len(stacks), loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, fontsize=8)
    ax.set_title(title, loc="left", pad=22)
    return figure_svg(fig, name)


def column_chart(name: str, categories: list[str], stacks: dict[str, list[int]], title: str) -> Markup:
    """Vertical bars stacked by ``stacks`` keys, colours from the tab10 cycle."""
    fig, ax = new_axes(7.5, 3.2)
    x = np.arange(len(categories))
    bottom = np.zeros(len(categories))
    palette = matplotlib.colormaps["tab10"].colors
    for i, (label, counts) in enumerate(stacks.items()):
        ax.bar(x, counts, bottom=bottom, color=palette[i % len(palette)], label=label, width=0.6)
        bottom += counts
    ax.set_xticks(x, categories)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.set_title(title, loc="left")
    return figure_svg(fig, name)


def heatmap_chart(name: str, names: list[str], matrix: np.ndarray, title: str) -> Markup:
    """A symmetric count matrix with its values written in the cells (NaN cells left blank)."""
    size = 1.8 + 0.42 * len(names)
    fig, ax = new_axes(size + 1.0, size)
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap="Blues", vmin=0)
    labels = [short(n, 10) for n in names]
    ax.set_xticks(range(len(names)), labels, rotation=90)
    ax.set_yticks(range(len(names)), labels)
    peak = np.nanmax(matrix)
    for (i, j), count in np.ndenumerate(matrix):
        if count > 0:  # False for NaN too
            ax.text(j, i, f"{count:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if count > peak / 2 else "#333333")
    fig.colorbar(image, ax=ax, shrink=0.6, label="articles")
    ax.set_title(title, loc="left")
    return figure_svg(fig, name)


# -- sections -----------------------------------------------------------------------------


def overview_section(store: Store, articles: pd.DataFrame, cfg: ReportSettings) -> dict[str, Any]:
    runs = read_table(store, "runs", ["run_id", "finished_at"])
    rejects = read_table(store, "rejects", ["reason"])
    outlets = ranked_counts(articles["outlet"], cfg.max_outlets)
    scripts = articles.groupby(["script", "region"], dropna=False).size().reset_index(name="count")
    scripts = scripts.sort_values(["count", "script", "region"], ascending=[False, True, True])
    script_labels = [f"{s or '?'} / {r or '?'}" for s, r in zip(scripts["script"], scripts["region"])]
    last_run = runs["finished_at"].max()
    return {
        "stats": [
            ("articles", f"{len(articles):,}"),
            ("characters", f"{int(articles['n_chars'].fillna(0).sum()):,}"),
            ("outlets", f"{articles['outlet'].nunique():,}"),
            ("spun articles", f"{int(articles['is_spun'].eq(True).sum()):,}"),
            ("runs", f"{len(runs):,}"),
            ("rejected inputs", f"{len(rejects):,}"),
        ],
        "last_run": last_run.strftime("%Y-%m-%d %H:%M UTC") if pd.notna(last_run) else None,
        "outlets": records(outlets),
        "outlet_chart": bar_chart(
            "outlets", outlets["name"].tolist(), outlets["count"].tolist(), "Articles per outlet"
        ),
        "scripts": records(scripts),
        "script_chart": bar_chart(
            "scripts", script_labels, scripts["count"].tolist(), "Articles per script / region"
        ),
        "rejects": records(ranked_counts(rejects["reason"].fillna("?"), cfg.max_outlets)),
    }


def stance_section(store: Store, articles: pd.DataFrame, cfg: ReportSettings) -> dict[str, Any]:
    stance = read_table(store, "stance", ["article_id", "scope", "target", "label", "score"])
    stance = stance[stance["target"] == cfg.stance_target]
    stance = stance.merge(articles[["article_id", "outlet"]], on="article_id")
    per_article = stance[stance["scope"] == "article"]
    per_sentence = stance[stance["scope"] == "sentence"]
    if per_article.empty:
        return {"target": cfg.stance_target, "rows": [], "chart": None}
    outlets = ranked(per_article["outlet"]).head(cfg.max_outlets)["name"].tolist()
    labels = pd.crosstab(per_article["outlet"], per_article["label"])
    labels = labels.reindex(index=outlets, columns=STANCE_LABELS, fill_value=0)
    sentences = pd.crosstab(per_sentence["outlet"], per_sentence["label"])
    sentences = sentences.reindex(index=outlets, columns=SENTENCE_LABELS, fill_value=0)
    means = per_article.groupby("outlet")["score"].mean().reindex(outlets)
    rows = [
        {
            "outlet": outlet,
            "articles": int(labels.loc[outlet].sum()),
            "labels": labels.loc[outlet].tolist(),
            "mean": means[outlet],
            "sentences": sentences.loc[outlet].tolist(),
        }
        for outlet in outlets
    ]
    chart = stacked_bar_chart(
        "stance",
        outlets,
        {label: labels[label].tolist() for label in STANCE_LABELS},
        cfg.stance_colors,
        [f"mean {m:+.2f}" for m in means],
        f"Article stance on the {cfg.stance_target} by outlet",
    )
    return {"target": cfg.stance_target, "rows": rows, "chart": chart}


def pair_counts(presence: pd.DataFrame) -> pd.DataFrame:
    """``a``, ``b``, ``articles``: how many articles name both entities, for each pair a < b."""
    both = presence.merge(presence, on="article_id", suffixes=("_a", "_b"))
    both = both[both["entity_id_a"] < both["entity_id_b"]]
    pairs = both.groupby(["entity_id_a", "entity_id_b"]).size().reset_index(name="articles")
    pairs.columns = ["a", "b", "articles"]
    return pairs.sort_values(["articles", "a", "b"], ascending=[False, True, True], ignore_index=True)


def cooccurrence_matrix(ids: list[str], pairs: pd.DataFrame) -> np.ndarray:
    """Pair counts among ``ids``, symmetric; the diagonal is NaN (an entity with itself says nothing)."""
    index = {entity_id: i for i, entity_id in enumerate(ids)}
    matrix = np.zeros((len(ids), len(ids)))
    np.fill_diagonal(matrix, np.nan)
    for a, b, n in pairs[["a", "b", "articles"]].itertuples(index=False):
        if a in index and b in index:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = n
    return matrix


def entities_section(store: Store, entities: pd.DataFrame, cfg: ReportSettings) -> dict[str, Any]:
    """``entities`` is sorted most mentioned first."""
    mentions = read_table(store, "mentions", ["article_id", "entity_id"]).dropna().drop_duplicates()
    article_counts = mentions.groupby("entity_id").size()
    top = entities.head(cfg.top_entities).copy()
    top["articles"] = top["entity_id"].map(article_counts).fillna(0).astype(int)
    # Pairs only among the most mentioned: the self-join stays small on any corpus.
    pool = entities.head(cfg.cooccurrence_pool)["entity_id"]
    pairs = pair_counts(mentions[mentions["entity_id"].isin(pool)])
    names = entities.set_index("entity_id")["name"]
    top_pairs = pairs.head(cfg.top_pairs).assign(name_a=lambda p: p["a"].map(names),
                                                 name_b=lambda p: p["b"].map(names))
    matrix_ids = entities.head(cfg.cooccurrence_size)["entity_id"].tolist()
    chart = heatmap = None
    if len(top):
        chart = bar_chart("entities", top["name"].tolist(), top["mention_count"].tolist(),
                          "Mentions of the most-mentioned entities")
    if len(matrix_ids) >= 2:
        heatmap = heatmap_chart("cooccurrence", names[matrix_ids].tolist(),
                                cooccurrence_matrix(matrix_ids, pairs), "Articles naming both entities")
    return {"top": records(top), "chart": chart, "heatmap": heatmap, "pairs": records(top_pairs)}


def claims_with_figures(store: Store, articles: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """One row per claim that carries figures: its readable figures, subject name, outlet, year."""
    claims = read_table(store, "claims", [
        "claim_id", "article_id", "start", "subject_entity_id", "subject_text", "metric",
        "quantity_ids", "period", "period_norm", "kind", "speaker", "hedged",
    ])
    links = claims[["claim_id", "quantity_ids"]].explode("quantity_ids").dropna()
    links = links.rename(columns={"quantity_ids": "quantity_id"})
    quantities = read_where(
        store, "quantities",
        ["quantity_id", "surface", "value", "value_low", "value_high", "unit", "approx"],
        "quantity_id", links["quantity_id"],
    )
    quantities["figure"] = [
        format_quantity(*row)
        for row in quantities[["value", "value_low", "value_high", "unit", "approx"]].itertuples(index=False)
    ]
    figures = links.merge(quantities, on="quantity_id").groupby("claim_id", sort=False).agg(
        figure=("figure", "; ".join), surface=("surface", "; ".join)
    )
    claims = claims.drop(columns="quantity_ids").merge(figures, on="claim_id")
    subject_names = claims["subject_entity_id"].map(entities.set_index("entity_id")["name"])
    claims["subject"] = subject_names.fillna(claims["subject_text"])
    claims = claims.merge(articles[["article_id", "outlet", "title", "published_date"]], on="article_id")
    # The year the figure is about; where the claim names no period, the year it was published.
    period_year = claims["period_norm"].str.extract(r"^(\d{4})", expand=False)
    claims["year"] = pd.to_numeric(period_year).fillna(claims["published_date"].dt.year).astype("Int64")
    return claims.sort_values(
        ["year", "period_norm", "published_date", "claim_id"],
        ascending=[False, False, False, True], na_position="last", ignore_index=True,
    )


def claims_section(claims: pd.DataFrame, viewed: set[str], cfg: ReportSettings) -> dict[str, Any]:
    shown = claims.head(cfg.max_claims).copy()
    shown["viewed"] = shown["article_id"].isin(viewed)
    shown["page"] = shown["article_id"].map(page_name)
    chart = claims_chart(claims, cfg.claim_chart_metrics) if len(claims) else None
    return {"total": len(claims), "rows": records(shown), "chart": chart}


def claims_chart(claims: pd.DataFrame, n_metrics: int) -> Markup:
    """Claims per year, stacked by metric: the ``n_metrics`` commonest, the rest as "other"."""
    metric = claims["metric"].fillna("(no metric)")
    common = ranked(metric).head(n_metrics)["name"].tolist()
    metric = metric.where(metric.isin(common), OTHER)
    year = claims["year"].astype("string").fillna(UNDATED)
    counts = pd.crosstab(year, metric)
    years = sorted(y for y in counts.index if y != UNDATED) + [y for y in counts.index if y == UNDATED]
    order = common + ([OTHER] if OTHER in counts.columns else [])
    counts = counts.reindex(index=years, columns=order, fill_value=0)
    return column_chart(
        "claims", years, {m: counts[m].tolist() for m in order},
        "Claims with figures per year (of the period, else of publication), by metric",
    )


def spin_section(
    store: Store, articles: pd.DataFrame, viewed: set[str], cfg: ReportSettings
) -> dict[str, Any]:
    spun = articles[articles["is_spun"].eq(True)]
    spun = spun.sort_values(["spin_score", "article_id"], ascending=[False, True])
    edit_counts = read_table(store, "spin_edits", ["article_id"])["article_id"].value_counts()
    shown = spun.head(cfg.max_spun_articles)
    edits = read_where(store, "spin_edits", ["article_id", "start", "end", "spun", "restored", "confidence"],
                       "article_id", shown["article_id"])
    texts = read_where(store, "articles", ["article_id", "text_normalized"], "article_id",
                       shown["article_id"])
    text_of = dict(zip(texts["article_id"], texts["text_normalized"]))
    listed = []
    for art in records(shown):
        article_id = art["article_id"]
        own = edits[edits["article_id"] == article_id].sort_values("start").head(cfg.max_spin_edits)
        text = text_of.get(article_id) or ""
        listed.append({
            **art,
            "edits": int(edit_counts.get(article_id, 0)),
            "rows": [in_context(text, edit, cfg.spin_context_chars) for edit in records(own)],
            "viewed": article_id in viewed,
            "page": page_name(article_id),
        })
    return {"total": len(spun), "articles": listed}


def in_context(text: str, edit: dict[str, Any], width: int) -> dict[str, Any]:
    """An edit with the ``width`` characters around it in ``text_normalized``."""
    start, end = edit["start"], edit["end"]
    return {**edit, "before": text[max(0, start - width):start], "after": text[end:end + width]}


# -- article views --------------------------------------------------------------------------


def articles_to_view(articles: pd.DataFrame, limit: int) -> list[str]:
    """Newest published first (undated last), ties by id: the same choice on every build."""
    ordered = articles.sort_values(
        ["published_date", "article_id"], ascending=[False, True], na_position="last"
    )
    return ordered["article_id"].head(limit).tolist()


def non_overlapping(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spans by start, dropping any that overlaps an earlier one (displacy needs disjoint spans)."""
    kept: list[dict[str, Any]] = []
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        if not kept or span["start"] >= kept[-1]["end"]:
            kept.append(span)
    return kept


def highlight_entities(text: str, mentions: list[dict[str, Any]], colors: dict[str, str]) -> Markup:
    """``text`` as HTML with each mention marked by displacy (which escapes the text)."""
    ents = [{"start": m["start"], "end": m["end"], "label": m["label"]} for m in non_overlapping(mentions)]
    rendered = displacy.render(
        [{"text": text, "ents": ents, "title": None}],
        style="ent", manual=True, page=False, jupyter=False, options={"colors": colors},
    )
    return Markup(rendered)


def article_views(
    store: Store, ids: list[str], claims: pd.DataFrame, cfg: ReportSettings
) -> list[dict[str, Any]]:
    """Everything an article page shows, for each of ``ids`` in that order."""
    texts = read_where(store, "articles", [
        "article_id", "title", "outlet", "author", "published_date", "url", "script", "region",
        "spin_score", "is_spun", "text_final",
    ], "article_id", ids)
    mentions = read_where(store, "mentions", ["article_id", "start", "end", "label"], "article_id", ids)
    stance = read_where(store, "stance", ["article_id", "scope", "target", "label", "score", "evidence"],
                        "article_id", ids)
    stance = stance[(stance["scope"] == "article") & (stance["target"] == cfg.stance_target)]
    stance_of = {row["article_id"]: row for row in records(stance)}
    claim_texts = read_where(store, "claims", ["claim_id", "text"], "article_id", ids)
    own_claims = claims[claims["article_id"].isin(ids)].merge(claim_texts, on="claim_id").sort_values("start")
    views = []
    for art in records(texts.set_index("article_id").loc[ids].reset_index()):
        article_id = art["article_id"]
        marks = records(mentions[mentions["article_id"] == article_id])
        views.append({
            **art,
            "title": art["title"] or article_id,
            "outlet": art["outlet"] or UNKNOWN_OUTLET,
            "page": page_name(article_id),
            "stance": stance_of.get(article_id),
            "claims": records(own_claims[own_claims["article_id"] == article_id]),
            "n_mentions": len(marks),
            "body": highlight_entities(art["text_final"] or "", marks, cfg.entity_colors),
        })
    return views


# -- pages --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline", "templates"),
        autoescape=True,  # every value is HTML-escaped unless it is Markup (charts, displacy output)
        undefined=StrictUndefined,
        finalize=lambda value: "" if value is None else value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["score"] = lambda x: "" if x is None else f"{x:+.2f}"
    env.filters["fixed"] = lambda x: "" if x is None else f"{x:.2f}"
    env.filters["day"] = lambda d: "" if d is None else d.strftime("%Y-%m-%d")
    return env


def write_pages(dest: Path, index_html: str, article_pages: dict[str, str]) -> Path:
    """Write the pages, removing article views of an earlier build that are no longer chosen."""
    pages = dest / "articles"
    pages.mkdir(parents=True, exist_ok=True)
    for stale in pages.glob("*.html"):
        if stale.name not in article_pages:
            stale.unlink()
    for name, text in article_pages.items():
        (pages / name).write_text(text, encoding="utf-8")
    index = dest / "index.html"
    index.write_text(index_html, encoding="utf-8")
    return index


def build_report(
    out: str | Path | None = None,
    dest: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the report of the datasets in ``out`` to ``dest``; returns ``dest/index.html``.

    ``out`` defaults to the configured outputs directory, ``dest`` to ``report/`` in the
    project. Raises :class:`ReportError` when ``out`` holds no datasets.
    """
    say = progress or (lambda _message: None)
    cfg = ReportSettings.load()
    store = open_dataset(out)
    target = Path(dest) if dest is not None else project_path("report")
    say(f"report: reading {store.root}")
    articles = read_articles(store)
    entities = read_table(store, "entities", ["entity_id", "name", "label", "mention_count"])
    entities = entities.sort_values(["mention_count", "entity_id"], ascending=[False, True],
                                    ignore_index=True)
    viewed_ids = articles_to_view(articles, cfg.max_articles)
    viewed = set(viewed_ids)
    claims = claims_with_figures(store, articles, entities)
    say("report: aggregating and charting")
    sections = {
        "overview": overview_section(store, articles, cfg),
        "stance": stance_section(store, articles, cfg),
        "entities": entities_section(store, entities, cfg),
        "claims": claims_section(claims, viewed, cfg),
        "spin": spin_section(store, articles, viewed, cfg),
    }
    say(f"report: {len(viewed_ids)} article view(s)")
    views = article_views(store, viewed_ids, claims, cfg)
    env = templates()
    colors = {"stance_colors": cfg.stance_colors, "entity_colors": cfg.entity_colors}
    article_page = env.get_template("article.html.j2")
    pages = {view["page"]: article_page.render(article=view, **colors) for view in views}
    index_html = env.get_template("report.html.j2").render(
        root=str(store.root), views=views, **sections, **colors
    )
    index = write_pages(target, index_html, pages)
    say(f"report: wrote {index}")
    return index
