"""Choosing among snapshots of a running tally: the latest figure, and series over time.

A *key* is ``(operation_id, jurisdiction, metric, category)``; ``category`` is ``<NA>``
for metrics without one and that missing value is a key of its own (it never drops out
of a grouping). Source preference uses the figures' ``source_kind`` column (``primary`` =
the agency's own release), which :func:`sting_outcomes.load` joins onto every figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_names, require_columns

__all__ = [
    "DAYS_PER_MONTH",
    "KEY",
    "SCOPES",
    "doubtful",
    "earlier_high",
    "in_scope",
    "known_metrics",
    "latest",
    "pick_latest",
    "series",
]

KEY = ["operation_id", "jurisdiction", "metric", "category"]
#: Mean Gregorian month in days (365.25 / 12); used for every "months since" figure.
DAYS_PER_MONTH = 30.4375


#: Values of the ``scope`` column; ``None`` keeps every figure.
SCOPES = ("total", "part")
#: What a helper needs to choose among snapshots.
CHOICE_COLUMNS = [*KEY, "as_of", "figure_id", "source_id", "source_kind"]
SHAPE_HINT = "pass Dataset.normalized (or Dataset.figures), which carry it"


def require_figures(figures: pd.DataFrame, extra: list[str] | tuple[str, ...] = (), what: str = "figures") -> None:
    """Raise ``ValueError`` unless ``figures`` has the shape :func:`sting_outcomes.load`
    gives (the snapshot columns plus ``extra``)."""
    if not isinstance(figures, pd.DataFrame):
        raise TypeError(f"{what} must be a DataFrame, got {type(figures).__name__}")
    require_columns(figures, [*CHOICE_COLUMNS, *extra], what, SHAPE_HINT)


def known_metrics(figures: pd.DataFrame) -> list[str]:
    """The metric vocabulary as the figures carry it (the categories of a categorical
    ``metric`` column, as :func:`sting_outcomes.load` makes it; else the values present)."""
    metric = figures["metric"]
    if isinstance(metric.dtype, pd.CategoricalDtype):
        return [str(c) for c in metric.cat.categories]
    return sorted(metric.dropna().astype(str).unique())


def in_scope(figures: pd.DataFrame, scope: str | None = "total") -> pd.DataFrame:
    """Only the figures of one ``scope`` (``"total"``: running tallies; ``"part"``: single
    actions, sub-operations, separate cases); ``None`` or a table without the column
    keeps everything. Latest snapshots, series, conflicts and funnels read totals only,
    since a part is not a snapshot of the running tally."""
    check_choice(scope, (*SCOPES, None), "scope")
    if scope is None or "scope" not in figures:
        return figures
    return figures.loc[figures["scope"].astype("string").eq(scope).fillna(False)]


def doubtful(figures: pd.DataFrame) -> pd.DataFrame:
    """The figures the data themselves call doubtful (``doubtful`` is true), which
    :func:`latest` and :func:`series` leave out unless asked: ``figure_id``, the key,
    ``value``, ``unit`` and the ``note`` that says why. Print it beside any analysis."""
    if "doubtful" not in figures:
        return figures.iloc[0:0]
    cols = [c for c in ["figure_id", *KEY, "value", "unit", "as_of", "note"] if c in figures]
    return figures.loc[figures["doubtful"].astype(bool), cols].sort_values("figure_id", ignore_index=True)


def _keep_credible(figures: pd.DataFrame, include_doubtful: bool) -> np.ndarray:
    if include_doubtful or "doubtful" not in figures:
        return np.ones(len(figures), dtype=bool)
    return ~figures["doubtful"].astype(bool).to_numpy()


def earlier_high(frame: pd.DataFrame) -> pd.DataFrame:
    """For each row: the highest value of its series reported at a strictly earlier date
    (``earlier_max``) and the figure that reported it (``earlier_max_id``).

    Values are compared in standard units (``value_std``) when present, else as reported
    within one unit. Aligned on ``frame``'s positions.
    """
    value = "value_std" if "value_std" in frame else "value"
    # one series per standard unit: an amount of bitcoin never compares with dollars
    by = [*KEY, "unit_std"] if value == "value_std" and "unit_std" in frame else [*KEY, "unit"]
    n = len(frame)
    if n == 0:
        return pd.DataFrame({"earlier_max": np.array([], float), "earlier_max_id": np.array([], object)})
    g = _group_codes(frame, by)
    t = frame["as_of"].to_numpy("datetime64[ns]").astype("int64")
    v = frame[value].to_numpy(dtype=float)
    # One lexsort over numbers (no string sort): by group, date, then value, highest first.
    order = np.lexsort((np.arange(n), -np.nan_to_num(v, nan=-np.inf), t, g))
    gs, ts = g[order], t[order]
    starts = np.r_[True, (gs[1:] != gs[:-1]) | (ts[1:] != ts[:-1])]
    top = order[starts]  # the row holding each (group, date)'s highest value, in (group, date) order
    pg, pv = g[top], v[top]
    run = pd.Series(pv).groupby(pg, sort=False).cummax().to_numpy()
    run_pos = pd.Series(np.where(pv == run, top, np.nan)).groupby(pg, sort=False).ffill().to_numpy()
    first_of_group = np.r_[True, pg[1:] != pg[:-1]]
    earlier = np.r_[np.nan, run[:-1]]
    earlier_pos = np.r_[np.nan, run_pos[:-1]]
    earlier[first_of_group] = np.nan
    earlier_pos[first_of_group] = np.nan
    block = np.empty(n, dtype=np.int64)
    block[order] = np.cumsum(starts) - 1
    ids = frame["figure_id"].astype(str).to_numpy()
    pos = earlier_pos[block]
    has = ~np.isnan(pos)
    earlier_id = np.full(n, None, dtype=object)
    earlier_id[has] = ids[pos[has].astype(np.int64)]
    return pd.DataFrame({"earlier_max": earlier[block], "earlier_max_id": earlier_id})


def _flag_falls(chosen: pd.DataFrame, high: pd.DataFrame) -> pd.DataFrame:
    """Add ``falls`` (the value is below one reported earlier in its series: a running
    total never falls, so this is a narrower count, a new definition or an error),
    ``fell_from`` (that earlier figure's id) and ``fell_from_value``."""
    value = chosen["value_std"] if "value_std" in chosen else chosen["value"]
    falls = value.to_numpy(float) < high["earlier_max"].to_numpy(float)
    return chosen.assign(
        falls=falls,
        fell_from=pd.array(np.where(falls, high["earlier_max_id"].to_numpy(object), None), dtype="string"),
        fell_from_value=np.where(falls, high["earlier_max"].to_numpy(float), np.nan),
    )


def _preference_rank(kind: pd.Series, prefer: str | None) -> pd.Series:
    """0 for the preferred source kind, 1 for the other, 2 for unknown."""
    kind = kind.astype("string")
    if prefer is None:
        return pd.Series(0, index=kind.index)
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
    block = np.cumsum(~same_as_prev)  # runs of equal (group, date, kind)
    group_no = np.cumsum(starts) - 1
    leading = block == block[np.flatnonzero(starts)][group_no]  # the run each group starts with
    tied = leading & (same_as_prev | np.r_[same_as_prev[1:], False])
    first = order[starts]
    if tied.any():
        ties = pd.DataFrame(
            {"group": group_no[tied], "pos": order[tied], "fid": figures["figure_id"].to_numpy()[order[tied]]}
        )
        best = ties.sort_values(["group", "fid"], kind="stable").drop_duplicates("group")
        first[best["group"].to_numpy()] = best["pos"].to_numpy()
    return np.sort(first)


def pick_latest(figures: pd.DataFrame, by: list[str], prefer: str | None) -> pd.DataFrame:
    """One row per ``by`` group: latest ``as_of``, then preferred source kind, then lowest
    ``figure_id`` (a deterministic tie-break). Missing keys form their own group."""
    if figures.empty:
        return figures
    return figures.iloc[_winners(figures, _group_codes(figures, by), prefer)]


def latest(
    figures: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    prefer: str | None = "primary",
    scope: str | None = "total",
    include_doubtful: bool = False,
) -> pd.DataFrame:
    """The latest snapshot per (operation_id, jurisdiction, metric, category).

    Parameters
    ----------
    figures:
        ``Dataset.normalized`` or ``Dataset.figures`` (or a subset of their rows).
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
    include_doubtful:
        Figures flagged ``doubtful`` in the data are left out unless this is true; list
        them with :func:`doubtful`.

    Returns one row per key, sorted by key, with ``falls`` / ``fell_from`` /
    ``fell_from_value``: true when the chosen value is below one reported earlier in its
    series, so a falling running total is never returned as the tally without a flag.
    """
    require_figures(figures)
    check_choice(prefer, ("primary", "secondary", None), "prefer")
    check_choice(scope, (*SCOPES, None), "scope")
    keep = np.ones(len(figures), dtype=bool)
    if scope is not None and "scope" in figures:
        keep &= figures["scope"].astype("string").eq(scope).fillna(False).to_numpy(bool)
    if as_of is not None:
        keep &= (figures["as_of"] <= pd.Timestamp(as_of)).to_numpy(bool)
    keep &= _keep_credible(figures, include_doubtful)
    # Work on the few columns the choice needs, and take full rows only for the winners:
    # copying every column of a million-row table was most of the cost.
    rows = np.flatnonzero(keep)
    frame = figures[CHOICE_COLUMNS].iloc[rows]
    if frame.empty:
        empty = figures.iloc[rows].assign(n_same_date=pd.Series(dtype="int64"))
        return empty.assign(
            falls=pd.Series(dtype=bool), fell_from=pd.Series(dtype="string"), fell_from_value=pd.Series(dtype=float)
        )
    groups = _group_codes(frame, KEY)
    as_of_ns = frame["as_of"].to_numpy("datetime64[ns]").astype("int64")
    same_date = (
        pd.Series(1, index=range(len(frame))).groupby([groups, as_of_ns], sort=False).transform("size").to_numpy()
    )
    first = _winners(frame, groups, prefer)
    chosen = figures.iloc[rows[first]].assign(n_same_date=same_date[first])
    value_cols = [c for c in ("value_std", "unit_std", "value", "unit") if c in figures]
    high = earlier_high(figures[[*CHOICE_COLUMNS, *value_cols]].iloc[rows]).iloc[first].reset_index(drop=True)
    chosen = _flag_falls(chosen.reset_index(drop=True), high)
    return chosen.sort_values(KEY, kind="stable", ignore_index=True)


def series(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    metrics: str | list[str] | None = None,
    prefer: str | None = "primary",
    scope: str | None = "total",
    include_doubtful: bool = False,
) -> pd.DataFrame:
    """Tallies over time, one point per (operation, jurisdiction, metric, category, as_of).

    When several figures share a key and date, the preferred source kind wins (primary
    by default), then the lowest ``figure_id``. ``figures`` is ``Dataset.normalized``:
    values are in standard units (``value_std``, ``unit_std``, ``lower``, ``upper``).
    ``months_since_takedown`` = (``as_of`` - the operation's ``takedown_date``) in days / 30.4375
    (mean month); NaN when the operation has no takedown date. Also adds
    ``n_points`` (points in the series). Sorted by key then ``as_of``.

    ``metrics`` restricts to some metrics (a name or a list; default all; an unknown name
    raises ``ValueError``); ``scope`` and ``include_doubtful`` as in :func:`latest`. Each
    point carries ``falls`` / ``fell_from`` / ``fell_from_value`` (below a value reported
    earlier in the series), so a curve or a horizon can leave falling points out.
    """
    require_figures(figures, ["value_std", "unit_std", "lower", "upper"])
    require_columns(operations, ["operation_id", "takedown_date"], "operations")
    check_choice(prefer, ("primary", "secondary", None), "prefer")
    metrics = check_names(metrics, known_metrics(figures), "metric")
    frame = in_scope(figures, scope)
    frame = frame.loc[_keep_credible(frame, include_doubtful)]
    if metrics is not None:
        frame = frame.loc[frame["metric"].astype("string").isin(metrics).fillna(False)]
    points = pick_latest(frame, [*KEY, "unit_std", "as_of"], prefer).reset_index(drop=True)
    points = _flag_falls(points, earlier_high(points))
    dates = operations[["operation_id", "takedown_date"]].drop_duplicates("operation_id")
    points = points.merge(dates, on="operation_id", how="left")
    delta = (points["as_of"] - points["takedown_date"]).dt.total_seconds() / 86400.0
    points["months_since_takedown"] = delta / DAYS_PER_MONTH
    points = points.sort_values([*KEY, "as_of"], kind="stable", ignore_index=True)
    points["n_points"] = points.groupby([*KEY, "unit_std"], dropna=False, observed=True)["as_of"].transform("size")
    return points
