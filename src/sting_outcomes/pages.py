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

import pandas as pd

from .data import Dataset

STYLE = """
:root{--ink:#1d2327;--muted:#5f6b73;--rule:#d9dee2;--accent:#1f5f8b;--bg:#fff}
*{box-sizing:border-box}
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg);margin:0}
header.site{border-bottom:1px solid var(--rule);padding:.6rem 1.2rem;font-size:.95rem}
header.site a{color:var(--accent);margin-right:1rem;text-decoration:none}
main{max-width:72rem;margin:1.5rem auto;padding:0 1.2rem}
.output_html,.output_subarea{overflow-x:auto;max-width:100%}
.output_html table{width:max-content}
.output_html td{max-width:30rem}
h1,h2,h3{line-height:1.25}
a{color:var(--accent)}
table{border-collapse:collapse;font-size:.9rem;margin:.8rem 0}
th,td{border-bottom:1px solid var(--rule);padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.85rem}
details.code-fold{margin:.4rem 0}
details.code-fold>summary{color:var(--muted);font-size:.8rem;cursor:pointer}
.output_stderr{display:none}
.caption,.muted{color:var(--muted);font-size:.85rem}
.anchor-link{display:none}
.explorer-wrap{overflow-x:auto;margin:0 -1.2rem}
.explorer-wrap table{width:max-content;font-size:.82rem}
.explorer-wrap td{max-width:22rem}
#figures th{cursor:pointer;position:sticky;top:0}
footer{border-top:1px solid var(--rule);margin-top:3rem;padding:1rem 1.2rem;color:var(--muted);font-size:.85rem}
"""


@dataclass(frozen=True)
class PageLink:
    """A rendered notebook page: file name and title."""

    file: str
    title: str


def page(title: str, body: str, pages: list[PageLink], version: str) -> str:
    """Wrap ``body`` (trusted HTML) in the site's page shell."""
    nav = "".join(f'<a href="{html.escape(p.file)}">{html.escape(p.title)}</a>' for p in pages)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
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
<li><a href="explorer.html">Data explorer</a> (and <a href="figures_normalized.csv">the normalised figures as CSV</a>)</li>
</ul>
<h2>The dataset</h2>
<p>Version <code>{html.escape(ds.version)}</code>: {len(ds.figures):,} figures on {len(ds.operations)} operations,
from {len(ds.sources)} documents ({int(kinds.get("primary", 0))} primary, {int(kinds.get("secondary", 0))} secondary),
reported between {first:%B %Y} and {last:%B %Y}.</p>
<table><thead><tr><th>Operation</th><th>Target</th><th>Approach</th><th>Action day</th><th class="num">Figures</th></tr></thead>
<tbody>
{op_rows}
</tbody></table>
<h2>Build inputs</h2>
<p class="muted">Content hashes of what this report was built from; the same hashes give the same files.</p>
<table><tbody>
{input_rows}
</tbody></table>"""


EXPLORER_COLUMNS = [
    ("figure_id", "Figure"), ("operation", "Operation"), ("jurisdiction", "Jurisdiction"), ("metric", "Metric"),
    ("category", "Category"), ("value", "Value"), ("value_high", "High"), ("unit", "Unit"),
    ("qualifier", "Qualifier"), ("as_of", "As of"), ("value_usd", "USD"), ("source", "Source"),
    ("source_kind", "Kind"), ("locator", "Where in the source"), ("note", "Note"),
]

EXPLORER_SCRIPT = """
(function(){
  var rows = JSON.parse(document.getElementById('figures-data').textContent);
  var cols = JSON.parse(document.getElementById('figures-columns').textContent);
  var tbody = document.querySelector('#figures tbody');
  var count = document.getElementById('count');
  var search = document.getElementById('search');
  var sortKey = null, sortDir = 1;
  function cell(row, key){
    var td = document.createElement('td');
    if (key === 'source') {
      var a = document.createElement('a');
      var url = row.url || '';
      if (/^https?:\\/\\//i.test(url)) { a.href = url; a.rel = 'noopener noreferrer'; }
      a.textContent = row.source_title || row.source_id;
      td.appendChild(a);
    } else {
      var v = row[key];
      if (typeof v === 'number') {
        td.textContent = v.toLocaleString('en-US', {maximumFractionDigits: 3});
        td.className = 'num';
      } else {
        td.textContent = (v === null || v === undefined) ? '' : String(v);
      }
    }
    return td;
  }
  function render(){
    var q = search.value.trim().toLowerCase();
    var shown = rows.filter(function(r){ return !q || r._text.indexOf(q) !== -1; });
    if (sortKey) shown.sort(function(a, b){
      var x = a[sortKey], y = b[sortKey];
      if (x === y) return 0; if (x === null) return 1; if (y === null) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    var frag = document.createDocumentFragment();
    shown.forEach(function(r){
      var tr = document.createElement('tr');
      cols.forEach(function(c){ tr.appendChild(cell(r, c[0])); });
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
    count.textContent = shown.length + ' of ' + rows.length + ' figures';
  }
  rows.forEach(function(r){
    r._text = cols.map(function(c){ return r[c[0]] === null ? '' : String(r[c[0]]); }).join(' ').toLowerCase()
      + ' ' + String(r.source_title || '').toLowerCase();
  });
  document.querySelectorAll('#figures th').forEach(function(th){
    th.addEventListener('click', function(){
      var key = th.getAttribute('data-key');
      sortDir = (sortKey === key) ? -sortDir : 1; sortKey = key; render();
    });
  });
  search.addEventListener('input', render);
  render();
})();
"""


def explorer_records(ds: Dataset, normalized: pd.DataFrame) -> list[dict]:
    """One plain dict per figure for the explorer, sorted by figure id."""
    src = ds.sources.set_index("source_id")
    ops = ds.operations.set_index("operation_id")["name"]
    f = normalized.sort_values("figure_id")
    frame = pd.DataFrame({
        "figure_id": f["figure_id"].astype(str),
        "operation": f["operation_id"].map(ops).astype(str),
        "jurisdiction": f["jurisdiction"].astype(str),
        "metric": f["metric"].astype(str),
        "category": f["category"].astype("object").where(f["category"].notna(), None),
        "value": f["value"].astype(float),
        "value_high": f["value_high"].astype(float),
        "unit": f["unit"].astype(str),
        "qualifier": f["qualifier"].astype(str),
        "as_of": f["as_of"].dt.strftime("%Y-%m-%d").where(f["as_of_precision"] == "day", f["as_of"].dt.strftime("%Y-%m")),
        "value_usd": f["value_usd"].round(0),
        "source_id": f["source_id"].astype(str),
        "source_title": f["source_id"].map(src["title"]).astype(str),
        "url": f["source_id"].map(src["url"]).astype(str),
        "source_kind": f["source_id"].map(src["source_kind"]).astype(str),
        "locator": f["locator"].astype(str),
        "note": f["note"].astype("object").where(f["note"].notna(), None),
    })
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
    heads = "".join(f'<th data-key="{k}" title="Sort by {html.escape(label)}">{html.escape(label)}</th>'
                    for k, label in EXPLORER_COLUMNS)
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
