"""One content hash of the data package (standard library only, so that an up-to-date
build is recognised without importing pandas)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..paths import DATAPACKAGE_NAME


def data_files(data_dir: Path) -> list[Path]:
    """``datapackage.json`` and every file it names, in the package's order."""
    package = Path(data_dir) / DATAPACKAGE_NAME
    names = [r["path"] for r in json.loads(package.read_text(encoding="utf-8"))["resources"]]
    return [package, *(Path(data_dir) / n for n in names)]


def data_digest(data_dir: Path) -> str:
    """SHA-256 (hex) over ``datapackage.json`` and each file it names: their names and
    bytes, in order. Changes whenever any data file changes, and only then."""
    digest = hashlib.sha256()
    for path in data_files(data_dir):
        digest.update(path.relative_to(data_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
