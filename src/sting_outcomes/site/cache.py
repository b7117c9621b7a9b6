"""Content hashes that decide what the report build must redo.

Only :mod:`hashlib` and the standard library are imported here, so that an up-to-date
build can be recognised in a few milliseconds, without importing pandas or Jupyter.

A notebook's key covers its own bytes and the inputs its page depends on: the data (the
hash of the build's snapshot, :mod:`sting_outcomes.site.snapshot`), the package code a notebook can
import (everything outside ``site/`` and the command line), the code and template that
turn an executed notebook into a page, the lock and the Python version. An edited
notebook changes only its own key; changed data, analysis code or lock change every key;
an edited site page, CSS or CLI re-renders the pages without re-running any notebook.

A cache entry carries its full key and the SHA-256 of its body on its first line, and is
read only through :func:`read_entry`, which returns nothing for a truncated, edited or
misfiled entry, so such an entry is re-executed, never published.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from pathlib import Path

from ..paths import PROJECT_ROOT

PACKAGE_DIR = Path(__file__).resolve().parents[1]
SITE_DIR = Path(__file__).resolve().parent
#: Site files that shape a notebook's cached page (the rest only shape the page shell).
EXPORT_FILES = ("notebook_run.py", "templates/folded")
LOCK_FILE = PROJECT_ROOT / "locks" / "requirements.txt"
MANIFEST_NAME = "build.json"


def file_digest(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_digest(files: list[Path], root: Path) -> str:
    """SHA-256 over the relative names and bytes of ``files``, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def kernel_files() -> list[Path]:
    """Package files a notebook can import: everything but ``site/`` and ``cli.py``."""
    return [p for p in _files(PACKAGE_DIR) if SITE_DIR not in p.parents and p.name != "cli.py"]


def export_files() -> list[Path]:
    """Site files that turn an executed notebook into its cached HTML body."""
    return [p for p in _files(SITE_DIR) if any(p.relative_to(SITE_DIR).as_posix().startswith(e) for e in EXPORT_FILES)]


def site_files() -> list[Path]:
    """Every site file (page shell, styles, scripts) and the command line."""
    return [*_files(SITE_DIR), PACKAGE_DIR / "cli.py"]


def shared_inputs(data_hash: str) -> dict[str, str]:
    """Digests of the inputs every notebook's cached page depends on; ``data_hash`` is the
    digest of the snapshot the build reads (never the data folder read a second time)."""
    return {
        "data": data_hash,
        "code": tree_digest(kernel_files(), PACKAGE_DIR),
        "export": tree_digest(export_files(), PACKAGE_DIR),
        "lock": file_digest(LOCK_FILE) if LOCK_FILE.exists() else "none",
        "python": ".".join(map(str, sys.version_info[:3])),
    }


def notebook_key(notebook: Path | bytes, shared: dict[str, str]) -> str:
    """Cache key of one notebook: its bytes (as read once by the build) plus the shared inputs."""
    digest = hashlib.sha256(notebook if isinstance(notebook, bytes) else Path(notebook).read_bytes())
    digest.update(json.dumps(shared, sort_keys=True).encode())
    return digest.hexdigest()


def build_key(keys: dict[str, str], shared: dict[str, str], pages: dict[str, str] | None = None) -> str:
    """Key of a whole build: every notebook key, the shared inputs, the site code and
    ``pages`` (inputs only the page shell reads, such as the codebook's hash)."""
    site = tree_digest(site_files(), PACKAGE_DIR)
    return hashlib.sha256(
        json.dumps({"notebooks": keys, "shared": shared, "site": site, "pages": pages or {}}, sort_keys=True).encode()
    ).hexdigest()


def entry_path(cache_dir: Path, notebook: str, key: str) -> Path:
    """Where the page body of ``notebook`` under ``key`` is cached."""
    return Path(cache_dir) / f"{Path(notebook).stem}.{key[:20]}.html"


_HEADER = "<!-- sting-outcomes cache entry key={key} sha256={sha} -->\n"


def write_entry(path: Path, key: str, body: str) -> None:
    """Store ``body`` under ``key`` atomically (temporary file, then rename)."""
    data = body.encode("utf-8")
    header = _HEADER.format(key=key, sha=hashlib.sha256(data).hexdigest()).encode()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(header + data)
    os.replace(tmp, path)


def read_entry(path: Path, key: str) -> tuple[str | None, str | None]:
    """(body, None) for an intact entry of ``key``; (None, why) for a damaged one;
    (None, None) when there is none."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    header, sep, data = raw.partition(b"\n")
    match = re.fullmatch(rb"<!-- sting-outcomes cache entry key=([0-9a-f]{64}) sha256=([0-9a-f]{64}) -->", header)
    if not sep or not match:
        return None, "no valid header"
    if match[1].decode() != key:
        return None, "filed under another key"
    if hashlib.sha256(data).hexdigest() != match[2].decode():
        return None, "its content does not match its hash (truncated or edited)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, "not valid UTF-8"


TIMINGS_NAME = "timings.json"


def read_timings(cache_dir: Path) -> dict[str, float]:
    """Seconds each notebook took when it last ran (empty when unknown or unreadable: the
    record only orders the work, so a damaged one is ignored)."""
    try:
        data = json.loads((Path(cache_dir) / TIMINGS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def write_timings(cache_dir: Path, seconds: dict[str, float]) -> None:
    """Merge ``seconds`` (notebook -> execution time) into the record, atomically."""
    merged = {**read_timings(cache_dir), **{k: round(float(v), 2) for k, v in seconds.items()}}
    path = Path(cache_dir) / TIMINGS_NAME
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(merged, sort_keys=True, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def longest_first(names: list[str], seconds: dict[str, float], code_size: dict[str, int] | None = None) -> list[str]:
    """``names`` in the order to start them, so that the workers do not end with one long
    notebook running alone: those never timed first, largest code first (``code_size``,
    characters of code: a rough proxy for work when nothing better is known), then the
    rest slowest first by their recorded ``seconds``."""
    size = code_size or {}
    return sorted(names, key=lambda n: (n in seconds, -seconds.get(n, 0.0), -size.get(n, 0)))


def read_manifest(out_dir: Path) -> dict | None:
    try:
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def is_up_to_date(out_dir: Path, key: str) -> bool:
    """True when ``out_dir`` holds a complete build for ``key``, files unmodified."""
    manifest = read_manifest(out_dir)
    if not manifest or manifest.get("build_key") != key:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, digest in files.items():
        path = out_dir / name
        if name.startswith("/") or ".." in name.split("/") or not path.is_file() or file_digest(path) != digest:
            return False
    return True
