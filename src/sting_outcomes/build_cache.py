"""Content hashes that decide what the report build must redo.

Only :mod:`hashlib` and the standard library are imported here, so that an up-to-date
build can be recognised in a few milliseconds, without importing pandas or Jupyter.

A notebook's key covers its own bytes and the *shared inputs*: every data file, every
file of the package (code and templates), the lock and the Python version. An edited
notebook changes only its own key; changed data, code or lock change every key.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from .paths import DATAPACKAGE_NAME, PROJECT_ROOT

PACKAGE_DIR = Path(__file__).resolve().parent
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


def data_files(data_dir: Path) -> list[Path]:
    """``datapackage.json`` and every file it names (the dataset's content)."""
    package = data_dir / DATAPACKAGE_NAME
    names = [r["path"] for r in json.loads(package.read_text(encoding="utf-8"))["resources"]]
    return [package, *(data_dir / n for n in names)]


def package_files() -> list[Path]:
    """Every source and template file of the installed ``sting_outcomes`` package."""
    return [p for p in PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def shared_inputs(data_dir: Path) -> dict[str, str]:
    """Digests of the inputs every notebook depends on."""
    return {
        "data": tree_digest(data_files(data_dir), data_dir),
        "package": tree_digest(package_files(), PACKAGE_DIR),
        "lock": file_digest(LOCK_FILE) if LOCK_FILE.exists() else "none",
        "python": ".".join(map(str, sys.version_info[:3])),
    }


def notebook_key(notebook: Path, shared: dict[str, str]) -> str:
    """Cache key of one notebook: its bytes plus the shared inputs."""
    digest = hashlib.sha256(Path(notebook).read_bytes())
    digest.update(json.dumps(shared, sort_keys=True).encode())
    return digest.hexdigest()


def build_key(keys: dict[str, str], shared: dict[str, str]) -> str:
    """Key of a whole build: every notebook key and the shared inputs."""
    return hashlib.sha256(json.dumps({"notebooks": keys, "shared": shared}, sort_keys=True).encode()).hexdigest()


def read_manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_up_to_date(out_dir: Path, key: str) -> bool:
    """True when ``out_dir`` holds a complete build for ``key``, files unmodified."""
    manifest = read_manifest(out_dir)
    if not manifest or manifest.get("build_key") != key:
        return False
    for name, digest in manifest.get("files", {}).items():
        path = out_dir / name
        if not path.is_file() or file_digest(path) != digest:
            return False
    return True
