"""Kernels forked from one pre-imported process, so a build pays its imports once (Linux).

Starting a Jupyter kernel and importing pandas, matplotlib, seaborn and statsmodels costs
several CPU-seconds, and every notebook would pay it. Here a *zygote* process (a fresh
interpreter with a fixed hash seed) imports what the notebooks to run import
(:func:`preload_for`, read statically from their code cells) once, and loads the build's
data snapshot (:func:`sting_outcomes.data.load.preload`); each notebook's kernel is then
``os.fork()``-ed from it and starts an ipykernel on the connection file the kernel manager
wrote. Every notebook still runs in its own process: nothing a notebook does
reaches another one or the zygote.

Kernels are started through jupyter_client's public provisioner interface
(:class:`ForkProvisioner`, a :class:`~jupyter_client.provisioning.LocalProvisioner` whose
``launch_kernel`` asks the zygote instead of ``Popen``). Nothing outlives the build: the
zygote and each kernel ask for ``SIGKILL`` on their parent's death
(:func:`~sting_outcomes.site.kernels.die_with_parent`), kernels also run ipykernel's
parent poller, and the build kills every process group it recorded when it ends.

The zygote speaks one JSON request per line on stdin (``connection_file``, ``cwd``,
``env``) and answers with the child's pid on stdout; it reaps its children and exits when
its stdin closes. Forking is used on Linux only (``SUPPORTED``); elsewhere, or with
``STING_OUTCOMES_NO_FORK=1``, kernels start the ordinary way with identical pages.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from .kernels import KernelRegistry, die_with_parent, process_alive, start_time

SUPPORTED = sys.platform.startswith("linux") and hasattr(os, "fork")
PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: Top-level packages the zygote may import ahead of time: slow to import and safe to fork
#: after. A notebook's other imports run in its own kernel as usual.
PRELOADABLE = frozenset(
    {
        "numpy",
        "pandas",
        "scipy",
        "matplotlib",
        "matplotlib_inline",
        "seaborn",
        "statsmodels",
        "pycountry",
        "currency_converter",
        "sting_outcomes",
        "IPython",
    }
)
#: Always imported: what every kernel needs to start.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel")
_PLOTTING = ("matplotlib.pyplot", "matplotlib_inline.backend_inline")


# -- what to pre-import ------------------------------------------------------------------


def _code(cell_source: str) -> ast.Module | None:
    lines = [("pass" if ln.lstrip().startswith(("%", "!")) else ln) for ln in cell_source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _exports() -> dict[str, str]:
    import sting_outcomes

    return {name: f"sting_outcomes.{module}" for name, module in sting_outcomes._EXPORTS.items()} | {
        "plots": "sting_outcomes.plots"
    }


def _notebook_imports(tree: ast.Module, exports: dict[str, str], aliases: set[str] | None = None) -> set[str]:
    """Modules one cell imports, directly or through package helpers it calls as
    ``so.<name>``; ``aliases`` (the names the package was imported as) carries over from
    the notebook's earlier cells and gains this cell's."""
    found: set[str] = set()
    aliases = set() if aliases is None else aliases
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
                if alias.name == "sting_outcomes":
                    aliases.add(alias.asname or "sting_outcomes")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            for alias in node.names:
                if node.module == "sting_outcomes" and alias.name in exports:
                    found.add(exports[alias.name])
                else:
                    found.add(f"{node.module}.{alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if node.attr in exports:
                found.add(exports[node.attr])
    return found


def _module_file(module: str) -> Path | None:
    parts = module.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_closure(modules: set[str]) -> set[str]:
    """``modules`` plus what the package modules among them import: their module-level
    imports (followed), and heavy libraries they import inside functions."""
    out, todo = set(modules), [m for m in modules if m.split(".")[0] == "sting_outcomes"]
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for i in range(1, len(parts)):  # importing a.b.c runs a/__init__ and a/b/__init__
            parent = ".".join(parts[:i])
            if parent not in out:
                out.add(parent)
                todo.append(parent)
        path = _module_file(module)
        if path is None:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        is_package = path.name == "__init__.py"
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = parts[: len(parts) - node.level + (1 if is_package else 0)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                    if id(node) in top_level:
                        names = [base, *(f"{base}.{a.name}" for a in node.names)]
                elif node.module:
                    names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for name in names:
                internal = name.split(".")[0] == "sting_outcomes"
                if internal and _module_file(name) is None:
                    continue
                if name not in out and (not internal or id(node) in top_level):
                    out.add(name)
                    if internal:
                        todo.append(name)
    return out


def preload_for(notebooks: Iterable[Any]) -> tuple[list[str], bool]:
    """(modules to import, whether to parse the ECB rate history) for these notebooks
    (``nbformat`` nodes): only what their code cells import, directly or through the
    package helpers they call, restricted to :data:`PRELOADABLE` libraries."""
    exports = _exports()
    needed: set[str] = set()
    text = []
    for nb in notebooks:
        aliases: set[str] = set()  # `import sting_outcomes as so` in one cell, `so.x` in the next
        for cell in nb.cells:
            if cell.cell_type == "code":
                text.append(cell.source)
                tree = _code(cell.source)
                if tree is not None:
                    needed |= _notebook_imports(tree, exports, aliases)
    needed = {m for m in _package_closure(needed) if m.split(".")[0] in PRELOADABLE}
    if any(m.split(".")[0] in ("matplotlib", "seaborn") or m == "sting_outcomes.plots" for m in needed):
        needed.update(_PLOTTING)
    ecb = "sting_outcomes.data.units" in needed or any(re.search(r"\bnormali[sz]e", t) for t in text)
    if ecb:
        needed.add("sting_outcomes.data.units")
    external = sorted(m for m in needed if not m.startswith("sting_outcomes"))
    internal = sorted(m for m in needed if m.startswith("sting_outcomes"))
    return [*external, *internal], ecb


# -- the zygote process ------------------------------------------------------------------


#: The zygote's kernels that it has not reaped yet: only these may be signalled (a reaped
#: pid can be given to another process).
_LIVE: set[int] = set()


def _reap(_signum: int, _frame: Any) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _LIVE.discard(pid)


def _run_kernel(request: dict, zygote_pid: int) -> None:
    """In the forked child: become an ipykernel on the given connection file."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # kernel interrupts
    os.setsid()
    die_with_parent(zygote_pid)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request.get("env", {}))
    os.environ["JPY_PARENT_PID"] = str(zygote_pid)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"], f"--IPKernelApp.parent_handle={zygote_pid}"])
    # pyplot was imported in the zygote before any IPython shell existed, so the inline
    # backend never hooked itself into one; hook it into this kernel's shell now.
    if "matplotlib.pyplot" in sys.modules:
        app.shell.enable_matplotlib("inline")
        # The inline backend draws every figure it sends; pyplot's post-execute hook would
        # first draw each one more time, for no output (about a sixth of a build's kernel
        # time). The pages are byte-identical without it.
        sys.modules["matplotlib.pyplot"].uninstall_repl_displayhook()
    app.start()


def serve(preload: list[str] | None = None, ecb: bool = False) -> None:
    """Zygote main loop: import once, then fork one kernel per request line."""
    import importlib

    build_pid = int(os.environ.get("STING_OUTCOMES_BUILD_PID") or 0)
    if build_pid:
        die_with_parent(build_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build handles Ctrl-C and stops us
    for name in [*KERNEL_MODULES, *(preload or [])]:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    if ecb:  # the ECB history is parsed once here rather than in every notebook (read-only, cached)
        try:
            importlib.import_module("sting_outcomes.data.units").ecb_daily_rates()
        except Exception:
            pass
    data_dir = os.environ.get("STING_OUTCOMES_DATA")
    if data_dir and "sting_outcomes" in (preload or []):
        # the build's snapshot: read-only and named by its content, so every kernel would
        # load exactly this; invalid data raise here and the build reports them itself
        try:
            importlib.import_module("sting_outcomes.data.load").preload(data_dir)
        except Exception:
            pass
    me = os.getpid()
    signal.signal(signal.SIGCHLD, _reap)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _run_kernel(request, me)
            except BaseException:  # the kernel's own errors go to its client, not here
                code = 1
            finally:
                os._exit(code)
        _LIVE.add(pid)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for pid in list(_LIVE):  # stdin closed: the build is done or gone; so are its kernels
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)


# -- the build's side --------------------------------------------------------------------


class Zygote:
    """Handle on a running zygote; ``spawn`` forks a kernel and returns its pid."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        preload: list[str] | None = None,
        ecb: bool = False,
        registry: KernelRegistry | None = None,
    ):
        child_env = {
            **os.environ,
            **(env or {}),
            "PYTHONHASHSEED": "0",
            "OPENBLAS_NUM_THREADS": "1",
            "STING_OUTCOMES_BUILD_PID": str(os.getpid()),
        }
        code = f"from sting_outcomes.site.kernel_fork import serve; serve({preload or []!r}, {bool(ecb)!r})"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=child_env,
            start_new_session=True,  # a Ctrl-C in the terminal is the build's to handle
        )
        self.registry = registry
        if registry is not None:
            registry.add(self.process.pid, self.process.pid)
        self.children: list[int] = []

    def spawn(self, connection_file: str, cwd: str, env: dict[str, str]) -> int:
        assert self.process.stdin and self.process.stdout
        try:
            self.process.stdin.write(json.dumps({"connection_file": connection_file, "cwd": cwd, "env": env}) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        except (BrokenPipeError, ValueError):
            answer = ""
        if not answer.strip().isdigit():
            raise RuntimeError(f"the kernel zygote exited (code {self.process.poll()}) before starting a kernel")
        pid = int(answer)
        self.children.append(pid)
        if self.registry is not None:
            self.registry.add(pid, pid)
        return pid

    def close(self) -> None:
        """Stop the zygote; it kills any kernel of its still running as it exits (and the
        build's registry kills whatever is left, by verified pid)."""
        if self.process.poll() is None:
            assert self.process.stdin
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class ForkedProcess:
    """The subset of ``subprocess.Popen`` that jupyter_client's local provisioner uses,
    for a kernel that is the zygote's child (the zygote reaps it; we only watch)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.started = start_time(pid)
        self.returncode: int | None = None

    def same(self) -> bool:
        """Whether ``pid`` is still this kernel (not a later process given the same pid)."""
        return self.started is None or start_time(self.pid) == self.started

    def poll(self) -> int | None:
        if self.returncode is None and (not process_alive(self.pid) or not self.same()):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is not None:
            return
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """A local provisioner whose kernels are forked by a :class:`Zygote` instead of
    started with ``Popen``; everything else (connection file, ports, signals, shutdown)
    is jupyter_client's own."""

    zygote: Zygote | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        assert self.zygote is not None
        assert self.parent is not None
        cwd = str(kwargs.get("cwd") or Path.cwd())
        env = {k: str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        pid = self.zygote.spawn(self.parent.connection_file, cwd, env)
        self.process = ForkedProcess(pid)
        self.pid = pid
        self.pgid = pid  # the child calls setsid(): its group is itself
        self.cwd = cwd
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        """As the local provisioner (the kernel's process group first), but never once the
        kernel has exited: the zygote reaps it at once, so its pid may already be another's."""
        if isinstance(self.process, ForkedProcess) and self.process.poll() is not None:
            return
        await super().send_signal(signum)
