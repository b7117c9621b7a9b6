"""Shared fixtures: a small synthetic data directory that tests break one rule at a time.

The synthetic rows use example.org addresses and invented values: they exercise the
validator and never stand for real figures. The vocabularies and datapackage.json are
copied from the project's real data/ so the fixture follows the same contract.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from sting_outcomes.paths import DATA_DIR

VOCABULARY_FILES = ("datapackage.json", "metrics.csv", "units.csv", "categories.csv")

OPERATIONS = [
    {
        "operation_id": "op-one",
        "name": "Operation One",
        "aliases": "First;Uno",
        "target": "encrypted_phone_network",
        "approach": "police_run",
        "lead_agencies": "Agency A",
        "countries": "AU;US",
        "covert_start": "2018-10",
        "takedown_date": "2021-06-08",
        "summary": "A synthetic operation for tests.",
    },
    {
        "operation_id": "op-two",
        "name": "Operation Two",
        "aliases": "",
        "target": "darknet_market",
        "approach": "sweep",
        "lead_agencies": "Agency B",
        "countries": "DE",
        "covert_start": "",
        "takedown_date": "2020-09-22",
        "summary": "Another synthetic operation.",
    },
]
SOURCES = [
    {
        "source_id": "agency-a-2021-06-08",
        "url": "https://example.org/a",
        "title": "Release A",
        "publisher": "Agency A",
        "source_kind": "primary",
        "published": "2021-06-08",
        "language": "en",
        "via": "",
        "canonical_url": "",
    },
    {
        "source_id": "paper-2021-06",
        "url": "https://example.org/b",
        "title": "Story B",
        "publisher": "Paper B",
        "source_kind": "secondary",
        "published": "2021-06",
        "language": "de",
        "via": "",
        "canonical_url": "",
    },
]
FIGURES = [
    {
        "figure_id": "op-one-0001",
        "operation_id": "op-one",
        "source_id": "agency-a-2021-06-08",
        "jurisdiction": "AU",
        "metric": "arrests",
        "category": "",
        "value": "224",
        "value_high": "",
        "unit": "count",
        "qualifier": "exact",
        "as_of": "2021-06-08",
        "scope": "total",
        "doubtful": "false",
        "locator": "first paragraph",
        "note": "",
    },
    {
        "figure_id": "op-one-0002",
        "operation_id": "op-one",
        "source_id": "agency-a-2021-06-08",
        "jurisdiction": "AU-NSW",
        "metric": "drugs_seized",
        "category": "cocaine",
        "value": "3.7",
        "value_high": "",
        "unit": "tonne",
        "qualifier": "at_least",
        "as_of": "2021-06-08",
        "scope": "part",
        "doubtful": "false",
        "locator": "table",
        "note": "",
    },
    {
        "figure_id": "op-two-0001",
        "operation_id": "op-two",
        "source_id": "paper-2021-06",
        "jurisdiction": "global",
        "metric": "cash_seized",
        "category": "",
        "value": "10",
        "value_high": "20",
        "unit": "EUR",
        "qualifier": "range",
        "as_of": "2021-06",
        "scope": "total",
        "doubtful": "false",
        "locator": "second paragraph",
        "note": "synthetic",
    },
]
POPULATION = [
    {
        "country": "AU",
        "year": "2021",
        "population": "25700000",
        "source_id": "agency-a-2021-06-08",
        "locator": "first table",
        "note": "",
    },
]
TABLES = {"operations.csv": OPERATIONS, "sources.csv": SOURCES, "figures.csv": FIGURES, "population.csv": POPULATION}


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` counts data rows from 0 (so it sits on file line row + 2)."""
    rows = read_csv(path)
    rows[row][column] = value
    write_csv(path, rows, header=list(rows[0]))


@pytest.fixture
def mini_data(tmp_path: Path) -> Path:
    """A valid synthetic data directory in a temporary folder."""
    out = tmp_path / "data"
    out.mkdir()
    for name in VOCABULARY_FILES:
        shutil.copy(DATA_DIR / name, out / name)
    for name, rows in TABLES.items():
        write_csv(out / name, [dict(r) for r in rows])
    return out


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of the project's real data directory."""
    out = tmp_path / "data"
    shutil.copytree(DATA_DIR, out)
    return out


# -- report builds: notebooks, one real build per session, process checks -----------------


def write_notebook(path: Path, *cells: str, title: str | None = None) -> Path:
    """A notebook with a title cell and one code cell per string (no outputs)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell(f"# {title or path.stem}"), *(new_code_cell(c) for c in cells)])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def quiet(_: str) -> None:
    """A build's progress callback that prints nothing."""


def alive(pid: int) -> bool:
    """True while ``pid`` runs as a kernel or kernel zygote (a zombie counts as gone, and so
    does a later process that was given the same pid); reads /proc, no process scan."""
    from sting_outcomes.site.kernels import process_alive

    if not process_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"kernel" in cmdline


def still_running(pids, timeout: float = 5.0) -> list[int]:
    """The pids of ``pids`` still running after up to ``timeout`` seconds (a process that
    was just sent SIGKILL takes a moment to go)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if alive(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def children_of(pid: int) -> list[int]:
    """Pids of ``pid``'s descendants, from each process's parent link in /proc (our own
    process tree only: nothing is matched by name)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


@pytest.fixture
def tiny(tmp_path: Path, mini_data: Path) -> dict[str, Path]:
    """Two one-cell notebooks on the synthetic data, and where their build goes."""
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "01_one.ipynb", "import sting_outcomes as so\nprint(len(so.load().figures), 'figures')")
    write_notebook(notebooks / "02_two.ipynb", "print('two')")
    return {"notebooks": notebooks, "data": mini_data, "out": tmp_path / "site", "cache": tmp_path / "cache"}


_REAL_BUILD = """
import json, sys
from pathlib import Path
from sting_outcomes.site.build import build
root = Path(sys.argv[1])
s = build(root / "site", notebooks_dir=root / "notebooks", cache_dir=root / "cache", progress=lambda m: None)
print(json.dumps({"status": s.status, "seconds": s.seconds, "processes": list(s.processes)}))
"""


@pytest.fixture(scope="session", autouse=True)
def _real_build_started(request, tmp_path_factory):
    """Starts the one build of the real notebooks as the session begins, in a subprocess,
    when a collected test needs it (``real_build``): it then runs while the quick tests do,
    instead of in front of them. The notebooks are copied first, so an edit made while the
    tests run does not change what they check."""
    import subprocess
    import sys

    from sting_outcomes.paths import NOTEBOOKS_DIR

    if not any("real_build" in getattr(item, "fixturenames", ()) for item in request.session.items):
        yield None
        return
    root = tmp_path_factory.mktemp("real")
    (root / "notebooks").mkdir()
    for nb in sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb")):
        shutil.copy(nb, root / "notebooks" / nb.name)
    proc = subprocess.Popen(
        [sys.executable, "-c", _REAL_BUILD, str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    yield root, proc
    if proc.poll() is None:  # its kernels die with it
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="session")
def real_build(_real_build_started):
    """The real notebooks built on the real data: (site folder, cache folder, summary)."""
    import json

    from sting_outcomes.site.build import BuildSummary

    root, proc = _real_build_started
    out, err = proc.communicate(timeout=1200)
    if proc.returncode != 0:
        pytest.fail(f"the build of the real notebooks failed:\n{err[-4000:]}", pytrace=False)
    info = json.loads(out.strip().splitlines()[-1])
    summary = BuildSummary(root / "site", info["status"], info["seconds"], processes=tuple(info["processes"]))
    return root / "site", root / "cache", summary
