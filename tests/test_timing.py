"""Time to outcome, censoring, Kaplan-Meier and conviction rates, on hand-made figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sting_outcomes as so
from shapes import shaped
from sting_outcomes.analysis.snapshots import DAYS_PER_MONTH

OPERATIONS = pd.DataFrame(
    {
        "operation_id": ["op", "other"],
        "name": ["Operation", "Other"],
        "takedown_date": pd.to_datetime(["2021-01-01", "2021-01-01"]),
    }
)


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, operation_id, jurisdiction, metric, value, qualifier, as_of, precision,
    source_id, source_kind, scope)."""
    cols = [
        "figure_id",
        "operation_id",
        "jurisdiction",
        "metric",
        "value",
        "qualifier",
        "as_of",
        "as_of_precision",
        "source_id",
        "source_kind",
        "scope",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    frame["category"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["unit"] = pd.Categorical(["count"] * len(frame))
    frame["value"] = frame["value"].astype(float)
    frame["value_high"] = np.nan
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["doubtful"] = False
    frame["metric"] = pd.Categorical(frame["metric"])
    frame["qualifier"] = pd.Categorical(frame["qualifier"])
    frame["source_kind"] = pd.Categorical(frame["source_kind"], categories=["primary", "secondary"])
    return shaped(frame)


def test_effective_date_reads_a_month_as_its_last_day() -> None:
    dates = pd.Series(pd.to_datetime(["2021-06-01", "2021-06-08", "2024-02-01"]))
    out = so.effective_date(dates, pd.Series(["month", "day", "month"]))
    assert out.dt.strftime("%Y-%m-%d").tolist() == ["2021-06-30", "2021-06-08", "2024-02-29"]


def test_time_to_outcome_hand_computed_and_censored() -> None:
    f = figures(
        [
            ("c1", "op", "AU-NSW", "persons_charged", 10, "exact", "2021-01-31", "day", "s1", "primary", "total"),
            ("v1", "op", "AU", "convictions", 3, "exact", "2021-06-01", "month", "s2", "primary", "part"),
            ("v0", "op", "AU", "convictions", 0, "exact", "2021-03-01", "day", "s3", "primary", "total"),
            ("o1", "other", "DE", "arrests", 5, "exact", "2022-01-01", "day", "s4", "secondary", "total"),
        ]
    )
    t = so.time_to_outcome(f, OPERATIONS, by="operation")
    op = t.set_index("operation_id").loc["op"]
    # 30 days after the action day; the state figure counts for the operation
    assert op["charge_months"] == pytest.approx(30 / DAYS_PER_MONTH)
    # a month-only date at the month's end (180 days); the zero conviction figure is no conviction
    assert op["conviction_months"] == pytest.approx(180 / DAYS_PER_MONTH)
    assert op["conviction_figure"] == "v1" and not op["no_conviction"]
    other = t.set_index("operation_id").loc["other"]
    # no conviction figure: censored at the latest date in the data, not zero
    assert other["no_conviction"] and pd.isna(other["conviction_months"])
    assert other["censor_date"] == pd.Timestamp("2022-01-01")
    assert other["censor_months"] == pytest.approx(365 / DAYS_PER_MONTH)
    # running totals only: the single case no longer counts
    totals = so.time_to_outcome(f, OPERATIONS, by="operation", scope="total").set_index("operation_id")
    assert totals.loc["op", "no_conviction"]
    by_country = so.time_to_outcome(f, OPERATIONS, by="country")
    assert set(by_country.loc[by_country["operation_id"] == "op", "place"]) == {"AU"}


def test_survival_hand_computed() -> None:
    table = pd.DataFrame(
        {
            "conviction_or_sentence_months": [2.0, np.nan, 6.0],
            "censor_months": [10.0, 4.0, 10.0],
        }
    )
    km = so.survival(table)
    curve = km["curve"]
    # at 2 months: 3 at risk, 1 event -> 2/3; censored at 4; at 6: 1 at risk, 1 event -> 0
    assert curve["surv"].tolist() == pytest.approx([1.0, 2 / 3, 0.0])
    assert curve["at_risk"].tolist() == [3, 3, 1]
    assert km["events"] == 2 and km["censored"] == 1 and km["median"] == 6.0


def cp(k: float, n: float, side: str) -> float:
    """Clopper-Pearson limits written out with the beta distribution."""
    if side == "low":
        return 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
    return 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)


def test_conviction_rate_from_one_release_hand_computed() -> None:
    f = figures(
        [
            ("v1", "op", "GB", "convictions", 383, "exact", "2022-06-08", "day", "nca", "primary", "total"),
            ("c1", "op", "GB", "persons_charged", 1571, "exact", "2022-06-08", "day", "nca", "primary", "total"),
            ("c2", "op", "GB", "persons_charged", 1867, "exact", "2023-10-09", "day", "paper", "secondary", "total"),
        ]
    )
    r = so.conviction_rates(f)
    assert len(r) == 1
    row = r.iloc[0]
    assert row["cohort"] == "one release" and row["charged_figure"] == "c1"
    assert row["rate"] == pytest.approx(383 / 1571)
    assert row["rate_low"] == pytest.approx(cp(383, 1571, "low"))
    assert row["rate_high"] == pytest.approx(cp(383, 1571, "high"))


def test_conviction_rate_is_widened_by_bounds_and_refuses_non_proportions() -> None:
    f = figures(
        [
            ("v1", "op", "SE", "convictions", 100, "at_least", "2022-06-01", "day", "a", "secondary", "total"),
            ("c1", "op", "SE", "persons_charged", 400, "approx", "2022-06-11", "day", "b", "secondary", "total"),
            ("v2", "op", "BE", "convictions", 1000, "exact", "2023-12-15", "day", "c", "primary", "total"),
            ("c2", "op", "BE", "persons_charged", 622, "exact", "2023-12-15", "day", "d", "secondary", "total"),
        ]
    )
    assert so.conviction_rates(f).empty  # no release holds both
    r = so.conviction_rates(f, window_days=31).set_index("jurisdiction")
    se = r.loc["SE"]
    assert se["days_apart"] == 10 and se["cohort"] == "within 31 days"
    # "more than 100" of "about 400" (360..440): lowest at (100, 440), highest open (1)
    assert se["rate_low"] == pytest.approx(cp(100, 440, "low")) and se["rate_high"] == 1.0
    assert np.isnan(r.loc["BE", "rate_low"]) and "more convicted than charged" in r.loc["BE", "interval"]
    status = so.cohort_status(f, window_days=31).set_index("jurisdiction")["status"]
    assert status.to_dict() == {"BE": "pair within 31 days only", "SE": "pair within 31 days only"}
    narrow = so.cohort_status(f, window_days=5).set_index("jurisdiction")["status"]
    assert narrow.to_dict() == {"BE": "pair within 5 days only", "SE": "both, never within 5 days"}


def test_flag_falls_uses_month_end_and_ties() -> None:
    from sting_outcomes.analysis.timing import flag_falls

    f = figures(
        [
            ("a", "op", "NZ", "arrests", 35, "exact", "2021-06-08", "day", "police", "primary", "total"),
            ("b", "op", "NZ", "arrests", 36, "exact", "2021-06-01", "month", "paper", "secondary", "total"),
            ("c", "op", "NZ", "arrests", 30, "exact", "2021-07-01", "day", "x", "secondary", "total"),
            ("d", "op", "NZ", "arrests", 40, "exact", "2021-07-01", "day", "y", "secondary", "total"),
        ]
    )
    out = flag_falls(f).set_index("figure_id")
    # 36 "in June" is read as 30 June, after 35 on 8 June: growth, not a fall
    assert not out.loc["b", "falls"]
    # 30 on 1 July is below 36; 40 the same day is not compared with 30
    assert out.loc["c", "falls"] and out.loc["c", "fell_from"] == "b" and not out.loc["d", "falls"]


def test_timeline_plot_draws_and_refuses_nothing() -> None:
    f = figures([("c1", "op", "AU", "persons_charged", 10, "exact", "2021-01-31", "day", "s1", "primary", "total")])
    t = so.time_to_outcome(f, OPERATIONS, by="operation")
    fig = so.outcome_timeline_plot(t, OPERATIONS.set_index("operation_id")["name"], caption="Source: test.")
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="empty"):
        so.outcome_timeline_plot(t.iloc[0:0])
