"""The report build: caching, atomic output, offline pages, determinism, escaping, a real browser."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import read_csv, write_csv
from sting_outcomes.paths import DATA_DIR, NOTEBOOKS_DIR, REPORTS_DIR
from sting_outcomes.site.build import BuildError, build

EVIL_TITLE = '<script>alert("title")</script>'
EVIL_NOTE = '"><img src=x onerror=alert(1)>'


def quiet(_: str) -> None:
    pass


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- the real notebooks -------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("real")
    build(root / "site", cache_dir=root / "cache", progress=quiet)
    return root / "site"


def test_every_notebook_has_a_page(real_build: Path) -> None:
    notebooks = sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
    assert len(notebooks) >= 6
    for nb in notebooks:
        assert (real_build / f"{nb.stem}.html").is_file(), nb.name
    for name in ("index.html", "explorer.html", "figures_normalized.csv", "build.json"):
        assert (real_build / name).is_file(), name


class ResourceCollector(HTMLParser):
    """Collects the URLs that make a browser fetch something: src/href of script, link, img, iframe…"""

    LOADING = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "link": "href",
        "source": "src",
        "video": "src",
        "audio": "src",
        "embed": "src",
        "object": "data",
    }

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = self.LOADING.get(tag)
        for name, value in attrs:
            if value and (name == wanted or name == "srcset"):
                self.urls.append(value)


def test_pages_load_nothing_from_the_network(real_build: Path) -> None:
    for page in sorted(real_build.glob("*.html")):
        collector = ResourceCollector()
        collector.feed(page.read_text(encoding="utf-8"))
        remote = [u for u in collector.urls if u.strip().lower().startswith(("http:", "https:", "//"))]
        assert remote == [], f"{page.name} loads {remote[:3]}"
        assert "@import" not in page.read_text(encoding="utf-8"), page.name


def test_every_chart_and_table_page_names_its_sources(real_build: Path) -> None:
    for page in sorted(real_build.glob("0*.html")):
        text = page.read_text(encoding="utf-8")
        assert text.count("Source: ") >= 1, f"{page.name} has no provenance caption"


def test_two_builds_are_byte_identical(real_build: Path, tmp_path: Path) -> None:
    build(tmp_path / "site", cache_dir=tmp_path / "cache", progress=quiet)
    assert digests(tmp_path / "site") == digests(real_build)


def test_forked_kernels_render_what_fresh_kernels_render(real_build: Path, tmp_path: Path, monkeypatch) -> None:
    """Kernels forked from the pre-imported zygote give the same pages as kernels started anew,
    so sharing the imports changes nothing a reader sees."""
    monkeypatch.setenv("STING_OUTCOMES_NO_FORK", "1")
    build(tmp_path / "site", cache_dir=tmp_path / "cache", progress=quiet)
    assert digests(tmp_path / "site") == digests(real_build)


def test_notebooks_do_not_share_state(tmp_path: Path) -> None:
    """A global set by one notebook is not visible in another built in the same run."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    tiny_notebook(notebooks / "01_set.ipynb", body="import os\nos.environ['LEAK'] = 'yes'\nLEAKED = 1")
    tiny_notebook(
        notebooks / "02_get.ipynb",
        body="import os\nprint('leak' if 'LEAKED' in globals() or os.environ.get('LEAK') else 'clean')",
    )
    build(tmp_path / "site", notebooks_dir=notebooks, cache_dir=tmp_path / "cache", workers=1, progress=quiet)
    assert ">clean" in (tmp_path / "site" / "02_get.html").read_text(encoding="utf-8")


# -- caching and atomic output on small notebooks ------------------------------------------


def tiny_notebook(path: Path, body: str = "print(len(so.load().figures))") -> None:
    nb = new_notebook(
        cells=[new_markdown_cell(f"# {path.stem}"), new_code_cell("import sting_outcomes as so"), new_code_cell(body)]
    )
    nbformat.write(nb, path)


@pytest.fixture
def tiny(tmp_path: Path) -> dict[str, Path]:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    tiny_notebook(notebooks / "01_one.ipynb")
    tiny_notebook(notebooks / "02_two.ipynb")
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    return {"notebooks": notebooks, "data": data, "out": tmp_path / "site", "cache": tmp_path / "cache"}


def run(tiny: dict[str, Path]):
    return build(
        tiny["out"], data_dir=tiny["data"], notebooks_dir=tiny["notebooks"], cache_dir=tiny["cache"], progress=quiet
    )


def test_cache_redoes_only_what_changed(tiny) -> None:
    first = run(tiny)
    assert first.status == {"01_one.ipynb": "executed", "02_two.ipynb": "executed"}
    again = run(tiny)
    assert again.up_to_date and again.seconds < 0.5
    tiny_notebook(tiny["notebooks"] / "02_two.ipynb", body="print('edited')")
    edited = run(tiny)
    assert edited.status == {"01_one.ipynb": "cached", "02_two.ipynb": "executed"}
    assert "edited" in (tiny["out"] / "02_two.html").read_text(encoding="utf-8")
    rows = read_csv(tiny["data"] / "figures.csv")
    rows[0]["note"] = "changed"
    write_csv(tiny["data"] / "figures.csv", rows, header=list(rows[0]))
    assert set(run(tiny).status.values()) == {"executed"}


def test_no_kernel_outlives_the_build(tiny) -> None:
    run(tiny)
    left = subprocess.run(["pgrep", "-f", "kernel_fork import serve"], capture_output=True, text=True).stdout.split()
    assert left == [], f"kernel processes left running: {left}"


def test_a_failing_notebook_names_the_cell_and_keeps_the_old_report(tiny) -> None:
    run(tiny)
    before = digests(tiny["out"])
    tiny_notebook(tiny["notebooks"] / "02_two.ipynb", body="raise ValueError('broken on purpose')")
    with pytest.raises(BuildError) as info:
        run(tiny)
    assert "02_two.ipynb: code cell 2" in str(info.value)
    assert "ValueError: broken on purpose" in str(info.value)
    assert "\x1b[" not in str(info.value)
    assert digests(tiny["out"]) == before


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


def test_manifest_lists_every_file(tiny) -> None:
    run(tiny)
    manifest = json.loads((tiny["out"] / "build.json").read_text())
    files = {p.name for p in tiny["out"].iterdir()} - {"build.json"}
    assert set(manifest["files"]) == files


# -- escaping: hostile text in the data stays text -----------------------------------------


@pytest.fixture(scope="session")
def evil_build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("evil")
    data = root / "data"
    shutil.copytree(DATA_DIR, data)
    sources = read_csv(data / "sources.csv")
    figures = read_csv(data / "figures.csv")
    anom_source = next(f["source_id"] for f in figures if f["operation_id"] == "anom")
    for s in sources:
        if s["source_id"] == anom_source:
            s["title"] = EVIL_TITLE
    for f in figures:
        if f["operation_id"] == "anom":
            f["note"] = EVIL_NOTE
    write_csv(data / "sources.csv", sources, header=list(sources[0]))
    write_csv(data / "figures.csv", figures, header=list(figures[0]))
    build(root / "site", data_dir=data, cache_dir=root / "cache", progress=quiet)
    return root / "site"


def test_hostile_text_is_escaped_in_markup(evil_build: Path) -> None:
    for page in sorted(evil_build.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert EVIL_TITLE not in text, page.name
        assert "<img src=x" not in text, page.name
    explorer = (evil_build / "explorer.html").read_text(encoding="utf-8")
    assert "\\u003cscript\\u003e" in explorer  # present, but only as escaped JSON


# -- a real browser, offline ---------------------------------------------------------------


def ensure_chromium() -> str:
    """Path of Debian's chromium, installing it with apt-get when missing."""
    path = shutil.which("chromium")
    if path is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            check=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        path = shutil.which("chromium")
    assert path, "chromium could not be installed"
    return path


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browse(site: Path, screenshots: Path | None = None) -> dict[str, dict]:
    """Open every page offline; per page: failed requests, console errors, images, dialogs."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
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
            seen["rows"] = page.evaluate("document.querySelectorAll('#figures tbody tr').length")
            if screenshots is not None and page_path.name in ("index.html", "02_anom.html", "explorer.html"):
                screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshots / f"{page_path.stem}.png"), full_page=False)
            results[page_path.name] = seen
            page.close()
        browser.close()
    return results


def test_every_page_renders_offline_in_chromium(real_build: Path) -> None:
    results = browse(real_build, screenshots=REPORTS_DIR / "screenshots")
    assert len(results) >= 8
    for name, seen in results.items():
        assert seen["failed"] == [], f"{name}: failed requests {seen['failed'][:3]}"
        assert seen["errors"] == [], f"{name}: console errors {seen['errors'][:3]}"
        assert seen["dialogs"] == [], f"{name}: dialogs {seen['dialogs']}"
        bad = [i for i in seen["images"] if not (i[0] and i[1] > 0 and i[2] > 0)]
        assert bad == [], f"{name}: images not decoded {bad[:3]}"
    assert sum(len(s["images"]) for s in results.values()) >= 6
    assert results["explorer.html"]["rows"] > 500
    assert (REPORTS_DIR / "screenshots" / "index.png").stat().st_size > 0


def test_hostile_text_is_inert_in_chromium(evil_build: Path) -> None:
    results = browse(evil_build)
    for name, seen in results.items():
        assert seen["dialogs"] == [], f"{name}: a script from the data ran: {seen['dialogs']}"
        assert seen["failed"] == [], f"{name}: {seen['failed'][:3]}"  # no request for 'x'
