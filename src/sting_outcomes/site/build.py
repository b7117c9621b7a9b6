"""The report build: notebooks executed in parallel, cached by content hash, rendered offline.

``build()`` decides what to redo from content hashes (:mod:`sting_outcomes.site.cache`):
an unchanged rebuild executes nothing and returns in milliseconds; an edited notebook
re-executes only itself; changed data, package code or lock re-execute every notebook.
Notebooks run concurrently, one per core, each in its own kernel process; kernels are
forked from one pre-imported process (:mod:`sting_outcomes.site.kernel_fork`) so the build
pays the imports once; set ``STING_OUTCOMES_NO_FORK=1`` to start kernels the usual way.
Output is written to a temporary folder beside ``reports/`` and swapped in only when
every notebook succeeded, so a failure leaves the previous report untouched.
No timestamps are written: unchanged inputs give byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..paths import CACHE_DIR, NOTEBOOKS_DIR, REPORTS_DIR, default_data_dir
from . import cache as build_cache


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

    Raises :class:`~sting_outcomes.data.problems.DataValidationError` when the data are invalid
    and :class:`BuildError` when a notebook fails; in both cases ``out_dir`` is untouched.
    """
    start = time.perf_counter()
    data_dir = Path(data_dir or default_data_dir()).resolve()
    out_dir, cache_dir = Path(out_dir), Path(cache_dir)
    notebooks = sorted(Path(notebooks_dir).glob("[0-9]*.ipynb"))
    shared = build_cache.shared_inputs(data_dir)
    keys = {nb.name: build_cache.notebook_key(nb, shared) for nb in notebooks}
    key = build_cache.build_key(keys, shared)
    if build_cache.is_up_to_date(out_dir, key):
        progress(f"up to date: {out_dir.name}/ matches its inputs ({len(notebooks)} notebooks)")
        return BuildSummary(out_dir, {n: "cached" for n in keys}, time.perf_counter() - start, up_to_date=True)

    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = {n: cache_dir / f"{Path(n).stem}.{k[:20]}.html" for n, k in keys.items()}
    todo = [nb for nb in notebooks if not cached[nb.name].exists()]
    status = {nb.name: "cached" for nb in notebooks if nb not in todo}
    for name in status:
        progress(f"  cached    {name}")
    # Start the kernels' pre-imports now: they run while the data are validated and the
    # data pages are written.
    kernel_env = {**KERNEL_ENV, "STING_OUTCOMES_DATA": str(data_dir)}
    zygote = _start_zygote(kernel_env) if todo else None
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a report folder is for reading
    try:
        from ..data.load import load  # heavy imports only once work is needed
        from .pages import PageLink

        ds = load(data_dir)  # validate before spending time on notebooks
        links = [PageLink(f"{nb.stem}.html", _source_title(nb)) for nb in notebooks]
        _write_data_pages(staging, ds, links, shared, keys)
        _run_notebooks(todo, kernel_env, cached, status, workers, progress, zygote)
        _write_notebook_pages(staging, ds, links, cached, notebooks)
        _write_manifest(staging, ds, key)
        _swap_in(staging, out_dir)
    finally:
        if zygote is not None:
            zygote.close()
        shutil.rmtree(staging, ignore_errors=True)
    _prune_cache(cache_dir, set(cached.values()))
    seconds = time.perf_counter() - start
    progress(
        f"built {out_dir.name}/ in {seconds:.1f} s ({sum(v == 'executed' for v in status.values())} executed, "
        f"{sum(v == 'cached' for v in status.values())} cached)"
    )
    return BuildSummary(out_dir, status, seconds)


def _start_zygote(kernel_env: dict[str, str]):
    from .kernel_fork import SUPPORTED, Zygote

    if not SUPPORTED or os.environ.get("STING_OUTCOMES_NO_FORK") == "1":
        return None
    return Zygote(kernel_env)


def _source_title(notebook: Path) -> str:
    """The page title: the notebook's first level-one heading, read without executing it."""
    import nbformat

    from .notebook_run import notebook_title

    return notebook_title(nbformat.read(notebook, as_version=4)) or notebook.stem


KERNEL_ENV = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def _run_notebooks(todo, kernel_env, cached, status, workers, progress, zygote) -> None:
    """Execute ``todo``, ``workers`` at a time; cache each success; raise if any failed."""
    if not todo:
        return
    import asyncio

    workers = workers or min(len(todo), os.cpu_count() or 1)
    failures = []

    def done(result) -> None:
        if result.error:
            failures.append(result.error)
            status[result.name] = "failed"
            progress(f"  FAILED    {result.name} after {result.seconds:.1f} s")
            return
        tmp = cached[result.name].with_suffix(".tmp")
        tmp.write_text(result.body, encoding="utf-8")
        tmp.replace(cached[result.name])
        status[result.name] = "executed"
        note = (
            f" ({len(result.warnings)} warning output{'s' if len(result.warnings) != 1 else ''} left out of the page)"
            if result.warnings
            else ""
        )
        progress(f"  executed  {result.name} in {result.seconds:.1f} s{note}")
        for text in result.warnings:
            progress("    " + text.splitlines()[-1][:200])

    asyncio.run(_execute_all(todo, workers, done, zygote, kernel_env))
    if failures:
        raise BuildError("; ".join(failures))


async def _execute_all(todo, workers, done, zygote, kernel_env) -> None:
    """Run the notebooks concurrently (each in its own kernel process) with a bound."""
    import asyncio

    from .notebook_run import execute_notebook

    gate = asyncio.Semaphore(workers)

    async def one(path: Path):
        async with gate:
            return await execute_notebook(str(path), zygote, kernel_env)

    for finished in asyncio.as_completed([one(nb) for nb in todo]):
        done(await finished)


def _write_data_pages(staging, ds, links, shared, keys) -> None:
    """Every page and file that needs the data but not the notebooks (see
    :func:`sting_outcomes.site.pages.write_data_pages`)."""
    from .pages import write_data_pages

    inputs = {
        "data": ds.version,
        **{k: v for k, v in shared.items() if k != "data"},
        **{f"notebook {n}": k for n, k in keys.items()},
    }
    write_data_pages(staging, ds, links, inputs)


def _write_notebook_pages(staging, ds, links, cached, notebooks) -> None:
    from .pages import page

    for nb, link in zip(notebooks, links):
        body = cached[nb.name].read_text(encoding="utf-8")
        (staging / link.file).write_text(page(link.title, body, links, ds.version), encoding="utf-8")


def _write_manifest(staging, ds, key) -> None:
    """``build.json``: the build key and a digest of every file, for the up-to-date check."""
    import json

    files = {path.name: build_cache.file_digest(path) for path in sorted(staging.iterdir())}
    manifest = {"build_key": key, "data_version": ds.version, "files": files}
    (staging / build_cache.MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


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
