"""Hand-made figure frames in the one shape the helpers take (``Dataset.normalized``).

Tests build small frames by hand; ``shaped`` joins the source kind and metric family the
way :func:`sting_outcomes.load` does and normalises them with the project's unit
vocabulary, so a fixture exercises exactly the path real data take.
"""

from __future__ import annotations

import pandas as pd

from sting_outcomes.data.units import normalize
from sting_outcomes.paths import DATA_DIR

UNITS = pd.read_csv(DATA_DIR / "units.csv", dtype={"unit": "string", "standard_unit": "string"})
METRICS = pd.read_csv(DATA_DIR / "metrics.csv", dtype="string")


def shaped(figures: pd.DataFrame, sources: pd.DataFrame | None = None, *, normalise: bool = True) -> pd.DataFrame:
    """``figures`` with ``source_kind`` (from ``sources``; default primary), ``publisher``
    and ``family`` joined, then normalised unless it already has ``value_std``."""
    out = figures.copy()
    if "source_kind" not in out:
        if sources is None:
            out["source_kind"] = pd.Categorical(["primary"] * len(out), categories=["primary", "secondary"])
        else:
            kinds = sources.set_index("source_id")["source_kind"].astype("string")
            out["source_kind"] = pd.Categorical(out["source_id"].map(kinds), categories=["primary", "secondary"])
    out["publisher"] = out.get("publisher", out["source_id"])
    out["family"] = out["metric"].astype("string").map(METRICS.set_index("metric")["family"])
    if "operation_id" not in out:
        out["operation_id"] = "op"
    if normalise and "value_std" not in out:
        out = normalize(out, UNITS)
    return out


def figure_rows(rows: list[tuple], columns: list[str], *, metric_categories: list[str] | None = None, **constant):
    """Hand-made figures: ``rows`` under ``columns``, then ``constant`` columns (e.g.
    ``source_id="src"``), then what neither gives as the contract's plainest case (one
    operation ``op``, source ``src``, no category, a count, exact, a day-precise total, not
    doubtful), typed as :func:`sting_outcomes.load` types them and :func:`shaped`."""
    frame = pd.DataFrame(rows, columns=columns)
    defaults = {
        "operation_id": "op",
        "source_id": "src",
        "unit": "count",
        "qualifier": "exact",
        "as_of_precision": "day",
        "scope": "total",
        "doubtful": False,
    }
    for column, value in {**defaults, **constant}.items():
        if column not in frame:
            frame[column] = value
    frame["category"] = pd.array(frame["category"] if "category" in frame else [pd.NA] * len(frame), dtype="string")
    frame["value"] = frame["value"].astype(float)
    frame["value_high"] = float("nan")
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["metric"] = pd.Categorical(frame["metric"], categories=metric_categories)
    frame["unit"] = pd.Categorical(frame["unit"])
    frame["qualifier"] = pd.Categorical(frame["qualifier"])
    return shaped(frame)
