"""The data explorer: every figure in a DataTables table, offline.

The table library is the DataTables build that itables ships for its offline mode
(``itables/html/dt_bundle.js``: DataTables 2 with Buttons, ColumnControl, SearchPanes and
friends). Its JavaScript goes into the page as base64 text and is imported from a
``blob:`` URL, exactly as itables' own offline notebook mode does, so the page needs no
network and no file beside it; its CSS is inlined. The figures travel as JSON inside a
``<script type="application/json">`` element with ``<`` and ``>`` escaped, and every cell
is rendered as text by :file:`templates/explorer.js`.

What the reader gets: DataTables' smart search (every word must match somewhere in the
row, in any order; quotes for a phrase), facets for operation, jurisdiction, metric,
scope, source kind, publisher and a date range, the value column sorted within its
standard unit, the key columns visible at 1,280 px (more under "Columns"), and
"Download this view" as CSV (the filtered rows, every column, in the data's own names).
"""

from __future__ import annotations

import base64
import html
import json
from functools import cache
from importlib import resources

import pandas as pd

from ..data.load import Dataset
from .notebook_run import TEMPLATE_DIR

EXPLORER_SCRIPT = (TEMPLATE_DIR / "explorer.js").read_text(encoding="utf-8")

#: (key, header, visible) in table order; the first twelve are the ones a reader needs.
COLUMNS = [
    ("figure_id", "Figure", True),
    ("operation", "Operation", True),
    ("jurisdiction", "Place", True),
    ("metric", "Metric", True),
    ("value", "Value", True),
    ("unit", "Unit", True),
    ("qualifier", "Qualifier", True),
    ("as_of", "As of", True),
    ("scope", "Scope", True),
    ("source_kind", "Kind", True),
    ("publisher", "Publisher", True),
    ("source", "Source", True),
    ("category", "Category", False),
    ("value_high", "High end", False),
    ("value_std", "Standard value", False),
    ("unit_std", "Standard unit", False),
    ("value_usd", "USD (ECB rate of the as-of date)", False),
    ("value_eur", "EUR (ECB rate of the as-of date)", False),
    ("doubtful", "Doubtful", False),
    ("locator", "Where in the source", False),
    ("note", "Note", False),
    ("source_id", "Source id", False),
    ("url", "Address", False),
    ("operation_id", "Operation id", False),
]

#: Longer explanations of the headers, shown on hover.
HEADER_TIPS = {
    "jurisdiction": "Jurisdiction: ISO 3166 code of the country or region, or global",
    "value": "Value as the source gives it; sorts within its standard unit",
    "qualifier": "exact, at least, at most, about (±10 %) or a range",
    "as_of": "The date the figure refers to (YYYY-MM when the source gives only a month)",
    "scope": "total: the running tally; part: one force, region or case, never the tally",
    "source_kind": "primary: the agency's own release; secondary: press or other",
}

#: Facets above the table: (record key, label).
FACETS = [
    ("operation_id", "Operation"),
    ("jurisdiction", "Place (jurisdiction)"),
    ("metric", "Metric"),
    ("scope", "Scope"),
    ("source_kind", "Source kind"),
    ("publisher", "Publisher"),
]

#: Names for the jurisdiction codes, so that "UK" or "Germany" finds rows too.
PLACE_NAMES = {
    "global": "worldwide",
    "EU": "European Union",
    "AL": "Albania",
    "AM": "Armenia",
    "AT": "Austria",
    "AU": "Australia",
    "BA": "Bosnia and Herzegovina",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CO": "Colombia",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom UK",
    "GR": "Greece",
    "HU": "Hungary",
    "IE": "Ireland",
    "IS": "Iceland",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "LT": "Lithuania",
    "LV": "Latvia",
    "MT": "Malta",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PL": "Poland",
    "PT": "Portugal",
    "PY": "Paraguay",
    "RO": "Romania",
    "RS": "Serbia",
    "RU": "Russia",
    "SE": "Sweden",
    "SG": "Singapore",
    "TH": "Thailand",
    "UA": "Ukraine",
    "US": "United States USA",
}


@cache
def datatables_assets() -> tuple[str, str]:
    """(CSS text, base64 of the ES module) of the DataTables build that itables ships."""
    folder = resources.files("itables") / "html"
    css = (folder / "dt_bundle.css").read_text(encoding="utf-8")
    js = (folder / "dt_bundle.js").read_bytes()
    if "</style" in css.lower() or "@import" in css:
        raise RuntimeError("itables' dt_bundle.css cannot be inlined as it is")
    return css, base64.b64encode(js).decode("ascii")


def place_name(code: str) -> str:
    """'GB-SCT' -> 'United Kingdom UK'; unknown codes give ''."""
    return PLACE_NAMES.get(code, PLACE_NAMES.get(code.split("-")[0], ""))


def _date_text(date: pd.Series, precision: pd.Series) -> pd.Series:
    return date.dt.strftime("%Y-%m-%d").where(precision.astype(str) == "day", date.dt.strftime("%Y-%m"))


def explorer_records(ds: Dataset, normalized: pd.DataFrame) -> list[dict]:
    """One plain dict per figure for the explorer, sorted by figure id; missing values are None."""
    src = ds.sources.set_index("source_id")
    ops = ds.operations.set_index("operation_id")
    f = normalized.sort_values("figure_id", kind="stable")
    aliases = ops["aliases"].astype("string").fillna("").str.replace(";", " ", regex=False)

    def text(col: pd.Series) -> pd.Series:
        return col.astype("object").where(col.notna(), None)

    frame = pd.DataFrame(
        {
            "figure_id": f["figure_id"].astype(str),
            "operation_id": f["operation_id"].astype(str),
            "operation": f["operation_id"].map(ops["name"]).astype(str),
            "operation_aliases": f["operation_id"].map(aliases).astype(str),
            "jurisdiction": f["jurisdiction"].astype(str),
            "place": f["jurisdiction"].astype(str).map(place_name),
            "metric": f["metric"].astype(str),
            "category": text(f["category"]),
            "value": f["value"].astype(float),
            "value_high": f["value_high"].astype(float),
            "unit": f["unit"].astype(str),
            "qualifier": f["qualifier"].astype(str),
            "as_of": _date_text(f["as_of"], f["as_of_precision"]),
            "as_of_date": f["as_of"].dt.strftime("%Y-%m-%d"),
            "scope": f["scope"].astype(str),
            "doubtful": f["doubtful"].astype(bool),
            "source_kind": f["source_kind"].astype(str),
            "publisher": text(f["publisher"]),
            "source_id": f["source_id"].astype(str),
            "source_title": f["source_id"].map(src["title"]).astype(str),
            "url": f["source_id"].map(src["url"]).astype(str),
            "value_std": f["value_std"].astype(float),
            "unit_std": f["unit_std"].astype(str),
            "value_usd": f["value_usd"].round(2),
            "value_eur": f["value_eur"].round(2),
            "locator": text(f["locator"]),
            "note": text(f["note"]),
        }
    )
    records = frame.to_dict("records")
    for r in records:
        for k, v in r.items():
            if isinstance(v, float) and v != v:
                r[k] = None
    return records


def script_json(value) -> str:
    """JSON safe to place inside a <script> element (no '</script>' or '<!--' can form)."""
    return (
        json.dumps(value, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _facet_options(records: list[dict], key: str, names: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for r in records:
        v = r.get(key)
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    options = ['<option value="">all</option>']
    if key == "jurisdiction":
        groups: dict[str, int] = {}
        for code, n in counts.items():
            groups[code.split("-")[0]] = groups.get(code.split("-")[0], 0) + n
        with_parts = sorted(g for g in groups if any(c.startswith(g + "-") for c in counts))
        for g in with_parts:
            options.append(
                f'<option value="{html.escape(g)}*">{html.escape(g)} and its regions ({groups[g]:,})</option>'
            )
    for value in sorted(counts, key=lambda v: (names.get(v, v).lower(), v)):
        shown = names.get(value, value.replace("_", " ") if key in ("metric", "source_kind") else value)
        options.append(f'<option value="{html.escape(value)}">{html.escape(shown)} ({counts[value]:,})</option>')
    return "".join(options)


def explorer_body(ds: Dataset, normalized: pd.DataFrame) -> str:
    """Body of ``explorer.html``: facets, the DataTables table and its data, all inline."""
    records = explorer_records(ds, normalized)
    names = {"operation_id": dict(zip(ds.operations["operation_id"].astype(str), ds.operations["name"].astype(str)))}
    facets = "\n".join(
        f'<label>{html.escape(text)} <select data-facet="{key}">'
        f"{_facet_options(records, key, names.get(key, {}))}</select></label>"
        for key, text in FACETS
    )
    first, last = min(r["as_of_date"] for r in records), max(r["as_of_date"] for r in records)
    heads = "".join(
        f'<th title="{html.escape(HEADER_TIPS.get(key, title))}">{html.escape(title)}</th>' for key, title, _ in COLUMNS
    )
    css, bundle = datatables_assets()
    config = {"columns": [[k, t, v] for k, t, v in COLUMNS], "total": len(records)}
    return f"""<style>{css}</style>
<h1>Data explorer</h1>
<p class="intro">All {len(records):,} figures, each with the document it comes from. <em>Search</em> keeps the rows
that contain every word you type, in any column and order (<code>encrochat arrests GB</code>); the lists narrow
further; <em>Download this view</em> saves the rows shown as CSV. Rows marked <span class="scope-part">part</span>
are one force's, region's or case's share, never the running tally.</p>
<details class="howto"><summary>More about the table</summary>
<p>Put a phrase in quotes; start a word with <code>!</code> to leave out rows that contain it. Words match
at the start of a word, so <code>GB</code> also finds GB-SCT but not "GBP". Notes and locators are searched
only when <em>search notes too</em> is ticked. Click a heading to sort; the value column sorts within its
standard unit (count, kg, USD…), so kilograms and tonnes sort together. <em>Columns</em> shows more: standard
values and units, USD and EUR at the ECB rate of the as-of date, the note, where in the source, the address.
The address bar keeps the lists and the search, so a view can be shared. The whole dataset is in
<a href="figures_normalized.csv">figures_normalized.csv</a> and <a href="sources.csv">sources.csv</a>;
disagreements between sources are on the <a href="conflicts.html">conflicts page</a>, and every operation has
a page of its own (the operation names link to it).</p></details>
<form id="facets" class="facets" autocomplete="off">
{facets}
<label>As of from <input type="date" data-range="from" min="{first}" max="{last}"></label>
<label>to <input type="date" data-range="to" min="{first}" max="{last}"></label>
<label class="check"><input type="checkbox" id="search-notes"> search notes too</label>
<button type="reset">Clear all</button>
</form>
<table id="figures" class="display compact"><thead><tr>{heads}</tr></thead><tbody></tbody></table>
<noscript><p>The table needs JavaScript; the same data are in figures_normalized.csv and sources.csv.</p></noscript>
<script type="application/json" id="figures-config">{script_json(config)}</script>
<script type="application/json" id="figures-data">{script_json(records)}</script>
<script type="text/plain" id="dt-bundle">{bundle}</script>
<script>{EXPLORER_SCRIPT}</script>"""
