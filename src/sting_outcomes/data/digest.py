"""Reading the data package safely, once, and its content hash (standard library only, so
that an up-to-date build is recognised without importing pandas).

:func:`read_snapshot` is the only code that opens files under ``data/``. It reads
``datapackage.json`` and every file its resources name into memory, after checking that
each resource path is a plain relative path inside the data folder that names a regular
file of at most :data:`MAX_FILE_BYTES`. Anything else (``../../etc/passwd``,
``/proc/self/environ``, ``/dev/zero``, a FIFO, a directory, a symlink loop or a symlink out
of the folder, a URL) is a one-line problem ``datapackage.json: resources[i].path: …`` and
the file is never read. Each file is opened once (non-blocking, so a FIFO cannot hang the
open) and checked on the open descriptor (``fstat``), so what is checked is what is read.

The validator and the loader work on the bytes of that one snapshot, and the dataset's
version is the hash of the same bytes (:attr:`Snapshot.digest`): what was validated is what
was loaded is what was hashed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..paths import DATAPACKAGE_NAME, PROJECT_ROOT
from .problems import DataValidationError, Problem

#: Largest data file read (each CSV and ``datapackage.json``): 50 MiB. The real files are
#: under 1 MiB; anything larger is refused unread.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Characters never allowed in a resource path (control characters and the backslash,
#: which is not a separator on POSIX but is one on Windows).
_BAD_PATH_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:")
#: Flags for opening a data file: read-only, never block (a FIFO opens at once and is then
#: refused by ``fstat``), never follow a symlink in the last component (the path passed in
#: is already resolved, so a symlink there was swapped in after the check).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


@dataclass
class Snapshot:
    """The data package as read from disk, once.

    ``files`` maps each file's path relative to the data folder (``datapackage.json``
    first, then the resources' paths in the package's order) to its bytes; a file that
    could not be read safely is absent and ``problems`` says why. ``package`` is the parsed
    ``datapackage.json`` (``None`` when it is unusable) and ``resources`` pairs each usable
    resource (a JSON object) with its position in the package and its relative path (or
    ``None`` when the path was refused).
    """

    data_dir: Path
    package: dict | None = None
    resources: list[tuple[int, dict, str | None]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def package_shown(self) -> str:
        return self.shown(DATAPACKAGE_NAME)

    def shown(self, relative: str) -> str:
        """A data file's name as messages show it: relative to the project root when inside
        it. Unlike :func:`~sting_outcomes.paths.display_path` it never resolves the file
        itself (that would follow, and trip over, a symlink loop)."""
        return shown_path(self.data_dir / relative)

    @property
    def digest(self) -> str:
        """SHA-256 (hex) over ``datapackage.json`` and each file it names: their relative
        names and bytes, in the package's order (see :func:`data_digest`)."""
        digest = hashlib.sha256()
        for rel, data in self.files.items():
            digest.update(rel.encode() + b"\0")
            digest.update(data + b"\0")
        return digest.hexdigest()

    def write(self, dest: Path) -> Path:
        """Write the snapshot's files into ``dest`` (created; must be empty or absent) and
        return it: a frozen copy of exactly the bytes that were read and hashed."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        if any(dest.iterdir()):
            raise FileExistsError(f"{dest} is not empty")
        for rel, data in self.files.items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return dest


def shown_path(path: Path) -> str:
    """``path`` (whose folder is already resolved) relative to the project root when inside
    it, else absolute; the file itself is not resolved."""
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _read_contained(base: Path, rel: str) -> tuple[bytes | None, str | None, bool]:
    """Read ``base / rel`` if it is a regular file inside ``base`` of at most
    :data:`MAX_FILE_BYTES`. Returns (bytes, None, False) on success, (None, reason, False)
    when the path is refused, and (None, None, True) when the file does not exist."""
    target = base / rel
    try:
        resolved = target.resolve(strict=True)
    except FileNotFoundError:
        return None, None, True
    except RuntimeError:  # Python < 3.13 reports a symlink loop this way
        return None, "is a symlink loop", False
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "is a symlink loop", False
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None, None, True
        return None, f"cannot be opened ({exc.strerror})", False
    if not resolved.is_relative_to(base):
        return None, f"leads outside the data folder (a symlink to {resolved})", False
    try:
        fd = os.open(resolved, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "is a symlink (changed while being read)", False
        if exc.errno == errno.ENOENT:
            return None, None, True
        return None, f"cannot be opened ({exc.strerror})", False
    try:
        info = os.fstat(fd)
        kind = _file_kind(info.st_mode)
        if kind is not None:
            return None, f"is {kind}, not a regular file", False
        if info.st_size > MAX_FILE_BYTES:
            return None, f"is {info.st_size:,} bytes, over the limit of {MAX_FILE_BYTES:,} (MAX_FILE_BYTES)", False
        chunks, size = [], 0
        while True:  # read to the end, but never past the limit (a file may grow meanwhile)
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                return None, f"grew past the limit of {MAX_FILE_BYTES:,} bytes (MAX_FILE_BYTES) while read", False
        return b"".join(chunks), None, False
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})", False
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str | None:
    """None for a regular file, else a phrase naming what it is."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_resource_path(path: object) -> str | None:
    """Why ``path`` (a resource's ``path`` in ``datapackage.json``) is refused, or None
    when it is a plain relative POSIX path that stays inside the data folder by name."""
    if not isinstance(path, str):
        return f"must be a file name relative to the data folder, given as text (got {type(path).__name__})"
    if path == "":
        return "is empty"
    if _BAD_PATH_CHARS.search(path):
        return f"{_short(path)} contains a control character or a backslash; use a plain relative path"
    if _URL.match(path):
        return f"{_short(path)} is a URL; only files inside the data folder are read"
    if path.startswith("/") or _DRIVE.match(path):
        return f"{_short(path)} is an absolute path; give a path relative to the data folder"
    if ".." in PurePosixPath(path).parts:
        return f"{_short(path)} leaves the data folder ('..' is not allowed)"
    if PurePosixPath(path).name in ("", "."):
        return f"{_short(path)} does not name a file"
    return None


def _short(text: str, limit: int = 80) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def read_snapshot(data_dir: Path) -> Snapshot:
    """Read ``datapackage.json`` and every file it names, safely and once.

    Never raises for bad data: every problem (missing or unreadable files, malformed JSON,
    refused paths) is collected in :attr:`Snapshot.problems` as
    ``datapackage.json: resources[i].path: …`` or ``data/<file>: …``.
    """
    try:
        base = Path(data_dir).resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        snap = Snapshot(data_dir=Path(data_dir).absolute())
        reason = "is a symlink loop" if isinstance(exc, RuntimeError) else "cannot be opened"
        snap.problems.append(Problem(shown_path(snap.data_dir), None, None, f"data folder {reason}"))
        return snap
    snap = Snapshot(data_dir=base)
    shown = snap.package_shown
    raw, reason, missing = _read_contained(base, DATAPACKAGE_NAME)
    if missing:
        snap.problems.append(Problem(shown, None, None, "file is missing"))
        return snap
    if raw is None:
        snap.problems.append(Problem(shown, None, None, f"{reason}"))
        return snap
    snap.files[DATAPACKAGE_NAME] = raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        snap.problems.append(Problem(shown, line, None, f"not valid UTF-8 ({exc.reason})"))
        return snap
    try:
        package = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        snap.problems.append(Problem(shown, exc.lineno, None, f"not valid JSON ({exc.msg}, column {exc.colno})"))
        return snap
    except RecursionError:
        snap.problems.append(Problem(shown, None, None, "not valid JSON (nested too deeply)"))
        return snap
    except ValueError as exc:
        snap.problems.append(Problem(shown, None, None, f"not valid JSON ({exc})"))
        return snap
    if not isinstance(package, dict):
        snap.problems.append(Problem(shown, None, None, f"must be a JSON object, not {_json_type(package)}"))
        return snap
    resources = package.get("resources")
    if not isinstance(resources, list) or not resources:
        what = "is missing" if resources is None else f"must be a non-empty list, not {_json_type(resources)}"
        snap.problems.append(Problem(shown, None, "resources", what))
        return snap
    snap.package = package
    for i, resource in enumerate(resources):
        where = f"resources[{i}]"
        if not isinstance(resource, dict):
            snap.problems.append(Problem(shown, None, where, f"must be a JSON object, not {_json_type(resource)}"))
            continue
        path = resource.get("path")
        refused = "is missing" if path is None else check_resource_path(path)
        if refused:
            snap.problems.append(Problem(shown, None, f"{where}.path", refused))
            snap.resources.append((i, resource, None))
            continue
        rel = (base / path).relative_to(base).as_posix()
        snap.resources.append((i, resource, rel))
        if rel in snap.files:
            continue  # named twice: read once
        data, reason, missing = _read_contained(base, rel)
        if missing:
            snap.problems.append(Problem(snap.shown(rel), None, None, "file is missing"))
        elif data is None:
            snap.problems.append(Problem(shown, None, f"{where}.path", f"{_short(path)} {reason}"))
        else:
            snap.files[rel] = data
    return snap


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _json_type(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def data_files(data_dir: Path) -> list[Path]:
    """``datapackage.json`` and every file it names, in the package's order.

    Raises :class:`~sting_outcomes.data.problems.DataValidationError` when the package
    cannot be read or names a file that is missing or refused.
    """
    snap = read_snapshot(data_dir)
    if snap.problems:
        raise DataValidationError(snap.problems)
    return [snap.data_dir / rel for rel in snap.files]


def data_digest(data_dir: Path) -> str:
    """SHA-256 (hex) over ``datapackage.json`` and each file it names: their names and
    bytes, in order. Changes whenever any data file changes, and only then.

    Raises :class:`~sting_outcomes.data.problems.DataValidationError` (never a traceback
    from the file system) when a file is missing, refused or the package is malformed.
    """
    snap = read_snapshot(data_dir)
    if snap.problems:
        raise DataValidationError(snap.problems)
    return snap.digest
