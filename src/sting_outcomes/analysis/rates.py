"""Outcomes per scale: per 1,000 users (or devices) and per month of interception.

Numerators are arrests, persons_charged, charges and every metric of the ``seizures``
family in the metric vocabulary (drugs in kg, pills, rounds, counts, money in USD), taken
in standard units from the latest figures (see :func:`sting_outcomes.select.latest`).

* ``rate_per_scale`` = value / scale * ``per`` (default per 1,000), where *scale* is
  the ``users`` figure of the same operation and jurisdiction, or ``devices`` when
  there is no users figure (order set by ``scale``). A national tally is never divided by
  a global user count: the jurisdiction must match.
* ``rate_per_month`` = value / interception months, where interception months =
  (``takedown_date`` - ``covert_start``) in days / 30.4375.

A rate that cannot be computed is NaN and ``reason`` says why (e.g. "no users or devices
figure", "no covert_start"); it is never a silent zero. Qualifiers carry over: an
``at_least`` numerator gives a lower bound on the rate (``qualifier``), an ``at_least``
scale an upper bound (``scale_qualifier``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_names, check_positive, require_columns
from .snapshots import DAYS_PER_MONTH, KEY, SHAPE_HINT, known_metrics

__all__ = ["OUTCOME_METRICS", "interception_months", "outcome_metrics", "rates"]

OUTCOME_METRICS = ("arrests", "persons_charged", "charges")


def outcome_metrics(metrics_vocab: pd.DataFrame) -> list[str]:
    """arrests, persons_charged, charges and every ``seizures``-family metric of the
    vocabulary (``Dataset.metrics``)."""
    require_columns(metrics_vocab, ["metric", "family"], "metrics_vocab", "pass Dataset.metrics")
    seizures = metrics_vocab.loc[metrics_vocab["family"].astype(str) == "seizures", "metric"].astype(str).tolist()
    return [*OUTCOME_METRICS, *seizures]


def interception_months(operations: pd.DataFrame) -> pd.DataFrame:
    """Per operation: ``interception_months`` (takedown - covert start, in 30.4375-day
    months; NaN when either date is missing) and ``months_reason``."""
    ops = operations[["operation_id", "covert_start", "takedown_date"]].drop_duplicates("operation_id")
    days = (ops["takedown_date"] - ops["covert_start"]).dt.total_seconds() / 86400.0
    reason = np.select(
        [ops["covert_start"].isna(), ops["takedown_date"].isna(), days <= 0],
        ["no covert_start", "no takedown_date", "takedown_date not after covert_start"],
        "",
    )
    months = (days / DAYS_PER_MONTH).where(days > 0)
    return pd.DataFrame(
        {"operation_id": ops["operation_id"], "interception_months": months.to_numpy(), "months_reason": reason}
    )


def _scale_table(latest_std: pd.DataFrame, scale: tuple[str, ...]) -> pd.DataFrame:
    """Per (operation, jurisdiction): the first available scale metric in ``scale`` order."""
    s = latest_std.loc[latest_std["metric"].astype("string").isin(list(scale)).fillna(False)]
    s = s.loc[s["category"].isna()].assign(
        _order=lambda d: d["metric"].astype("string").map({m: i for i, m in enumerate(scale)})
    )
    s = s.sort_values("_order").drop_duplicates(["operation_id", "jurisdiction"])
    return s.rename(
        columns={
            "metric": "scale_metric",
            "value_std": "scale_value",
            "qualifier": "scale_qualifier",
            "figure_id": "scale_figure_id",
        }
    )[["operation_id", "jurisdiction", "scale_metric", "scale_value", "scale_qualifier", "scale_figure_id"]]


def rates(
    figures_latest: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    metrics: str | list[str] | None = None,
    per: float = 1000.0,
    scale: str | tuple[str, ...] = ("users", "devices"),
) -> pd.DataFrame:
    """Rates of outcomes per scale and per month of interception.

    Parameters
    ----------
    figures_latest:
        One figure per key of ``Dataset.normalized``, e.g. ``so.latest(ds.normalized)``.
    operations:
        Operations table (``covert_start``, ``takedown_date``).
    metrics:
        Numerator metrics (a name or a list); default arrests, persons_charged, charges
        and every metric of the ``seizures`` family.
    per:
        Scale multiplier: 1000 gives rates per 1,000 users/devices.
    scale:
        Denominator metrics in order of preference, matched on operation and jurisdiction.

    Returns one row per numerator figure: the key, ``value_std``, ``unit_std``,
    ``qualifier``, ``scale_metric``, ``scale_value``, ``scale_qualifier``,
    ``rate_per_scale`` (unit_std per ``per`` users/devices), ``interception_months``,
    ``rate_per_month`` (unit_std per month) and ``reason`` (``<NA>`` when both rates
    exist; otherwise why not, ``;``-separated).
    """
    require_columns(
        figures_latest,
        [*KEY, "figure_id", "source_id", "source_kind", "value_std", "unit_std", "qualifier", "family"],
        "figures_latest",
        SHAPE_HINT,
    )
    require_columns(operations, ["operation_id", "covert_start", "takedown_date"], "operations")
    check_positive(per, "per")
    known = known_metrics(figures_latest)
    scale = tuple(check_names(scale, known, "scale metric"))
    if metrics is None:
        seizures = figures_latest.loc[figures_latest["family"].eq("seizures").fillna(False), "metric"]
        wanted = [*OUTCOME_METRICS, *sorted(seizures.astype(str).unique())]
    else:
        wanted = check_names(metrics, known, "metric")
    latest_std = figures_latest
    num = latest_std.loc[latest_std["metric"].astype("string").isin(wanted).fillna(False)]
    cols = [*KEY, "figure_id", "source_id", "source_kind", "value_std", "unit_std", "qualifier"]
    out = num[cols].merge(_scale_table(latest_std, scale), on=["operation_id", "jurisdiction"], how="left")
    out = out.merge(interception_months(operations), on="operation_id", how="left")

    scale_ok = out["scale_value"].gt(0).fillna(False)
    out["rate_per_scale"] = (out["value_std"] / out["scale_value"] * per).where(scale_ok)
    out["rate_per_month"] = out["value_std"] / out["interception_months"]

    names = " or ".join(scale)
    scale_reason = np.where(
        out["scale_value"].isna() & out["scale_metric"].isna(),
        f"no {names} figure",
        np.where(~scale_ok, "scale figure is zero or missing", ""),
    )
    month_reason = out["months_reason"].fillna("no operation record").where(out["interception_months"].isna(), "")
    reasons = (pd.Series(scale_reason, index=out.index) + "; " + month_reason.astype(str)).str.strip("; ")
    out["reason"] = reasons.replace("", pd.NA).astype("string")
    out = out.drop(columns="months_reason")
    return out.sort_values(KEY, kind="stable", ignore_index=True)
