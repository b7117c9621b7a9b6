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
