"""Issue 13: a build that cannot lie or destroy, and kernels that cannot leak.

One regression test (or more) per failure the adversarial pass found on the build side:
data snapshots, ``--out`` safety, kernels dying with the build, atomic publishing with a
lock, one-line errors and signals, failures that name the notebook and cell, and cache
entries checked by hash. Every build runs one-cell notebooks on the synthetic data; the
command-line cases run ``python -m sting_outcomes.cli`` as a subprocess; processes are
tracked by pid (pid files the kernels write, and the build's own process tree in /proc).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import children_of, quiet, read_csv, still_running, write_csv, write_notebook
from sitecheck import digests, run
from sting_outcomes import DataValidationError
from sting_outcomes.paths import DATA_DIR, NOTEBOOKS_DIR, PROJECT_ROOT
from sting_outcomes.site import cache as build_cache
from sting_outcomes.site.build import BuildError, UsageError, build
from sting_outcomes.site.kernel_fork import SUPPORTED, preload_for
from sting_outcomes.site.lock import FolderLock, LockBusy
from sting_outcomes.site.notebook_run import empty_output, output_size
from sting_outcomes.site.publish import MARKER, UnsafeFolder, check_cache_dir, check_out_dir

LINUX = sys.platform.startswith("linux")


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sting_outcomes.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _default_sigint() -> None:
    # A background job inherits SIGINT ignored, and Python then keeps ignoring it (as a
    # background command should); the build under test must get Ctrl-C as in a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sting_outcomes.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=_default_sigint,
    )


def build_args(tiny: dict[str, Path]) -> list[str]:
    return [
        "build",
        "--data",
        str(tiny["data"]),
        "--notebooks",
        str(tiny["notebooks"]),
        "--out",
        str(tiny["out"]),
        "--cache",
        str(tiny["cache"]),
    ]


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
    assert 'File "' not in text, text


def wait_for(paths: list[Path], proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() and p.read_text().strip() for p in paths):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the build ended early: {proc.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {[p.name for p in paths]}")
        time.sleep(0.05)


def sleeper(path: Path, pid_file: Path, seconds: int = 60) -> Path:
    """A notebook whose kernel writes its pid, then sleeps."""
    return write_notebook(
        path,
        "import os, time, pathlib\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
        f"time.sleep({seconds})",
    )


def kill_quietly(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def version_folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}-"))


# -- 1. one snapshot per build -------------------------------------------------------------


def test_data_edited_during_a_build_never_mixes_versions(tiny, tmp_path: Path) -> None:
    """The notebook adds a figure to data/ while the build runs: every page still shows
    the data the build started from, and the next build sees the edit."""
    flag = tmp_path / "edit-now"
    flag.write_text("1")
    figures = tiny["data"] / "figures.csv"
    write_notebook(
        tiny["notebooks"] / "01_one.ipynb",
        "import csv, pathlib, sting_outcomes as so\n"
        f"flag, path = pathlib.Path({str(flag)!r}), pathlib.Path({str(figures)!r})\n"
        "if flag.exists():\n"
        "    rows = list(csv.DictReader(path.open()))\n"
        "    rows.append({**rows[0], 'figure_id': 'op-one-0099', 'jurisdiction': 'US'})\n"
        "    with path.open('w', newline='') as f:\n"
        "        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator='\\n')\n"
        "        w.writeheader(); w.writerows(rows)\n"
        "    flag.unlink()\n"
        "print('notebook sees', len(so.load().figures), 'figures')",
    )
    write_notebook(tiny["notebooks"] / "02_two.ipynb", "import os\nprint('DATA=' + os.environ['STING_OUTCOMES_DATA'])")
    run(tiny)
    assert not flag.exists()  # the edit happened during the build
    text = (tiny["out"] / "02_two.html").read_text(encoding="utf-8")
    snapshot = Path(text.rsplit("DATA=", 1)[1].split("<")[0].strip())
    assert snapshot.parent == (tiny["cache"] / "data").resolve()  # kernels read the snapshot, not data/
    assert len(read_csv(snapshot / "figures.csv")) == 3
    assert len(read_csv(figures)) == 4
    page = (tiny["out"] / "01_one.html").read_text(encoding="utf-8")
    index = (tiny["out"] / "index.html").read_text(encoding="utf-8")
    assert "notebook sees 3 figures" in page
    assert "3 figures on" in index  # the index and the notebook agree: one version
    second = run(tiny)
    assert not second.up_to_date and second.status["01_one.ipynb"] == "executed"
    assert "notebook sees 4 figures" in (tiny["out"] / "01_one.html").read_text(encoding="utf-8")


def test_reverted_data_never_gets_a_page_of_other_data(tiny) -> None:
    """Revert the data and remove the report: the page that comes back from the cache is
    the one built from these very bytes."""
    run(tiny)
    entries = sorted(p.name for p in tiny["cache"].glob("*.html"))
    figures = tiny["data"] / "figures.csv"
    original = figures.read_bytes()
    rows = read_csv(figures)
    write_csv(figures, [*rows, {**rows[0], "figure_id": "op-one-0099", "jurisdiction": "US"}], header=list(rows[0]))
    run(tiny)
    assert "4 figures" in (tiny["out"] / "01_one.html").read_text(encoding="utf-8")
    assert set(entries).isdisjoint(p.name for p in tiny["cache"].glob("*.html"))  # other data, other keys
    figures.write_bytes(original)
    os.unlink(tiny["out"])  # rm -rf reports (the link); the old version folder goes at the next build
    run(tiny)
    assert "3 figures" in (tiny["out"] / "01_one.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tiny["cache"].glob("*.html")) == entries
    assert run(tiny).up_to_date


def test_problems_found_in_the_snapshot_name_the_data_folder(tiny) -> None:
    rows = read_csv(tiny["data"] / "figures.csv")
    rows[1]["unit"] = "tonnes"
    write_csv(tiny["data"] / "figures.csv", rows, header=list(rows[0]))
    with pytest.raises(DataValidationError) as info:
        run(tiny)
    assert f"{tiny['data'] / 'figures.csv'}:3: unit: 'tonnes'" in str(info.value)
    assert str(tiny["cache"]) not in str(info.value)


def test_missing_data_file_is_a_file_message_not_a_traceback(tiny) -> None:
    (tiny["data"] / "figures.csv").unlink()
    result = cli(*build_args(tiny))
    assert result.returncode == 1
    assert f"{tiny['data'] / 'figures.csv'}: file is missing" in result.stderr
    no_traceback(result.stderr)


@pytest.mark.parametrize(
    "path", ["../../../../etc/passwd", "/proc/self/environ", "/dev/zero", "fifo.csv", "folder.csv", "loop.csv"]
)
def test_unsafe_resource_paths_are_refused_before_reading(tiny, path: str) -> None:
    os.mkfifo(tiny["data"] / "fifo.csv")
    (tiny["data"] / "folder.csv").mkdir()
    (tiny["data"] / "loop.csv").symlink_to(tiny["data"] / "loop.csv")
    package = json.loads((tiny["data"] / "datapackage.json").read_text())
    index = next(i for i, r in enumerate(package["resources"]) if r["name"] == "figures")
    package["resources"][index]["path"] = path
    (tiny["data"] / "datapackage.json").write_text(json.dumps(package, indent=2))
    start = time.monotonic()
    result = cli(*build_args(tiny), env={"PLANTED_TOKEN": "s3cret-token"}, timeout=60)
    assert time.monotonic() - start < 30  # no hang on a FIFO, no memory exhaustion on /dev/zero
    assert result.returncode == 1, result.stderr
    assert f"resources[{index}].path" in result.stderr
    assert "root:" not in result.stderr and "s3cret-token" not in result.stderr
    no_traceback(result.stderr)
    assert not tiny["out"].exists()


def test_malformed_datapackage_is_a_data_problem(tiny) -> None:
    (tiny["data"] / "datapackage.json").write_text("{ not json", encoding="utf-8")
    result = cli(*build_args(tiny))
    assert result.returncode == 1
    assert "datapackage.json:1: not valid JSON" in result.stderr
    no_traceback(result.stderr)


# -- 2. --out safety -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["/", ".", "root", "data", "notebooks", "src", "tests", "locks", ".git", "home"])
def test_out_refuses_the_root_the_project_and_its_folders(name: str, tmp_path: Path) -> None:
    target = {"root": PROJECT_ROOT, "home": Path.home(), "/": Path("/"), ".": Path(".")}.get(name, PROJECT_ROOT / name)
    with pytest.raises(UnsafeFolder) as info:
        check_out_dir(target, {"data": tmp_path / "d", "notebooks": tmp_path / "n"})
    assert "\n" not in str(info.value) and str(info.value).startswith("refusing --out")


def test_out_refuses_a_folder_the_build_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("uncommitted work")
    file = tmp_path / "file"
    file.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(mine)
    inputs = {"data": tmp_path / "d"}
    for target, reason in ((mine, "did not write"), (file, "a file"), (link, "symbolic link")):
        with pytest.raises(UnsafeFolder, match=reason):
            check_out_dir(target, inputs)
    assert (mine / "thesis.tex").read_text() == "uncommitted work"
    empty = tmp_path / "empty"
    empty.mkdir()
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / MARKER).write_text("")
    for target in (tmp_path / "new", empty, ours):
        assert check_out_dir(target, inputs) == target
    with pytest.raises(UnsafeFolder, match="overlaps the data folder"):
        check_out_dir(tmp_path / "d" / "out", inputs)


def test_cache_refuses_foreign_folders(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(UnsafeFolder, match="not build cache entries"):
        check_cache_dir(mine, {})
    with pytest.raises(UnsafeFolder):
        check_cache_dir(NOTEBOOKS_DIR, {})
    assert check_cache_dir(tmp_path / "new", {}) == tmp_path / "new"


def test_out_notebooks_and_root_exit_2_and_delete_nothing(tmp_path: Path) -> None:
    before = digests(NOTEBOOKS_DIR)
    for out in ("/", str(NOTEBOOKS_DIR), str(PROJECT_ROOT), "."):
        result = cli("build", "--out", out, "--cache", str(tmp_path / "cache"))
        assert result.returncode == 2, (out, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "refusing --out" in result.stderr
    assert digests(NOTEBOOKS_DIR) == before


def test_build_replaces_only_its_own_output(tiny, tmp_path: Path) -> None:
    tiny["out"].mkdir()
    (tiny["out"] / "keep.txt").write_text("mine")
    result = cli(*build_args(tiny))
    assert result.returncode == 2 and "did not write" in result.stderr
    assert (tiny["out"] / "keep.txt").read_text() == "mine"


def test_a_report_from_before_the_marker_is_replaced(tiny) -> None:
    tiny["out"].mkdir()
    (tiny["out"] / "index.html").write_text("old")
    (tiny["out"] / "build.json").write_text(json.dumps({"build_key": "x", "files": {"index.html": "y"}}))
    run(tiny)
    assert tiny["out"].is_symlink() and (tiny["out"] / MARKER).is_file()
    assert version_folders(tiny["out"]) == [os.readlink(tiny["out"])]


# -- 3. kernels die with their build ---------------------------------------------------------


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize("fork", [True, False], ids=["forked", "ordinary"])
def test_kill_9_of_the_build_leaves_no_kernel_and_no_broken_report(tiny, tmp_path: Path, fork: bool) -> None:
    run(tiny)
    before = digests(tiny["out"])
    pids = [tmp_path / "k1.pid", tmp_path / "k2.pid"]
    sleeper(tiny["notebooks"] / "01_one.ipynb", pids[0])
    sleeper(tiny["notebooks"] / "02_two.ipynb", pids[1])
    proc = start_cli(*build_args(tiny), env={} if fork else {"STING_OUTCOMES_NO_FORK": "1"})
    tree: list[int] = []
    try:
        wait_for(pids, proc)
        tree = children_of(proc.pid)
        kernels = [int(p.read_text()) for p in pids]
        assert set(kernels) <= set(tree)
        proc.kill()
        proc.communicate(timeout=30)
        left = still_running(tree, timeout=10)
        assert left == [], f"processes of the killed build still running: {left}"
    finally:
        kill_quietly(tree)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert digests(tiny["out"]) == before  # the old report is intact
    assert len(version_folders(tiny["out"])) == 2  # its folder and the killed build's staging
    if not fork:
        return  # the clean-up by the next build is the same either way
    write_notebook(tiny["notebooks"] / "01_one.ipynb", "print(1)")
    write_notebook(tiny["notebooks"] / "02_two.ipynb", "print(2)")
    run(tiny)
    assert version_folders(tiny["out"]) == [os.readlink(tiny["out"])]  # the staging folder is gone
    assert not (tiny["cache"] / "run").exists()  # the killed build's connection files are gone


def test_forking_is_linux_only() -> None:
    assert SUPPORTED == (sys.platform.startswith("linux") and hasattr(os, "fork"))


def test_the_zygote_pre_imports_only_what_the_notebooks_import(tmp_path: Path) -> None:
    tiny = write_notebook(tmp_path / "01.ipynb", "import sting_outcomes as so\nprint(len(so.load().figures))")
    modules, ecb = preload_for([nbformat.read(tiny, as_version=4)])
    assert "sting_outcomes.data.load" in modules and "pandas" in modules
    for heavy in ("statsmodels", "seaborn", "matplotlib", "scipy"):
        assert not any(m.split(".")[0] == heavy for m in modules), (heavy, modules)
    assert not ecb
    plain = write_notebook(tmp_path / "02.ipynb", "print(1)")
    assert preload_for([nbformat.read(plain, as_version=4)]) == ([], False)
    real = [nbformat.read(p, as_version=4) for p in sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))]
    modules, ecb = preload_for(real)
    assert ecb and {"pandas", "matplotlib.pyplot", "sting_outcomes.session"} <= set(modules)
    assert {"sting_outcomes.analysis.models", "statsmodels.api", "sting_outcomes.plots", "seaborn"} <= set(modules)
    # the package imported in one cell and used in a later one still counts
    split = write_notebook(tmp_path / "03.ipynb", "import sting_outcomes as so", "so.bootstrap")
    modules, _ = preload_for([nbformat.read(split, as_version=4)])
    assert "sting_outcomes.analysis.models" in modules and "statsmodels.api" in modules


# -- 4. atomic publish with a lock ------------------------------------------------------------


def test_publish_switches_one_link_and_keeps_one_version(tiny, monkeypatch) -> None:
    summary = run(tiny)
    first = os.readlink(tiny["out"])
    write_notebook(tiny["notebooks"] / "02_two.ipynb", "print('second')")
    monkeypatch.setenv("STING_OUTCOMES_NO_FORK", "1")
    ordinary = run(tiny)
    assert len(summary.processes) == 3 and len(ordinary.processes) == 1  # zygote and 2 kernels; 1 kernel
    assert still_running([*summary.processes, *ordinary.processes]) == []  # no kernel outlives its build
    second = os.readlink(tiny["out"])
    assert tiny["out"].is_symlink() and first != second and "/" not in second
    assert version_folders(tiny["out"]) == [second]
    assert not list(tiny["out"].parent.glob(f".{tiny['out'].name}.switch"))


def test_stale_staging_is_removed_and_ignored_by_git(tiny) -> None:
    stale = tiny["out"].parent / f".{tiny['out'].name}-deadbeef"
    stale.mkdir()
    (stale / MARKER).write_text("")
    (stale / "index.html").write_text("half-written")
    foreign = tiny["out"].parent / f".{tiny['out'].name}-notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("not the build's")
    run(tiny)
    assert not stale.exists()
    assert (foreign / "keep.txt").exists()  # only folders carrying the marker are removed
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert {"/reports", "/.reports-*", "/.reports.*"} <= set(ignored)


def test_a_concurrent_build_waits_or_fails_with_one_line(tiny, tmp_path: Path) -> None:
    run(tiny)
    pid_file, release = tmp_path / "k.pid", tmp_path / "release"
    write_notebook(
        tiny["notebooks"] / "01_one.ipynb",
        "import os, pathlib, time\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
        f"while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.05)",
    )
    first = start_cli(*build_args(tiny))
    try:
        wait_for([pid_file], first)
        busy = cli(*build_args(tiny), "--wait", "0")
        assert busy.returncode == 1
        assert busy.stderr.strip().splitlines() == [
            f"sting-outcomes build: another build (pid {first.pid}) is writing {tiny['out']}/; "
            "try again when it has finished"
        ]
        with pytest.raises(LockBusy):
            run(tiny, lock_timeout=0.2)
        waiting = start_cli(*build_args(tiny))
        time.sleep(0.5)
        assert waiting.poll() is None  # it waits for the first build
        release.write_text("go")
        assert first.wait(timeout=60) == 0
        _, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, err
        assert err.startswith(f"waiting for another build (pid {first.pid})")
        assert "up to date" in err
    finally:
        release.write_text("go")
        for proc in (first,):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def test_the_lock_is_released_when_its_holder_dies(tmp_path: Path) -> None:
    lock = tmp_path / ".site.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom sting_outcomes.site.lock import FolderLock\n"
            f"with FolderLock({str(lock)!r}, 'x'):\n    print('held', flush=True)\n    time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy, match=f"pid {holder.pid}"), FolderLock(lock, "x", timeout=0):
            pass
        holder.kill()
        holder.wait()
        with FolderLock(lock, "x", timeout=5):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


# -- 5. one-line errors, signals, failures that name the cell ------------------------------


@pytest.mark.parametrize("value", ["-1", "0", "abc", "1.5"])
def test_bad_workers_is_a_one_line_usage_error(value: str) -> None:
    result = cli("build", f"--workers={value}")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--workers" in result.stderr
    with pytest.raises(UsageError):
        build(workers=-1, progress=quiet)


def test_an_empty_notebooks_folder_is_a_usage_error(tiny, tmp_path: Path) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    result = cli(*build_args({**tiny, "notebooks": empty}))
    assert result.returncode == 2 and "no notebooks" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# A Ctrl-C that lands while a C extension initialises (scipy's HiGHS did, on a slow machine)
# reaches Python as ImportError("initialization failed"), not as KeyboardInterrupt.
_SIGNAL_IN_AN_IMPORT = """
import os, signal, sys, time
from sting_outcomes import cli

def interrupted_import(args):
    try:
        os.kill(os.getpid(), signal.{name})
        time.sleep(5)
    except KeyboardInterrupt as exc:
        raise ImportError("initialization failed") from exc
    return 0

cli.cmd_summary = interrupted_import
sys.exit(cli.main(["summary"]))
"""


@pytest.mark.parametrize("name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_that_breaks_an_import_is_still_reported_as_the_signal(name: str, code: int) -> None:
    script = _SIGNAL_IN_AN_IMPORT.format(name=name)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    shown = "SIGTERM" if name == "SIGTERM" else "Ctrl-C"
    assert result.returncode == code, result.stderr
    assert result.stderr.strip() == f"sting-outcomes summary: interrupted ({shown}); nothing changed"


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_prints_one_line_stops_kernels_and_removes_staging(tiny, tmp_path: Path, signum) -> None:
    run(tiny)
    before = digests(tiny["out"])
    pids = [tmp_path / "k1.pid", tmp_path / "k2.pid"]
    sleeper(tiny["notebooks"] / "01_one.ipynb", pids[0])
    sleeper(tiny["notebooks"] / "02_two.ipynb", pids[1])
    proc = start_cli(*build_args(tiny))
    tree: list[int] = []
    try:
        wait_for(pids, proc)
        tree = children_of(proc.pid)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
        left = still_running(tree, timeout=5)
    finally:
        kill_quietly(tree)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    assert proc.returncode == (143 if signum == signal.SIGTERM else 130), err
    lines = err.strip().splitlines()
    assert lines[-1] == f"sting-outcomes build: interrupted ({name}); {tiny['out']}/ left as it was, kernels stopped"
    assert [line for line in lines if not line.startswith("  ")] == lines[-1:], err
    no_traceback(err)
    assert left == [], f"still running after the build stopped: {left}"
    assert digests(tiny["out"]) == before
    assert version_folders(tiny["out"]) == [os.readlink(tiny["out"])]  # staging removed


def test_notebook_failures_name_the_notebook_and_the_cell(tiny) -> None:
    """One build, five broken notebooks: an exception, a dead kernel, a page over the size
    cap, an empty table and an image of zero size. The old report stays."""
    run(tiny)
    before = digests(tiny["out"])
    nbs = tiny["notebooks"]
    write_notebook(nbs / "01_one.ipynb", "x = 1", "1 / 0")
    write_notebook(nbs / "02_two.ipynb", "import os", "os._exit(3)", "print('never')")
    write_notebook(nbs / "03_big.ipynb", "print('x' * (6 * 2**20))")
    write_notebook(nbs / "04_empty.ipynb", "import pandas as pd", "pd.DataFrame({'figures': []})")
    write_notebook(
        nbs / "05_blank.ipynb",
        "from IPython.display import display\ndisplay({'image/png': ''}, raw=True)",
    )
    with pytest.raises(BuildError) as info:
        run(tiny, workers=2)
    message = str(info.value)
    assert "01_one.ipynb: code cell 2 ('1 / 0') failed: ZeroDivisionError: division by zero" in message
    assert "02_two.ipynb: code cell 2 ('os._exit(3)'): the kernel died while running it" in message
    assert "03_big.ipynb: code cell 1 (\"print('x' * (6 * 2**20))\"): its output is 6.0 MB, over the 5 MB" in message
    assert "04_empty.ipynb: code cell 2 (\"pd.DataFrame({'figures': []})\"): shows an empty table" in message
    assert "05_blank.ipynb: code cell 1 ('from IPython.display import display'): shows an image of zero size" in message
    assert digests(tiny["out"]) == before


def test_empty_outputs_are_recognised() -> None:
    table = '<table class="dataframe"><thead><tr><th>a</th></tr></thead><tbody>\n</tbody></table>'
    full = "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
    caption = '<p class="caption">Source: 0 figures on , from 0 documents</p>'
    out = lambda data: [{"output_type": "display_data", "data": data, "metadata": {}}]  # noqa: E731
    assert "empty table" in empty_output(out({"text/html": table}))
    assert empty_output(out({"text/html": full})) is None
    assert "0 figures" in empty_output(out({"text/html": caption}))
    assert "zero size" in empty_output(out({"image/png": ""}))
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 0, 1, 8, 6, 0, 0, 0)  # a PNG 0 pixels wide
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))
    zero_png = base64.b64encode(png).decode()
    assert "zero size" in empty_output(out({"image/png": zero_png}))
    assert output_size([{"output_type": "stream", "name": "stdout", "text": "x" * 10}]) == 10
    assert output_size([{"output_type": "stream", "name": "stderr", "text": "x" * 10}]) == 0


def test_a_damaged_cache_entry_is_run_again_not_published(tiny) -> None:
    messages: list[str] = []
    run(tiny)
    (entry,) = tiny["cache"].glob("01_one.*.html")
    text = entry.read_text(encoding="utf-8")
    entry.write_text(text[: len(text) // 2], encoding="utf-8")  # truncated
    os.unlink(tiny["out"])
    again = build(
        tiny["out"],
        data_dir=tiny["data"],
        notebooks_dir=tiny["notebooks"],
        cache_dir=tiny["cache"],
        progress=messages.append,
    )
    assert again.status == {"01_one.ipynb": "executed", "02_two.ipynb": "cached"}
    assert any("cache entry of 01_one.ipynb is damaged" in m for m in messages)
    body, damaged = build_cache.read_entry(entry, entry.read_text().split("key=")[1].split()[0])
    assert body and damaged is None
    assert "3 figures" in (tiny["out"] / "01_one.html").read_text(encoding="utf-8")


def test_cache_entries_are_checked_against_key_and_hash(tmp_path: Path) -> None:
    key, other = "a" * 64, "b" * 64
    path = tmp_path / "01.aaaaaaaaaaaaaaaaaaaa.html"
    build_cache.write_entry(path, key, "<p>body</p>")
    assert build_cache.read_entry(path, key) == ("<p>body</p>", None)
    assert build_cache.read_entry(path, other)[1] == "filed under another key"
    path.write_bytes(path.read_bytes().replace(b"body", b"b0dy"))
    assert "does not match its hash" in build_cache.read_entry(path, key)[1]
    assert build_cache.read_entry(tmp_path / "none.html", key) == (None, None)


def test_the_real_data_is_what_the_default_build_reads() -> None:
    """The snapshot of the project's data has the digest the dataset version is made of."""
    from sting_outcomes.data.digest import data_digest
    from sting_outcomes.site.snapshot import read_data

    snap = read_data(DATA_DIR)
    assert snap.digest == data_digest(DATA_DIR)
    assert any(name == "README.md" for name, _ in snap.docs)


def test_notebooks_start_slowest_first_and_a_damaged_timing_record_is_ignored(tmp_path: Path) -> None:
    assert build_cache.longest_first(["a", "b", "c", "new"], {"a": 1.0, "b": 7.5, "c": 3.0}) == ["new", "b", "c", "a"]
    # never timed: the most code first, then by name order as given
    sizes = {"a": 10, "b": 300, "c": 300, "d": 50}
    assert build_cache.longest_first(["a", "b", "c", "d"], {}, sizes) == ["b", "c", "d", "a"]
    assert build_cache.longest_first(["a", "b", "d"], {"b": 1.0}, sizes) == ["d", "a", "b"]
    build_cache.write_timings(tmp_path, {"a": 1.234})
    build_cache.write_timings(tmp_path, {"b": 2})
    assert build_cache.read_timings(tmp_path) == {"a": 1.23, "b": 2.0}
    (tmp_path / build_cache.TIMINGS_NAME).write_text('{"a": "slow", "b": NaN, "c": 4}', encoding="utf-8")
    assert build_cache.read_timings(tmp_path) == {"c": 4.0}
    (tmp_path / build_cache.TIMINGS_NAME).write_text("[1, 2", encoding="utf-8")
    assert build_cache.read_timings(tmp_path) == {}


def test_a_preloaded_snapshot_loads_as_independent_copies(mini_data: Path, monkeypatch) -> None:
    """What the zygote preloads is what a kernel would have read, and a notebook that
    changes its tables does not change the next load."""
    from sting_outcomes.data import load as load_module

    monkeypatch.setattr(load_module, "_PRELOADED", {})
    fresh = load_module.load(mini_data)
    load_module.preload(mini_data)
    first = load_module.load(mini_data)
    pd.testing.assert_frame_equal(first.figures, fresh.figures)
    pd.testing.assert_frame_equal(first.normalized, fresh.normalized)
    assert first.version == fresh.version
    first.figures.loc[:, "value"] = -1.0
    first.normalized.loc[:, "value_std"] = -1.0
    again = load_module.load(mini_data)
    pd.testing.assert_frame_equal(again.figures, fresh.figures)
    pd.testing.assert_frame_equal(again.normalized, fresh.normalized)
    other = mini_data.parent / "other"
    shutil.copytree(mini_data, other)
    (other / "figures.csv").write_text("", encoding="utf-8")  # another folder is read afresh
    with pytest.raises(DataValidationError):
        load_module.load(other)
