"""The report build: real pages, caching, determinism, escaping, a real browser.

The real notebooks are built once per session (``real_build`` in conftest.py); every other
build here runs one-cell notebooks on the synthetic data, so it costs a kernel start, not
the analysis. The safety cases of issue 13 (snapshots, ``--out``, kernels, publishing,
signals, failures) are in test_build_safety.py.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import quiet, read_csv, still_running, write_csv, write_notebook
from sitecheck import CHROMIUM_ARGS, ResourceCollector, chromium, digests, run
from sting_outcomes.site import cache as build_cache
from sting_outcomes.site.build import BuildError, build

EVIL_TITLE = '<script>alert("title")</script>'
EVIL_NOTE = '"><img src=x onerror=alert(1)>'
EVIL_CODE = '</pre></div><script>alert("code")</script>'  # in a notebook's own code (a comment)


# -- the real notebooks (built once) ------------------------------------------------------


def test_every_notebook_has_a_page(real_build) -> None:
    site, _, summary = real_build
    assert len(summary.status) >= 6
    assert set(summary.status.values()) == {"executed"}
    for name in summary.status:
        assert (site / f"{Path(name).stem}.html").is_file(), name
    for name in ("index.html", "explorer.html", "figures_normalized.csv", "build.json", ".sting-outcomes-report"):
        assert (site / name).is_file(), name


def test_pages_load_nothing_from_the_network(real_build) -> None:
    site = real_build[0]
    for page in sorted(site.rglob("*.html")):
        collector = ResourceCollector()
        collector.feed(page.read_text(encoding="utf-8"))
        remote = [u for u in collector.urls if u.strip().lower().startswith(("http:", "https:", "//"))]
        assert remote == [], f"{page.name} loads {remote[:3]}"
        assert "@import" not in page.read_text(encoding="utf-8"), page.name


def test_every_notebook_page_names_its_sources(real_build) -> None:
    site, _, summary = real_build
    for name in summary.status:
        text = (site / f"{Path(name).stem}.html").read_text(encoding="utf-8")
        assert text.count("Source: ") >= 1, f"{name} has no provenance caption"


def test_a_real_notebook_renders_the_same_in_a_fresh_kernel(real_build) -> None:
    """Determinism and fork independence on a real notebook with charts and tables: one
    notebook re-executed in an ordinary kernel (no zygote, no pre-imports) gives exactly
    the page body the session's (forked) build cached for it."""
    from sting_outcomes.site.notebook_run import execute_notebook

    _, cache, summary = real_build
    name = "02_anom.ipynb" if "02_anom.ipynb" in summary.status else sorted(summary.status)[0]
    notebooks = cache.parent / "notebooks"
    (entry,) = cache.glob(f"{Path(name).stem}.*.html")
    header = entry.read_text(encoding="utf-8").split("\n", 1)[0]
    key = header.split("key=")[1].split()[0]
    cached, damaged = build_cache.read_entry(entry, key)
    assert cached and not damaged
    (snapshot,) = (cache / "data").iterdir()
    env = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    nb = nbformat.read(notebooks / name, as_version=4)
    result = asyncio.run(
        execute_notebook(name, nb, notebooks, {**env, "STING_OUTCOMES_DATA": str(snapshot)}, run_dir=cache.parent)
    )
    assert result.error is None, result.error
    assert result.body == cached


def test_no_kernel_outlives_the_real_build(real_build) -> None:
    summary = real_build[2]
    assert len(summary.processes) >= len(summary.status)  # one kernel each, and the zygote
    assert still_running(summary.processes) == []


# -- caching and isolation on one-cell notebooks ------------------------------------------


def test_cache_redoes_only_what_changed(tiny) -> None:
    first = run(tiny)
    assert first.status == {"01_one.ipynb": "executed", "02_two.ipynb": "executed"}
    manifest = json.loads((tiny["out"] / "build.json").read_text())
    files = {p.relative_to(tiny["out"]).as_posix() for p in tiny["out"].rglob("*") if p.is_file()}
    assert set(manifest["files"]) == files - {"build.json"}  # the manifest lists every file
    again = run(tiny)
    assert again.up_to_date and again.seconds < 0.5
    write_notebook(tiny["notebooks"] / "02_two.ipynb", "print('edited')")
    edited = run(tiny)
    assert edited.status == {"01_one.ipynb": "cached", "02_two.ipynb": "executed"}
    assert "edited" in (tiny["out"] / "02_two.html").read_text(encoding="utf-8")
    rows = read_csv(tiny["data"] / "figures.csv")
    rows[0]["note"] = "changed"
    write_csv(tiny["data"] / "figures.csv", rows, header=list(rows[0]))
    assert set(run(tiny).status.values()) == {"executed"}


def test_notebooks_do_not_share_state(tmp_path: Path, mini_data: Path) -> None:
    """A global set by one notebook is not visible in another built in the same run."""
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "01_set.ipynb", "import os\nos.environ['LEAK'] = 'yes'\nLEAKED = 1")
    write_notebook(
        notebooks / "02_get.ipynb",
        "import os\nprint('leak' if 'LEAKED' in globals() or os.environ.get('LEAK') else 'clean')",
    )
    build(
        tmp_path / "site",
        data_dir=mini_data,
        notebooks_dir=notebooks,
        cache_dir=tmp_path / "cache",
        workers=1,
        progress=quiet,
    )
    assert ">clean" in (tmp_path / "site" / "02_get.html").read_text(encoding="utf-8")


def test_two_builds_are_byte_identical_and_fork_changes_nothing(tiny, tmp_path: Path, monkeypatch) -> None:
    run(tiny)
    other = {**tiny, "out": tmp_path / "site2", "cache": tmp_path / "cache2"}
    monkeypatch.setenv("STING_OUTCOMES_NO_FORK", "1")
    run(other)
    assert digests(tiny["out"]) == digests(other["out"])


def test_invalid_data_keeps_the_old_report(tiny) -> None:
    from sting_outcomes import DataValidationError

    run(tiny)
    before = digests(tiny["out"])
    rows = read_csv(tiny["data"] / "figures.csv")
    rows[0]["unit"] = "tonnes"
    write_csv(tiny["data"] / "figures.csv", rows, header=list(rows[0]))
    with pytest.raises(DataValidationError):
        run(tiny)
    assert digests(tiny["out"]) == before


def test_a_failing_notebook_names_the_cell_and_keeps_the_old_report(tiny) -> None:
    run(tiny)
    before = digests(tiny["out"])
    write_notebook(tiny["notebooks"] / "02_two.ipynb", "x = 1", "raise ValueError('broken on purpose')")
    with pytest.raises(BuildError) as info:
        run(tiny)
    assert """02_two.ipynb: code cell 2 ("raise ValueError('broken on purpose')") failed""" in str(info.value)
    assert "ValueError: broken on purpose" in str(info.value)
    assert "\x1b[" not in str(info.value)
    assert digests(tiny["out"]) == before


# -- escaping: hostile text in the data stays text -----------------------------------------


@pytest.fixture(scope="module")
def evil_build(tmp_path_factory) -> Path:
    """The synthetic data with markup in a source title and a figure note, and a notebook
    that shows both; built once for this module."""
    from conftest import SOURCES, TABLES, VOCABULARY_FILES
    from sting_outcomes.paths import DATA_DIR

    root = tmp_path_factory.mktemp("evil")
    data = root / "data"
    data.mkdir()
    for name in VOCABULARY_FILES:
        shutil.copy(DATA_DIR / name, data / name)
    for name, rows in TABLES.items():
        rows = [dict(r) for r in rows]
        if name == "sources.csv":
            rows[0]["title"] = EVIL_TITLE
        if name == "figures.csv":
            for r in rows:
                r["note"] = EVIL_NOTE
        write_csv(data / name, rows)
    assert SOURCES[0]["title"] != EVIL_TITLE  # the shared rows are untouched
    write_notebook(
        root / "notebooks" / "01_evil.ipynb",
        "import sting_outcomes as so\nds = so.load()\nds.sources[['source_id', 'title']]",
        "ds.figures[['figure_id', 'note']]",
        f"x = 1  # {EVIL_CODE}",
    )
    build(root / "site", data_dir=data, notebooks_dir=root / "notebooks", cache_dir=root / "cache", progress=quiet)
    return root / "site"


def test_hostile_text_is_escaped_in_markup(evil_build: Path) -> None:
    pages = sorted(evil_build.rglob("*.html"))
    assert any(p.name == "01_evil.html" for p in pages)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert EVIL_TITLE not in text, page.name
        assert "<img src=x" not in text, page.name
        assert "<script>alert(" not in text, page.name  # code inputs are escaped too
    assert "&lt;script&gt;" in (evil_build / "01_evil.html").read_text(encoding="utf-8")


# -- a real browser, offline ---------------------------------------------------------------


def browse(site: Path, screenshots: Path | None = None) -> dict[str, dict]:
    """Open every page offline; per page: failed requests, console errors, images, dialogs."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
        for page_path in sorted(site.glob("*.html")):
            page = context.new_page()
            seen = {"failed": [], "errors": [], "dialogs": []}
            page.on("requestfailed", lambda r, s=seen: s["failed"].append(r.url))
            page.on("console", lambda m, s=seen: s["errors"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, s=seen: s["errors"].append(str(e)))
            page.on("dialog", lambda d, s=seen: (s["dialogs"].append(d.message), d.dismiss()))
            page.goto(page_path.as_uri(), wait_until="load")
            seen["images"] = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            if screenshots is not None and page_path.name in ("index.html", "02_anom.html", "explorer.html"):
                screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshots / f"{page_path.stem}.png"), full_page=False)
            results[page_path.name] = seen
            page.close()
        browser.close()
    return results


def test_every_page_renders_offline_in_chromium(real_build, tmp_path: Path) -> None:
    site = real_build[0]
    results = browse(site, screenshots=tmp_path / "screenshots")
    assert len(results) >= 8
    for name, seen in results.items():
        assert seen["failed"] == [], f"{name}: failed requests {seen['failed'][:3]}"
        assert seen["errors"] == [], f"{name}: console errors {seen['errors'][:3]}"
        assert seen["dialogs"] == [], f"{name}: dialogs {seen['dialogs']}"
        bad = [i for i in seen["images"] if not (i[0] and i[1] > 0 and i[2] > 0)]
        assert bad == [], f"{name}: images not decoded {bad[:3]}"
    assert sum(len(s["images"]) for s in results.values()) >= 6
    assert (tmp_path / "screenshots" / "index.png").stat().st_size > 0


def test_hostile_text_is_inert_in_chromium(evil_build: Path) -> None:
    results = browse(evil_build)
    for name, seen in results.items():
        assert seen["dialogs"] == [], f"{name}: a script from the data ran: {seen['dialogs']}"
        assert seen["failed"] == [], f"{name}: {seen['failed'][:3]}"  # no request for 'x'
