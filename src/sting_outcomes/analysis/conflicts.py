"""Where sources disagree, and where a press figure only repeats an agency's.

* :func:`conflicts`: pairs of figures from different documents that describe the same
  tally at nearly the same date and do not agree (rule 10 keeps both).
* :func:`secondary_repeats`: press figures that restate a primary figure (rule 3 drops
  them unless their note says what they add).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_positive
from .snapshots import KEY, in_scope, require_figures

__all__ = ["REPEAT_WINDOW_DAYS", "conflicts", "secondary_repeats"]


def conflicts(
    figures: pd.DataFrame,
    window_days: int = 31,
    rel_tol: float = 0.02,
    *,
    scope: str | None = "total",
) -> pd.DataFrame:
    """Pairs of figures from different sources that disagree.

    Two figures for the same key are compared when they come from different
    ``source_id`` and their ``as_of`` dates are at most ``window_days`` apart (default 31
    days; tallies that grow over time should be compared close together). ``figures`` is
    ``Dataset.normalized``, so comparison is in standard units (money in USD at each
    figure's date): each figure is the interval its qualifier implies (exact ``v..v``,
    at_least ``v..inf``, at_most ``0..v``, range, approx ``v +/- 10 %``). ``rel_diff`` is the gap between
    the two intervals divided by the larger of the two values (0 when they overlap), so
    exact 800 vs exact 850 gives 50/850 and at_least 800 vs exact 850 gives 0. A pair is a
    conflict when ``rel_diff > rel_tol`` (default 0.02, i.e. 2 %).

    Returns a tidy frame, one row per conflicting pair (``figure_id_a < figure_id_b``):
    the key, ``figure_id_a/_b``, ``source_id_a/_b``, ``as_of_a/_b``, ``qualifier_a/_b``,
    ``value_a/_b`` and ``unit_a/_b`` as reported, ``value_std_a/_b``, ``unit_std``,
    ``rel_diff`` and ``days_apart``; sorted by ``rel_diff`` descending. Only figures of
    ``scope`` are compared (default running totals: a part never conflicts with a total).
    """
    require_figures(figures, ["value", "unit", "qualifier", "value_std", "unit_std", "lower", "upper"])
    check_positive(window_days, "window_days", allow_zero=True)
    check_positive(rel_tol, "rel_tol", allow_zero=True)
    frame = figures = in_scope(figures, scope)
    cols = [
        *KEY,
        "figure_id",
        "source_id",
        "as_of",
        "qualifier",
        "value",
        "unit",
        "value_std",
        "unit_std",
        "lower",
        "upper",
    ]
    side = frame[cols].copy()
    side["_cat"] = side["category"].astype("string").fillna("\x00none")  # NA category is its own key
    side["_unit_std"] = side["unit_std"].astype("string").fillna("\x00none")
    on = ["operation_id", "jurisdiction", "metric", "_cat", "_unit_std"]
    side["metric"] = side["metric"].astype("string")
    pairs = side.merge(side.drop(columns=["category", "unit_std"]), on=on, suffixes=("_a", "_b"))
    pairs = pairs.loc[(pairs["figure_id_a"] < pairs["figure_id_b"]) & (pairs["source_id_a"] != pairs["source_id_b"])]
    days = (pairs["as_of_b"] - pairs["as_of_a"]).dt.days.abs()
    pairs = pairs.assign(days_apart=days).loc[days <= window_days]
    gap = np.maximum(pairs["lower_a"], pairs["lower_b"]) - np.minimum(pairs["upper_a"], pairs["upper_b"])
    scale = np.maximum(pairs["value_std_a"].abs(), pairs["value_std_b"].abs())
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(gap > 0, gap / scale, 0.0)
    pairs = pairs.assign(rel_diff=rel).loc[lambda d: d["rel_diff"] > rel_tol]
    ordered = [
        *KEY,
        "figure_id_a",
        "figure_id_b",
        "source_id_a",
        "source_id_b",
        "as_of_a",
        "as_of_b",
        "qualifier_a",
        "qualifier_b",
        "value_a",
        "value_b",
        "unit_a",
        "unit_b",
        "value_std_a",
        "value_std_b",
        "unit_std",
        "rel_diff",
        "days_apart",
    ]
    out = pairs[ordered].sort_values(["rel_diff", "figure_id_a"], ascending=[False, True], ignore_index=True)
    out["metric"] = out["metric"].astype(figures["metric"].dtype) if len(out) else out["metric"]
    return out


#: Two snapshots of one tally whose ``as_of`` dates lie this close are the same update.
REPEAT_WINDOW_DAYS = 14


def secondary_repeats(figures: pd.DataFrame, window_days: int = REPEAT_WINDOW_DAYS) -> pd.DataFrame:
    """Secondary figures that restate a primary figure (CURATION rule 3).

    A secondary row repeats a primary row when both give the same operation, jurisdiction,
    metric, category, unit, value, value_high and qualifier, and their ``as_of`` dates lie at
    most ``window_days`` apart. ``figures`` is as :func:`sting_outcomes.load` returns it, so a
    month-only ``as_of`` is already dated the 1st. Such a row should be dropped
    unless it adds a detail or disagrees, which its ``note`` must then say. Returns one row
    per pair: ``secondary_id``, ``primary_id``, ``days_apart`` and the secondary's ``note``.
    """
    key = ["operation_id", "jurisdiction", "metric", "category", "unit", "value", "value_high", "qualifier"]
    require_figures(figures, ["unit", "value", "value_high", "qualifier", "note"])
    check_positive(window_days, "window_days", allow_zero=True)
    kind = figures["source_kind"].astype("string")
    f = figures.copy()
    for column in key:
        f[column] = f[column].astype("string").fillna("")
    primary = f.loc[kind == "primary", [*key, "figure_id", "as_of"]]
    secondary = f.loc[kind == "secondary", [*key, "figure_id", "as_of", "note"]]
    pairs = secondary.merge(primary, on=key, suffixes=("_s", "_p"))
    pairs["days_apart"] = (pairs["as_of_s"] - pairs["as_of_p"]).dt.days.abs()
    pairs = pairs[pairs["days_apart"] <= window_days]
    out = pairs.rename(columns={"figure_id_s": "secondary_id", "figure_id_p": "primary_id"})
    out = out[["secondary_id", "primary_id", "days_apart", "note"]].sort_values(["secondary_id", "primary_id"])
    return out.reset_index(drop=True)
