"""``zhnews show``: one article as stored, with what ingest removed and why."""

from __future__ import annotations

from pathlib import Path


def show_article(article_id: str, out: str | Path | None = None) -> int:
    import pyarrow.compute as pc

    from pipeline.runner import default_out_dir
    from pipeline.store import Store

    store = Store(Path(out) if out else default_out_dir())
    table = store.read("articles")
    rows = table.filter(pc.starts_with(table["article_id"], article_id)).to_pylist()
    if not rows:
        print(f"no article whose id starts with {article_id!r}")
        return 1
    for row in rows:
        print(f"{row['article_id']}  {row['source_path']} #{row['part_index']}")
        for key in ("title", "outlet", "author", "url", "published_date", "encoding", "script", "region", "spin_score", "is_spun", "near_duplicate_of"):
            print(f"  {key:17} {row[key]}")
        print(f"  quality_flags     {', '.join(row['quality_flags'])}")
        print(f"\n--- removed by ingest ({len(row['removed'])} line(s)) ---")
        for item in row["removed"]:
            print(f"  [{item['rule']}] {item['text'][:100]}")
        print("\n--- text_final ---")
        print(row["text_final"])
    return 0
