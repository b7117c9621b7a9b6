"""Kernels that cannot outlive their build.

Every kernel the build starts is made through a kernel *provisioner*, jupyter_client's
public interface for launching kernels (:class:`GuardedProvisioner` here, or
:class:`~sting_outcomes.site.kernel_fork.ForkProvisioner` for forked kernels), and is
recorded in the build's :class:`KernelRegistry`. Three things stop a kernel from
outliving the build, whichever way the build ends:

* on Linux the kernel asks to be sent ``SIGKILL`` when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``, :func:`die_with_parent`), checked against a parent that
  died before the request;
* ipykernel's own parent poller (``JPY_PARENT_PID`` / ``--IPKernelApp.parent_handle``)
  exits the kernel within a second of its parent's death on every POSIX system;
* the build kills every process group it registered when it finishes or is interrupted.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

PR_SET_PDEATHSIG = 1
LINUX = sys.platform.startswith("linux")


def _prctl():
    if not LINUX:
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def die_with_parent(parent_pid: int) -> None:
    """In a child process: be killed when the parent dies (Linux), and exit at once if it
    already has. Safe to call between fork and exec (no allocation beyond a ctypes call)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot) from /proc: with the pid, an
    identity that a later process reusing the pid does not share. None without /proc."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return None


class KernelRegistry:
    """Every kernel process (and the zygote) one build started, to stop them at the end.

    Each pid is recorded with its start time, and signalled only while that still matches,
    so a pid the system has since given to another process is never touched."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self._known: dict[int, tuple[str | None, bool]] = {}

    def add(self, pid: int, pgid: int | None = None) -> None:
        self.pids.append(pid)
        self._known[pid] = (start_time(pid), bool(pgid == pid))

    def _same(self, pid: int) -> bool:
        started, _ = self._known[pid]
        return started is None or start_time(pid) == started

    def kill_all(self) -> None:
        """SIGKILL every registered kernel (and its process group when it leads one)."""
        for pid, (_, leads_group) in self._known.items():
            if not process_alive(pid) or not self._same(pid):
                continue
            try:
                if leads_group and pid != os.getpgrp():
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def alive(self) -> list[int]:
        return [pid for pid in self.pids if process_alive(pid) and self._same(pid)]


class GuardedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, plus: the kernel dies with the build (Linux
    parent-death signal) and is recorded in the build's registry."""

    registry: KernelRegistry | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        if _PRCTL is not None:
            parent = os.getpid()
            kwargs["preexec_fn"] = lambda: die_with_parent(parent)
        info = await super().launch_kernel(cmd, **kwargs)
        if self.registry is not None and self.pid:
            self.registry.add(self.pid, self.pgid)
        return info


def kernel_manager(provisioner_class: type[LocalProvisioner], run_dir: Path, **attrs: Any) -> AsyncKernelManager:
    """A kernel manager whose provisioner is ``provisioner_class`` (set through the
    manager's public ``provisioner`` attribute, so no entry point is needed), with its
    connection file in ``run_dir`` (the build's private folder, cleaned by the next build)."""
    km = AsyncKernelManager(kernel_name="python3")
    km.kernel_id = str(uuid.uuid4())
    km.connection_file = str(Path(run_dir) / f"kernel-{km.kernel_id}.json")
    provisioner = provisioner_class(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
    for name, value in attrs.items():
        setattr(provisioner, name, value)
    km.provisioner = provisioner
    return km
