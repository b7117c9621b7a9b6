"""The HTML pages of the report: the page shell, the index, and every page built from the
data alone (:func:`write_data_pages`): the data explorer (:mod:`.explorer_page`), one page
per operation (:mod:`.operation_pages`), the conflicts page (:mod:`.conflicts_page`) and
the CSV files beside them.

Everything is self-contained: styles and scripts are inline (the explorer's table library
too), charts are PNG data URIs, and nothing refers to another host except the ``<a href>``
links to each figure's source document. Every value that comes from the data is escaped
(``html.escape`` in markup, JSON with ``<``, ``>`` and ``&`` escaped inside script elements,
escaped strings in the explorer's cells), so a title or note containing markup shows as
text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..data.load import Dataset
from .notebook_run import TEMPLATE_DIR

STYLE = (TEMPLATE_DIR / "site.css").read_text(encoding="utf-8")


@dataclass(frozen=True)
class PageLink:
    """A rendered notebook page: file name and title."""

    file: str
    title: str


def page(title: str, body: str, pages: list[PageLink], version: str, *, root: str = "", wide: bool = False) -> str:
    """Wrap ``body`` (trusted HTML) in the site's page shell.

    ``root`` is the way back to the report's folder from the page ("" for a top-level
    page, "../" for ``operations/<id>.html``); ``wide`` lets the body use the full width
    of the window (the data explorer)."""
    nav = "".join(f'<a href="{root}{html.escape(p.file)}">{html.escape(p.title)}</a>' for p in pages)
    body_tag = '<body class="wide">' if wide else "<body>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · sting-outcomes</title><style>{STYLE}</style></head>\n"
        f"{body_tag}"
        f'<header class="site"><a href="{root}index.html"><strong>sting-outcomes</strong></a>{nav}'
        f'<a href="{root}index.html#operations">Operations</a><a href="{root}conflicts.html">Conflicts</a>'
        f'<a href="{root}explorer.html">Data explorer</a></header>\n'
        f"<main>\n{body}\n</main>\n"
        f"<footer>Dataset version {html.escape(version)}. Every number links to its source in the "
        f'<a href="{root}explorer.html">data explorer</a>.</footer>\n</body></html>\n'
    )


def index_body(ds: Dataset, pages: list[PageLink], inputs: dict[str, str]) -> str:
    """Body of ``index.html``: what the project is, the pages, the data, the build inputs."""
    kinds = ds.sources["source_kind"].value_counts()
    per_op = ds.figures.groupby("operation_id").size()
    ops = ds.operations.sort_values(["takedown_date", "operation_id"], kind="stable")
    op_rows = "\n".join(
        f'<tr><td><a href="operations/{html.escape(str(r.operation_id))}.html">{html.escape(str(r.name))}</a></td>'
        f"<td>{html.escape(str(r.target).replace('_', ' '))}</td>"
        f'<td>{html.escape(str(r.approach).replace("_", " "))}</td><td class="date">{r.takedown_date:%Y-%m-%d}</td>'
        f'<td class="num">{int(per_op.get(r.operation_id, 0)):,}</td></tr>'
        for r in ops.itertuples()
    )
    page_items = "\n".join(f'<li><a href="{html.escape(p.file)}">{html.escape(p.title)}</a></li>' for p in pages)
    input_rows = "\n".join(
        f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(v[:16])}</code></td></tr>" for k, v in inputs.items()
    )
    first, last = ds.figures["as_of"].min(), ds.figures["as_of"].max()
    findings = _findings_html(ds, {p.file for p in pages})
    return f"""<h1>sting-outcomes</h1>
<p>What do covert law-enforcement operations achieve? This report gathers the numbers that
agencies and the press have published about operations against encrypted-phone networks,
darknet markets and similar targets (arrests, charges, convictions, seizures and the scale of
each platform) and studies them. Each number is tied to a public document; the
<a href="explorer.html">data explorer</a> lists every one with its source.</p>
{findings}
<h2>Pages</h2>
<ul>
{page_items}
<li><a href="#operations">One page per operation</a>: what it was, its running totals over time, its figures,
conflicts, parts and sources</li>
<li><a href="conflicts.html">Where sources disagree</a>: every pair of conflicting figures with both notes</li>
<li><a href="explorer.html">Data explorer</a>: every figure, searchable, with its source
(and the data as CSV: <a href="figures_normalized.csv">figures_normalized.csv</a>,
<a href="sources.csv">sources.csv</a>)</li>
</ul>
<h2>The dataset</h2>
<p>Version <code>{html.escape(ds.version)}</code>: {len(ds.figures):,} figures on {len(ds.operations)} operations,
from {len(ds.sources)} documents ({int(kinds.get("primary", 0))} primary, {int(kinds.get("secondary", 0))} secondary),
reported between {first:%B %Y} and {last:%B %Y}.</p>
<h2 id="operations">Operations</h2>
<div class="so-table-wrap"><table class="so-table"><thead><tr><th>Operation</th><th>Target</th><th>Approach</th>
<th>Action day</th><th class="num">Figures</th></tr></thead>
<tbody>
{op_rows}
</tbody></table></div>
<h2>Build inputs</h2>
<p class="muted">Content hashes of what this report was built from; the same hashes give the same files.</p>
<table class="so-table"><tbody>
{input_rows}
</tbody></table>"""


def _findings_html(ds: Dataset, built: set[str]) -> str:
    """The "what the data show" section: each sentence of :func:`sting_outcomes.findings`
    (generated from computed values, with its interval), linked to the notebook section
    that computes it. A finding whose own check fails is not shown; one whose notebook
    is not in this build is shown without a link."""
    from ..analysis.findings import findings

    items = []
    for f in findings(ds):
        if not f.holds:
            continue
        page = f.notebook.split("#", 1)[0]
        link = f' <a href="{html.escape(f.notebook)}">(how)</a>' if page in built else ""
        items.append(f"<li>{html.escape(f.text)}{link}</li>")
    if not items:
        return ""
    return (
        '<h2>What the data show</h2>\n<p class="muted">Each sentence is computed from the current data when the '
        "report is built, and checked: a sentence the data no longer support is left out.</p>\n<ul>\n"
        + "\n".join(items)
        + "\n</ul>"
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as UTF-8 CSV with ``\\n`` line ends, text cells that a spreadsheet would
    read as a formula neutralised (:func:`sting_outcomes.data.export.to_safe_csv`)."""
    from ..data.export import to_safe_csv

    to_safe_csv(frame, path)


def sources_table(ds: Dataset) -> pd.DataFrame:
    """``sources.csv`` for the report: every document, the figures and operations it supports."""
    figures = ds.figures
    counts = figures.groupby("source_id").size()
    ops = figures.groupby("source_id")["operation_id"].agg(lambda o: ";".join(sorted(set(o.astype(str)))))
    out = ds.sources.sort_values("source_id", kind="stable").copy()
    precision = out["published_precision"].astype(str)
    out["published"] = (
        out["published"].dt.strftime("%Y-%m-%d").where(precision == "day", out["published"].dt.strftime("%Y-%m"))
    )
    out["figures"] = out["source_id"].map(counts).fillna(0).astype(int)
    out["operations"] = out["source_id"].map(ops).fillna("")
    return out


def figures_table(ds: Dataset) -> pd.DataFrame:
    """``figures_normalized.csv``: the normalised figures with their source's title and address."""
    src = ds.sources.set_index("source_id")
    out = ds.normalized.sort_values("figure_id", kind="stable").copy()
    out["source_title"] = out["source_id"].map(src["title"])
    out["url"] = out["source_id"].map(src["url"])
    return out


def write_data_pages(staging: Path, ds: Dataset, links: list[PageLink], inputs: dict[str, str]) -> None:
    """Write the pages and files built from the data alone into ``staging``: the index, the
    data explorer, the conflicts page, one page per operation (``operations/<id>.html``),
    ``figures_normalized.csv`` and ``sources.csv``. The report build calls this once;
    every data page the site gains is added here."""
    from ..analysis.conflicts import conflicts
    from ..analysis.snapshots import series
    from .conflicts_page import conflicts_body
    from .explorer_page import explorer_body
    from .operation_pages import operation_body, sought_for, sought_not_found

    normalized = ds.normalized
    version = ds.version

    def write(name: str, title: str, body: str, **kw) -> None:
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page(title, body, links, version, **kw), encoding="utf-8")

    write("index.html", "Overview", index_body(ds, links, inputs))
    write("explorer.html", "Data explorer", explorer_body(ds, normalized), wide=True)
    pairs = conflicts(normalized)
    write("conflicts.html", "Where sources disagree", conflicts_body(pairs, normalized, ds.sources, ds.operations))

    points = series(normalized, ds.operations)
    sought = sought_not_found(Path(ds.data_dir) / "README.md")
    metric_order = list(ds.metrics["metric"].astype(str))
    operations = ds.operations.sort_values("operation_id", kind="stable")
    rows = [r for _, r in operations.iterrows()]
    by_op = {
        str(op["operation_id"]): points[points["operation_id"].astype(str) == str(op["operation_id"])] for op in rows
    }
    for op in rows:
        oid = str(op["operation_id"])
        body = operation_body(
            op,
            normalized=normalized,
            operations=ds.operations,
            sources=ds.sources,
            points=by_op[oid],
            pairs=pairs[pairs["operation_id"].astype(str) == oid],
            sought=sought_for(op, sought, [o for o in rows if str(o["operation_id"]) != oid]),
            metric_order=metric_order,
        )
        write(f"operations/{oid}.html", str(op["name"]), body, root="../")

    _write_csv(figures_table(ds), staging / "figures_normalized.csv")
    _write_csv(sources_table(ds), staging / "sources.csv")
