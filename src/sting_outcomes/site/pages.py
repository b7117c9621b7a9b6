"""The HTML pages of the report: page shell, index and data explorer.

Everything is self-contained: styles and the explorer's script are inline, figures are
embedded as data URIs by nbconvert, and nothing refers to another host except the
``<a href>`` links to each figure's source document. Every value that comes from the
data is escaped (``html.escape`` in markup, JSON with ``<`` escaped inside the script
element, ``textContent`` in the browser), so a title or note containing markup shows
as text.
"""

from __future__ import annotations

import html
import json
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


def page(title: str, body: str, pages: list[PageLink], version: str) -> str:
    """Wrap ``body`` (trusted HTML) in the site's page shell."""
    nav = "".join(f'<a href="{html.escape(p.file)}">{html.escape(p.title)}</a>' for p in pages)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · sting-outcomes</title><style>{STYLE}</style></head>\n<body>"
        f'<header class="site"><a href="index.html"><strong>sting-outcomes</strong></a>{nav}'
        '<a href="explorer.html">Data explorer</a></header>\n'
        f"<main>\n{body}\n</main>\n"
        f"<footer>Dataset version {html.escape(version)}. Every number links to its source in the "
        '<a href="explorer.html">data explorer</a>.</footer>\n</body></html>\n'
    )


def index_body(ds: Dataset, pages: list[PageLink], inputs: dict[str, str]) -> str:
    """Body of ``index.html``: what the project is, the pages, the data, the build inputs."""
    kinds = ds.sources["source_kind"].value_counts()
    per_op = ds.figures.groupby("operation_id").size()
    ops = ds.operations.sort_values("takedown_date")
    op_rows = "\n".join(
        f"<tr><td>{html.escape(str(r.name))}</td><td>{html.escape(str(r.target))}</td>"
        f"<td>{html.escape(str(r.approach))}</td><td>{r.takedown_date:%Y-%m-%d}</td>"
        f'<td class="num">{int(per_op.get(r.operation_id, 0))}</td></tr>'
        for r in ops.itertuples()
    )
    page_items = "\n".join(f'<li><a href="{html.escape(p.file)}">{html.escape(p.title)}</a></li>' for p in pages)
    input_rows = "\n".join(
        f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(v[:16])}</code></td></tr>" for k, v in inputs.items()
    )
    first, last = ds.figures["as_of"].min(), ds.figures["as_of"].max()
    return f"""<h1>sting-outcomes</h1>
<p>What do covert law-enforcement operations achieve? This report gathers the numbers that
agencies and the press have published about operations against encrypted-phone networks,
darknet markets and similar targets (arrests, charges, convictions, seizures and the scale of
each platform) and studies them. Each number is tied to a public document; the
<a href="explorer.html">data explorer</a> lists every one with its source.</p>
<h2>Pages</h2>
<ul>
{page_items}
<li><a href="explorer.html">Data explorer</a>
(and <a href="figures_normalized.csv">the normalised figures as CSV</a>)</li>
</ul>
<h2>The dataset</h2>
<p>Version <code>{html.escape(ds.version)}</code>: {len(ds.figures):,} figures on {len(ds.operations)} operations,
from {len(ds.sources)} documents ({int(kinds.get("primary", 0))} primary, {int(kinds.get("secondary", 0))} secondary),
reported between {first:%B %Y} and {last:%B %Y}.</p>
<table><thead><tr><th>Operation</th><th>Target</th><th>Approach</th><th>Action day</th>
<th class="num">Figures</th></tr></thead>
<tbody>
{op_rows}
</tbody></table>
<h2>Build inputs</h2>
<p class="muted">Content hashes of what this report was built from; the same hashes give the same files.</p>
<table><tbody>
{input_rows}
</tbody></table>"""


EXPLORER_COLUMNS = [
    ("figure_id", "Figure"),
    ("operation", "Operation"),
    ("jurisdiction", "Jurisdiction"),
    ("metric", "Metric"),
    ("category", "Category"),
    ("value", "Value"),
    ("value_high", "High"),
    ("unit", "Unit"),
    ("qualifier", "Qualifier"),
    ("as_of", "As of"),
    ("value_usd", "USD"),
    ("source", "Source"),
    ("source_kind", "Kind"),
    ("locator", "Where in the source"),
    ("note", "Note"),
]

EXPLORER_SCRIPT = (TEMPLATE_DIR / "explorer.js").read_text(encoding="utf-8")


def explorer_records(ds: Dataset, normalized: pd.DataFrame) -> list[dict]:
    """One plain dict per figure for the explorer, sorted by figure id."""
    src = ds.sources.set_index("source_id")
    ops = ds.operations.set_index("operation_id")["name"]
    f = normalized.sort_values("figure_id")
    frame = pd.DataFrame(
        {
            "figure_id": f["figure_id"].astype(str),
            "operation": f["operation_id"].map(ops).astype(str),
            "jurisdiction": f["jurisdiction"].astype(str),
            "metric": f["metric"].astype(str),
            "category": f["category"].astype("object").where(f["category"].notna(), None),
            "value": f["value"].astype(float),
            "value_high": f["value_high"].astype(float),
            "unit": f["unit"].astype(str),
            "qualifier": f["qualifier"].astype(str),
            "as_of": f["as_of"]
            .dt.strftime("%Y-%m-%d")
            .where(f["as_of_precision"] == "day", f["as_of"].dt.strftime("%Y-%m")),
            "value_usd": f["value_usd"].round(0),
            "source_id": f["source_id"].astype(str),
            "source_title": f["source_id"].map(src["title"]).astype(str),
            "url": f["source_id"].map(src["url"]).astype(str),
            "source_kind": f["source_id"].map(src["source_kind"]).astype(str),
            "locator": f["locator"].astype(str),
            "note": f["note"].astype("object").where(f["note"].notna(), None),
        }
    )
    records = frame.to_dict("records")
    for r in records:
        for k, v in r.items():
            if isinstance(v, float) and v != v:
                r[k] = None
    return records


def _script_json(value) -> str:
    """JSON safe to place inside a <script> element (no '</script>' can close it)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=False).replace("<", "\\u003c").replace(">", "\\u003e")


def explorer_body(ds: Dataset, normalized: pd.DataFrame) -> str:
    """Body of ``explorer.html``: a searchable, sortable table of every figure."""
    heads = "".join(
        f'<th data-key="{k}" title="Sort by {html.escape(label)}">{html.escape(label)}</th>'
        for k, label in EXPLORER_COLUMNS
    )
    return f"""<h1>Data explorer</h1>
<p>Every figure in the dataset, with the document it comes from. Type to filter; click a column
heading to sort. Values are as the source reports them; the USD column converts money at ECB
reference rates on the as-of date. <a href="figures_normalized.csv">Download the normalised
figures (CSV)</a>.</p>
<p><input id="search" type="search" placeholder="Filter, e.g. anom arrests AU" size="40" aria-label="Filter figures">
<span id="count" class="muted"></span></p>
<div class="explorer-wrap"><table id="figures"><thead><tr>{heads}</tr></thead><tbody></tbody></table></div>
<noscript><p>The table needs JavaScript; the same data are in figures_normalized.csv.</p></noscript>
<script type="application/json" id="figures-columns">{_script_json(EXPLORER_COLUMNS)}</script>
<script type="application/json" id="figures-data">{_script_json(explorer_records(ds, normalized))}</script>
<script>{EXPLORER_SCRIPT}</script>"""


def write_data_pages(staging: Path, ds: Dataset, links: list[PageLink], inputs: dict[str, str]) -> None:
    """Write the pages and files built from the data alone into ``staging``: the index,
    the data explorer and ``figures_normalized.csv``. The report build calls this once;
    every data page the site gains is added here."""
    normalized = ds.normalized
    (staging / "index.html").write_text(
        page("Overview", index_body(ds, links, inputs), links, ds.version), encoding="utf-8"
    )
    (staging / "explorer.html").write_text(
        page("Data explorer", explorer_body(ds, normalized), links, ds.version), encoding="utf-8"
    )
    normalized.sort_values("figure_id").to_csv(staging / "figures_normalized.csv", index=False, lineterminator="\n")
