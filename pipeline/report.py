"""``zhnews report``: a static HTML report of the datasets, readable offline.

Aggregates come from DuckDB over the Parquet files (so a large corpus is never loaded
whole); charts are matplotlib figures inlined as SVG with their text kept as text (the
browser's CJK fonts draw it); article views highlight entities with spaCy's displacy.
Nothing is fetched at view time: no scripts, fonts or styles from the network.
"""

from __future__ import annotations

import html
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipeline.config import load_config, project_path

STANCE_ORDER = ["bullish", "mixed", "neutral", "skeptical"]


class ReportError(Exception):
    """The report cannot be built (no datasets, unreadable tables)."""


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    html: str


# -- data ---------------------------------------------------------------------------------


class Corpus:
    """DuckDB views over the table directories of one dataset root."""

    def __init__(self, root: Path) -> None:
        import duckdb

        if not (root / "articles").is_dir() or not any((root / "articles").glob("*.parquet")):
            raise ReportError(f"{root}: no datasets here (run `zhnews run` first)")
        self.con = duckdb.connect()
        for table in ("articles", "stance", "mentions", "entities", "claims", "quantities", "spin_edits", "rejects", "runs"):
            files = (root / table).as_posix() + "/*.parquet"
            if any((root / table).glob("*.parquet")):
                self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{files}', union_by_name = true)")
            else:
                raise ReportError(f"{root}: table {table} is missing; run `zhnews validate` for details")

    def rows(self, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(query, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def value(self, query: str) -> Any:
        return self.con.execute(query).fetchone()[0]


# -- charts -------------------------------------------------------------------------------


# Text stays text in the SVG; the browser draws it with its CJK fonts. matplotlib only
# measures it, with a CJK font when one is installed (else it warns per glyph: silenced).
CHART_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "zhnews",
    "font.sans-serif": ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"],
}


def _svg(fig) -> str:
    import warnings

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(CHART_STYLE), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prolog or doctype


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def _count_axis(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def bar_chart(labels: list[str], values: list[float], title: str) -> str:
    fig, ax = _figure(6, max(1.5, 0.35 * len(labels) + 0.8))
    _count_axis(ax.xaxis)
    ax.barh(labels[::-1], values[::-1], color="#5c6bc0")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def stacked_stance_chart(outlets: list[str], counts: dict[str, list[int]], colors: dict[str, str]) -> str:
    fig, ax = _figure(7, max(1.5, 0.4 * len(outlets) + 1))
    _count_axis(ax.xaxis)
    left = [0] * len(outlets)
    for label in STANCE_ORDER:
        vals = counts[label]
        ax.barh(outlets[::-1], vals[::-1], left=left[::-1], color=colors.get(label, "#888"), label=label)
        left = [a + b for a, b in zip(left, vals)]
    ax.set_title("article stance by outlet")
    ax.legend(loc="lower right", fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def heatmap(names: list[str], matrix: list[list[int]]) -> str:
    size = max(3.0, 0.45 * len(names) + 1.5)
    fig, ax = _figure(size, size)
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    ax.set_title("articles naming both entities")
    fig.colorbar(image, ax=ax, shrink=0.6)
    return _svg(fig)


def claims_chart(rows: list[dict[str, Any]]) -> str:
    years = sorted({r["year"] for r in rows})
    metrics = sorted({r["metric"] for r in rows}, key=lambda m: -sum(r["n"] for r in rows if r["metric"] == m))[:6]
    fig, ax = _figure(7, 3)
    _count_axis(ax.yaxis)
    for metric in metrics:
        counts = {r["year"]: r["n"] for r in rows if r["metric"] == metric}
        ax.plot(years, [counts.get(y, 0) for y in years], marker="o", label=metric)
    ax.set_title("claims with figures per period year, by metric")
    ax.set_xticks(years, [str(y) for y in years])
    ax.legend(fontsize="small", ncols=2)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


# -- html helpers -------------------------------------------------------------------------


def esc(value: Any) -> str:
    return "" if value is None else html.escape(str(value))


def table(headers: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{esc(c)}</td>' if i in numeric else f"<td>{c if isinstance(c, Markup) else esc(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Markup(str):
    """HTML built here (already escaped), to be placed as it is."""


def article_link(article_id: str, label: str, viewed: set[str]) -> Markup | str:
    if article_id in viewed:
        return Markup(f'<a href="articles/{esc(article_id)}.html">{esc(label)}</a>')
    return label


# -- sections -----------------------------------------------------------------------------


def overview(c: Corpus) -> Section:
    stats = {
        "articles": c.value("SELECT count(*) FROM articles"),
        "characters": c.value("SELECT coalesce(sum(n_chars), 0) FROM articles"),
        "outlets": c.value("SELECT count(DISTINCT outlet) FROM articles"),
        "entities": c.value("SELECT count(*) FROM entities"),
        "claims": c.value("SELECT count(*) FROM claims"),
        "rejected inputs": c.value("SELECT count(*) FROM rejects"),
        "runs": c.value("SELECT count(*) FROM runs"),
    }
    numbers = "".join(f'<span class="stat"><b>{v:,}</b>{esc(k)}</span>' for k, v in stats.items())
    outlets = c.rows("SELECT coalesce(outlet, '(unknown)') AS outlet, count(*) AS n FROM articles GROUP BY 1 ORDER BY n DESC, outlet LIMIT 25")
    scripts = c.rows("SELECT script, region, count(*) AS n FROM articles GROUP BY ALL ORDER BY n DESC, script, region")
    charts = bar_chart([r["outlet"] for r in outlets], [r["n"] for r in outlets], "articles per outlet")
    body = (
        f"<p>{numbers}</p><div class='figures'>{charts}</div>"
        + table(["script", "region", "articles"], [[r["script"], r["region"], r["n"]] for r in scripts], {2})
    )
    return Section("overview", "Corpus", body)


def stance_section(c: Corpus, colors: dict[str, str]) -> Section:
    rows = c.rows(
        """SELECT coalesce(a.outlet, '(unknown)') AS outlet, s.label, count(*) AS n, avg(s.score) AS mean
           FROM stance s JOIN articles a USING (article_id) WHERE s.scope = 'article' GROUP BY ALL"""
    )
    outlets = sorted({r["outlet"] for r in rows}, key=lambda o: -sum(r["n"] for r in rows if r["outlet"] == o))[:25]
    counts = {label: [sum(r["n"] for r in rows if r["outlet"] == o and r["label"] == label) for o in outlets] for label in STANCE_ORDER}
    means = c.rows(
        """SELECT coalesce(a.outlet, '(unknown)') AS outlet, count(*) AS n, avg(s.score) AS mean FROM stance s
           JOIN articles a USING (article_id) WHERE s.scope = 'article' GROUP BY 1 ORDER BY mean DESC, outlet"""
    )
    chart = stacked_stance_chart(outlets, counts, colors) if outlets else "<p class='muted'>no stance rows</p>"
    listing = table(
        ["outlet", "articles", *STANCE_ORDER, "mean score"],
        [[m["outlet"], m["n"], *(counts[label][outlets.index(m["outlet"])] if m["outlet"] in outlets else "" for label in STANCE_ORDER),
          f"{m['mean']:+.2f}"] for m in means],
        {1, 2, 3, 4, 5, 6},
    )
    return Section("stance", "Stance by outlet", f"<div class='figures'>{chart}</div>{listing}")


def entities_section(c: Corpus, top_n: int, matrix_n: int) -> Section:
    top = c.rows(f"SELECT entity_id, name, label, mention_count FROM entities ORDER BY mention_count DESC, entity_id LIMIT {int(top_n)}")
    listing = table(["entity", "label", "mentions", "id"], [[r["name"], r["label"], r["mention_count"], r["entity_id"]] for r in top], {2})
    ids = [r["entity_id"] for r in top[:matrix_n]]
    names = [r["name"] for r in top[:matrix_n]]
    pairs = c.rows(
        """WITH m AS (SELECT DISTINCT article_id, entity_id FROM mentions)
           SELECT a.entity_id AS x, b.entity_id AS y, count(*) AS n FROM m a JOIN m b
             ON a.article_id = b.article_id AND a.entity_id < b.entity_id GROUP BY ALL ORDER BY n DESC, x, y"""
    )
    matrix = [[0] * len(ids) for _ in ids]
    for p in pairs:
        if p["x"] in ids and p["y"] in ids:
            i, j = ids.index(p["x"]), ids.index(p["y"])
            matrix[i][j] = matrix[j][i] = p["n"]
    name_of = {r["entity_id"]: r["name"] for r in c.rows("SELECT entity_id, name FROM entities")}
    pair_table = table(["entity", "entity", "articles"], [[name_of.get(p["x"], p["x"]), name_of.get(p["y"], p["y"]), p["n"]] for p in pairs[:20]], {2})
    chart = heatmap(names, matrix) if len(ids) >= 2 else ""
    body = f"<div class='figures'>{chart}</div><h3>Most mentioned</h3>{listing}<h3>Named together most often</h3>{pair_table}"
    return Section("entities", "Entities", body)


def claims_section(c: Corpus, limit: int, viewed: set[str]) -> Section:
    per_year = c.rows(
        """SELECT TRY_CAST(substr(period_norm, 1, 4) AS INTEGER) AS year, metric, count(*) AS n FROM claims
           WHERE metric IS NOT NULL AND TRY_CAST(substr(period_norm, 1, 4) AS INTEGER) IS NOT NULL GROUP BY ALL"""
    )
    rows = c.rows(
        f"""SELECT c.article_id, c.period_norm, c.metric, c.aspect, c.kind, c.hedged, c.speaker,
                   coalesce(e.name, c.subject_text) AS subject, a.outlet,
                   string_agg(q.surface, '; ' ORDER BY q.start) AS figures
            FROM claims c JOIN articles a USING (article_id)
            LEFT JOIN entities e ON e.entity_id = c.subject_entity_id
            LEFT JOIN quantities q ON q.article_id = c.article_id AND list_contains(c.quantity_ids, q.quantity_id)
            WHERE c.metric IS NOT NULL
            GROUP BY ALL ORDER BY c.period_norm DESC NULLS LAST, c.article_id, c.metric LIMIT {int(limit)}"""
    )
    chart = claims_chart(per_year) if per_year else "<p class='muted'>no claims with a dated period</p>"
    listing = table(
        ["period", "subject", "metric", "figures", "aspect", "kind", "hedged", "speaker", "outlet"],
        [[r["period_norm"], r["subject"], r["metric"], r["figures"], r["aspect"], r["kind"], "yes" if r["hedged"] else "",
          r["speaker"], article_link(r["article_id"], r["outlet"] or "(article)", viewed)] for r in rows],
    )
    return Section("claims", "Claims with figures over time", f"<div class='figures'>{chart}</div>{listing}")


def spin_section(c: Corpus, limit: int, viewed: set[str]) -> Section:
    spun = c.rows(
        """SELECT a.article_id, a.title, a.outlet, a.spin_score, count(e.start) AS edits FROM articles a
           LEFT JOIN spin_edits e USING (article_id) WHERE a.is_spun GROUP BY ALL ORDER BY a.spin_score DESC, a.article_id"""
    )
    if not spun:
        return Section("spin", "Spun articles", "<p class='muted'>no article was found spun</p>")
    edits = c.rows(
        f"""SELECT e.article_id, e.spun, e.restored, e.confidence,
                   substring(a.text_normalized, greatest(e.start - 7, 0) + 1, least(e.start, 8)) AS before,
                   substring(a.text_normalized, e."end" + 1, 8) AS after
            FROM spin_edits e JOIN articles a USING (article_id)
            ORDER BY e.confidence DESC, e.article_id, e.start LIMIT {int(limit)}"""
    )
    articles = table(
        ["article", "outlet", "spin score", "edits"],
        [[article_link(r["article_id"], r["title"] or r["article_id"], viewed), r["outlet"], f"{r['spin_score']:.2f}", r["edits"]] for r in spun],
        {2, 3},
    )
    edit_rows = [
        [Markup(f"…{esc(r['before'])}<del>{esc(r['spun'])}</del><ins>{esc(r['restored'])}</ins>{esc(r['after'])}…"),
         r["spun"], r["restored"], f"{r['confidence']:.2f}"]
        for r in edits
    ]
    return Section("spin", "Spun articles and their restorations",
                   articles + "<h3>Restorations (most confident first)</h3>" + table(["in context", "spun", "restored", "confidence"], edit_rows, {3}))


# -- article views -------------------------------------------------------------------------


def article_ids_to_view(c: Corpus, limit: int) -> list[str]:
    rows = c.rows(f"SELECT article_id FROM articles ORDER BY published_date DESC NULLS LAST, article_id LIMIT {int(limit)}")
    return [r["article_id"] for r in rows]


def article_page(c: Corpus, article_id: str, colors: dict[str, str]) -> tuple[str, str]:
    """(title, body HTML) of one article: metadata, stance, entities highlighted, claims."""
    from spacy import displacy

    art = c.rows("SELECT title, outlet, published_date, script, region, text_final FROM articles WHERE article_id = ?", [article_id])[0]
    ents = c.rows('SELECT start, "end", label FROM mentions WHERE article_id = ? ORDER BY start', [article_id])
    stance = c.rows("SELECT label, score, evidence FROM stance WHERE article_id = ? AND scope = 'article'", [article_id])
    claims = c.rows("SELECT metric, period_norm, speaker, text FROM claims WHERE article_id = ? ORDER BY start", [article_id])
    rendered = displacy.render(
        [{"text": art["text_final"], "ents": ents, "title": None}],
        style="ent", manual=True, page=False, jupyter=False, options={"colors": colors, "ents": sorted(colors)},
    )
    title = art["title"] or article_id
    meta = table(["outlet", "published", "script", "region", "stance"],
                 [[art["outlet"], art["published_date"], art["script"], art["region"],
                   f"{stance[0]['label']} ({stance[0]['score']:+.2f})" if stance else ""]])
    evidence = f"<p class='muted'>stance evidence: {esc(stance[0]['evidence'])}</p>" if stance else ""
    claim_table = table(["metric", "period", "speaker", "claim"], [[r["metric"], r["period_norm"], r["speaker"], r["text"]] for r in claims])
    body = (f"<p><a href='../index.html'>← report</a></p><h1>{esc(title)}</h1>{meta}{evidence}"
            f"<h2>Text with entities</h2>{rendered}<h2>Claims</h2>{claim_table}")
    return title, body


# -- the report ----------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("pipeline", "templates"), autoescape=select_autoescape(["j2", "html"]))
    from markupsafe import Markup as SafeMarkup

    return env.get_template("report.html.j2").render(title=title, body=SafeMarkup(body))


def build_report(
    out: str | Path | None = None,
    dest: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write ``dest/index.html`` and ``dest/articles/<id>.html``; the index's path."""
    from pipeline.runner import default_out_dir

    emit = progress or (lambda _m: None)
    cfg = load_config("report")
    root = Path(out) if out else default_out_dir()
    target = Path(dest) if dest else project_path("report")
    corpus = Corpus(root)
    viewed_ids = article_ids_to_view(corpus, int(cfg["max_articles"]))
    viewed = set(viewed_ids)
    emit("report: aggregating")
    sections = [
        overview(corpus),
        stance_section(corpus, cfg["stance_colors"]),
        entities_section(corpus, int(cfg["top_entities"]), int(cfg["cooccurrence_size"])),
        claims_section(corpus, int(cfg["max_claims"]), viewed),
        spin_section(corpus, int(cfg["max_spin_edits"]), viewed),
    ]
    if target.exists():
        shutil.rmtree(target / "articles", ignore_errors=True)
    (target / "articles").mkdir(parents=True, exist_ok=True)
    emit(f"report: {len(viewed_ids)} article view(s)")
    links = []
    for article_id in viewed_ids:
        title, body = article_page(corpus, article_id, cfg["entity_colors"])
        (target / "articles" / f"{article_id}.html").write_text(_page(title, body), encoding="utf-8")
        links.append([article_link(article_id, title, viewed)])
    sections.append(Section("articles", "Articles", table(["article (entities highlighted)"], links)))
    nav = "<nav>" + "".join(f"<a href='#{s.anchor}'>{esc(s.title)}</a>" for s in sections) + "</nav>"
    body = f"<h1>zhnews corpus report</h1>{nav}" + "".join(f"<h2 id='{s.anchor}'>{esc(s.title)}</h2>{s.html}" for s in sections)
    index = target / "index.html"
    index.write_text(_page("zhnews corpus report", body), encoding="utf-8")
    return index
