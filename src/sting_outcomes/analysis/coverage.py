"""Coverage of the dataset: what `sting-outcomes summary` prints."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.load import Dataset


@dataclass(frozen=True)
class Coverage:
    """Coverage tables of a dataset.

    ``by_family``: figures per operation (rows) and metric family (columns).
    ``snapshots``: per operation, the number of figures, distinct ``as_of`` dates, sources
    and jurisdictions, and the first and last ``as_of``.
    ``primary_share_sources`` / ``primary_share_figures``: share (0..1) of sources that are
    primary, and of figures citing a primary source, a verbatim copy of an agency release on
    another host (``via`` set) counted as primary.
    ``agency_hosted_share_figures``: share of figures whose primary source is read on the
    publisher's own site (``via`` empty): the stricter reading, re-hosted copies left out.
    ``conflicts``: pairs of figures that disagree (see :func:`sting_outcomes.analysis.conflicts.conflicts`).
    """

    by_family: pd.DataFrame
    snapshots: pd.DataFrame
    primary_share_sources: float
    primary_share_figures: float
    agency_hosted_share_figures: float
    conflicts: pd.DataFrame


def coverage(ds: Dataset) -> Coverage:
    """Compute the coverage tables of a loaded dataset."""
    from .conflicts import conflicts

    family = ds.figures["metric"].astype("string").map(ds.metrics.set_index("metric")["family"].astype("string"))
    by_family = pd.crosstab(ds.figures["operation_id"], family.rename("family")).rename_axis(columns=None)
    snapshots = ds.figures.groupby("operation_id").agg(
        figures=("figure_id", "size"),
        snapshot_dates=("as_of", "nunique"),
        sources=("source_id", "nunique"),
        jurisdictions=("jurisdiction", "nunique"),
        first_as_of=("as_of", "min"),
        last_as_of=("as_of", "max"),
    )
    kind = ds.figures["source_kind"].astype("string")
    via = ds.figures["source_id"].map(ds.sources.set_index("source_id")["via"])
    agency_hosted = kind.eq("primary").fillna(False) & via.isna()
    return Coverage(
        by_family=by_family,
        snapshots=snapshots,
        primary_share_sources=float((ds.sources["source_kind"] == "primary").mean())
        if len(ds.sources)
        else float("nan"),
        primary_share_figures=float((kind == "primary").mean()) if len(kind) else float("nan"),
        agency_hosted_share_figures=float(agency_hosted.mean()) if len(kind) else float("nan"),
        conflicts=conflicts(ds.normalized),
    )


def format_coverage(ds: Dataset, cov: Coverage) -> str:
    """Plain-text report of :func:`coverage` for the terminal."""
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_columns", 50):
        snaps = cov.snapshots.assign(
            first_as_of=cov.snapshots["first_as_of"].dt.strftime("%Y-%m-%d"),
            last_as_of=cov.snapshots["last_as_of"].dt.strftime("%Y-%m-%d"),
        )
        parts = [
            f"dataset {ds.version}: {len(ds.operations)} operations, {len(ds.sources)} sources, "
            f"{len(ds.figures)} figures",
            f"primary sources: {cov.primary_share_sources:.1%} of sources, {cov.primary_share_figures:.1%} of figures",
            f"primary figures read on the agency's own site (re-hosted copies left out): "
            f"{cov.agency_hosted_share_figures:.1%} of figures",
            f"known conflicts (pairs of figures that disagree): {len(cov.conflicts)}",
            "",
            "figures by operation and metric family:",
            cov.by_family.to_string(),
            "",
            "snapshots per operation:",
            snaps.to_string(),
        ]
    return "\n".join(parts)
