"""Loading the curated dataset as typed pandas DataFrames.

``load()`` validates first (see :mod:`sting_outcomes.data.validate`) and raises one
:class:`~sting_outcomes.data.problems.DataValidationError` listing every problem; only
clean data become DataFrames. This is the only place that reads ``data/``, and it reads
each file once (:func:`sting_outcomes.data.digest.read_snapshot`): the bytes validated are
the bytes loaded and the bytes hashed into :attr:`Dataset.version`. pandas is imported
only once the data are valid, so reporting bad data stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import default_data_dir
from .digest import data_digest
from .problems import DataValidationError
from .validate import Table, Validator, parse_partial_date

if TYPE_CHECKING:
    import pandas as pd

#: Columns of ``sources`` and ``metrics`` joined onto every figure by :func:`load`.
SOURCE_COLUMNS = ("source_kind", "publisher")
METRIC_COLUMNS = ("family",)


@dataclass(frozen=True)
class Dataset:
    """The validated dataset.

    Attributes
    ----------
    operations, sources, figures:
        The three contract tables. ``figures`` also carries its source's ``source_kind``
        and ``publisher`` and its metric's ``family``, so every helper gets one shape.
        Dates are ``datetime64`` (a month-only date maps to the first of that month; ``figures.as_of_precision`` and
        ``sources.published_precision`` say ``"day"`` or ``"month"``; ``covert_start`` may
        also be year-only); ``value`` and
        ``value_high`` are floats in the source's own unit (finite, at most
        ``MAX_NUMBER``, ``-0`` read as ``0``); enumerations are
        categoricals; empty text cells are ``<NA>``.
    metrics, units, categories:
        The vocabularies the figures refer to.
    population:
        Sourced population figures by country and year (``population.csv``), or
        ``None`` for a data folder without that table.
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
    population: pd.DataFrame | None = None

    def copy(self) -> Dataset:
        """A deep copy: its tables (and ``normalized``, once computed) are new frames."""
        import pandas as pd

        values = {
            f.name: (
                getattr(self, f.name).copy(deep=True)
                if isinstance(getattr(self, f.name), pd.DataFrame)
                else getattr(self, f.name)
            )
            for f in fields(self)
        }
        out = Dataset(**values)
        if "normalized" in self.__dict__:
            out.__dict__["normalized"] = self.__dict__["normalized"].copy(deep=True)
        return out

    @cached_property
    def normalized(self) -> pd.DataFrame:
        """``figures`` in standard units with USD/EUR values and qualifier bounds (see
        :func:`sting_outcomes.data.units.normalize`); computed once per dataset. This is
        the frame every analysis helper takes."""
        from .units import normalize

        return normalize(self.figures, self.units)

    @property
    def operation_countries(self) -> pd.DataFrame:
        """Long table (operation_id, country) split from the ``;``-separated cell."""
        split = self.operations.set_index("operation_id")["countries"].str.split(";").explode()
        return split.rename("country").reset_index()


#: Datasets loaded ahead of time by :func:`preload` (resolved folder -> dataset).
_PRELOADED: dict[str, Dataset] = {}


def preload(data_dir: str | Path) -> None:
    """Load a folder that will not change once, so that processes forked afterwards get it
    from :func:`load` without reading it again.

    For the report build's kernel zygote only, which calls it on the build's read-only,
    content-named data snapshot before forking one kernel per notebook; anything else
    should call :func:`load`, which otherwise always reads the files afresh. Each
    :func:`load` of a preloaded folder returns a deep copy, so a notebook that changes
    its tables changes its own copy only.
    """
    ds = load(data_dir)
    ds.normalized  # noqa: B018 (computed now, in the zygote, once)
    _PRELOADED[str(Path(data_dir).resolve())] = ds


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
    if _PRELOADED:
        ready = _PRELOADED.get(str(data_dir.resolve()))
        if ready is not None:
            return ready.copy()
    validator = Validator(data_dir)
    tables, problems = validator.run()
    if problems:
        raise DataValidationError(problems)
    import pandas as pd

    snapshot = validator.snapshot
    frames = {name: _typed_frame(table, validator.schemas[name]) for name, table in tables.items()}
    figures = frames["figures"]
    figures["metric"] = pd.Categorical(figures["metric"], categories=frames["metrics"]["metric"].tolist())
    figures["unit"] = pd.Categorical(figures["unit"], categories=frames["units"]["unit"].tolist())
    figures = _joined(figures, frames["sources"], frames["metrics"])
    return Dataset(
        operations=frames["operations"],
        sources=frames["sources"],
        figures=figures,
        metrics=frames["metrics"],
        units=frames["units"],
        categories=frames["categories"],
        data_dir=snapshot.data_dir,
        version=snapshot.digest[:12],
        population=frames.get("population"),
    )


def _joined(figures: pd.DataFrame, sources: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Figures with their source's kind and publisher and their metric's family (the
    validator has already checked that every key resolves)."""
    by_source = sources.set_index("source_id")
    by_metric = metrics.set_index("metric")
    out = figures.copy()
    for column in SOURCE_COLUMNS:
        out[column] = out["source_id"].map(by_source[column]).astype(by_source[column].dtype)
    for column in METRIC_COLUMNS:
        out[column] = out["metric"].astype("string").map(by_metric[column].astype("string"))
    return out


_DATE_COLUMNS = {"as_of", "published", "covert_start", "takedown_date"}
_PRECISION_COLUMNS = {"as_of", "published"}


def _typed_frame(table: Table, schema: dict) -> pd.DataFrame:
    """Turn validated string cells into typed columns following the table schema.

    Numbers were validated as plain decimals within ``MAX_NUMBER``; ``-0`` becomes ``0``
    (adding ``0.0`` turns IEEE negative zero into positive zero)."""
    import pandas as pd

    columns = [f["name"] for f in schema["fields"]]
    frame = pd.DataFrame([row for _, row in table.rows], columns=columns, dtype=object)
    for spec in schema["fields"]:
        name = spec["name"]
        raw = frame[name]
        if spec["type"] == "boolean":
            frame[name] = raw.eq("true").astype("bool")
        elif spec["type"] == "number":
            frame[name] = pd.to_numeric(raw.replace("", None), errors="raise").astype("float64") + 0.0
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
    """The dataset's version: the first 12 hex digits of
    :func:`~sting_outcomes.data.digest.data_digest`."""
    return data_digest(Path(data_dir) if data_dir is not None else default_data_dir())[:12]
