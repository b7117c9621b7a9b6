"""The report build: notebooks executed in parallel, cached by content hash, rendered offline.

One build, in order:

1. **Check where it writes** (:mod:`.publish`): ``--out`` must be a folder the build made
   (or new or empty) and not the project, its folders, the current or home folder; the
   cache folder likewise. A refusal is :class:`~.publish.UnsafeFolder`, a usage error.
2. **Lock** the output folder (:mod:`.lock`); a second build of the same folder waits.
3. **Read the inputs once**: each notebook's bytes, and the data package into one
   snapshot (:mod:`.snapshot`). The cache keys are hashes of exactly those bytes
   (:mod:`.cache`), so an unchanged rebuild stops here, in milliseconds, without
   importing pandas or Jupyter.
4. **Lock the cache**, write the snapshot into it and **validate that snapshot** before
   anything reads it; its problems are reported against ``data/``.
5. **Run** what the cache lacks, ``workers`` notebooks at a time, each in its own kernel,
   all pointed at the snapshot (``STING_OUTCOMES_DATA``). Kernels are forked from one
   pre-imported process on Linux (:mod:`.kernel_fork`; ``STING_OUTCOMES_NO_FORK=1``
   starts them the usual way) and cannot outlive the build (:mod:`.kernels`).
6. **Publish** the staging folder in one atomic step (:func:`.publish.publish`) only when
   every notebook succeeded; a failure names the notebook and the cell and leaves the
   previous report untouched. Ctrl-C or SIGTERM stops the kernels and removes the staging
   folder before the ``KeyboardInterrupt`` reaches the caller.

No timestamps are written: unchanged inputs give byte-identical files.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..paths import CACHE_DIR, NOTEBOOKS_DIR, REPORTS_DIR, default_data_dir, display_path
from . import cache as build_cache
from .lock import FolderLock, LockBusy
from .publish import (
    MARKER,
    UnsafeFolder,
    check_cache_dir,
    check_out_dir,
    claim_cache_dir,
    lock_path,
    make_staging,
    publish,
    remove_stale,
    shown_folder,
)

__all__ = ["BuildError", "BuildSummary", "LockBusy", "UnsafeFolder", "UsageError", "build"]


class BuildError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


class UsageError(ValueError):
    """The build was asked for something it cannot do (bad ``workers``, no notebooks);
    the message is one line."""


@dataclass(frozen=True)
class BuildSummary:
    """What a build did: per notebook ``executed`` / ``cached``, the total time (s), and the
    pids of every kernel (and kernel zygote) it started, all stopped by the time it returns."""

    out_dir: Path
    status: dict[str, str]
    seconds: float
    up_to_date: bool = False
    processes: tuple[int, ...] = ()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


KERNEL_ENV = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
_ENTRY = re.compile(r"^[^.].*\.[0-9a-f]{20}\.html$")


def build(
    out_dir: Path = REPORTS_DIR,
    data_dir: Path | None = None,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    cache_dir: Path = CACHE_DIR,
    workers: int | None = None,
    progress: Callable[[str], None] = _say,
    lock_timeout: float | None = None,
) -> BuildSummary:
    """Build the report folder; see the module docstring for what is done and when.

    Raises :class:`~sting_outcomes.data.problems.DataValidationError` when the data are
    invalid, :class:`BuildError` when a notebook fails (``out_dir`` untouched in both cases),
    :class:`UnsafeFolder` or :class:`UsageError` for a request the build refuses, and
    :class:`LockBusy` when another build holds the output folder longer than ``lock_timeout``
    seconds (``None``: wait as long as it takes).
    """
    start = time.perf_counter()
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UsageError(f"--workers must be a whole number of at least 1 (got {workers!r})")
    data_dir = Path(data_dir).absolute() if data_dir is not None else default_data_dir()
    notebooks_dir = Path(notebooks_dir).resolve()
    if not notebooks_dir.is_dir():
        raise UsageError(f"the notebooks folder {display_path(notebooks_dir)} does not exist")
    notebooks = sorted(p for p in notebooks_dir.glob("[0-9]*.ipynb") if p.is_file())
    if not notebooks:
        raise UsageError(f"no notebooks (files named like 01_name.ipynb) in {display_path(notebooks_dir)}")
    inputs = {"data": data_dir, "notebooks": notebooks_dir}
    cache_dir = check_cache_dir(cache_dir, inputs)
    out = check_out_dir(out_dir, {**inputs, "cache": cache_dir})
    claim_cache_dir(cache_dir)
    with FolderLock(lock_path(out), f"{shown_folder(out)}/", progress, lock_timeout):
        from .snapshot import read_data

        sources = {nb.name: nb.read_bytes() for nb in notebooks}  # read once: keyed and run from these bytes
        snap = read_data(data_dir)
        shared = build_cache.shared_inputs(snap.digest)
        keys = {name: build_cache.notebook_key(data, shared) for name, data in sources.items()}
        key = build_cache.build_key(keys, shared, {"codebook": snap.docs_digest})
        if (out / MARKER).is_file() and build_cache.is_up_to_date(out, key):
            progress(f"up to date: {out.name}/ matches its inputs ({len(notebooks)} notebooks)")
            return BuildSummary(out_dir, {n: "cached" for n in keys}, time.perf_counter() - start, up_to_date=True)
        with FolderLock(cache_dir / ".lock", f"the cache {display_path(cache_dir)}/", progress, lock_timeout):
            summary = _build_locked(out, snap, sources, keys, key, shared, notebooks_dir, cache_dir, workers, progress)
    seconds = time.perf_counter() - start
    status = summary.status
    progress(
        f"built {out.name}/ in {seconds:.1f} s ({sum(v == 'executed' for v in status.values())} executed, "
        f"{sum(v == 'cached' for v in status.values())} cached)"
    )
    return BuildSummary(out_dir, status, seconds, processes=summary.processes)


def _build_locked(out, snap, sources, keys, key, shared, notebooks_dir, cache_dir, workers, progress) -> BuildSummary:
    import nbformat

    from . import snapshot as snapshots
    from .kernels import KernelRegistry
    from .notebook_run import notebook_title

    run_dir = cache_dir / "run"  # connection files of this build's kernels; a killed build's are removed here
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    stale = remove_stale(out)
    if stale:
        n = len(stale)
        progress(f"  removed {n} old report folder{'s' if n != 1 else ''} nothing pointed at (an interrupted build?)")
    snapshot_dir = snap.write(cache_dir / "data")

    parsed = {}
    for name, data in sources.items():
        try:
            parsed[name] = nbformat.reads(data.decode("utf-8"), as_version=4)
        except Exception as exc:  # not JSON, not a notebook, not UTF-8
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BuildError(f"{name}: not a readable notebook ({first})") from None
    entries = {name: build_cache.entry_path(cache_dir, name, k) for name, k in keys.items()}
    bodies: dict[str, str] = {}
    for name in sources:
        body, damaged = build_cache.read_entry(entries[name], keys[name])
        if body is not None:
            bodies[name] = body
        elif damaged:
            progress(f"  cache entry of {name} is damaged ({damaged}); running it again")
    status = {name: "cached" for name in bodies}
    for name in status:
        progress(f"  cached    {name}")
    code_size = {n: sum(len(c.source) for c in nb.cells if c.cell_type == "code") for n, nb in parsed.items()}
    todo = [name for name in sources if name not in bodies]
    todo = build_cache.longest_first(todo, build_cache.read_timings(cache_dir), code_size)

    kernel_env = {**KERNEL_ENV, "STING_OUTCOMES_DATA": str(snapshot_dir)}
    registry = KernelRegistry()
    zygote = staging = None
    try:
        if todo:
            # Start the kernels' pre-imports now: they run while the snapshot is validated
            # and the data pages are written. The zygote also loads the snapshot (written
            # above, read-only); if it is invalid the zygote skips that and the build stops
            # at validation below.
            zygote = _start_zygote(kernel_env, [parsed[n] for n in todo], registry)
        ds = _validated(snap, snapshot_dir)  # before anything reads the data
        from .pages import PageLink

        links = [PageLink(f"{Path(n).stem}.html", notebook_title(parsed[n]) or Path(n).stem) for n in sources]
        staging = make_staging(out)
        run = _NotebookRun(todo, parsed, notebooks_dir, kernel_env, workers, progress, zygote, registry, run_dir)
        run.on_success = lambda result: _cache_page(result, entries, keys, bodies, status, progress)
        run.on_failure = lambda result: status.__setitem__(result.name, "failed")
        run.start()  # the notebooks run in their kernels while this thread writes the data pages
        try:
            _write_data_pages(staging, ds, links, shared, keys)
        except BaseException:
            run.stop()
            raise
        run.wait()
        build_cache.write_timings(cache_dir, run.seconds)
        _write_notebook_pages(staging, ds, links, bodies, list(sources))
        _write_manifest(staging, ds, key)
        publish(staging, out)
        staging = None
    finally:
        if zygote is not None:
            zygote.close()
        registry.kill_all()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)
    _prune_cache(cache_dir, set(entries.values()))
    snapshots.prune(cache_dir / "data", keep=snapshot_dir.name)
    return BuildSummary(out, status, 0.0, processes=tuple(registry.pids))


def _validated(snap, snapshot_dir: Path):
    from ..data.load import load
    from ..data.problems import DataValidationError

    try:
        return load(snapshot_dir)
    except DataValidationError as exc:
        raise snap.remap(exc, snapshot_dir) from None


def fork_enabled() -> bool:
    from .kernel_fork import SUPPORTED

    return SUPPORTED and os.environ.get("STING_OUTCOMES_NO_FORK") != "1"


def _start_zygote(kernel_env: dict[str, str], notebooks: list, registry):
    if not fork_enabled():
        return None
    from .kernel_fork import Zygote, preload_for

    preload, ecb = preload_for(notebooks)
    return Zygote(kernel_env, preload, ecb, registry)


def _cache_page(result, entries, keys, bodies, status, progress) -> None:
    build_cache.write_entry(entries[result.name], keys[result.name], result.body)
    bodies[result.name] = result.body
    status[result.name] = "executed"
    n = len(result.warnings)
    note = f" ({n} warning output{'s' if n != 1 else ''} left out of the page)" if n else ""
    progress(f"  executed  {result.name} in {result.seconds:.1f} s{note}")
    for text in result.warnings:
        progress("    " + text.splitlines()[-1][:200])


class _NotebookRun:
    """Executes notebooks, ``workers`` at a time, each in its own kernel, in an event loop
    on a worker thread: the main thread meanwhile writes the data pages, and keeps the
    signals. :meth:`wait` raises :class:`BuildError` naming every failure; on Ctrl-C or
    SIGTERM (a ``KeyboardInterrupt`` in the main thread) :meth:`stop` cancels the loop
    (nbclient shuts each kernel down), kills whatever kernel is left, and the interrupt
    goes on to the caller."""

    def __init__(self, todo, parsed, cwd, kernel_env, workers, progress, zygote, registry, run_dir):
        self.todo, self.parsed, self.cwd, self.kernel_env = todo, parsed, cwd, kernel_env
        # one more kernel than cores: a kernel waits on messages and on its start-up now and
        # then, and the spare one keeps both cores busy (measured: 15.4 s cold against 18.7 s
        # with two on two cores; four gave 16-16.8 s)
        self.count = workers or min(len(todo), (os.cpu_count() or 1) + 1)
        self.progress, self.zygote, self.registry, self.run_dir = progress, zygote, registry, run_dir
        self.on_success: Callable = lambda result: None
        self.on_failure: Callable = lambda result: None
        self.failures: list[str] = []
        self.seconds: dict[str, float] = {}  # execution time of each notebook that ran
        self.state: dict = {}
        self.thread: threading.Thread | None = None

    def _done(self, result) -> None:
        self.seconds[result.name] = result.seconds
        if result.error:
            self.failures.append(result.error)
            self.on_failure(result)
            self.progress(f"  FAILED    {result.name} after {result.seconds:.1f} s")
        else:
            self.on_success(result)

    async def _main(self) -> None:
        import asyncio

        from .notebook_run import execute_notebook

        self.state["loop"], self.state["task"] = asyncio.get_running_loop(), asyncio.current_task()
        gate = asyncio.Semaphore(self.count)

        async def one(name: str):
            async with gate:
                return await execute_notebook(
                    name,
                    self.parsed[name],
                    self.cwd,
                    self.kernel_env,
                    zygote=self.zygote,
                    registry=self.registry,
                    run_dir=self.run_dir,
                )

        # tasks are created in the order given, so the semaphore starts them in that order
        tasks = [asyncio.ensure_future(one(name)) for name in self.todo]
        for finished in asyncio.as_completed(tasks):
            self._done(await finished)

    def _thread_main(self) -> None:
        import asyncio

        try:
            asyncio.run(self._main())
        except BaseException as exc:  # handed to the main thread (CancelledError after stop())
            self.state["error"] = exc

    def start(self) -> None:
        if self.todo:
            self.thread = threading.Thread(target=self._thread_main, name="sting-outcomes-notebooks", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        loop, task = self.state.get("loop"), self.state.get("task")
        if loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop has already closed
                pass
        try:
            if self.thread is not None:
                self.thread.join(5)
        finally:
            self.registry.kill_all()

    def wait(self) -> None:
        if self.thread is None:
            return
        try:
            while self.thread.is_alive():
                self.thread.join(0.2)
        except BaseException:  # KeyboardInterrupt (Ctrl-C, or SIGTERM through the command line)
            self.stop()
            raise
        error = self.state.get("error")
        if error is not None:
            raise error
        if self.failures:
            raise BuildError("; ".join(sorted(self.failures)))


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


def _write_notebook_pages(staging, ds, links, bodies, names) -> None:
    from .pages import page

    for name, link in zip(names, links):
        (staging / link.file).write_text(page(link.title, bodies[name], links, ds.version), encoding="utf-8")


def _write_manifest(staging, ds, key) -> None:
    """``build.json``: the build key and a digest of every file, for the up-to-date check."""
    import json

    files = {
        path.relative_to(staging).as_posix(): build_cache.file_digest(path)
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }
    manifest = {"build_key": key, "data_version": ds.version, "files": files}
    (staging / build_cache.MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _prune_cache(cache_dir: Path, keep: set[Path]) -> None:
    """Drop cache entries of older notebook versions, and temporary files of crashed writes."""
    for path in cache_dir.iterdir():
        if path.is_file() and path not in keep and (_ENTRY.match(path.name) or path.name.endswith(".tmp")):
            path.unlink(missing_ok=True)
