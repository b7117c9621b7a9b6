"""Loading the curated dataset as typed pandas DataFrames.

``load()`` validates first (see :mod:`sting_outcomes.validate`) and raises one
:class:`~sting_outcomes.problems.DataValidationError` listing every problem; only clean
data become DataFrames.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .paths import DATAPACKAGE_NAME, default_data_dir
from .problems import DataValidationError
from .validate import Table, parse_partial_date, validate_dir


@dataclass(frozen=True)
class Dataset:
    """The validated dataset.

    Attributes
    ----------
    operations, sources, figures:
        The three contract tables. Dates are ``datetime64`` (a month-only date maps to
        the first of that month; ``figures.as_of_precision`` and
        ``sources.published_precision`` say ``"day"`` or ``"month"``; ``covert_start`` may
        also be year-only); ``value`` and
        ``value_high`` are floats in the source's own unit; enumerations are
        categoricals; empty text cells are ``<NA>``.
    metrics, units, categories:
        The vocabularies the figures refer to.
    data_dir:
        Folder the data were read from.
    version:
        Short content hash of every file in the data package: changes whenever any data
        file changes, and only then.
    """

    operations: pd.DataFrame
    sources: pd.DataFrame
    figures: pd.DataFrame
    metrics: pd.DataFrame
    units: pd.DataFrame
    categories: pd.DataFrame
    data_dir: Path
    version: str

    @property
    def operation_countries(self) -> pd.DataFrame:
        """Long table (operation_id, country) split from the ``;``-separated cell."""
        split = self.operations.set_index("operation_id")["countries"].str.split(";").explode()
        return split.rename("country").reset_index()


def load(data_dir: str | Path | None = None) -> Dataset:
    """Validate and load the dataset.

    Parameters
    ----------
    data_dir:
        Folder holding ``datapackage.json`` and its CSV files; defaults to
        ``STING_OUTCOMES_DATA`` when set, else the project's ``data/`` (resolved from the
        project root, never from the current directory).

    Raises
    ------
    DataValidationError
        When anything in the data breaks the contract; its message lists every problem
        as ``file:line: column: what is wrong``.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    tables, problems = validate_dir(data_dir)
    if problems:
        raise DataValidationError(problems)
    schemas = {
        r["name"]: r["schema"]
        for r in json.loads((data_dir / DATAPACKAGE_NAME).read_text(encoding="utf-8"))["resources"]
    }
    frames = {name: _typed_frame(table, schemas[name]) for name, table in tables.items()}
    figures = frames["figures"]
    figures["metric"] = pd.Categorical(figures["metric"], categories=frames["metrics"]["metric"].tolist())
    figures["unit"] = pd.Categorical(figures["unit"], categories=frames["units"]["unit"].tolist())
    return Dataset(
        operations=frames["operations"],
        sources=frames["sources"],
        figures=figures,
        metrics=frames["metrics"],
        units=frames["units"],
        categories=frames["categories"],
        data_dir=data_dir.resolve(),
        version=data_version(data_dir),
    )


_DATE_COLUMNS = {"as_of", "published", "covert_start", "takedown_date"}
_PRECISION_COLUMNS = {"as_of", "published"}


def _typed_frame(table: Table, schema: dict) -> pd.DataFrame:
    """Turn validated string cells into typed columns following the table schema."""
    columns = [f["name"] for f in schema["fields"]]
    frame = pd.DataFrame([row for _, row in table.rows], columns=columns, dtype=object)
    for spec in schema["fields"]:
        name = spec["name"]
        raw = frame[name]
        if spec["type"] == "number":
            frame[name] = pd.to_numeric(raw.replace("", None), errors="raise").astype("float64")
        elif name in _DATE_COLUMNS:
            parsed = [parse_partial_date(v) if v else None for v in raw]
            frame[name] = pd.to_datetime([p[0] if p else None for p in parsed])
            if name in _PRECISION_COLUMNS:
                frame[f"{name}_precision"] = pd.Categorical(
                    [p[1] if p else None for p in parsed], categories=["day", "month", "year"]
                )
        elif "enum" in spec.get("constraints", {}):
            frame[name] = pd.Categorical(raw.replace("", None), categories=spec["constraints"]["enum"])
        else:
            frame[name] = raw.replace("", None).astype("string")
    return frame


def data_version(data_dir: str | Path | None = None) -> str:
    """Short SHA-256 over ``datapackage.json`` and every file it names, in order."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    package_path = data_dir / DATAPACKAGE_NAME
    digest = hashlib.sha256(package_path.read_bytes())
    for resource in json.loads(package_path.read_text(encoding="utf-8"))["resources"]:
        digest.update(resource["path"].encode())
        digest.update((data_dir / resource["path"]).read_bytes())
    return digest.hexdigest()[:12]
