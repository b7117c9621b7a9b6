"""Outcomes per scale of the platform, comparable only within one definition of scale.

A rate per 1,000 "users" means nothing until one says which users: registered accounts,
paying subscribers, log-ins, handsets active at the takedown, or devices sold over the
platform's life (rule 12 gives each its own metric). And a numerator read "latest" is
read at a different distance from the action day for every operation. So:

* :func:`per_scale` computes, for one outcome, one denominator definition, one horizon
  and one choice of sources, the rate per ``per`` units of scale for every operation,
  with an exact Poisson (Garwood) interval and the wider interval that the qualifiers'
  bounds allow (:func:`~sting_outcomes.analysis.intervals.rate_bounds`). The numerator is
  the running total at the horizon (:func:`~sting_outcomes.analysis.horizons.at_horizons`);
  the denominator is the scale as first reported (the platform at its takedown).
  Operations it cannot rate are returned with the reason.
* :func:`multiverse` repeats that over every denominator definition, horizon and source
  choice, so a reader sees how much the picture depends on each choice (Steegen et al.
  2016). Ranks are computed within one definition only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_names, check_positive, require_columns
from .horizons import at_horizons, horizon_label
from .intervals import rate_bounds
from .snapshots import DAYS_PER_MONTH, known_metrics, require_figures, series

__all__ = [
    "SCALE_DEFINITIONS",
    "SOURCE_CHOICES",
    "describe_position",
    "left_out",
    "left_out_note",
    "multiverse",
    "per_scale",
]

#: Denominator metric -> what it counts (the codebook's rule 12).
SCALE_DEFINITIONS = {
    "devices": "handsets active at the takedown",
    "users": "registered accounts",
    "paying_users": "paying subscribers",
    "visits": "log-ins or visits",
    "devices_distributed": "devices sold over the platform's life",
}
#: Source choices: every source, or agency releases and official documents only.
SOURCE_CHOICES = {"all sources": ("primary", "secondary"), "primary only": ("primary",)}
HORIZONS = ("first", 12, 36)


def _restrict(figures: pd.DataFrame, sources: str) -> pd.DataFrame:
    check_choice(sources, tuple(SOURCE_CHOICES), "sources")
    return figures.loc[figures["source_kind"].astype("string").isin(SOURCE_CHOICES[sources]).fillna(False)]


def _at(points: pd.DataFrame, horizon: int | str, prefix: str) -> pd.DataFrame:
    """Per operation: value, bounds, date and figure of a series at ``horizon``."""
    if points.empty:
        return pd.DataFrame(columns=["operation_id"])
    hs = () if horizon == "first" else (int(horizon),)
    h = at_horizons(points, hs or (1,))
    if horizon == "first":
        cols = {
            "first_value": "value",
            "first_lower": "lower",
            "first_upper": "upper",
            "first_as_of": "as_of",
            "first_id": "figure_id",
        }
        out = h[["operation_id", *cols]].rename(columns=cols).assign(short=False)
    else:
        n = int(horizon)
        cols = {
            f"value_{n}m": "value",
            f"lower_{n}m": "lower",
            f"upper_{n}m": "upper",
            f"as_of_{n}m": "as_of",
            f"id_{n}m": "figure_id",
            f"short_{n}m": "short",
        }
        out = h[["operation_id", *cols]].rename(columns=cols)
    return out.rename(columns={c: f"{prefix}{c}" for c in out.columns if c != "operation_id"})


def per_scale(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    outcome: str = "arrests",
    denominator: str = "devices",
    horizon: int | str = "first",
    sources: str = "all sources",
    jurisdiction: str = "global",
    per: float = 1000.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rate of ``outcome`` per ``per`` units of one scale definition, one row per operation.

    ``figures`` is ``Dataset.normalized``. ``horizon`` is ``"first"`` (the first release)
    or months after the action day (the running total then, see :mod:`.horizons`).
    ``sources`` is ``"all sources"`` or ``"primary only"``. Returns, for every operation in
    ``operations``: ``name``, ``approach``, ``target``, ``denominator``, ``definition``,
    ``horizon``, ``sources``, the numerator (``num_value``, ``num_lower``, ``num_upper``,
    ``num_as_of``, ``num_figure_id``, ``num_short``: the series ends before the horizon),
    the denominator (``den_…`` likewise, as first reported), ``rate``, ``rate_low``,
    ``rate_high`` (Garwood), ``bound_low``, ``bound_high`` (with the qualifiers' bounds),
    ``rate_per_month`` (numerator per month of covert phase, where known) and ``reason``
    (empty when rated, else why not). Doubtful and falling figures are left out.
    """
    return _per_scale(
        figures,
        operations,
        outcome=outcome,
        denominator=denominator,
        horizon=horizon,
        sources=sources,
        jurisdiction=jurisdiction,
        per=per,
        level=level,
        memo={},
    )


def _kept(memo: dict, key: tuple, compute):
    """``memo[key]``, computed by ``compute()`` the first time it is asked for."""
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _chosen(figures: pd.DataFrame, sources: str, jurisdiction: str, memo: dict) -> pd.DataFrame:
    """The total figures of one source choice and jurisdiction, without a category."""

    def compute() -> pd.DataFrame:
        chosen = _restrict(figures, sources)
        chosen = chosen.loc[chosen["jurisdiction"].astype("string").eq(jurisdiction).fillna(False)]
        return chosen.loc[chosen["category"].isna()]

    return _kept(memo, ("chosen", sources, jurisdiction), compute)


def _reading(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    metric: str,
    horizon: int | str,
    prefix: str,
    sources: str,
    jurisdiction: str,
    memo: dict,
) -> pd.DataFrame:
    """:func:`_at` of ``metric``'s series among the figures :func:`_chosen` keeps.

    ``memo`` holds what earlier calls with the same ``figures`` and ``operations``
    computed, so that a grid of specifications builds each series and each reading once;
    the caller owns it (a new dict for a single call) and drops it when done."""

    def points() -> pd.DataFrame:
        chosen = _chosen(figures, sources, jurisdiction, memo)
        if metric not in set(chosen["metric"].astype(str)):
            return chosen.iloc[0:0]
        return series(chosen, operations, metrics=[metric])

    def reading() -> pd.DataFrame:
        return _at(_kept(memo, ("series", metric, sources, jurisdiction), points), horizon, prefix)

    return _kept(memo, ("reading", metric, horizon, prefix, sources, jurisdiction), reading)


def _per_scale(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    outcome: str,
    denominator: str,
    horizon: int | str,
    sources: str,
    jurisdiction: str,
    per: float,
    level: float,
    memo: dict,
) -> pd.DataFrame:
    """:func:`per_scale`, reusing the series and readings kept in ``memo`` (see
    :func:`_reading`)."""
    require_figures(figures, ["value_std", "lower", "upper"])
    require_columns(operations, ["operation_id", "name", "approach", "target", "takedown_date"], "operations")
    known = known_metrics(figures)
    check_names([outcome], known, "outcome metric")
    check_choice(denominator, tuple(SCALE_DEFINITIONS), "denominator")
    check_choice(horizon, HORIZONS, "horizon")
    check_positive(per, "per")
    check_choice(sources, tuple(SOURCE_CHOICES), "sources")
    num = _reading(figures, operations, outcome, horizon, "num_", sources, jurisdiction, memo)
    den = _reading(figures, operations, denominator, "first", "den_", sources, jurisdiction, memo)
    ops = operations[["operation_id", "name", "approach", "target", "covert_start", "takedown_date"]].drop_duplicates(
        "operation_id"
    )
    out = ops.merge(num, on="operation_id", how="left")
    out = out.merge(den, on="operation_id", how="left")
    for col in ("num_value", "num_lower", "num_upper", "den_value", "den_lower", "den_upper"):
        out[col] = out[col].astype(float) if col in out else np.nan
    rates = rate_bounds(
        out["num_value"],
        out["num_lower"],
        out["num_upper"],
        out["den_value"],
        out["den_lower"],
        out["den_upper"],
        per=per,
        level=level,
    )
    out = pd.concat([out.reset_index(drop=True), rates], axis=1)
    months = (out["takedown_date"] - out["covert_start"]).dt.days / DAYS_PER_MONTH
    out["rate_per_month"] = (out["num_value"] / months).where(months > 0)
    reason = np.select(
        [
            out["num_value"].isna() & out["den_value"].isna(),
            out["num_value"].isna(),
            out["den_value"].isna(),
            ~(out["den_value"] > 0),
        ],
        [
            f"no {jurisdiction} {outcome} or {denominator} figure",
            f"no {jurisdiction} {outcome} figure" + ("" if horizon == "first" else " by then"),
            f"no {jurisdiction} {denominator} figure",
            f"{denominator} figure is zero",
        ],
        "",
    )
    out["reason"] = reason
    out["num_short"] = out["num_short"].astype("boolean") if "num_short" in out else pd.NA
    out.insert(1, "denominator", denominator)
    out.insert(2, "definition", SCALE_DEFINITIONS[denominator])
    out.insert(3, "horizon", horizon_label(horizon))
    out.insert(4, "sources", sources)
    out.insert(5, "outcome", outcome)
    return out.drop(columns=["covert_start", "den_short"], errors="ignore").sort_values(
        ["rate", "name"], ascending=[False, True], na_position="last", ignore_index=True
    )


def multiverse(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    outcome: str = "arrests",
    denominators: tuple[str, ...] | list[str] = tuple(SCALE_DEFINITIONS),
    horizons: tuple[int | str, ...] = HORIZONS,
    sources: tuple[str, ...] = tuple(SOURCE_CHOICES),
    jurisdiction: str = "global",
    per: float = 1000.0,
) -> pd.DataFrame:
    """:func:`per_scale` under every combination of denominator, horizon and sources,
    rated operations only, with ``rank`` (1 = highest rate) among the operations rated
    under the same combination, and ``n_rated`` (how many there were).

    Each series and each reading of it is computed once for the whole grid."""
    memo: dict = {}
    rows = [
        _per_scale(
            figures,
            operations,
            outcome=outcome,
            denominator=d,
            horizon=h,
            sources=s,
            jurisdiction=jurisdiction,
            per=per,
            level=0.95,
            memo=memo,
        )
        for d in denominators
        for h in horizons
        for s in sources
    ]
    out = pd.concat(rows, ignore_index=True)
    out = out.loc[out["reason"].eq("")].copy()
    spec = ["denominator", "horizon", "sources"]
    out["rank"] = out.groupby(spec)["rate"].rank(ascending=False, method="min").astype(int)
    out["n_rated"] = out.groupby(spec)["rate"].transform("size").astype(int)
    return out.reset_index(drop=True)


def left_out(rated: pd.DataFrame) -> pd.DataFrame:
    """Operations that :func:`per_scale` could rate under none of the rows given, one per
    operation with a short reason: no outcome figure at all, none by the horizon, or no
    scale figure of any definition. For captions: an absent operation must be visible."""
    ok = set(rated.loc[rated["reason"].eq(""), "operation_id"])
    rows = []
    for (op, name), g in rated.loc[~rated["operation_id"].isin(ok)].groupby(["operation_id", "name"], observed=True):
        outcome, where = g["outcome"].iloc[0], str(g["reason"].iloc[0]).split(" ")[1]
        has_num = g["num_value"].notna().any()
        has_den = g["den_value"].notna().any()
        if not has_num and g["reason"].str.contains("by then").any():
            why = f"no {where} {outcome} figure by the horizon"
        elif not has_num and not has_den:
            why = f"no {where} {outcome} figure and no {where} scale figure"
        elif not has_num:
            why = f"no {where} {outcome} figure"
        else:
            why = f"no {where} scale figure of any definition"
        rows.append({"operation_id": op, "name": name, "reason": why})
    return pd.DataFrame(rows, columns=["operation_id", "name", "reason"]).sort_values("name", ignore_index=True)


def left_out_note(rated: pd.DataFrame) -> str:
    """One sentence naming the operations left out and why (see :func:`left_out`),
    grouped by reason."""
    lo = left_out(rated)
    if lo.empty:
        return "No operation is left out."
    groups = [f"{why}: {', '.join(g['name'])}" for why, g in lo.groupby("reason", sort=True)]
    return f"Left out ({len(lo)} operations). " + "; ".join(groups) + "."


def describe_position(universe: pd.DataFrame, operation_id: str, name: str | None = None) -> str:
    """Sentences on where one operation stands across the specifications of a
    :func:`multiverse`: under how many it is rated, the range of its rate, and the range
    of its rank among operations of the same definition. Every number is computed here."""
    mine = universe.loc[universe["operation_id"] == operation_id]
    name = name or operation_id
    if mine.empty:
        return f"{name} is rated under none of the specifications: it lacks either the outcome or every scale figure."
    n_spec = universe.groupby(["denominator", "horizon", "sources"]).ngroups
    text = [
        f"{name} is rated under {len(mine)} of the {n_spec} specifications that rate any operation "
        f"(definitions: {', '.join(sorted(mine['definition'].unique()))}); its rate runs from "
        f"{mine['rate'].min():,.3g} to {mine['rate'].max():,.3g} per 1,000."
    ]
    compared = mine.loc[mine["n_rated"] > 1]
    if compared.empty:
        text.append(
            f"In none of them is another operation rated on the same definition, so {name} is ranked against nothing."
        )
    else:
        lo, hi = int(compared["rank"].min()), int(compared["rank"].max())
        place = f"rank {lo}" if lo == hi else f"ranks {lo} to {hi}"
        fewest, most = int(compared["n_rated"].min()), int(compared["n_rated"].max())
        text.append(
            f"Where other operations share its definition ({len(compared)} specifications, {fewest} "
            f"to {most} operations rated), it takes {place}"
            + (", so its position depends on the choices." if lo != hi else ", whatever the choices.")
        )
    return " ".join(text)
