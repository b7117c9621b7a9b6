"""An exclusive lock per output (and cache) folder, so two builds never interleave.

The lock is ``fcntl.flock`` on a small file that is never deleted (deleting a lock file
lets a third process lock a different inode). The kernel releases it when the holder
exits, however it exits, so a killed build never leaves a stale lock. The holder's pid is
written into the file for the waiting message. Where ``fcntl`` is missing (Windows) the
lock is a no-op, and the build says so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class LockBusy(RuntimeError):
    """Another build holds the lock and did not let go within the timeout."""


class FolderLock:
    """Context manager holding ``flock(LOCK_EX)`` on ``path`` while inside."""

    def __init__(
        self,
        path: Path,
        what: str,
        progress: Callable[[str], None] | None = None,
        timeout: float | None = None,
    ):
        self.path = Path(path)
        self.what = what
        self.progress = progress
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            if fcntl is not None:
                self._acquire(fd)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return self

    def _acquire(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = self._holder(fd)
        if self.timeout is not None and self.timeout <= 0:
            raise LockBusy(f"another build{holder} is writing {self.what}; try again when it has finished")
        if self.progress:
            self.progress(f"waiting for another build{holder} to finish writing {self.what}")
        if self.timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockBusy(
                        f"another build{holder} is still writing {self.what} after {self.timeout:g} s"
                    ) from None
                time.sleep(0.05)

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            text = os.pread(fd, 32, 0).decode().strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return f" (pid {text})" if text.isdigit() else ""

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            if fcntl is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
