"""Time from the action day to the first published charge, conviction and sentence figure,
and conviction rates read from one cohort.

**Dates.** A figure's ``as_of`` given only to the month is stored as the 1st of that
month; here it is read as the month's **last day** (:func:`effective_date`), the date by
which the figure certainly existed. So a "June 2021" update is never placed before a
figure dated 8 June 2021, and a time to outcome is never shorter than the data show.

**Time to outcome** (:func:`first_outcomes`, :func:`time_to_outcome`). For every
operation and place, the first figure of each stage (``charge``: people charged or
charges laid; ``conviction``: people or counts convicted; ``sentence``: people sentenced,
sentence years or months, life sentences) with a value above zero. A sentence implies a
conviction, so the conviction stage also reports ``conviction_or_sentence``. An operation
without a figure of a stage is **censored** at the latest ``as_of`` in the data (the
dataset's observation window closes there): absent is "not published by then", never
"zero". :func:`survival` turns that into a Kaplan-Meier curve
(``statsmodels.duration.survfunc.SurvfuncRight``).

**Conviction rates** (:func:`conviction_rates`). Convicted ÷ charged only from figures of
the same release (same ``source_id`` and ``as_of``) or, with ``window_days``, from figures
at most that many days apart; each side's date is kept. The interval is Clopper-Pearson
(``statsmodels`` ``proportion_confint(method="beta")``) widened by the qualifiers' bounds:
the lowest end at (convictions' lower bound, charged's upper bound) and the highest at
(convictions' upper bound, charged's lower bound). :func:`cohort_status` says, for every
operation and place with a conviction or a charge figure, whether such a pair exists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_names, check_positive, require_columns
from .snapshots import DAYS_PER_MONTH, KEY, SCOPES, known_metrics, require_figures

__all__ = [
    "COHORT_COLUMNS",
    "OUTCOME_STAGES",
    "censor_date",
    "cohort_status",
    "conviction_rates",
    "effective_date",
    "effective_series",
    "first_outcomes",
    "flag_falls",
    "outcome_timeline_plot",
    "place_of",
    "stated_date",
    "survival",
    "time_to_outcome",
]

#: Stage -> the metrics whose first figure marks it.
OUTCOME_STAGES = {
    "charge": ("persons_charged", "charges"),
    "conviction": ("convictions", "counts_convicted"),
    "sentence": ("persons_sentenced", "sentence_years", "prison_sentence_months", "life_sentences"),
}
STAGE_ORDER = tuple(OUTCOME_STAGES)
SOURCE_RANK = {"primary": 0, "secondary": 1}


def effective_date(as_of: pd.Series, precision: pd.Series | None = None) -> pd.Series:
    """``as_of`` with a month-only date moved to the last day of its month (and a
    year-only date to 31 December): the latest day the figure can refer to. Day-precision
    dates are unchanged; without ``precision`` every date is read as a day."""
    dates = pd.to_datetime(as_of)
    if precision is None:
        return dates
    p = pd.Series(precision, index=dates.index).astype("string")
    month_end = dates + pd.offsets.MonthEnd(0)
    year_end = dates + pd.offsets.YearEnd(0)
    return dates.where(~p.eq("month").fillna(False), month_end).where(~p.eq("year").fillna(False), year_end)


def _effective(figures: pd.DataFrame) -> pd.Series:
    return effective_date(figures["as_of"], figures["as_of_precision"] if "as_of_precision" in figures else None)


def place_of(jurisdiction: pd.Series) -> pd.Series:
    """The country of a jurisdiction code (``AU-NSW`` -> ``AU``); ``global`` and ``EU``
    stay as they are."""
    j = jurisdiction.astype("string")
    return j.where(j.isin(["global", "EU"]) | ~j.str.contains("-", regex=False), j.str.slice(0, 2))


def censor_date(figures: pd.DataFrame) -> pd.Timestamp:
    """The latest date any figure refers to (month-only dates read as the month's end):
    where the data's observation window closes."""
    require_columns(figures, ["as_of"], "figures")
    return pd.Timestamp(_effective(figures).max())


def _stage_of(metric: pd.Series) -> pd.Series:
    lookup = {m: s for s, ms in OUTCOME_STAGES.items() for m in ms}
    return metric.astype("string").map(lookup)


def first_outcomes(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    by: str = "country",
    scope: str | None = None,
) -> pd.DataFrame:
    """The first figure of each stage per operation and place (long form).

    ``by="country"`` groups jurisdictions by country (``AU-NSW`` counts for ``AU``;
    ``global`` and ``EU`` are places of their own); ``by="operation"`` pools every place
    (``place`` is ``"any"``). ``scope=None`` (default) counts running totals and parts
    alike: a single case's conviction is a published conviction figure; ``"total"`` keeps
    running tallies only. Doubtful figures and figures of zero are left out. Ties on the
    date go to a primary source, then the lowest ``figure_id``.

    Columns: ``operation_id``, ``place``, ``stage``, ``metric``, ``jurisdiction``,
    ``value``, ``unit``, ``qualifier``, ``as_of``, ``as_of_precision``, ``effective``,
    ``takedown_date``, ``months`` (from the action day to ``effective``), ``figure_id``,
    ``source_id``, ``source_kind``, ``scope``.
    """
    require_figures(figures, ["value", "unit", "qualifier"])
    require_columns(operations, ["operation_id", "takedown_date"], "operations")
    check_choice(by, ("country", "operation"), "by")
    check_choice(scope, (*SCOPES, None), "scope")
    frame = figures.assign(stage=_stage_of(figures["metric"]))
    keep = frame["stage"].notna() & frame["value"].astype(float).gt(0)
    if "doubtful" in frame:
        keep &= ~frame["doubtful"].astype(bool)
    if scope is not None and "scope" in frame:
        keep &= frame["scope"].astype("string").eq(scope).fillna(False)
    frame = frame.loc[keep].copy()
    frame["effective"] = _effective(frame)
    frame["place"] = place_of(frame["jurisdiction"]) if by == "country" else "any"
    frame["_rank"] = frame["source_kind"].astype("string").map(SOURCE_RANK).fillna(2)
    frame = frame.sort_values(["effective", "_rank", "figure_id"], kind="stable")
    first = frame.drop_duplicates(["operation_id", "place", "stage"]).copy()
    dates = operations[["operation_id", "takedown_date"]].drop_duplicates("operation_id")
    first = first.merge(dates, on="operation_id", how="left")
    first["months"] = (first["effective"] - first["takedown_date"]).dt.days / DAYS_PER_MONTH
    if "as_of_precision" not in first:
        first["as_of_precision"] = "day"
    cols = [
        "operation_id",
        "place",
        "stage",
        "metric",
        "jurisdiction",
        "value",
        "unit",
        "qualifier",
        "as_of",
        "as_of_precision",
        "effective",
        "takedown_date",
        "months",
        "figure_id",
        "source_id",
        "source_kind",
        "scope",
    ]
    first = first.reindex(columns=cols)
    first["stage"] = pd.Categorical(first["stage"], categories=list(STAGE_ORDER), ordered=True)
    return first.sort_values(["operation_id", "place", "stage"], ignore_index=True)


def time_to_outcome(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    by: str = "country",
    scope: str | None = None,
) -> pd.DataFrame:
    """One row per operation and place that published at least one figure of any kind
    (``by="operation"``: one row per operation in ``operations``): months from the action
    day to the first charge, conviction and sentence figure, each with its date and
    figure, and the censoring for stages without one.

    Columns: ``operation_id``, ``place``, ``takedown_date``; per stage ``<stage>_months``,
    ``<stage>_date`` (effective date), ``<stage>_figure``; ``conviction_or_sentence_months``
    (a sentence implies a conviction); ``censor_date`` (latest ``as_of`` in ``figures``) and
    ``censor_months`` (from the action day to it); ``no_conviction`` (true where neither a
    conviction nor a sentence figure exists: censored at ``censor_months``, not zero).
    """
    first = first_outcomes(figures, operations, by=by, scope=scope)
    end = censor_date(figures)
    if by == "operation":
        base = operations[["operation_id", "takedown_date"]].drop_duplicates("operation_id").assign(place="any")
    else:
        places = figures[["operation_id", "jurisdiction"]].assign(place=place_of(figures["jurisdiction"]))
        base = places[["operation_id", "place"]].drop_duplicates()
        base = base.merge(
            operations[["operation_id", "takedown_date"]].drop_duplicates("operation_id"), on="operation_id", how="left"
        )
    out = base[["operation_id", "place", "takedown_date"]].copy()
    for stage in STAGE_ORDER:
        part = first.loc[first["stage"] == stage, ["operation_id", "place", "months", "effective", "figure_id"]]
        part = part.rename(
            columns={"months": f"{stage}_months", "effective": f"{stage}_date", "figure_id": f"{stage}_figure"}
        )
        out = out.merge(part, on=["operation_id", "place"], how="left")
    out["conviction_or_sentence_months"] = out[["conviction_months", "sentence_months"]].min(axis=1)
    out["censor_date"] = end
    out["censor_months"] = (end - out["takedown_date"]).dt.days / DAYS_PER_MONTH
    out["no_conviction"] = out["conviction_or_sentence_months"].isna()
    return out.sort_values(["operation_id", "place"], ignore_index=True)


def survival(table: pd.DataFrame, stage: str = "conviction_or_sentence") -> dict:
    """Kaplan-Meier estimate of the share of units (rows of :func:`time_to_outcome`)
    still without a ``stage`` figure, months after the action day.

    Units with the figure are events at ``<stage>_months`` (clipped at 0: a figure dated
    before the action day counts as immediate); the others are censored at
    ``censor_months``. Returns ``curve`` (a frame: ``months``, ``surv``, ``ci_low``,
    ``ci_high`` (pointwise 95 %, log-log), ``at_risk``, ``events``), ``n``, ``events``,
    ``censored``, ``median`` and its 95 % interval (``median_low``, ``median_high``;
    NaN where the curve never reaches one half or the interval stays open).
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    check_choice(stage, ("charge", "conviction", "sentence", "conviction_or_sentence"), "stage")
    col = f"{stage}_months"
    require_columns(table, [col, "censor_months"], "table", "pass the output of time_to_outcome()")
    rows = table.loc[table["censor_months"].notna()]
    event = rows[col].notna().to_numpy()
    time = np.where(event, rows[col].to_numpy(float), rows["censor_months"].to_numpy(float))
    time = np.clip(time, 0.0, None)
    if len(time) == 0:
        raise ValueError("no units to estimate from")
    sf = SurvfuncRight(time, event.astype(int))
    s = np.asarray(sf.surv_prob, float)
    se = np.asarray(sf.surv_prob_se, float)
    z = 1.959963984540054
    with np.errstate(divide="ignore", invalid="ignore"):
        loglog_se = se / (s * np.abs(np.log(s)))
        low = s ** np.exp(z * loglog_se)
        high = s ** np.exp(-z * loglog_se)
    low = np.where(np.isfinite(low), low, np.where(s >= 1, 1.0, 0.0))
    high = np.where(np.isfinite(high), high, np.where(s >= 1, 1.0, 0.0))
    curve = pd.DataFrame(
        {
            "months": np.r_[0.0, sf.surv_times],
            "surv": np.r_[1.0, s],
            "ci_low": np.r_[1.0, low],
            "ci_high": np.r_[1.0, high],
            "at_risk": np.r_[len(time), sf.n_risk].astype(int),
            "events": np.r_[0, sf.n_events].astype(int),
        }
    )
    median = _quantile(curve["months"], curve["surv"], 0.5)
    return {
        "curve": curve,
        "n": len(time),
        "events": int(event.sum()),
        "censored": int((~event).sum()),
        "median": median,
        "median_low": _quantile(curve["months"], curve["ci_low"], 0.5),
        "median_high": _quantile(curve["months"], curve["ci_high"], 0.5),
        "max_follow_up": float(time.max()),
    }


def _quantile(months: pd.Series, surv: pd.Series, p: float) -> float:
    """First time the step curve reaches ``p`` or less (NaN when it never does)."""
    hit = np.flatnonzero(np.asarray(surv, float) <= p)
    return float(np.asarray(months, float)[hit[0]]) if len(hit) else float("nan")


# -- conviction rates from one cohort -------------------------------------------------
COHORT_COLUMNS = [
    "operation_id",
    "jurisdiction",
    "scope",
    "cohort",
    "convicted",
    "convicted_qualifier",
    "convicted_lower",
    "convicted_upper",
    "convicted_as_of",
    "convicted_figure",
    "convicted_source",
    "charged",
    "charged_qualifier",
    "charged_lower",
    "charged_upper",
    "charged_as_of",
    "charged_figure",
    "charged_source",
    "days_apart",
    "source_kinds",
    "rate",
    "rate_low",
    "rate_high",
    "interval",
]


def _cp(k: float, n: float, alpha: float, side: str) -> float:
    from statsmodels.stats.proportion import proportion_confint

    if not np.isfinite(n) or n <= 0:
        return 0.0 if side == "low" else 1.0
    if not np.isfinite(k):
        return 1.0 if side == "high" else 0.0
    k = float(np.clip(k, 0, n))
    low, high = proportion_confint(k, n, alpha=alpha, method="beta")
    return float(low if side == "low" else high)


def conviction_rates(
    figures: pd.DataFrame,
    *,
    window_days: int | None = None,
    scope: str | None = "total",
    level: float = 0.95,
) -> pd.DataFrame:
    """Convicted ÷ charged from one cohort, per operation, jurisdiction and scope.

    ``window_days=None`` (default): a cohort is one release (the same ``source_id`` and
    ``as_of``). ``window_days=w``: a conviction figure is paired with the charged figure
    of the same operation, jurisdiction and scope closest to it in time, at most ``w``
    days apart (ties: the same source, then a primary source, then the lowest
    ``figure_id``). Figures are ``convictions`` (people convicted) and
    ``persons_charged`` (people charged; ``charges`` counts offences, not people, and is
    never a base). Doubtful figures and figures below a value reported earlier in their
    series are left out. ``scope=None`` pairs parts with parts and totals with totals.

    Returns :data:`COHORT_COLUMNS`: both figures with their bounds, dates and ids,
    ``days_apart``, ``rate`` (convicted ÷ charged), ``rate_low``/``rate_high``
    (Clopper-Pearson at ``level`` widened by the qualifiers' bounds, in [0, 1]) and
    ``interval`` (how the interval was made, or why there is none: a convicted count
    above the charged count is not a proportion of it).
    """
    require_figures(figures, ["value_std", "lower", "upper", "qualifier"])
    check_choice(scope, (*SCOPES, None), "scope")
    check_positive(level, "level")
    if not level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    if window_days is not None:
        if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)):
            raise TypeError(f"window_days must be a whole number of days or None, got {window_days!r}")
        check_positive(int(window_days), "window_days", allow_zero=True)
    frame = _credible(figures, ["convictions", "persons_charged"], scope)
    conv = frame.loc[frame["metric"].astype("string").eq("convictions")]
    charged = frame.loc[frame["metric"].astype("string").eq("persons_charged")]
    group = ["operation_id", "jurisdiction", "scope"]
    rows = []
    for key, c_group in conv.groupby(group, observed=True, sort=True):
        pool = charged
        for col, val in zip(group, key, strict=True):
            pool = pool.loc[pool[col].astype("string").eq(str(val)).fillna(False)]
        if pool.empty:
            continue
        for c in c_group.itertuples(index=False):
            if window_days is None:
                match = pool.loc[(pool["source_id"] == c.source_id) & (pool["as_of"] == c.as_of)]
            else:
                apart = (pool["as_of"] - c.as_of).abs().dt.days
                match = pool.assign(_apart=apart).loc[lambda d: d["_apart"] <= window_days]
                if not match.empty:
                    match = match.assign(
                        _same=match["source_id"].astype("string").ne(str(c.source_id)).fillna(True).astype(int),
                        _rank=match["source_kind"].astype("string").map(SOURCE_RANK).fillna(2),
                    ).sort_values(["_apart", "_same", "_rank", "figure_id"])
            if match.empty:
                continue
            n = match.iloc[0]
            rows.append(_pair_row(c, n, window_days, 1 - level))
    out = pd.DataFrame(rows, columns=COHORT_COLUMNS)
    if out.empty:
        return out
    out = out.drop_duplicates(["operation_id", "jurisdiction", "scope", "convicted_figure", "charged_figure"])
    return out.sort_values(["operation_id", "jurisdiction", "convicted_as_of"], ignore_index=True)


def flag_falls(frame: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """``frame`` with ``effective`` (see :func:`effective_date`), ``falls`` (the value is
    below one reported at a strictly earlier effective date in its series: a running total
    never falls, so this is a narrower count, a new definition or an error) and
    ``fell_from`` (the figure that reported the earlier, higher value). Series are ``by``
    (default the key plus ``unit_std``, and ``scope`` when present); values are compared
    in standard units."""
    by = list(by) if by is not None else [*KEY, *(["scope"] if "scope" in frame else []), "unit_std"]
    out = frame.copy()
    out["effective"] = _effective(out)
    falls = np.zeros(len(out), bool)
    fell_from = np.full(len(out), None, dtype=object)
    if len(out):
        values = out["value_std"].to_numpy(float)
        when = out["effective"].to_numpy("datetime64[ns]")
        ids = out["figure_id"].astype(str).to_numpy()
        codes = out.groupby(by, dropna=False, observed=True, sort=False).ngroup().to_numpy()
        for code in np.unique(codes):
            pos = np.flatnonzero(codes == code)
            pos = pos[np.lexsort((ids[pos], when[pos]))]
            best, best_id = -np.inf, None
            i = 0
            while i < len(pos):
                same = pos[i:][when[pos[i:]] == when[pos[i]]]  # one date: none is earlier than another
                for p in same:
                    if values[p] < best:
                        falls[p], fell_from[p] = True, best_id
                for p in same:
                    if values[p] > best:
                        best, best_id = values[p], ids[p]
                i += len(same)
    out["falls"] = falls
    out["fell_from"] = pd.array(fell_from, dtype="string")
    return out


def effective_series(
    figures: pd.DataFrame, operations: pd.DataFrame, *, metrics: str | list[str], prefer: str | None = "primary"
) -> pd.DataFrame:
    """:func:`~sting_outcomes.analysis.snapshots.series`, one series per standard unit, with
    month-only dates read as the month's last day: ``as_of`` becomes the effective date (the stated date is kept in
    ``as_of_stated``), ``months_since_takedown`` is recomputed from it, and ``falls`` /
    ``fell_from`` are flagged in that order (see :func:`flag_falls`). Ready for
    :func:`~sting_outcomes.analysis.horizons.at_horizons`."""
    from .snapshots import series

    # one series per standard unit: a coin amount (BTC) and a currency value of the same
    # metric on the same date are two series, not two snapshots competing for one date.
    # series() keys its choice, its falls and its counts by unit_std already, so one call
    # over all units gives what one call per unit would (the order is set below).
    metrics = check_names(metrics, known_metrics(figures), "metric")
    points = series(figures, operations, metrics=metrics, prefer=prefer)
    points = points.drop(columns=["falls", "fell_from", "fell_from_value"], errors="ignore").reset_index(drop=True)
    if "as_of_precision" not in points:
        points["as_of_precision"] = "day"
    points = flag_falls(points, by=[*KEY, "unit_std"])
    points["as_of_stated"] = points["as_of"]
    points["as_of"] = points["effective"]
    points["months_since_takedown"] = (points["effective"] - points["takedown_date"]).dt.days / DAYS_PER_MONTH
    return points.sort_values([*KEY, "as_of", "figure_id"], kind="stable", ignore_index=True)


def stated_date(figures: pd.DataFrame) -> pd.Series:
    """Each figure's ``as_of`` as the source stated it, indexed by ``figure_id``:
    ``"2021-06-08"``, or ``"2021-06"`` for a month-only date."""
    frame = figures.drop_duplicates("figure_id").set_index("figure_id")
    day = frame["as_of"].dt.strftime("%Y-%m-%d")
    if "as_of_precision" not in frame:
        return day
    month = frame["as_of"].dt.strftime("%Y-%m")
    return day.where(~frame["as_of_precision"].astype("string").eq("month").fillna(False), month)


def _credible(figures: pd.DataFrame, metrics: list[str], scope: str | None) -> pd.DataFrame:
    """Figures of ``metrics`` without category, not doubtful, not below a value reported
    at an earlier (effective) date in their series (a running total never falls)."""
    frame = figures.loc[figures["metric"].astype("string").isin(metrics).fillna(False) & figures["category"].isna()]
    if "doubtful" in frame:
        frame = frame.loc[~frame["doubtful"].astype(bool)]
    if scope is not None and "scope" in frame:
        frame = frame.loc[frame["scope"].astype("string").eq(scope).fillna(False)]
    if "scope" not in frame:
        frame = frame.assign(scope="total")
    frame = frame.reset_index(drop=True)
    if frame.empty:
        return frame
    flagged = flag_falls(frame)
    return flagged.loc[~flagged["falls"]].drop(columns=["falls", "fell_from", "effective"]).reset_index(drop=True)


def _pair_row(c, n, window_days: int | None, alpha: float) -> dict:
    k, k_lo, k_hi = float(c.value_std), float(c.lower), float(c.upper)
    m, m_lo, m_hi = float(n["value_std"]), float(n["lower"]), float(n["upper"])
    rate = k / m if m > 0 else np.nan
    if not m > 0:
        low, high, how = np.nan, np.nan, "no rate: nobody charged"
    elif k > m:
        low, high, how = np.nan, np.nan, "no rate: more convicted than charged in this cohort (different counts)"
    else:
        low = _cp(
            np.floor(np.round(k_lo, 9)), np.ceil(np.round(m_hi, 9)) if np.isfinite(m_hi) else np.inf, alpha, "low"
        )
        high = _cp(
            np.ceil(np.round(k_hi, 9)) if np.isfinite(k_hi) else np.inf, np.floor(np.round(m_lo, 9)), alpha, "high"
        )
        exact = np.isclose(k_lo, k_hi) and np.isclose(m_lo, m_hi)
        how = f"Clopper-Pearson {1 - alpha:.0%}" + ("" if exact else ", widened by the qualifiers' bounds")
    days = abs(int((n["as_of"] - c.as_of).days))
    same = str(n["source_id"]) == str(c.source_id) and n["as_of"] == c.as_of
    kinds = sorted({str(c.source_kind), str(n["source_kind"])})
    return {
        "operation_id": c.operation_id,
        "jurisdiction": c.jurisdiction,
        "scope": c.scope,
        "cohort": "one release" if same else f"within {window_days} days",
        "convicted": k,
        "convicted_qualifier": str(c.qualifier),
        "convicted_lower": k_lo,
        "convicted_upper": k_hi,
        "convicted_as_of": c.as_of,
        "convicted_figure": c.figure_id,
        "convicted_source": c.source_id,
        "charged": m,
        "charged_qualifier": str(n["qualifier"]),
        "charged_lower": m_lo,
        "charged_upper": m_hi,
        "charged_as_of": n["as_of"],
        "charged_figure": n["figure_id"],
        "charged_source": n["source_id"],
        "days_apart": days,
        "source_kinds": " + ".join(kinds),
        "rate": rate,
        "rate_low": low,
        "rate_high": high,
        "interval": how,
    }


def cohort_status(figures: pd.DataFrame, *, window_days: int = 31, scope: str | None = "total") -> pd.DataFrame:
    """For every operation, jurisdiction and scope with a ``convictions`` or
    ``persons_charged`` figure: ``status`` — ``"pair in one release"``, ``"pair within N
    days only"``, ``"both, never within N days"``, ``"conviction figures only"`` or
    ``"charged figures only"`` — with the dates of each side (``convicted_dates``,
    ``charged_dates``)."""
    frame = _credible(figures, ["convictions", "persons_charged"], scope)
    release = conviction_rates(figures, scope=scope)
    window = conviction_rates(figures, window_days=window_days, scope=scope)
    rows = []
    for (op, jur, sc), g in frame.groupby(["operation_id", "jurisdiction", "scope"], observed=True, sort=True):
        metric = g["metric"].astype("string")
        conv = g.loc[metric.eq("convictions"), "as_of"].sort_values()
        chg = g.loc[metric.eq("persons_charged"), "as_of"].sort_values()

        if len(conv) and len(chg):
            if _has_pair(release, op, jur, sc):
                status = "pair in one release"
            elif _has_pair(window, op, jur, sc):
                status = f"pair within {window_days} days only"
            else:
                status = f"both, never within {window_days} days"
        else:
            status = "conviction figures only" if len(conv) else "charged figures only"
        rows.append(
            {
                "operation_id": op,
                "jurisdiction": jur,
                "scope": sc,
                "status": status,
                "convicted_dates": ", ".join(d.strftime("%Y-%m-%d") for d in conv) or None,
                "charged_dates": ", ".join(d.strftime("%Y-%m-%d") for d in chg) or None,
            }
        )
    return pd.DataFrame(
        rows, columns=["operation_id", "jurisdiction", "scope", "status", "convicted_dates", "charged_dates"]
    )


def _has_pair(pairs: pd.DataFrame, op: str, jur: str, scope: str) -> bool:
    if pairs.empty:
        return False
    return bool(((pairs["operation_id"] == op) & (pairs["jurisdiction"] == jur) & (pairs["scope"] == scope)).any())


# -- chart ----------------------------------------------------------------------------
STAGE_MARKERS = {"charge": ("^", "C0"), "conviction": ("o", "C2"), "sentence": ("s", "C3")}


def outcome_timeline_plot(table: pd.DataFrame, names: pd.Series | None = None, *, caption: str | None = None):
    """One row per unit of :func:`time_to_outcome` (sorted by action day): the action day
    (black bar), the first charge (triangle), conviction (circle) and sentence (square)
    figure on a calendar axis, and a grey line to the data's latest date; a unit without
    a conviction or sentence figure ends in an open arrow (censored, not zero)."""
    import matplotlib.pyplot as plt

    from ..plots import finish_figure

    require_columns(
        table, ["operation_id", "place", "takedown_date", "censor_date", "no_conviction"], "table", "time_to_outcome()"
    )
    if table.empty:
        raise ValueError("nothing to draw: the table is empty")
    rows = table.sort_values(["takedown_date", "operation_id"], ascending=[False, True]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(rows) + 1.6))
    for i, r in rows.iterrows():
        end = r["censor_date"]
        ax.plot([r["takedown_date"], end], [i, i], color="0.8", lw=1, zorder=1)
        ax.plot(r["takedown_date"], i, marker="|", color="black", ms=11, mew=2, zorder=2)
        for stage, (marker, color) in STAGE_MARKERS.items():
            when = r.get(f"{stage}_date")
            if pd.notna(when):
                ax.plot(when, i, marker=marker, color=color, ms=6, zorder=3, ls="none")
        if r["no_conviction"]:
            ax.annotate(
                "",
                xy=(end, i),
                xytext=(end - pd.Timedelta(days=120), i),
                arrowprops={"arrowstyle": "->", "color": "0.4"},
            )
    label = rows["operation_id"].map(names) if names is not None else rows["operation_id"]
    label = label.fillna(rows["operation_id"]).astype(str)
    if rows["place"].nunique() > 1 or (rows["place"] != "any").any():
        label = label + " · " + rows["place"].astype(str)
    ax.set_yticks(range(len(rows)), label, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.7)
    ax.set_xlabel("date")
    handles = [plt.Line2D([], [], color="black", marker="|", ls="none", ms=10, mew=2, label="action day")]
    handles += [
        plt.Line2D([], [], color=c, marker=m, ls="none", label=f"first {s} figure")
        for s, (m, c) in STAGE_MARKERS.items()
    ]
    handles.append(plt.Line2D([], [], color="0.4", marker=">", ls="-", label="no conviction figure yet (censored)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return finish_figure(fig, caption)


def check_stage_metrics(figures: pd.DataFrame) -> None:
    """Raise ``ValueError`` when a stage metric is missing from the vocabulary the figures
    carry (the stage lists are the codebook's names)."""
    check_names([m for ms in OUTCOME_STAGES.values() for m in ms], known_metrics(figures), "stage metric")
