"""The report build: notebooks executed in parallel, cached by content hash, rendered offline.

``build()`` decides what to redo from content hashes (:mod:`sting_outcomes.build_cache`):
an unchanged rebuild executes nothing and returns in milliseconds; an edited notebook
re-executes only itself; changed data, package code or lock re-execute every notebook.
Notebooks run in a pool of worker processes (one per core, each notebook in its own
kernel). Output is written to a temporary folder beside ``reports/`` and swapped in only
when every notebook succeeded, so a failure leaves the previous report untouched.
No timestamps are written: unchanged inputs give byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import build_cache
from .paths import CACHE_DIR, DATA_DIR, NOTEBOOKS_DIR, REPORTS_DIR


class BuildError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass(frozen=True)
class BuildSummary:
    """What a build did: per notebook ``executed`` / ``cached``, and the total time (s)."""

    out_dir: Path
    status: dict[str, str]
    seconds: float
    up_to_date: bool = False


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(
    out_dir: Path = REPORTS_DIR,
    data_dir: Path | None = None,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    cache_dir: Path = CACHE_DIR,
    workers: int | None = None,
    progress: Callable[[str], None] = _say,
) -> BuildSummary:
    """Build the report folder; see the module docstring for what is redone and when.

    Raises :class:`~sting_outcomes.problems.DataValidationError` when the data are invalid
    and :class:`BuildError` when a notebook fails; in both cases ``out_dir`` is untouched.
    """
    start = time.perf_counter()
    data_dir = Path(data_dir or DATA_DIR).resolve()
    out_dir, cache_dir = Path(out_dir), Path(cache_dir)
    notebooks = sorted(Path(notebooks_dir).glob("[0-9]*.ipynb"))
    shared = build_cache.shared_inputs(data_dir)
    keys = {nb.name: build_cache.notebook_key(nb, shared) for nb in notebooks}
    key = build_cache.build_key(keys, shared)
    if build_cache.is_up_to_date(out_dir, key):
        progress(f"up to date: {out_dir.name}/ matches its inputs ({len(notebooks)} notebooks)")
        return BuildSummary(out_dir, {n: "cached" for n in keys}, time.perf_counter() - start, up_to_date=True)

    from .data import load  # heavy imports only once work is needed

    ds = load(data_dir)  # validate before spending time on notebooks
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = {n: cache_dir / f"{Path(n).stem}.{k[:20]}.html" for n, k in keys.items()}
    todo = [nb for nb in notebooks if not cached[nb.name].exists()]
    status = {nb.name: "cached" for nb in notebooks if nb not in todo}
    for name in status:
        progress(f"  cached    {name}")
    titles: dict[str, str] = {}
    _run_notebooks(todo, data_dir, cached, titles, status, workers, progress)

    from .pages import PageLink

    links = []
    for nb in notebooks:
        title = titles.get(nb.name) or _cached_title(cached[nb.name]) or nb.stem
        links.append(PageLink(f"{nb.stem}.html", title))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a report folder is for reading
    try:
        _write_site(staging, ds, links, cached, notebooks, shared, keys, key)
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune_cache(cache_dir, set(cached.values()))
    seconds = time.perf_counter() - start
    progress(f"built {out_dir.name}/ in {seconds:.1f} s "
             f"({sum(v == 'executed' for v in status.values())} executed, {sum(v == 'cached' for v in status.values())} cached)")
    return BuildSummary(out_dir, status, seconds)


def _run_notebooks(todo, data_dir, cached, titles, status, workers, progress) -> None:
    """Execute ``todo`` in a process pool; cache each success; raise on the first failure."""
    if not todo:
        return
    from .notebook_run import execute_notebook

    env = {"STING_OUTCOMES_DATA": str(data_dir), "PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    workers = workers or min(len(todo), os.cpu_count() or 1)
    failures = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(execute_notebook, str(nb), env): nb for nb in todo}
        for future in futures:
            result = future.result()
            if result.error:
                failures.append(result.error)
                status[result.name] = "failed"
                progress(f"  FAILED    {result.name} after {result.seconds:.1f} s")
                continue
            tmp = cached[result.name].with_suffix(".tmp")
            tmp.write_text(_cache_entry(result.title, result.body), encoding="utf-8")
            tmp.replace(cached[result.name])
            titles[result.name] = result.title
            status[result.name] = "executed"
            note = f" ({len(result.warnings)} warning output{'s' if len(result.warnings) != 1 else ''} left out of the page)" if result.warnings else ""
            progress(f"  executed  {result.name} in {result.seconds:.1f} s{note}")
            for text in result.warnings:
                progress("    " + text.splitlines()[-1][:200])
    if failures:
        raise BuildError("; ".join(failures))


def _cache_entry(title: str, body: str) -> str:
    return f"<!-- title: {title.replace('--', '- -')} -->\n{body}"


def _cached_title(path: Path) -> str | None:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return first.removeprefix("<!-- title: ").removesuffix(" -->") if first.startswith("<!-- title: ") else None


def _write_site(staging, ds, links, cached, notebooks, shared, keys, key) -> None:
    """Write every page, the CSV download and the manifest into ``staging``."""
    import json

    from .conversion import normalize
    from .pages import explorer_body, index_body, page

    inputs = {"data": ds.version, **{k: v for k, v in shared.items() if k != "data"},
              **{f"notebook {n}": k for n, k in keys.items()}}
    files: dict[str, str] = {}

    def write(name: str, text: str) -> None:
        (staging / name).write_text(text, encoding="utf-8")

    for nb, link in zip(notebooks, links):
        body = cached[nb.name].read_text(encoding="utf-8").split("\n", 1)[1]
        write(link.file, page(link.title, body, links, ds.version))
    normalized = normalize(ds.figures, ds.units)
    write("index.html", page("Overview", index_body(ds, links, inputs), links, ds.version))
    write("explorer.html", page("Data explorer", explorer_body(ds, normalized), links, ds.version))
    normalized.sort_values("figure_id").to_csv(staging / "figures_normalized.csv", index=False, lineterminator="\n")
    for path in sorted(staging.iterdir()):
        files[path.name] = build_cache.file_digest(path)
    manifest = {"build_key": key, "data_version": ds.version, "inputs": inputs, "files": files}
    write(build_cache.MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging`` with two renames; keeps nothing half-written."""
    old = out_dir.with_name(f".{out_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _prune_cache(cache_dir: Path, keep: set[Path]) -> None:
    """Drop cache entries of older notebook versions."""
    for path in cache_dir.glob("*.html"):
        if path not in keep:
            path.unlink()
