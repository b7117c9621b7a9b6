"""A reader's tasks in headless Chromium with the network off.

The data pages are written once (``write_data_pages`` from the real data, shared with
test_pages.py); Debian's ``chromium`` drives them through Playwright with every request
that is not ``file:``, ``data:`` or ``blob:`` aborted and recorded, and the tests assert
that none was made. Screenshots of each page go to ``<site>/screenshots/``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import sting_outcomes as so
from sitecheck import CHROMIUM_ARGS, chromium
from test_pages import real_site

LOCAL = ("file:", "data:", "blob:", "about:")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return real_site(tmp_path_factory)


@pytest.fixture(scope="module")
def ds() -> so.Dataset:
    return so.load()


@pytest.fixture(scope="module")
def browser():
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Reader:
    """One browser context with the network blocked, collecting what went wrong."""

    def __init__(self, browser, site: Path):
        self.site = site
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(offline=True, accept_downloads=True, viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(LOCAL):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, name: str, ready: str | None = None):
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(f"{name}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{name}: {e}"))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        path, _, fragment = name.partition("#")
        page.goto((self.site / path).as_uri() + (f"#{fragment}" if fragment else ""), wait_until="load")
        if ready:
            page.wait_for_selector(ready, timeout=15_000)
        return page

    def screenshot(self, page, name: str) -> None:
        folder = self.site / "screenshots"
        folder.mkdir(exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)

    def close(self) -> None:
        self.context.close()
        assert self.blocked == [], f"requests left the page: {self.blocked[:3]}"
        assert self.errors == [], f"console errors: {self.errors[:3]}"
        assert self.dialogs == [], f"a script from the data ran: {self.dialogs}"


@pytest.fixture
def reader(browser, site: Path):
    r = Reader(browser, site)
    yield r
    r.close()


EXPLORER_READY = "#figures[data-ready]"


def shown_ids(page) -> list[str]:
    return page.eval_on_selector_all("#figures tbody td.c-figure_id", "tds => tds.map(td => td.textContent)")


def info_total(page) -> int:
    text = page.inner_text(".dt-info")
    # "Showing 1 to 31 of 31 figures (filtered from 1,638)"
    return int(text.split(" of ")[1].split()[0].replace(",", ""))


def download_view(page) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click("button.download-view")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_search_encrochat_arrests_gb_finds_the_tally_and_the_parts(reader, ds) -> None:
    page = reader.open("explorer.html", EXPLORER_READY)
    page.fill(".dt-search input", "encrochat arrests GB")
    page.wait_for_function("document.querySelector('.dt-info').textContent.includes('filtered')")
    ids = shown_ids(page)
    f = ds.figures
    gb = f[
        (f["operation_id"] == "encrochat")
        & (f["metric"].astype(str) == "arrests")
        & f["jurisdiction"].astype(str).str.match(r"^GB(-|$)")
    ]
    assert set(gb["figure_id"]) <= set(ids), sorted(set(gb["figure_id"]) - set(ids))
    assert info_total(page) == len(ids) < 100
    shown = f.set_index("figure_id").loc[ids]
    assert set(shown["operation_id"]) == {"encrochat"}
    assert (shown["metric"].astype(str) == "arrests").mean() > 0.8
    national = gb[(gb["scope"].astype(str) == "total") & (gb["jurisdiction"] == "GB")]
    parts = gb[gb["scope"].astype(str) == "part"]
    assert len(national) >= 3 and len(parts) >= 10
    # the force rows carry the "part" marker in the table
    marked = page.eval_on_selector_all(
        "#figures tbody tr",
        "rows => rows.filter(r => r.querySelector('.scope-part'))"
        ".map(r => r.querySelector('td.c-figure_id').textContent)",
    )
    assert set(parts["figure_id"]) <= set(marked)
    assert not set(national["figure_id"]) & set(marked)
    reader.screenshot(page, "explorer-search")
    rows = download_view(page)
    assert [r["figure_id"] for r in rows] == ids
    assert {r["scope"] for r in rows} == {"total", "part"}


def test_publisher_europol_gives_exactly_europols_figures(reader, ds) -> None:
    page = reader.open("explorer.html", EXPLORER_READY)
    page.select_option('select[data-facet="publisher"]', "Europol")
    page.wait_for_function("document.querySelector('.dt-info').textContent.includes('filtered')")
    src = ds.sources.set_index("source_id")["publisher"]
    expected = set(ds.figures.loc[ds.figures["source_id"].map(src) == "Europol", "figure_id"])
    assert len(expected) > 50
    assert info_total(page) == len(expected)
    reader.screenshot(page, "explorer-europol")
    rows = download_view(page)
    assert {r["figure_id"] for r in rows} == expected
    assert len(rows) == len(expected)
    assert {r["publisher"] for r in rows} == {"Europol"}
    first = rows[0]
    assert first["url"].startswith("http") and first["source_title"] and first["value_std"] != ""
    assert "#publisher=Europol" in page.url  # the view is in the address, to share


def test_value_sorts_within_its_unit(reader) -> None:
    page = reader.open("explorer.html", EXPLORER_READY)
    page.select_option('select[data-facet="metric"]', "drugs_seized")
    page.wait_for_function("document.querySelector('.dt-info').textContent.includes('filtered')")
    page.click("#figures thead th.c-value")
    page.click("#figures thead th.c-value")  # descending
    rows = download_view(page)
    units = [r["unit_std"] for r in rows]
    assert units == sorted(units, reverse=True)
    kg = [float(r["value_std"]) for r in rows if r["unit_std"] == "kg"]
    assert kg == sorted(kg, reverse=True) and len(kg) > 20


def test_operation_link_from_the_explorer_and_back(reader) -> None:
    page = reader.open("explorer.html#operation_id=anom&scope=part", EXPLORER_READY)
    assert page.input_value('select[data-facet="operation_id"]') == "anom"
    ids = shown_ids(page)
    assert ids and all(i.startswith("anom-") for i in ids)
    assert page.eval_on_selector_all("#figures tbody .scope-part", "e => e.length") == len(ids)


def test_operation_page_shows_its_timeline(reader, site: Path) -> None:
    page = reader.open("operations/encrochat.html")
    # the chart is drawn at its full width (no squeezing into the column) and its text is laid out
    box = page.evaluate(
        "(() => { const r = document.querySelector('figure.timeline svg').getBoundingClientRect();"
        " return [r.width, r.height]; })()"
    )
    assert box[0] >= 750 and box[1] > 300, box
    title = page.evaluate("document.querySelector('figure.timeline svg text[font-weight=bold]').getBBox().width")
    assert title > 20
    # every table fits the page: nothing is cut off at 1,280 px
    overflow = page.evaluate(
        "Array.from(document.querySelectorAll('.so-table-wrap')).filter(w => w.scrollWidth > w.clientWidth + 1).length"
    )
    assert overflow == 0
    reader.screenshot(page, "operation-encrochat")
    page.click("text=All of them in the data explorer")
    page.wait_for_selector(EXPLORER_READY)
    assert page.input_value('select[data-facet="operation_id"]') == "encrochat"


def test_other_pages_render_offline(reader, site: Path) -> None:
    for name, shot in (("index.html", "index"), ("conflicts.html", "conflicts"), ("operations/ironchat.html", None)):
        page = reader.open(name)
        images = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        assert all(images), name
        overflow = page.evaluate(
            "Array.from(document.querySelectorAll('.so-table-wrap'))"
            ".filter(w => w.scrollWidth > w.clientWidth + 1).length"
        )
        assert overflow == 0, name
        if shot:
            reader.screenshot(page, shot)
        page.close()


def test_notes_search_date_range_and_sticky_header(reader) -> None:
    page = reader.open("explorer.html", EXPLORER_READY)
    page.fill(".dt-search input", "typo")  # a word found only in curators' notes
    page.wait_for_function("document.querySelector('.dt-info').textContent.includes('No figures')")
    page.check("#search-notes")
    page.wait_for_function("document.querySelector('.dt-info').textContent.includes('Showing')")
    assert info_total(page) >= 1
    page.fill(".dt-search input", "")
    page.fill('input[data-range="from"]', "2021-01-01")
    page.fill('input[data-range="to"]', "2021-12-31")
    page.dispatch_event('input[data-range="to"]', "change")
    page.wait_for_function("document.querySelector('.dt-info').textContent.includes('filtered')")
    rows = download_view(page)
    # a month-only date ("2021-01") counts from the first of the month
    assert rows and all("2021-01-01" <= (r["as_of"] + "-01")[:10] <= "2021-12-31" for r in rows)
    assert "from=2021-01-01" in page.url
    page.mouse.wheel(0, 2500)
    page.wait_for_timeout(200)
    assert page.evaluate("document.querySelector('#figures thead th').getBoundingClientRect().top") == 0
