"""``make bench``: the report build against plain nbconvert, warm rebuilds, data helpers at scale.

Everything is measured in one run on this machine and printed as a table; the figures
also go to ``reports/bench.json``. Whole commands are timed as subprocesses (start-up and
imports included), the way a researcher experiences them. Nothing here is a test: the
targets are reported as met or not, never asserted.

Measurements
------------
* **cold build**: ``sting-outcomes build`` with an empty cache, against the baseline a user
  would otherwise run, ``jupyter nbconvert --to html --execute`` once per notebook,
  serially; the two alternate for ``rounds`` rounds; medians and their ratio.
* **warm rebuild**: the same build again with nothing changed (median of 5), and after
  editing one notebook (median of 3 different edits). The edited notebook's *own
  execution time* is the median time of running that notebook alone with nbconvert, as in
  the baseline; its time inside the build is shown too.
* **data**: ``load`` (with validation) and ``normalize`` of the real data, in process
  (median of 5 after a warm-up), and the whole ``sting-outcomes validate`` command.
* **scaling**: synthetic figure tables of 10 k, 100 k and 1 M rows (real rows resampled,
  with new ids, operations, sources, dates and values) through ``normalize``, ``latest``
  and ``conflicts``, each in a fresh process: time of the first call, peak memory the call
  allocated (tracemalloc, in a separate run) and the process's peak resident size.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sting_outcomes.paths import NOTEBOOKS_DIR, REPORTS_DIR

BIN = Path(sys.executable).parent
SIZES = (10_000, 100_000, 1_000_000)
FUNCTIONS = ("normalize", "latest", "conflicts")
TARGETS = {
    "cold_ratio": 0.3,  # cold build / serial nbconvert
    "noop_seconds": 0.5,  # unchanged rebuild, whole command
    "edit_ratio": 1.3,  # one edited notebook / that notebook alone
    "million_seconds": 3.0,  # normalize + latest at 1 M rows
    "million_peak_mb": 1536.0,  # process peak at 1 M rows
}


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def _build_cmd(notebooks: Path, out: Path, cache: Path) -> list[str]:
    return [
        str(BIN / "sting-outcomes"),
        "build",
        "--notebooks",
        str(notebooks),
        "--out",
        str(out),
        "--cache",
        str(cache),
    ]


def _baseline(notebooks: list[Path], out: Path) -> dict[str, float]:
    """Serial ``jupyter nbconvert --execute``, one command per notebook; seconds each."""
    times = {}
    for nb in notebooks:
        times[nb.name], _ = _timed(
            [
                str(BIN / "jupyter"),
                "nbconvert",
                "--to",
                "html",
                "--execute",
                "--ExecutePreprocessor.kernel_name=python3",
                str(nb),
                "--output-dir",
                str(out),
            ]
        )
    return times


def _in_build_seconds(log: str, name: str) -> float | None:
    m = re.search(rf"executed\s+{re.escape(name)} in ([0-9.]+) s", log)
    return float(m.group(1)) if m else None


def measure_builds(rounds: int, work: Path) -> dict:
    notebooks_dir = work / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, notebooks_dir)
    notebooks = sorted(notebooks_dir.glob("[0-9]*.ipynb"))
    cold, base, per_nb = [], [], {nb.name: [] for nb in notebooks}
    for i in range(rounds):
        seconds, _ = _timed(_build_cmd(notebooks_dir, work / f"cold-{i}", work / f"cache-cold-{i}"))
        cold.append(seconds)
        print(f"  round {i + 1}: cold build {seconds:.1f} s", file=sys.stderr, flush=True)
        times = _baseline(notebooks, work / f"nbconvert-{i}")
        base.append(sum(times.values()))
        for name, t in times.items():
            per_nb[name].append(t)
        print(f"  round {i + 1}: nbconvert  {base[-1]:.1f} s", file=sys.stderr, flush=True)

    warm_out, warm_cache = work / "warm", work / "cache-warm"
    _timed(_build_cmd(notebooks_dir, warm_out, warm_cache))
    noop = [_timed(_build_cmd(notebooks_dir, warm_out, warm_cache))[0] for _ in range(5)]

    edited = notebooks[len(notebooks) // 2]
    original = edited.read_text(encoding="utf-8")
    edit_times, inside = [], []
    try:
        for k in range(3):
            book = json.loads(original)
            book["cells"].append(
                {"cell_type": "markdown", "id": f"bench-edit-{k}", "metadata": {}, "source": f"Benchmark edit {k}."}
            )
            edited.write_text(json.dumps(book, indent=1) + "\n", encoding="utf-8")
            seconds, log = _timed(_build_cmd(notebooks_dir, warm_out, warm_cache))
            edit_times.append(seconds)
            inside.append(_in_build_seconds(log, edited.name))
    finally:
        edited.write_text(original, encoding="utf-8")
    alone = statistics.median(per_nb[edited.name])
    return {
        "notebooks": [nb.name for nb in notebooks],
        "rounds": rounds,
        "cold_build_seconds": cold,
        "nbconvert_serial_seconds": base,
        "nbconvert_per_notebook_seconds": per_nb,
        "cold_median": statistics.median(cold),
        "nbconvert_median": statistics.median(base),
        "cold_ratio": statistics.median(cold) / statistics.median(base),
        "noop_seconds": noop,
        "noop_median": statistics.median(noop),
        "edited_notebook": edited.name,
        "edit_rebuild_seconds": edit_times,
        "edit_median": statistics.median(edit_times),
        "edited_alone_nbconvert_median": alone,
        "edited_inside_build_seconds": inside,
        "edit_ratio": statistics.median(edit_times) / alone,
    }


def measure_data() -> dict:
    from sting_outcomes.data.load import load
    from sting_outcomes.data.units import normalize

    normalize(load().figures, load().units)
    loads, norms = [], []
    for _ in range(5):
        t = time.perf_counter()
        ds = load()
        loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        normalize(ds.figures, ds.units)
        norms.append(time.perf_counter() - t)
    command = [_timed([str(BIN / "sting-outcomes"), "validate"])[0] for _ in range(3)]
    return {
        "figures": len(ds.figures),
        "load_validate_median": statistics.median(loads),
        "normalize_median": statistics.median(norms),
        "validate_command_median": statistics.median(command),
    }


def synthetic_figures(n: int, seed: int = 0):
    """``n`` figures resampled from the real data with fresh ids, operations, sources,
    dates and values (about 40 figures an operation, 5 a source, a third of sources
    primary); returns (figures, units) typed and joined as ``load()`` gives them."""
    import numpy as np
    import pandas as pd

    from sting_outcomes.data.load import load

    ds = load()
    rng = np.random.default_rng(seed)
    frame = ds.figures.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    frame["figure_id"] = pd.array([f"syn-{i:07d}" for i in range(n)], dtype="string")
    frame["operation_id"] = pd.array(
        np.char.add("op-", rng.integers(0, max(1, n // 40), n).astype(str)), dtype="string"
    )
    frame["source_id"] = pd.array(np.char.add("src-", rng.integers(0, max(1, n // 5), n).astype(str)), dtype="string")
    frame["as_of"] = pd.Timestamp("2014-01-01") + pd.to_timedelta(rng.integers(0, 4000, n), unit="D")
    frame["as_of_precision"] = pd.Categorical(["day"] * n, categories=["day", "month", "year"])
    frame["value"] = frame["value"] * rng.uniform(0.5, 1.5, n)
    source_no = frame["source_id"].str.slice(4).astype(int).to_numpy()
    frame["source_kind"] = pd.Categorical(
        np.where(source_no % 3 == 0, "primary", "secondary"), categories=["primary", "secondary"]
    )
    return frame, ds.units


def scale_one(function: str, n: int, trace: bool) -> dict:
    """Run one helper on ``n`` synthetic rows in this (fresh) process; time or memory."""
    import resource
    import tracemalloc
    import warnings

    from sting_outcomes.analysis.conflicts import conflicts
    from sting_outcomes.analysis.snapshots import latest
    from sting_outcomes.data.units import normalize

    warnings.simplefilter("ignore")
    figures, units = synthetic_figures(n)
    if function != "normalize":
        figures = normalize(figures, units)
    call = {
        "normalize": lambda: normalize(figures, units),
        "latest": lambda: latest(figures),
        "conflicts": lambda: conflicts(figures),
    }[function]
    if trace:
        tracemalloc.start()
        call()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"allocated_peak_mb": peak / 2**20}
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "process_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_scaling() -> list[dict]:
    rows = []
    for n in SIZES:
        for function in FUNCTIONS:
            result = {"rows": n, "function": function}
            for trace in (False, True):
                out = subprocess.run(
                    [sys.executable, __file__, "--scale-one", function, str(n), *(["--trace"] if trace else [])],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result.update(json.loads(out.stdout.strip().splitlines()[-1]))
            rows.append(result)
            print(f"  {function:<9} {n:>9,} rows {result['seconds']:.2f} s", file=sys.stderr, flush=True)
    for row in rows:
        smaller = [r for r in rows if r["function"] == row["function"] and r["rows"] == row["rows"] // 10]
        row["growth"] = row["seconds"] / smaller[0]["seconds"] if smaller else None
    return rows


def report(results: dict) -> str:
    b, d, s = results["builds"], results["data"], results["scaling"]
    ok = lambda met: "met" if met else "NOT met"  # noqa: E731
    million = {r["function"]: r for r in s if r["rows"] == 1_000_000}
    m_sec = million["normalize"]["seconds"] + million["latest"]["seconds"]
    m_peak = max(million["normalize"]["process_peak_mb"], million["latest"]["process_peak_mb"])

    def target(value: float, name: str, sign: str = "<=") -> str:
        met = value <= TARGETS[name] if sign == "<=" else value < TARGETS[name]
        return f"  {sign} {TARGETS[name]:g} {ok(met)}"

    inside = statistics.median([x for x in b["edited_inside_build_seconds"] if x] or [float("nan")])
    lines = [
        f"{'measure':<46}{'value':>14}  target",
        f"{'cold build, median of ' + str(b['rounds']) + ' (s)':<46}{b['cold_median']:>14.2f}",
        f"{'serial nbconvert, median of ' + str(b['rounds']) + ' (s)':<46}{b['nbconvert_median']:>14.2f}",
        f"{'cold / nbconvert':<46}{b['cold_ratio']:>14.2f}" + target(b["cold_ratio"], "cold_ratio"),
        f"{'no-change rebuild, whole command (s)':<46}{b['noop_median']:>14.3f}"
        + target(b["noop_median"], "noop_seconds", "<"),
        f"{'one edited notebook rebuild (s)':<46}{b['edit_median']:>14.2f}",
        f"{'  that notebook alone, nbconvert (s)':<46}{b['edited_alone_nbconvert_median']:>14.2f}",
        f"{'  that notebook inside the build (s)':<46}{inside:>14.2f}",
        f"{'  rebuild / alone':<46}{b['edit_ratio']:>14.2f}" + target(b["edit_ratio"], "edit_ratio"),
        f"{'load + validate, ' + str(d['figures']) + ' figures (s)':<46}{d['load_validate_median']:>14.3f}",
        f"{'normalize, real data (s)':<46}{d['normalize_median']:>14.3f}",
        f"{'sting-outcomes validate, whole command (s)':<46}{d['validate_command_median']:>14.2f}",
        "",
        f"{'scaling':<18}{'rows':>10}{'seconds':>10}{'growth':>9}{'alloc MB':>10}{'RSS MB':>9}",
    ]
    for r in s:
        growth = f"{r['growth']:.1f}x" if r["growth"] else "-"
        lines.append(
            f"{r['function']:<18}{r['rows']:>10,}{r['seconds']:>10.2f}{growth:>9}"
            f"{r['allocated_peak_mb']:>10.0f}{r['process_peak_mb']:>9.0f}"
        )
    lines.append(f"{'1 M rows: normalize + latest (s)':<46}{m_sec:>14.2f}" + target(m_sec, "million_seconds"))
    lines.append(f"{'1 M rows: process peak (MB)':<46}{m_peak:>14.0f}" + target(m_peak, "million_peak_mb"))
    return "\n".join(lines)


def run(rounds: int = 3, out: Path = REPORTS_DIR / "bench.json") -> dict:
    work = Path(tempfile.mkdtemp(prefix="sting-bench-"))
    try:
        print("builds (cold against nbconvert, then warm):", file=sys.stderr, flush=True)
        results = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "builds": measure_builds(rounds, work),
        }
        print("data helpers:", file=sys.stderr, flush=True)
        results["data"] = measure_data()
        results["scaling"] = measure_scaling()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["targets"] = TARGETS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    print(f"\nwrote {out}")
    return results


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--scale-one":
        print(json.dumps(scale_one(sys.argv[2], int(sys.argv[3]), "--trace" in sys.argv)))
    else:
        run()
