"""One snapshot of the data per build: read ``data/`` once, hash it, validate that copy.

The build reads the data package exactly once, with
:func:`sting_outcomes.data.digest.read_snapshot` (``datapackage.json`` and every file it
names, each checked to be a regular file inside the data folder and under the size limit,
into memory), plus the codebook (``README.md`` and other top-level ``*.md`` files, which
the report's pages quote). Those bytes are written to a content-addressed folder under the
cache (:meth:`DataSnapshot.write`), and the build validates and loads *that folder*. The
data pages, every kernel (``STING_OUTCOMES_DATA``) and the cache keys all refer to it, so
editing ``data/`` during a build can neither mix two versions in one report nor file a
page under the wrong data: the notebooks' cache key is the hash of exactly these bytes.

A problem found while reading (a missing or refused file, a malformed
``datapackage.json``) raises :class:`~sting_outcomes.data.problems.DataValidationError`
with the validator's own ``file:line: column:`` message; problems found by validating the
snapshot are reported against the data folder the user gave (:meth:`DataSnapshot.remap`),
never against the cache. Standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..data.digest import MAX_FILE_BYTES, Snapshot, read_snapshot, shown_path
from ..data.problems import DataValidationError

#: Files beside the data package that the pages read (the codebook), copied into the snapshot.
DOC_SUFFIX = ".md"


@dataclass(frozen=True)
class DataSnapshot:
    """The data package (``package``, as read once) and the codebook files (``docs``)."""

    source: Path
    package: Snapshot
    docs: tuple[tuple[str, bytes], ...]

    @property
    def digest(self) -> str:
        """Hash of the data package: the dataset version, and the data part of every
        notebook's cache key."""
        return self.package.digest

    @property
    def docs_digest(self) -> str:
        digest = hashlib.sha256()
        for name, data in self.docs:
            digest.update(name.encode() + b"\0" + data + b"\0")
        return digest.hexdigest()

    @property
    def folder_name(self) -> str:
        """Name of the snapshot folder: a hash of everything in it."""
        return hashlib.sha256(f"{self.digest}:{self.docs_digest}".encode()).hexdigest()

    def _files(self) -> list[tuple[str, bytes]]:
        return [*self.package.files.items(), *self.docs]

    def write(self, root: Path) -> Path:
        """The snapshot folder ``root/<folder_name>``: written atomically (a temporary folder,
        then a rename) unless an intact copy is already there. Files are read-only."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        final = root / self.folder_name
        if final.is_dir() and self._intact(final):
            return final
        shutil.rmtree(final, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
        try:
            for name, data in self._files():
                path = tmp / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                path.chmod(0o444)
            tmp.chmod(0o755)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def _intact(self, folder: Path) -> bool:
        expected = dict(self._files())
        present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        if present != set(expected):
            return False
        try:
            return all((folder / name).read_bytes() == data for name, data in expected.items())
        except OSError:
            return False

    def remap(self, error: DataValidationError, folder: Path) -> DataValidationError:
        """``error`` with the snapshot folder in each problem's file replaced by the data
        folder the user gave, so messages read ``data/figures.csv:17: …``."""
        inside = {shown_path(Path(folder)), shown_path(Path(folder).resolve())}
        outside = shown_path(self.source)
        problems = []
        for p in error.problems:
            prefix = next((i for i in inside if p.file == i or p.file.startswith(i + "/")), None)
            problems.append(dataclasses.replace(p, file=outside + p.file[len(prefix) :]) if prefix else p)
        return DataValidationError(problems)


def read_data(data_dir: Path) -> DataSnapshot:
    """Read the data package and its codebook once; raise :class:`DataValidationError`
    (the validator's messages) when the package cannot be read safely."""
    package = read_snapshot(Path(data_dir))
    if package.problems:
        raise DataValidationError(package.problems)
    base = package.data_dir
    docs = []
    for entry in sorted(base.iterdir(), key=lambda p: p.name):
        if entry.suffix == DOC_SUFFIX and entry.name not in package.files:
            data = _read_doc(entry)
            if data is not None:
                docs.append((entry.name, data))
    return DataSnapshot(base, package, tuple(docs))


def _read_doc(path: Path) -> bytes | None:
    """A codebook file's bytes if it is a plain regular file under the size limit, else
    None (the pages then go without it). Never follows a symlink, never blocks."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        data = os.read(fd, MAX_FILE_BYTES + 1)
        chunks = [data]
        while data:
            data = os.read(fd, 1 << 20)
            chunks.append(data)
            if sum(map(len, chunks)) > MAX_FILE_BYTES:
                return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def prune(root: Path, keep: str) -> None:
    """Remove every snapshot folder under ``root`` except ``keep`` (and unfinished ones)."""
    if not Path(root).is_dir():
        return
    for entry in Path(root).iterdir():
        if entry.name != keep and entry.is_dir() and not entry.is_symlink():
            _rmtree(entry)


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
