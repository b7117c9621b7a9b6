"""Kernels forked from one pre-imported process, so a build pays its imports once.

Starting a Jupyter kernel and importing pandas, matplotlib, seaborn (with scipy.stats)
and statsmodels costs about four CPU-seconds, and every notebook used to pay it. Here a
*zygote* process (a fresh interpreter started with a fixed hash seed) imports all of that
once; each notebook's kernel is then ``os.fork()``-ed from it and starts an ipykernel on
the connection file the kernel manager wrote. Every notebook still runs in its own
process: nothing a notebook does reaches another one or the zygote. Only imported,
unmodified modules are shared, copy-on-write.

The zygote speaks one JSON request per line on stdin (``connection_file``, ``cwd``,
``env``) and answers with the child's pid on stdout. It reaps its children, and exits
when its stdin closes. POSIX only; elsewhere the build starts kernels the usual way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

#: Modules the notebooks import; a module missing here only costs time, never correctness.
PRELOAD = (
    "numpy",
    "pandas",
    "scipy.stats",
    "scipy.optimize",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib_inline.backend_inline",
    "seaborn",
    "statsmodels.api",
    "pycountry",
    "currency_converter",
    "sting_outcomes",
    "sting_outcomes.data.load",
    "sting_outcomes.data.units",
    "sting_outcomes.analysis.snapshots",
    "sting_outcomes.analysis.conflicts",
    "sting_outcomes.analysis.growth",
    "sting_outcomes.analysis.rates",
    "sting_outcomes.analysis.funnel",
    "sting_outcomes.analysis.models",
    "sting_outcomes.plots",
    "sting_outcomes.tables",
    "sting_outcomes.analysis.coverage",
    "sting_outcomes.session",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
)

SUPPORTED = hasattr(os, "fork") and sys.platform != "win32"


# -- the zygote process ------------------------------------------------------------------


def _reap(_signum: int, _frame: Any) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _run_kernel(request: dict) -> None:
    """In the forked child: become an ipykernel on the given connection file."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.chdir(request["cwd"])
    os.environ.update(request.get("env", {}))
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"]])
    # pyplot was imported in the zygote before any IPython shell existed, so the inline
    # backend never hooked itself into one; hook it into this kernel's shell now.
    if "matplotlib.pyplot" in sys.modules:
        app.shell.enable_matplotlib("inline")
    app.start()


def serve() -> None:
    """Zygote main loop: import once, then fork one kernel per request line."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:  # the ECB history is parsed once here rather than in every notebook (read-only, cached)
        importlib.import_module("sting_outcomes.data.units").ecb_daily_rates()
    except Exception:
        pass
    signal.signal(signal.SIGCHLD, _reap)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _run_kernel(request)
            except BaseException:  # the kernel's own errors go to its client, not here
                code = 1
            finally:
                os._exit(code)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()
    os._exit(0)


# -- the build's side --------------------------------------------------------------------


class Zygote:
    """Handle on a running zygote; ``spawn`` forks a kernel and returns its pid."""

    def __init__(self, env: dict[str, str] | None = None):
        child_env = {**os.environ, **(env or {}), "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from sting_outcomes.site.kernel_fork import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env,
        )
        self.children: list[int] = []

    def spawn(self, connection_file: str, cwd: str, env: dict[str, str]) -> int:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"connection_file": connection_file, "cwd": cwd, "env": env}) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the kernel zygote exited before forking a kernel")
        self.children.append(int(answer))
        return int(answer)

    def close(self) -> None:
        """Stop the zygote, and any kernel of its that is somehow still running."""
        for pid in self.children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class ForkedProcess:
    """The subset of ``subprocess.Popen`` that jupyter_client's local provisioner uses,
    for a kernel that is the zygote's child (the zygote reaps it; we only watch)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels come from a :class:`Zygote` instead of ``Popen``."""

    zygote: Zygote | None = None
    kernel_env: dict[str, str] = {}

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        assert self.provisioner is not None and self.zygote is not None
        cwd = str(kw.get("cwd") or Path.cwd())
        pid = self.zygote.spawn(self.connection_file, cwd, dict(self.kernel_env))
        self.provisioner.process = ForkedProcess(pid)
        self.provisioner.pid = pid
        self.provisioner.pgid = pid  # the child calls setsid(): its group is itself
        self._reconcile_connection_info(self.provisioner.connection_info)
