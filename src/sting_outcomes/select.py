"""Choosing among snapshots: the latest figure, conflicts between sources, series over time.

A *key* is ``(operation_id, jurisdiction, metric, category)``; ``category`` is ``<NA>``
for metrics without one and that missing value is a key of its own (it never drops out
of a grouping). Source preference uses ``source_kind`` (``primary`` = the agency's own
release) from the sources table, or from ``figures`` itself when it already has it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .conversion import normalize

__all__ = ["DAYS_PER_MONTH", "KEY", "conflicts", "in_scope", "latest", "series", "with_source_kind"]

KEY = ["operation_id", "jurisdiction", "metric", "category"]
#: Mean Gregorian month in days (365.25 / 12); used for every "months since" figure.
DAYS_PER_MONTH = 30.4375


def with_source_kind(figures: pd.DataFrame, sources: pd.DataFrame | None) -> pd.DataFrame:
    """``figures`` with a ``source_kind`` column (taken from ``sources`` when missing)."""
    if "source_kind" in figures:
        return figures
    if sources is None:
        raise ValueError("figures have no source_kind column: pass the sources table")
    kinds = sources.drop_duplicates("source_id").set_index("source_id")["source_kind"]
    return figures.assign(source_kind=figures["source_id"].map(kinds))


def in_scope(figures: pd.DataFrame, scope: str | None = "total") -> pd.DataFrame:
    """Only the figures of one ``scope`` (``"total"``: running tallies; ``"part"``: single
    actions, sub-operations, separate cases); ``None`` or a table without the column
    keeps everything. Latest snapshots, series, conflicts and funnels read totals only,
    since a part is not a snapshot of the running tally."""
    if scope is None or "scope" not in figures:
        return figures
    return figures.loc[figures["scope"].astype("string").eq(scope).fillna(False)]


def _preference_rank(kind: pd.Series, prefer: str | None) -> pd.Series:
    """0 for the preferred source kind, 1 for the other, 2 for unknown."""
    kind = kind.astype("string")
    if prefer is None:
        return pd.Series(0, index=kind.index)
    if prefer not in ("primary", "secondary"):
        raise ValueError(f"prefer must be 'primary', 'secondary' or None, got {prefer!r}")
    return pd.Series(np.where(kind.eq(prefer).fillna(False), 0, np.where(kind.isna(), 2, 1)), index=kind.index)


def _group_codes(figures: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Integer code per row for the ``by`` groups; missing values form groups of their own."""
    return figures.groupby(by, dropna=False, observed=True, sort=False).ngroup().to_numpy()


def _winners(figures: pd.DataFrame, groups: np.ndarray, prefer: str | None) -> np.ndarray:
    """Sorted row positions of each group's choice: latest ``as_of``, then the preferred
    source kind, then the lowest ``figure_id``.

    One ``np.lexsort`` over integer codes orders the rows; ``figure_id`` strings are
    compared only inside the few blocks that tie on date and kind, since sorting a
    million strings cost more than everything else together.
    """
    rank = _preference_rank(figures["source_kind"], prefer).to_numpy()
    as_of = figures["as_of"].to_numpy("datetime64[ns]").astype("int64")
    order = np.lexsort((rank, -as_of, groups))
    g, a, r = groups[order], as_of[order], rank[order]
    starts = np.r_[True, g[1:] != g[:-1]]
    same_as_prev = np.r_[False, ~starts[1:] & (a[1:] == a[:-1]) & (r[1:] == r[:-1])]
    block = np.cumsum(~same_as_prev)                        # runs of equal (group, date, kind)
    group_no = np.cumsum(starts) - 1
    leading = block == block[np.flatnonzero(starts)][group_no]  # the run each group starts with
    tied = leading & (same_as_prev | np.r_[same_as_prev[1:], False])
    first = order[starts]
    if tied.any():
        ties = pd.DataFrame({"group": group_no[tied], "pos": order[tied],
                             "fid": figures["figure_id"].to_numpy()[order[tied]]})
        best = ties.sort_values(["group", "fid"], kind="stable").drop_duplicates("group")
        first[best["group"].to_numpy()] = best["pos"].to_numpy()
    return np.sort(first)


def _pick_latest(figures: pd.DataFrame, by: list[str], prefer: str | None) -> pd.DataFrame:
    """One row per ``by`` group: latest ``as_of``, then preferred source kind, then lowest
    ``figure_id`` (a deterministic tie-break). Missing keys form their own group."""
    if figures.empty:
        return figures
    return figures.iloc[_winners(figures, _group_codes(figures, by), prefer)]


def latest(
    figures: pd.DataFrame,
    sources: pd.DataFrame | None = None,
    as_of: str | pd.Timestamp | None = None,
    prefer: str | None = "primary",
    scope: str | None = "total",
) -> pd.DataFrame:
    """The latest snapshot per (operation_id, jurisdiction, metric, category).

    Parameters
    ----------
    figures:
        Figures table (raw or normalised); ``source_id`` is kept.
    sources:
        Sources table, used for ``source_kind`` unless ``figures`` already has it.
    as_of:
        Only snapshots dated on or before this date count (default: all). A month-only
        ``as_of`` is dated the 1st of its month, so it sorts before day-precision dates of
        the same month.
    prefer:
        Source kind that wins when snapshots share the latest date (``"primary"``,
        ``"secondary"``, or ``None`` for no preference); remaining ties go to the lowest
        ``figure_id``. The column ``n_same_date`` counts the snapshots that shared the
        chosen date, so ties stay visible.

    scope:
        Which figures count (see :func:`in_scope`; default running totals only).

    Returns one row per key, sorted by key.
    """
    keep = np.ones(len(figures), dtype=bool)
    if scope is not None and "scope" in figures:
        keep &= figures["scope"].astype("string").eq(scope).fillna(False).to_numpy(bool)
    if as_of is not None:
        keep &= (figures["as_of"] <= pd.Timestamp(as_of)).to_numpy(bool)
    # Work on the few columns the choice needs, and take full rows only for the winners:
    # copying every column of a million-row table was most of the cost.
    rows = np.flatnonzero(keep)
    cols = [*KEY, "as_of", "figure_id", "source_id", *(["source_kind"] if "source_kind" in figures else [])]
    frame = with_source_kind(figures[cols].iloc[rows], sources)
    if frame.empty:
        return with_source_kind(figures.iloc[rows], sources).assign(n_same_date=pd.Series(dtype="int64"))
    groups = _group_codes(frame, KEY)
    as_of_ns = frame["as_of"].to_numpy("datetime64[ns]").astype("int64")
    same_date = pd.Series(1, index=range(len(frame))).groupby([groups, as_of_ns], sort=False).transform("size").to_numpy()
    first = _winners(frame, groups, prefer)
    chosen = figures.iloc[rows[first]].assign(
        source_kind=frame["source_kind"].to_numpy()[first], n_same_date=same_date[first]
    )
    return chosen.sort_values(KEY, kind="stable", ignore_index=True)


def conflicts(
    figures: pd.DataFrame,
    window_days: int = 31,
    rel_tol: float = 0.02,
    *,
    units: pd.DataFrame | None = None,
    approx_band: float = 0.10,
    scope: str | None = "total",
) -> pd.DataFrame:
    """Pairs of figures from different sources that disagree.

    Two figures for the same key are compared when they come from different
    ``source_id`` and their ``as_of`` dates are at most ``window_days`` apart (default 31
    days; tallies that grow over time should be compared close together). Comparison is in
    standard units (figures are normalised first if they lack ``lower``/``upper``): each
    figure is the interval its qualifier implies (exact ``v..v``, at_least ``v..inf``,
    at_most ``0..v``, range, approx ``v +/- approx_band``). ``rel_diff`` is the gap between
    the two intervals divided by the larger of the two values (0 when they overlap), so
    exact 800 vs exact 850 gives 50/850 and at_least 800 vs exact 850 gives 0. A pair is a
    conflict when ``rel_diff > rel_tol`` (default 0.02, i.e. 2 %).

    Returns a tidy frame, one row per conflicting pair (``figure_id_a < figure_id_b``):
    the key, ``figure_id_a/_b``, ``source_id_a/_b``, ``as_of_a/_b``, ``qualifier_a/_b``,
    ``value_a/_b`` and ``unit_a/_b`` as reported, ``value_std_a/_b``, ``unit_std``,
    ``rel_diff`` and ``days_apart``; sorted by ``rel_diff`` descending. Only figures of
    ``scope`` are compared (default running totals: a part never conflicts with a total).
    """
    figures = in_scope(figures, scope)
    frame = figures if {"lower", "upper", "value_std"} <= set(figures) else normalize(
        figures, units, approx_band=approx_band
    )
    cols = [*KEY, "figure_id", "source_id", "as_of", "qualifier", "value", "unit", "value_std", "unit_std", "lower", "upper"]
    side = frame[cols].copy()
    side["_cat"] = side["category"].astype("string").fillna("\x00none")  # NA category is its own key
    side["_unit_std"] = side["unit_std"].astype("string").fillna("\x00none")
    on = ["operation_id", "jurisdiction", "metric", "_cat", "_unit_std"]
    side["metric"] = side["metric"].astype("string")
    pairs = side.merge(side.drop(columns=["category", "unit_std"]), on=on, suffixes=("_a", "_b"))
    pairs = pairs.loc[
        (pairs["figure_id_a"] < pairs["figure_id_b"]) & (pairs["source_id_a"] != pairs["source_id_b"])
    ]
    days = (pairs["as_of_b"] - pairs["as_of_a"]).dt.days.abs()
    pairs = pairs.assign(days_apart=days).loc[days <= window_days]
    gap = np.maximum(pairs["lower_a"], pairs["lower_b"]) - np.minimum(pairs["upper_a"], pairs["upper_b"])
    scale = np.maximum(pairs["value_std_a"].abs(), pairs["value_std_b"].abs())
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(gap > 0, gap / scale, 0.0)
    pairs = pairs.assign(rel_diff=rel).loc[lambda d: d["rel_diff"] > rel_tol]
    ordered = [
        *KEY, "figure_id_a", "figure_id_b", "source_id_a", "source_id_b", "as_of_a", "as_of_b",
        "qualifier_a", "qualifier_b", "value_a", "value_b", "unit_a", "unit_b",
        "value_std_a", "value_std_b", "unit_std", "rel_diff", "days_apart",
    ]
    out = pairs[ordered].sort_values(["rel_diff", "figure_id_a"], ascending=[False, True], ignore_index=True)
    out["metric"] = out["metric"].astype(figures["metric"].dtype) if len(out) else out["metric"]
    return out


def series(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    sources: pd.DataFrame | None = None,
    *,
    metrics: list[str] | None = None,
    prefer: str | None = "primary",
    units: pd.DataFrame | None = None,
    scope: str | None = "total",
) -> pd.DataFrame:
    """Tallies over time, one point per (operation, jurisdiction, metric, category, as_of).

    When several figures share a key and date, the preferred source kind wins (primary
    by default), then the lowest ``figure_id``. Values are in standard units
    (``value_std``, ``unit_std``, ``lower``, ``upper``; figures are normalised first when
    needed). ``months_since_takedown`` = (``as_of`` - the operation's ``takedown_date``)
    in days / 30.4375 (mean month); NaN when the operation has no takedown date. Also adds
    ``n_points`` (points in the series). Sorted by key then ``as_of``.

    ``metrics`` restricts to some metrics (default: all); ``scope`` as in :func:`latest`.
    """
    figures = in_scope(figures, scope)
    frame = figures if "value_std" in figures else normalize(figures, units)
    frame = with_source_kind(frame, sources)
    if metrics is not None:
        frame = frame.loc[frame["metric"].astype("string").isin(list(metrics)).fillna(False)]
    points = _pick_latest(frame, [*KEY, "as_of"], prefer)
    dates = operations[["operation_id", "takedown_date"]].drop_duplicates("operation_id")
    points = points.merge(dates, on="operation_id", how="left")
    delta = (points["as_of"] - points["takedown_date"]).dt.total_seconds() / 86400.0
    points["months_since_takedown"] = delta / DAYS_PER_MONTH
    points = points.sort_values([*KEY, "as_of"], kind="stable", ignore_index=True)
    points["n_points"] = points.groupby(KEY, dropna=False, observed=True)["as_of"].transform("size")
    return points
