"""How agencies revise what they first published.

A *series* is one running tally (operation, jurisdiction, metric, category; running
totals only) as published over time, one point per date (from
:func:`~sting_outcomes.analysis.snapshots.series`: the preferred source kind wins a date,
doubtful figures are left out). :func:`revision_updates` orders each series by date, reading a
month-only date as the month's last day (see
:func:`~sting_outcomes.analysis.timing.effective_date`), so that a press update dated
"June 2021" follows a release of 8 June 2021 (the ANOM New Zealand 35 -> 36 revision of
launch week). Each later point is compared with the one before it:

* ``direction``: ``up``, ``down`` or ``same`` (value in standard units);
* ``within_bounds``: the new value lies inside the bounds the previous one allowed
  ("more than 800" -> 993 sharpens the claim rather than contradicting it);
* ``falls``: a value below one reported at an earlier date (a running total never falls:
  a narrower count, a new definition or an error; the figure's note says which);
* ``order_uncertain``: a month-only date shares its month with another point of the
  series, so the order rests on the month-end reading (:func:`revision_counts` gives the
  counts with and without such pairs).

:func:`revision_summary` counts revisions by any grouping (metric, family, publisher of
the later figure); :func:`capture_shares` turns :func:`~sting_outcomes.analysis.horizons.at_horizons`
ratios into the share of the tally at +12 or +36 months that the first release held,
with the interval the bounds allow (a series that stops short of the horizon gives only
an upper bound on the share).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_names, require_columns
from .horizons import at_horizons
from .snapshots import KEY, known_metrics
from .timing import effective_series

__all__ = [
    "EARLY_DAYS",
    "capture_plot",
    "capture_shares",
    "capture_summary",
    "revision_counts",
    "revision_series",
    "revision_summary",
    "revision_updates",
    "revisions_plot",
    "share_interval",
]

#: What identifies a series here: the key plus the standard unit, so that a series never
#: mixes amounts of a coin (BTC) with money valued in a currency.
SERIES_KEY = [*KEY, "unit_std"]

#: Days after the first release within which a revision counts as an early (launch-month)
#: revision; a month-only date in the first release's month falls within it.
EARLY_DAYS = 31


def revision_updates(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    metrics: str | list[str],
    min_points: int = 2,
    early_days: int = EARLY_DAYS,
    prefer: str | None = "primary",
) -> pd.DataFrame:
    """Every point of every series with at least ``min_points`` points, in date order,
    compared with the point before it.

    ``metrics`` names the running tallies to read (required: level metrics, such as a
    price or the people in pre-trial detention, go either way and are not revised
    tallies). Columns: the key, ``unit_std``, ``n_points``, ``update_no`` (1 = first
    release), ``as_of``, ``as_of_precision``, ``effective``, ``months_since_takedown``
    (from ``effective``), ``value_std``, ``qualifier``, ``lower``, ``upper``,
    ``figure_id``, ``source_id``, ``source_kind``, ``publisher``, ``note``; and, for
    every point after the first, ``prev_value``, ``prev_publisher``, ``prev_figure``,
    ``days_after_prev``, ``days_after_first``, ``change`` (value - previous),
    ``rel_change`` (change / previous), ``direction``, ``within_bounds``, ``falls``,
    ``fell_from``, ``order_uncertain``, ``same_publisher``, ``early`` (within
    ``early_days`` days of the first release, default :data:`EARLY_DAYS`), ``first_value`` and
    ``ratio_to_first``.
    """
    metrics = check_names(metrics, known_metrics(figures), "metric")
    if not metrics:
        raise ValueError("name at least one running-tally metric")
    points = effective_series(figures, operations, metrics=metrics, prefer=prefer)
    points["as_of"] = points["as_of_stated"]
    points = points.sort_values([*SERIES_KEY, "effective", "figure_id"], kind="stable", ignore_index=True)
    grouped = points.groupby(SERIES_KEY, dropna=False, observed=True, sort=False)
    points["n_points"] = grouped["value_std"].transform("size")
    points = points.loc[points["n_points"] >= min_points].reset_index(drop=True)
    if points.empty:
        return points.assign(update_no=pd.Series(dtype=int), direction=pd.Series(dtype="string"))
    grouped = points.groupby(SERIES_KEY, dropna=False, observed=True, sort=False)
    points["update_no"] = grouped.cumcount() + 1
    for col, new in [
        ("value_std", "prev_value"),
        ("lower", "prev_lower"),
        ("upper", "prev_upper"),
        ("publisher", "prev_publisher"),
        ("figure_id", "prev_figure"),
        ("effective", "prev_effective"),
    ]:
        points[new] = grouped[col].shift(1)
    points["first_value"] = grouped["value_std"].transform("first")
    first_date = grouped["effective"].transform("first")
    v, prev = points["value_std"].astype(float), points["prev_value"].astype(float)
    later = points["update_no"] > 1
    points["change"] = (v - prev).where(later)
    with np.errstate(divide="ignore", invalid="ignore"):
        points["rel_change"] = (points["change"] / prev).where(later & (prev > 0))
        points["ratio_to_first"] = (v / points["first_value"]).where(points["first_value"] > 0)
    direction = np.select([~later, v > prev, v < prev], ["first", "up", "down"], "same")
    points["direction"] = pd.array(direction, dtype="string")
    points["within_bounds"] = (later & (v >= points["prev_lower"]) & (v <= points["prev_upper"])).where(later)
    points["days_after_prev"] = (points["effective"] - points["prev_effective"]).dt.days
    points["days_after_first"] = (points["effective"] - first_date).dt.days
    points["early"] = later & points["days_after_first"].le(early_days)
    points["same_publisher"] = (
        points["publisher"].astype("string") == points["prev_publisher"].astype("string")
    ).where(later)
    points["order_uncertain"] = _order_uncertain(points)
    points.loc[~later, "falls"] = False
    cols = [
        *KEY,
        "unit_std",
        "n_points",
        "update_no",
        "as_of",
        "as_of_precision",
        "effective",
        "takedown_date",
        "months_since_takedown",
        "value_std",
        "qualifier",
        "lower",
        "upper",
        "figure_id",
        "source_id",
        "source_kind",
        "publisher",
        "note",
        "prev_value",
        "prev_publisher",
        "prev_figure",
        "days_after_prev",
        "days_after_first",
        "change",
        "rel_change",
        "direction",
        "within_bounds",
        "falls",
        "fell_from",
        "order_uncertain",
        "same_publisher",
        "early",
        "first_value",
        "ratio_to_first",
    ]
    return points.reindex(columns=cols)


def _order_uncertain(points: pd.DataFrame) -> pd.Series:
    """True for a later point whose order against the point before it rests on reading a
    month-only date as the month's end: either of the two is month-only and both fall in
    the same calendar month."""
    prec = points["as_of_precision"].astype("string")
    grouped = points.groupby(SERIES_KEY, dropna=False, observed=True, sort=False)
    prev_prec = grouped["as_of_precision"].shift(1).astype("string")
    month = points["as_of"].dt.to_period("M")
    prev_month = grouped["as_of"].shift(1).dt.to_period("M")
    either = prec.eq("month").fillna(False) | prev_prec.eq("month").fillna(False)
    return (either & (month == prev_month)).fillna(False).astype(bool)


def revision_counts(updates_df: pd.DataFrame) -> dict:
    """Counts over every later point of :func:`revision_updates`: ``series``, ``later`` (points
    after a first release), ``up``, ``down``, ``same``, ``changed``, ``falls``,
    ``early`` (changes within :data:`EARLY_DAYS` days of the first release),
    ``within_bounds`` (changes inside the previous figure's bounds), ``uncertain`` (order
    rests on a month-only date), and ``up_certain``/``down_certain`` (the same without
    those)."""
    later = updates_df.loc[updates_df["update_no"] > 1]
    changed = later.loc[later["direction"] != "same"]
    certain = changed.loc[~changed["order_uncertain"].astype(bool)]
    return {
        "series": int(updates_df.groupby(SERIES_KEY, dropna=False, observed=True).ngroups) if len(updates_df) else 0,
        "later": len(later),
        "up": int((later["direction"] == "up").sum()),
        "down": int((later["direction"] == "down").sum()),
        "same": int((later["direction"] == "same").sum()),
        "changed": len(changed),
        "falls": int(later["falls"].astype(bool).sum()),
        "early": int(changed["early"].astype(bool).sum()),
        "within_bounds": int(changed["within_bounds"].astype("boolean").fillna(False).sum()),
        "uncertain": int(changed["order_uncertain"].astype(bool).sum()),
        "up_certain": int((certain["direction"] == "up").sum()),
        "down_certain": int((certain["direction"] == "down").sum()),
    }


def share_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """``k / n`` with its Clopper-Pearson interval (NaN when ``n`` is 0)."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        return float("nan"), float("nan"), float("nan")
    low, high = proportion_confint(k, n, alpha=1 - level, method="beta")
    return k / n, float(low), float(high)


def revision_summary(updates_df: pd.DataFrame, by: str | list[str] = "metric") -> pd.DataFrame:
    """Revisions per group of later points (``by``: any columns of :func:`revision_updates`, e.g.
    ``"metric"``, ``"family"`` via ``publisher``): ``series``, ``later`` (points after a
    first release), ``up``, ``down``, ``same``, ``share_changed``, ``median_rel_up``
    (median relative rise of the upward revisions), ``max_rel_up``, ``median_rel_down``
    and ``early`` (changes within :data:`EARLY_DAYS` days of the first release). Sorted by ``later``,
    largest first."""
    by = [by] if isinstance(by, str) else list(by)
    require_columns(updates_df, [*by, "update_no", "direction", "rel_change"], "updates", "pass revision_updates()")
    later = updates_df.loc[updates_df["update_no"] > 1]
    rows = []
    for key, g in later.groupby(by, dropna=False, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        up = g.loc[g["direction"] == "up", "rel_change"]
        down = g.loc[g["direction"] == "down", "rel_change"]
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "series": g.groupby(SERIES_KEY, dropna=False, observed=True).ngroups,
                "later": len(g),
                "up": int((g["direction"] == "up").sum()),
                "down": int((g["direction"] == "down").sum()),
                "same": int((g["direction"] == "same").sum()),
                "share_changed": float((g["direction"] != "same").mean()),
                "median_rel_up": float(up.median()) if len(up) else np.nan,
                "max_rel_up": float(up.max()) if len(up) else np.nan,
                "median_rel_down": float(down.median()) if len(down) else np.nan,
                "early": int((g["early"].astype(bool) & (g["direction"] != "same")).sum()),
            }
        )
    cols = [
        *by,
        "series",
        "later",
        "up",
        "down",
        "same",
        "share_changed",
        "median_rel_up",
        "max_rel_up",
        "median_rel_down",
        "early",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["later", *by], ascending=[False, *[True] * len(by)], ignore_index=True)


def revision_series(updates_df: pd.DataFrame) -> pd.DataFrame:
    """One row per series of :func:`revision_updates`: ``n_points``, ``first_as_of``,
    ``first_value``, ``last_as_of``, ``last_value``, ``last_months`` (months after the
    action day), ``up``, ``down``, ``same``, ``publishers`` and ``path`` ("35 → 36")."""
    rows = []
    for key, g in updates_df.groupby(SERIES_KEY, dropna=False, observed=True, sort=True):
        g = g.sort_values("update_no")
        rows.append(
            {
                **dict(zip(SERIES_KEY, key, strict=True)),
                "n_points": len(g),
                "first_as_of": g["as_of"].iloc[0],
                "first_value": g["value_std"].iloc[0],
                "last_as_of": g["as_of"].iloc[-1],
                "last_value": g["value_std"].iloc[-1],
                "last_months": g["months_since_takedown"].iloc[-1],
                "up": int((g["direction"] == "up").sum()),
                "down": int((g["direction"] == "down").sum()),
                "same": int((g["direction"] == "same").sum()),
                "publishers": "; ".join(pd.unique(g["publisher"].astype(str))),
                "path": " → ".join(_short(v) for v in g["value_std"]),
            }
        )
    return pd.DataFrame(rows)


def _short(v: float) -> str:
    if not np.isfinite(v):
        return "–"
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.3g} m"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def capture_shares(
    updates_df: pd.DataFrame,
    horizons: tuple[int, ...] = (12, 36),
    *,
    first_within: float | None = 1.0,
) -> pd.DataFrame:
    """What the first release captured: one row per series and horizon.

    Reads each series of :func:`revision_updates` at :func:`~sting_outcomes.analysis.horizons.at_horizons`
    (falling points left out there) and returns ``share`` (first release ÷ value at the
    horizon), ``share_low`` / ``share_high`` (the bounds: ``1 / ratio_high`` and
    ``1 / ratio_low``; a series that stops short of the horizon has ``share_low`` 0),
    ``ratio`` and its bounds, ``short`` (the series ends before the horizon), ``status``
    (``"covered"``, ``"stops short"`` or ``"first release after the horizon"``),
    ``first_as_of`` (month-only dates at the month's end), ``first_date`` (as stated),
    ``first_months`` and ``last_months``. ``first_within`` keeps only series whose first
    release came at most that many months after the action day (``None``: all), so the
    share answers "what did the launch release capture"."""
    require_columns(
        updates_df, [*KEY, "falls", "months_since_takedown", "value_std"], "updates", "pass revision_updates()"
    )
    if updates_df.empty:
        return pd.DataFrame()
    frame = updates_df.assign(as_of=updates_df["effective"])
    at = at_horizons(frame, horizons, keys=SERIES_KEY)
    if first_within is not None:
        at = at.loc[at["first_months"] <= first_within]
    month = updates_df["as_of_precision"].astype("string").eq("month").fillna(False)
    stated = pd.Series(
        np.where(month, updates_df["as_of"].dt.strftime("%Y-%m"), updates_df["as_of"].dt.strftime("%Y-%m-%d")),
        index=updates_df["figure_id"].astype(str),
    )
    stated = stated[~stated.index.duplicated()]
    rows = []
    for r in at.itertuples(index=False):
        for h in horizons:
            value = getattr(r, f"value_{h}m")
            ratio, r_lo, r_hi = (
                getattr(r, f"ratio_{h}m"),
                getattr(r, f"ratio_low_{h}m"),
                getattr(r, f"ratio_high_{h}m"),
            )
            short = bool(getattr(r, f"short_{h}m"))
            if pd.isna(value):
                status = "first release after the horizon"
            else:
                status = "stops short" if short else "covered"
            with np.errstate(divide="ignore", invalid="ignore"):
                rows.append(
                    {
                        **{k: getattr(r, k) for k in SERIES_KEY},
                        "horizon": h,
                        "first_as_of": r.first_as_of,
                        "first_date": stated.get(r.first_id, pd.NA),
                        "first_months": r.first_months,
                        "last_months": r.last_months,
                        "first_value": r.first_value,
                        "value": value,
                        "lower": getattr(r, f"lower_{h}m"),
                        "upper": getattr(r, f"upper_{h}m"),
                        "ratio": ratio,
                        "ratio_low": r_lo,
                        "ratio_high": r_hi,
                        "share": 1 / ratio if ratio and np.isfinite(ratio) and ratio > 0 else np.nan,
                        "share_low": 1 / r_hi if pd.notna(r_hi) and r_hi > 0 else np.nan,
                        "share_high": 1 / r_lo if pd.notna(r_lo) and r_lo > 0 else np.nan,
                        "short": short,
                        "status": status,
                    }
                )
    return pd.DataFrame(rows)


def capture_summary(captured: pd.DataFrame) -> pd.DataFrame:
    """Per horizon and metric, over the series that cover the horizon: ``series``,
    ``median_share`` with the medians of its bounds, ``min_share``, ``max_share``; and
    ``stops_short`` (series left out because they end before the horizon)."""
    rows = []
    for (h, metric), g in captured.groupby(["horizon", "metric"], observed=True, sort=True):
        ok = g.loc[g["status"] == "covered"]
        rows.append(
            {
                "horizon": h,
                "metric": metric,
                "series": len(ok),
                "median_share": ok["share"].median() if len(ok) else np.nan,
                "median_share_low": ok["share_low"].median() if len(ok) else np.nan,
                "median_share_high": ok["share_high"].median() if len(ok) else np.nan,
                "min_share": ok["share"].min() if len(ok) else np.nan,
                "max_share": ok["share"].max() if len(ok) else np.nan,
                "stops_short": int((g["status"] == "stops short").sum()),
            }
        )
    return pd.DataFrame(rows)


# -- charts -----------------------------------------------------------------------------
DIRECTION_STYLE = {"up": ("^", "C0"), "down": ("v", "C3"), "same": ("o", "0.5")}


def revisions_plot(
    updates_df: pd.DataFrame, labels: pd.Series, *, caption: str | None = None, title: str | None = None
):
    """Each series on one row: its updates as the ratio to its first release (log x axis,
    dots only) against nothing else, marker by direction of the revision (triangle up,
    triangle down, circle unchanged), a hollow marker for a fall (a running total that
    fell: a different count). ``labels`` is aligned on ``updates_df`` (one label per
    series)."""
    import matplotlib.pyplot as plt

    from ..plots import hide_unseen_minor_ticks

    frame = updates_df.assign(_label=labels.astype(str)).loc[lambda d: d["ratio_to_first"].gt(0)]
    if frame.empty:
        raise ValueError("nothing to draw: no series with a positive first release")
    order = frame.groupby("_label")["ratio_to_first"].max().sort_values().index.tolist()
    pos = {label: i for i, label in enumerate(order)}
    fig, ax = plt.subplots(figsize=(9.5, 0.26 * len(order) + 1.6))
    ax.axvline(1, color="0.6", lw=1)
    # masks for the whole frame once, then numpy per series (one pandas filter per series
    # and direction cost more than the drawing)
    ratio = frame["ratio_to_first"].to_numpy(float)
    falls = frame["falls"].astype(bool).to_numpy(bool)
    of_direction = {d: frame["direction"].eq(d).fillna(False).to_numpy(bool) for d in DIRECTION_STYLE}
    codes, series_labels = pd.factorize(frame["_label"], sort=True)
    for code, label in enumerate(series_labels):
        rows = codes == code
        y = pos[label]
        ax.plot(ratio[rows], [y] * int(rows.sum()), color="0.8", lw=1, zorder=1)
        for d, (marker, color) in DIRECTION_STYLE.items():
            filled, hollow = rows & of_direction[d] & ~falls, rows & of_direction[d] & falls
            ax.plot(ratio[filled], [y] * int(filled.sum()), marker, color=color, ms=5, ls="none", zorder=3)
            ax.plot(ratio[hollow], [y] * int(hollow.sum()), marker, mfc="white", mec=color, ms=6, ls="none")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}×"))
    ax.set_yticks(range(len(order)), order, fontsize=7)
    ax.set_ylim(-0.7, len(order) - 0.3)
    ax.set_xlabel("value ÷ first release (log scale; 1 = unchanged)")
    handles = [
        plt.Line2D([], [], marker="^", color="C0", ls="none", label="revised up"),
        plt.Line2D([], [], marker="v", color="C3", ls="none", label="revised down"),
        plt.Line2D([], [], marker="o", color="0.5", ls="none", label="unchanged"),
        plt.Line2D([], [], marker="v", mfc="white", mec="C3", ls="none", label="falls (a narrower count; see note)"),
    ]
    ax.legend(handles=handles, loc="lower right", frameon=True, fontsize=8)
    if title:
        ax.set_title(title, loc="left")
    hide_unseen_minor_ticks(ax)
    return _finish(fig, caption)


def capture_plot(captured: pd.DataFrame, labels: pd.Series, *, caption: str | None = None):
    """Share of the tally at each horizon that the first release held (0–100 %), one
    row per series covering the horizon: a dot at the share and a line over the interval
    the bounds allow; one panel per horizon."""
    import matplotlib.pyplot as plt

    frame = captured.assign(_label=labels.astype(str)).loc[lambda d: d["status"] == "covered"]
    if frame.empty:
        raise ValueError("nothing to draw: no series covers a horizon")
    horizons = sorted(frame["horizon"].unique())
    heights = [max(1, int((frame["horizon"] == h).sum())) for h in horizons]
    fig, axes = plt.subplots(
        len(horizons),
        1,
        figsize=(9, 0.3 * sum(heights) + 1.2 * len(horizons) + 0.4),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, h in zip(axes[:, 0], horizons, strict=True):
        sub = frame.loc[frame["horizon"] == h].sort_values("share")
        y = np.arange(len(sub))
        ax.hlines(y, sub["share_low"].fillna(0), sub["share_high"].fillna(1), color="C0", lw=2, alpha=0.5)
        ax.plot(sub["share"], y, "o", color="C0", ms=5)
        ax.set_yticks(y, sub["_label"], fontsize=7)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:.0%}"))
        ax.set_title(f"first release ÷ tally at +{h} months", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("share of the tally at the horizon that the first release held (line: bounds)")
    return _finish(fig, caption)


def _finish(fig, caption: str | None):
    from ..plots import finish_figure

    return finish_figure(fig, caption)


def check_sources_choice(sources: str) -> None:
    check_choice(sources, ("all sources", "primary only"), "sources")
