"""Common horizons: every running total read at the same distance from its action day.

"Latest" is not a horizon: one operation's latest figure is three years old, another's
is from the launch day. :func:`at_horizons` reads each series (from
:func:`~sting_outcomes.analysis.snapshots.series`) at its **first release** and at fixed
numbers of months after the action day (default +12 and +36).

Because a running total never falls, the value at a horizon ``h`` is bounded by the
snapshots around it: at least the latest snapshot on or before ``h`` (its lower bound)
and at most the first snapshot on or after ``h`` (its upper bound; unbounded when the
series stops before ``h``). The central value is the latest snapshot on or before ``h``,
as the agencies last stated it; ``short_<h>m`` flags a series that stops before ``h``, so
the value is stale and only a lower bound. Snapshots the series flags as falls are left
out of the bounds: a lower later figure is a different count, not the tally.

Empirical growth ratios (value at ``h`` / value at the first release) carry the same
bounds: ``ratio_low = max(1, lower_h / upper_first)`` (a running total never falls) and
``ratio_high = upper_h / lower_first``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import require_columns
from .snapshots import KEY

__all__ = ["DEFAULT_HORIZONS", "at_horizons", "horizon_label"]

#: Months after the action day at which series are compared by default.
DEFAULT_HORIZONS = (12, 36)


def horizon_label(h: int | str) -> str:
    """``"first release"`` or ``"+12 months"``."""
    return "first release" if h == "first" else f"+{int(h)} months"


def at_horizons(
    series_df: pd.DataFrame,
    horizons: tuple[int, ...] | list[int] | int = DEFAULT_HORIZONS,
    *,
    keys: list[str] | None = None,
) -> pd.DataFrame:
    """One row per series: its first release and its value at each horizon.

    Parameters
    ----------
    series_df:
        Points from :func:`~sting_outcomes.analysis.snapshots.series` (needs
        ``months_since_takedown``, ``value_std``, ``lower``, ``upper``, ``as_of``,
        ``figure_id``; ``falls`` when present).
    horizons:
        Months after the action day (positive integers).
    keys:
        Columns that identify a series (default operation, jurisdiction, metric, category
        and standard unit).

    Returns columns: the keys, ``unit_std``, ``n_points``, ``first_as_of``,
    ``first_months``, ``first_value``, ``first_lower``, ``first_upper``, ``first_id``,
    ``last_months``; and for each horizon ``h``: ``value_<h>m``, ``lower_<h>m``,
    ``upper_<h>m``, ``as_of_<h>m``, ``id_<h>m``, ``short_<h>m`` (the series ends before
    ``h``), ``ratio_<h>m``, ``ratio_low_<h>m`` and ``ratio_high_<h>m``. A horizon before the
    first release gives NaN values (nothing was reported yet).
    """
    if keys is None:  # one series per standard unit (an amount of coin is not dollars)
        keys = [*KEY, "unit_std"] if "unit_std" in series_df else list(KEY)
    keys = list(keys)
    hs = [int(horizons)] if isinstance(horizons, (int, np.integer)) else [int(h) for h in horizons]
    if any(h <= 0 for h in hs):
        raise ValueError(f"horizons must be positive numbers of months, got {hs}")
    require_columns(
        series_df,
        [*keys, "months_since_takedown", "value_std", "lower", "upper", "as_of", "figure_id"],
        "series_df",
        "pass the output of so.series()",
    )
    frame = series_df
    if "falls" in frame:
        frame = frame.loc[~frame["falls"].fillna(False).astype(bool)]
    frame = frame.loc[frame["months_since_takedown"].notna()].sort_values([*keys, "as_of"], kind="stable")
    rows = []
    for key, g in frame.groupby(keys, dropna=False, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        t = g["months_since_takedown"].to_numpy(float)
        v, lo, hi = (g[c].to_numpy(float) for c in ("value_std", "lower", "upper"))
        row = dict(zip(keys, key, strict=True))
        row.update(
            unit_std=g["unit_std"].iloc[0] if "unit_std" in g else pd.NA,
            n_points=len(g),
            first_as_of=g["as_of"].iloc[0],
            first_months=t[0],
            first_value=v[0],
            first_lower=lo[0],
            first_upper=hi[0],
            first_id=g["figure_id"].iloc[0],
            last_months=t[-1],
        )
        for h in hs:
            before = np.flatnonzero(t <= h)
            after = np.flatnonzero(t >= h)
            if len(before) == 0:
                row.update(
                    {
                        f"value_{h}m": np.nan,
                        f"lower_{h}m": np.nan,
                        f"upper_{h}m": np.nan,
                        f"as_of_{h}m": pd.NaT,
                        f"id_{h}m": pd.NA,
                        f"short_{h}m": False,
                    }
                )
            else:
                i = before[-1]
                upper = hi[after[0]] if len(after) else np.inf
                row.update(
                    {
                        f"value_{h}m": v[i],
                        # the running total at h is at least the best lower bound seen by then
                        f"lower_{h}m": np.nanmax(lo[before]),
                        f"upper_{h}m": max(upper, np.nanmax(lo[before])),
                        f"as_of_{h}m": g["as_of"].iloc[i],
                        f"id_{h}m": g["figure_id"].iloc[i],
                        f"short_{h}m": bool(t[-1] < h),
                    }
                )
            with np.errstate(divide="ignore", invalid="ignore"):
                row[f"ratio_{h}m"] = row[f"value_{h}m"] / v[0] if v[0] > 0 else np.nan
                # a running total never falls, so the ratio is at least one
                low = row[f"lower_{h}m"] / hi[0] if hi[0] > 0 else np.nan
                row[f"ratio_low_{h}m"] = max(1.0, low) if np.isfinite(row[f"value_{h}m"]) and low == low else np.nan
                row[f"ratio_high_{h}m"] = row[f"upper_{h}m"] / lo[0] if lo[0] > 0 else np.inf
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for h in hs:
        out[f"short_{h}m"] = out[f"short_{h}m"].astype(bool)
    return out
