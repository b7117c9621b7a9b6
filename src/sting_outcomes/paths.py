"""Where the project's files live.

Every path the package uses comes from here and is anchored at the project root
(the folder holding ``pyproject.toml``), never at the current working directory.
Set ``STING_OUTCOMES_ROOT`` to point the package at another checkout, and
``STING_OUTCOMES_DATA`` to read the dataset from another folder (the report build
uses it to run the notebooks on the data it was asked to build from).
"""

from __future__ import annotations

import os
from pathlib import Path


def _find_root() -> Path:
    override = os.environ.get("STING_OUTCOMES_ROOT")
    if override:
        return Path(override).resolve()
    # src/sting_outcomes/paths.py -> project root is two folders above the package.
    return Path(__file__).resolve().parents[2]


PROJECT_ROOT: Path = _find_root()
DATA_DIR: Path = PROJECT_ROOT / "data"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
CACHE_DIR: Path = PROJECT_ROOT / ".cache" / "build"
DATAPACKAGE_NAME = "datapackage.json"


def default_data_dir() -> Path:
    """The data directory to use when none is given: ``STING_OUTCOMES_DATA`` if set (read
    at call time, so a kernel forked from a pre-imported process sees its own), else
    the project's ``data/``."""
    return Path(os.environ.get("STING_OUTCOMES_DATA") or DATA_DIR).resolve()


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the project root when inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)
