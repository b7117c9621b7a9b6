"""The justice funnel: arrests -> persons charged -> convictions -> persons sentenced,
read from one cohort at a time.

Agencies publish stage tallies at different times and later stages keep growing for
years, so a ratio between two stages means something only when both figures describe
the same moment. A *cohort* is therefore:

* by default (``window_days=0``) one **release**: the figures of one ``source_id`` with
  one ``as_of`` date, for one operation and jurisdiction;
* with ``window_days=w > 0`` a **window**: for each date ``d`` on which the operation
  and jurisdiction reported a stage, the stages reported in ``[d, d + w]`` (each stage's
  latest figure in the window, the preferred source kind on the same date, then the
  lowest ``figure_id``), so that every two figures of a cohort are at most ``w`` days
  apart. Windows that pick the same figures are merged, and a window whose figures
  are all in another window is dropped.

Within a cohort each stage is divided by the previous stage *present in that cohort*,
and the base is named (``ratio_of``, e.g. ``"persons_charged ÷ arrests"``). A stage
figure never meets a figure of another cohort: a 2021 arrest count is not set against a
2024 charge count.

Intervals (``ratio_lower``, ``ratio_upper``, described in ``interval_kind``):

* a **proportion**, where the numerator counts people who are among the base's people
  (``convictions ÷ persons_charged``, ``persons_sentenced ÷ convictions`` and, when
  convictions are missing from the cohort, ``persons_sentenced ÷ persons_charged``): a
  Clopper-Pearson interval (``statsmodels`` ``proportion_confint(method="beta")``) on the
  counts, widened by the qualifier bounds of both figures (``lower``/``upper`` from
  ``Dataset.normalized``: ``at_least`` is ``[v, inf)``, ``approx`` is ``v ± 10 %``): the
  lowest ratio is the Clopper-Pearson lower end at (numerator lower bound, base upper
  bound), the highest the upper end at (numerator upper bound, base lower bound); both
  stay in ``[0, 1]``. Non-integer bounds are rounded outwards. A proportion whose
  numerator exceeds its base in the data is not treated as one (bounds only, and
  ``interval_kind`` says why);
* any other ratio (``persons_charged ÷ arrests`` can exceed 1: people charged may have
  been arrested before the action day; ``sentence_years ÷ persons_sentenced`` is years
  per person): only the range the qualifiers allow, ``[num lower / base upper, num upper
  / base lower]``; no sampling interval.

Figures the data call doubtful and figures below a value reported earlier in their
series (``falls``: a running total never falls) are left out; :func:`funnel_exclusions`
lists them. Only figures without a category count.

``sentence_years`` is reported as years per person sentenced only when
``persons_sentenced`` is in the same cohort. An operation and jurisdiction that reported
two or more stages, but never two in one cohort, is returned with its latest figure per
stage, ``ratio`` NaN and ``reason`` = ``"no two stages in one release"`` (or ``"no two
stages within w days"``).

For notebooks: :func:`ratio_summary` (lowest and highest of each kind of ratio, with the
cohorts that give them) and :func:`funnel_table` (the same rows with labels for people).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_names, check_positive
from .snapshots import (
    SCOPES,
    _group_codes,
    _preference_rank,
    earlier_high,
    in_scope,
    known_metrics,
    pick_latest,
    require_figures,
)

__all__ = [
    "INTERVAL_BOUNDS",
    "INTERVAL_NOT_PROPORTION",
    "NO_PAIR",
    "PROPORTIONS",
    "STAGES",
    "STAGE_WORDS",
    "funnel",
    "funnel_exclusions",
    "funnel_table",
    "no_pair_reason",
    "ratio_summary",
]

STAGES = ("arrests", "persons_charged", "convictions", "persons_sentenced")
EXTRA = "sentence_years"
GROUP = ["operation_id", "jurisdiction"]
#: (numerator, base) pairs whose numerator's people are among the base's people.
PROPORTIONS = frozenset(
    {
        ("convictions", "persons_charged"),
        ("persons_sentenced", "convictions"),
        ("persons_sentenced", "persons_charged"),
    }
)
#: How a stage reads as the base of a percentage ("62% of charged").
STAGE_WORDS = {
    "arrests": "arrested",
    "persons_charged": "charged",
    "convictions": "convicted",
    "persons_sentenced": "sentenced",
    EXTRA: "sentence years",
}
NO_PAIR = "no two stages in one release"
INTERVAL_BOUNDS = "qualifier bounds only (the ratio can exceed 1; no sampling interval)"
INTERVAL_NOT_PROPORTION = "qualifier bounds only (numerator exceeds its base here; no sampling interval)"
INTERVAL_YEARS = "qualifier bounds only (years per person; no sampling interval)"

COLUMNS = [
    *GROUP,
    "cohort",
    "cohort_start",
    "cohort_end",
    "stage",
    "stage_order",
    "value_std",
    "unit_std",
    "qualifier",
    "lower",
    "upper",
    "as_of",
    "figure_id",
    "source_id",
    "source_kind",
    "ratio",
    "ratio_of",
    "ratio_lower",
    "ratio_upper",
    "interval_kind",
    "reason",
]


def interval_cp(level: float) -> str:
    """``interval_kind`` of a proportion at confidence ``level``."""
    return f"Clopper-Pearson {level:.0%}, widened by qualifier bounds"


def no_pair_reason(window_days: int = 0) -> str:
    """``reason`` given to an operation and jurisdiction without a cohort of two stages."""
    return NO_PAIR if window_days == 0 else f"no two stages within {window_days} days"


def _check(figures: pd.DataFrame, stages, prefer, scope) -> tuple[str, ...]:
    require_figures(figures, ["value_std", "unit_std", "qualifier", "lower", "upper"])
    stages = tuple(check_names(stages, known_metrics(figures), "stage metric"))
    if EXTRA in stages:
        raise ValueError(f"{EXTRA!r} is not a stage; it is added after the stages as years per person sentenced")
    check_choice(prefer, ("primary", "secondary", None), "prefer")
    check_choice(scope, (*SCOPES, None), "scope")
    return stages


def _split(figures: pd.DataFrame, stages: tuple[str, ...], scope: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage figures (in scope, without category) that count, and those left out with a
    ``reason`` (doubtful, or below a value reported earlier in the series)."""
    frame = in_scope(figures, scope)
    metric = frame["metric"].astype("string")
    frame = frame.loc[metric.isin([*stages, EXTRA]).fillna(False) & frame["category"].isna()]
    frame = frame.assign(stage=frame["metric"].astype("string")).reset_index(drop=True)
    doubtful = (
        frame["doubtful"].astype("boolean").fillna(False).to_numpy(bool)
        if "doubtful" in frame
        else np.zeros(len(frame), bool)
    )
    credible = frame.loc[~doubtful].reset_index(drop=True)
    high = earlier_high(credible) if len(credible) else pd.DataFrame({"earlier_max": [], "earlier_max_id": []})
    falls = credible["value_std"].to_numpy(float) < high["earlier_max"].to_numpy(float)
    out_doubtful = frame.loc[doubtful].assign(reason="doubtful in the data (see its note)")
    out_falls = credible.loc[falls].assign(
        reason=[
            f"falls: below {v:,.0f} reported earlier ({fid})"
            for v, fid in zip(high.loc[falls, "earlier_max"], high.loc[falls, "earlier_max_id"])
        ]
    )
    excluded = pd.concat([out_doubtful, out_falls], ignore_index=True)
    return credible.loc[~falls].reset_index(drop=True), excluded


def funnel_exclusions(
    figures: pd.DataFrame, *, stages: tuple[str, ...] = STAGES, scope: str | None = "total"
) -> pd.DataFrame:
    """The stage figures :func:`funnel` leaves out, with the ``reason``: doubtful in the
    data, or below a value reported earlier in the same series (``falls``). Print it
    beside the funnel."""
    stages = _check(figures, stages, "primary", scope)
    excluded = _split(figures, stages, scope)[1]
    cols = [*GROUP, "stage", "figure_id", "value_std", "unit_std", "qualifier", "as_of", "source_id", "reason"]
    return excluded[cols].sort_values([*GROUP, "stage", "as_of", "figure_id"], ignore_index=True)


def _releases(frame: pd.DataFrame, prefer: str | None) -> pd.DataFrame:
    """One cohort per (operation, jurisdiction, source_id, as_of); one figure per stage."""
    picked = pick_latest(frame, [*GROUP, "source_id", "as_of", "stage"], prefer)
    keys = picked[[*GROUP, "source_id", "as_of"]].astype({"source_id": "string"})
    cohort_id = keys.groupby(list(keys), dropna=False, observed=True, sort=False).ngroup()
    return picked.assign(_cohort=cohort_id.to_numpy(), cohort_start=picked["as_of"], cohort_end=picked["as_of"])


def _window_picks(frame: pd.DataFrame, window_days: int, prefer: str | None) -> list[list[np.ndarray]]:
    """Per (operation, jurisdiction) in sorted order, per date ``d`` it reported a stage
    on (in date order): the sorted row positions in ``frame`` of each stage's figure in
    ``[d, d + window_days]``.

    The choice is :func:`~.snapshots.pick_latest`'s (latest ``as_of``, then the preferred
    source kind, then the lowest ``figure_id``), made by sorting all rows once and
    taking the first row of each stage inside each window, instead of one
    ``pick_latest`` per window. Figures without a date are in no window.
    """
    group = frame.groupby(GROUP, observed=True, sort=True).ngroup().to_numpy(float)
    t = frame["as_of"].to_numpy("datetime64[ns]").astype("int64")
    usable = frame["as_of"].notna().to_numpy(bool) & ~np.isnan(group)
    rank = _preference_rank(frame["source_kind"], prefer).to_numpy()
    stage = _group_codes(frame, ["stage"])
    fid = np.unique(frame["figure_id"].astype(str).to_numpy(object), return_inverse=True)[1].reshape(-1)
    order = np.lexsort((np.arange(len(frame)), fid, rank, -t, stage, group))
    order = order[usable[order]]
    width = int(window_days) * 86_400 * 10**9
    picks = []
    for block in np.split(order, np.flatnonzero(np.diff(group[order])) + 1) if len(order) else []:
        tb, sb = t[block], stage[block]
        windows = []
        for start in np.unique(tb):
            inside = (tb >= start) & (tb <= start + width)
            s_in = sb[inside]
            first = np.r_[True, s_in[1:] != s_in[:-1]]
            windows.append(np.sort(block[inside][first]))
        picks.append(windows)
    return picks


def _windows(frame: pd.DataFrame, window_days: int, prefer: str | None) -> pd.DataFrame:
    """Cohorts of figures at most ``window_days`` apart (see the module docstring)."""
    ids_of = frame["figure_id"].astype(str).to_numpy(object)
    cohorts: list[np.ndarray] = []
    for windows in _window_picks(frame, window_days, prefer):
        chosen: list[tuple[frozenset, np.ndarray]] = []
        for rows in windows:
            ids = frozenset(ids_of[rows])
            if any(ids <= other for other, _ in chosen):
                continue
            chosen = [(other, p) for other, p in chosen if not other < ids]
            chosen.append((ids, rows))
        cohorts += [rows for _, rows in chosen]
    if not cohorts:
        none = frame.iloc[0:0]
        return none.assign(_cohort=0, cohort_start=none["as_of"], cohort_end=none["as_of"])
    picked = frame.iloc[np.concatenate(cohorts)].reset_index(drop=True)
    number = np.repeat(np.arange(len(cohorts)), [len(rows) for rows in cohorts])
    dates = picked["as_of"].groupby(number)
    return picked.assign(_cohort=number, cohort_start=dates.transform("min"), cohort_end=dates.transform("max"))


def _has_ratio(cohorts: pd.DataFrame, stages: tuple[str, ...]) -> pd.Series:
    """Per row: its cohort has two stages, or persons_sentenced with sentence_years."""
    is_stage = cohorts["stage"].isin(stages)
    n_stages = is_stage.groupby(cohorts["_cohort"]).transform("sum")
    years_pair = cohorts["stage"].isin(["persons_sentenced", EXTRA]).groupby(cohorts["_cohort"]).transform("sum").eq(2)
    return (n_stages >= 2) | years_pair


def _labels(cohorts: pd.DataFrame) -> pd.Series:
    """'operation · jurisdiction · date' (or 'start to end'), with the source when two
    cohorts would share a label."""
    start = cohorts["cohort_start"].dt.strftime("%Y-%m-%d")
    end = cohorts["cohort_end"].dt.strftime("%Y-%m-%d")
    when = start.where(start == end, start + " to " + end)
    label = cohorts["operation_id"].astype(str) + " · " + cohorts["jurisdiction"].astype(str) + " · " + when
    per_label = pd.DataFrame({"label": label, "c": cohorts["_cohort"]}).drop_duplicates()
    clash = label.map(per_label["label"].value_counts()).gt(1)
    sources = cohorts.groupby("_cohort")["source_id"].transform(
        lambda s: ", ".join(sorted(s.dropna().astype(str).unique()))
    )
    return label.where(~clash, label + " · " + sources).astype("string")


def _rounded(x: np.ndarray, how) -> np.ndarray:
    """Round outwards after removing floating-point noise (100 * 1.1 is 110)."""
    with np.errstate(invalid="ignore"):
        return how(np.round(x, 9))


def _cp_bounds(k_lo, k_hi, n_lo, n_hi, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson lower end at (k_lo, n_hi), upper end at (k_hi, n_lo), in [0, 1]."""
    from statsmodels.stats.proportion import proportion_confint

    low = np.zeros(len(k_lo))
    high = np.ones(len(k_lo))
    n = _rounded(n_hi, np.ceil)
    ok = np.isfinite(n) & (n > 0)
    if ok.any():
        k = np.clip(_rounded(k_lo, np.floor)[ok], 0, n[ok])
        low[ok] = np.atleast_1d(proportion_confint(k, n[ok], alpha=alpha, method="beta")[0])
    n = _rounded(n_lo, np.floor)
    k = _rounded(k_hi, np.ceil)
    ok = np.isfinite(k) & (n > 0) & (k < n)
    if ok.any():
        high[ok] = np.atleast_1d(proportion_confint(k[ok], n[ok], alpha=alpha, method="beta")[1])
    return np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=1.0)


def _ratios(cohorts: pd.DataFrame, level: float) -> pd.DataFrame:
    """Ratio of each stage to the previous stage present in its cohort, with its interval."""
    cohorts = cohorts.sort_values(["_cohort", "stage_order"], ignore_index=True)
    prev = cohorts.groupby("_cohort")[["stage", "value_std", "lower", "upper"]].shift(1)
    is_extra = cohorts["stage"].eq(EXTRA).to_numpy(bool)
    base_ok = prev["stage"].notna().to_numpy(bool) & (~is_extra | prev["stage"].eq("persons_sentenced").to_numpy(bool))
    base_stage = prev["stage"].where(base_ok)
    value = cohorts["value_std"].to_numpy(float)
    base = np.where(base_ok, prev["value_std"].to_numpy(float), np.nan)
    k_lo = cohorts["lower"].fillna(cohorts["value_std"]).to_numpy(float)
    k_hi = cohorts["upper"].fillna(cohorts["value_std"]).to_numpy(float)
    n_lo = np.where(base_ok, prev["lower"].fillna(prev["value_std"]).to_numpy(float), np.nan)
    n_hi = np.where(base_ok, prev["upper"].fillna(prev["value_std"]).to_numpy(float), np.nan)
    has = base_ok & (base > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(has, value / base, np.nan)
        b_lo = np.where(has, np.where(np.isinf(n_hi), 0.0, k_lo / n_hi), np.nan)
        b_hi = np.where(has, np.where(n_lo > 0, k_hi / n_lo, np.inf), np.nan)
    pairs = list(zip(cohorts["stage"].astype(str), base_stage.fillna("").astype(str)))
    is_prop = np.array([p in PROPORTIONS for p in pairs], dtype=bool) & has
    over = is_prop & (value > base)
    cp = is_prop & ~over
    lo, hi = b_lo.copy(), b_hi.copy()
    if cp.any():
        lo[cp], hi[cp] = _cp_bounds(k_lo[cp], k_hi[cp], n_lo[cp], n_hi[cp], 1 - level)
    why = np.where(
        is_extra & ~base_ok,
        "no persons_sentenced in this cohort",
        np.where(base_ok & ~has, "previous stage is zero", None),
    )
    kind = np.where(
        cp,
        interval_cp(level),
        np.where(over, INTERVAL_NOT_PROPORTION, np.where(is_extra, INTERVAL_YEARS, INTERVAL_BOUNDS)),
    )
    return cohorts.assign(
        ratio=ratio,
        ratio_of=pd.array(np.where(has, cohorts["stage"].astype(str) + " ÷ " + base_stage.fillna(""), None), "string"),
        ratio_lower=lo,
        ratio_upper=hi,
        interval_kind=pd.array(np.where(has, kind, None), dtype="string"),
        reason=pd.array(why, dtype="string"),
    )


def funnel(
    figures: pd.DataFrame,
    *,
    window_days: int = 0,
    stages: tuple[str, ...] = STAGES,
    prefer: str | None = "primary",
    scope: str | None = "total",
    level: float = 0.95,
) -> pd.DataFrame:
    """Stage figures and the ratios between them, one cohort (release or window) at a time.

    Parameters
    ----------
    figures:
        ``Dataset.normalized``.
    window_days:
        0 (default): a cohort is one release (one ``source_id`` and ``as_of``). ``w > 0``:
        figures at most ``w`` days apart may form a cohort (see the module docstring).
    stages:
        Funnel stages in order; ``sentence_years`` is always added after them.
    prefer:
        Source kind that wins a tie on the same date inside a window, and for the stage
        figures listed for an operation without a cohort.
    scope:
        Which figures count (default running totals; see :func:`snapshots.in_scope`).
    level:
        Confidence level of the Clopper-Pearson intervals.

    Returns one row per (operation_id, jurisdiction, cohort, stage): ``cohort`` (label
    "operation · jurisdiction · date", or "start to end" for a window), ``cohort_start``,
    ``cohort_end``, ``stage``, ``stage_order``, ``value_std``, ``unit_std``,
    ``qualifier``, ``lower``, ``upper``, ``as_of``, ``figure_id``, ``source_id``,
    ``source_kind``, ``ratio`` (to the previous stage present in the cohort),
    ``ratio_of`` ("persons_charged ÷ arrests"), ``ratio_lower``, ``ratio_upper``,
    ``interval_kind`` and ``reason``. Only cohorts that give a ratio are returned
    (two stages, or persons sentenced with sentence years). An operation and jurisdiction
    that reported two or more stages but never two in one cohort comes back with its
    latest figure per stage, ``cohort`` missing, ``ratio`` NaN and ``reason`` saying so.
    """
    stages = _check(figures, stages, prefer, scope)
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)):
        raise TypeError(f"window_days must be a whole number of days, got {window_days!r}")
    check_positive(int(window_days), "window_days", allow_zero=True)
    check_positive(level, "level")
    if not level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    order = {s: i for i, s in enumerate([*stages, EXTRA])}
    frame = _split(figures, stages, scope)[0]
    frame = frame.assign(stage=frame["stage"].astype(str), stage_order=frame["stage"].map(order).astype(int))

    cohorts = _releases(frame, prefer) if window_days == 0 else _windows(frame, int(window_days), prefer)
    cohorts = cohorts.loc[_has_ratio(cohorts, stages).to_numpy(bool)].reset_index(drop=True)
    cohorts = _ratios(cohorts, level).assign(cohort=lambda c: _labels(c), _unpaired=False)

    funnel_stage = frame.loc[frame["stage"].isin(stages)]
    n_stages = funnel_stage.groupby(GROUP, observed=True)["stage"].nunique()
    paired = cohorts.loc[cohorts["stage"].isin(stages)].groupby([*GROUP, "_cohort"], observed=True).size()
    paired = paired[paired >= 2].reset_index()[GROUP].drop_duplicates()
    several = n_stages[n_stages >= 2].reset_index()[GROUP]
    lonely = several.merge(paired, on=GROUP, how="left", indicator=True)
    lonely = lonely.loc[lonely["_merge"] == "left_only", GROUP]
    unpaired = pick_latest(funnel_stage.merge(lonely, on=GROUP, how="inner"), [*GROUP, "stage"], prefer)
    unpaired = unpaired.assign(
        cohort=pd.NA,
        cohort_start=pd.NaT,
        cohort_end=pd.NaT,
        ratio=np.nan,
        ratio_of=pd.NA,
        ratio_lower=np.nan,
        ratio_upper=np.nan,
        interval_kind=pd.NA,
        reason=no_pair_reason(int(window_days)),
        _unpaired=True,
    )
    out = pd.concat([cohorts[[*COLUMNS, "_unpaired"]], unpaired[[*COLUMNS, "_unpaired"]]], ignore_index=True)
    for col in ("cohort", "ratio_of", "interval_kind", "reason", "stage"):
        out[col] = out[col].astype("string")
    out["stage_order"] = out["stage_order"].astype(int)
    out = out.sort_values([*GROUP, "_unpaired", "cohort_start", "cohort", "stage_order"], kind="stable")
    return out[COLUMNS].reset_index(drop=True)


def ratio_summary(funnel_df: pd.DataFrame) -> pd.DataFrame:
    """One row per kind of ratio (``ratio_of``) in a :func:`funnel` result: how many
    cohorts and operations give it, the lowest and highest ratio with their cohorts, and
    the widest range their intervals allow (``lowest_bound``, ``highest_bound``).
    Rows without a ratio are ignored; ordered as the funnel runs."""
    rows = funnel_df.loc[funnel_df["ratio"].notna() & funnel_df["ratio_of"].notna()]
    cols = ["ratio_of", "cohorts", "operations", "lowest", "lowest_cohort", "highest", "highest_cohort"]
    if rows.empty:
        return pd.DataFrame(columns=[*cols, "lowest_bound", "highest_bound", "interval_kind"])
    out = []
    for ratio_of, group in rows.groupby("ratio_of", sort=False):
        low, high = group.loc[group["ratio"].idxmin()], group.loc[group["ratio"].idxmax()]
        out.append(
            {
                "ratio_of": ratio_of,
                "cohorts": group["cohort"].nunique(),
                "operations": group["operation_id"].nunique(),
                "lowest": low["ratio"],
                "lowest_cohort": low["cohort"],
                "highest": high["ratio"],
                "highest_cohort": high["cohort"],
                "lowest_bound": group["ratio_lower"].min(),
                "highest_bound": group["ratio_upper"].max(),
                "interval_kind": "; ".join(sorted(group["interval_kind"].dropna().unique())),
                "_order": group["stage_order"].min(),
            }
        )
    frame = pd.DataFrame(out).sort_values(["_order", "ratio_of"], ignore_index=True)
    return frame.drop(columns="_order").astype({"cohorts": int, "operations": int})


def _people(value: float, qualifier: str, high: float = np.nan) -> str:
    """'1,571', 'at least 1,200', 'about 8,000', '7 to 12', 'at most 5'."""
    if not np.isfinite(value):
        return "–"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return {
        "at_least": f"at least {text}",
        "approx": f"about {text}",
        "at_most": f"at most {text}",
        "range": f"{text} to {high:,.0f}" if np.isfinite(high) else text,
    }.get(qualifier, text)


def _share(value: float) -> str:
    return "no upper bound" if np.isinf(value) else f"{value:.0%}"


def funnel_table(funnel_df: pd.DataFrame, operations: pd.DataFrame | None = None) -> pd.DataFrame:
    """A :func:`funnel` result with labels for people: ``operation`` (its name when
    ``operations`` is given), ``place``, ``cohort``, ``stage``, ``value`` ("at least
    1,200"), ``unit`` (people, or years for sentence years), ``date``, ``ratio`` ("62% of
    charged", "4.9 years per person sentenced"), ``base`` ("convictions ÷ persons
    charged"), ``interval``, ``interval kind``, ``source`` and ``note`` (the reason)."""
    names = operations.set_index("operation_id")["name"].astype(str) if operations is not None else pd.Series(dtype=str)
    rows = []
    for r in funnel_df.itertuples(index=False):
        years = r.stage == EXTRA
        if np.isfinite(r.ratio):
            base = str(r.ratio_of).split(" ÷ ")[-1]
            ratio = f"{r.ratio:.1f} years per person sentenced" if years else f"{r.ratio:.0%} of {STAGE_WORDS[base]}"
            if np.isclose(r.ratio_lower, r.ratio_upper):
                interval = "none: exact counts"
            elif years:
                top = "no upper bound" if np.isinf(r.ratio_upper) else f"{r.ratio_upper:.1f}"
                interval = f"{r.ratio_lower:.1f} to {top} years"
            else:
                interval = f"{_share(r.ratio_lower)} to {_share(r.ratio_upper)}"
        else:
            ratio = base = interval = None
        high = r.upper if str(r.qualifier) == "range" else np.nan
        rows.append(
            {
                "operation": names.get(r.operation_id, r.operation_id),
                "place": r.jurisdiction,
                "cohort": r.cohort if isinstance(r.cohort, str) else None,
                "stage": r.stage.replace("_", " "),
                "value": _people(r.value_std, str(r.qualifier), high),
                "unit": "years" if years else "people",
                "date": pd.Timestamp(r.as_of).strftime("%Y-%m-%d"),
                "ratio": ratio,
                "base": str(r.ratio_of).replace("_", " ") if ratio else None,
                "interval": interval,
                "interval kind": r.interval_kind if ratio else None,
                "source": r.source_id,
                "note": r.reason if isinstance(r.reason, str) else None,
            }
        )
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
