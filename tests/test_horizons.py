"""Falling totals are flagged; series are read at common horizons with monotone bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from shapes import shaped

OPERATIONS = pd.DataFrame(
    {
        "operation_id": pd.array(["op"], dtype="string"),
        "takedown_date": pd.to_datetime(["2021-01-01"]).astype("datetime64[s]"),
    }
)


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, metric, value, qualifier, as_of)."""
    frame = pd.DataFrame(rows, columns=["figure_id", "metric", "value", "qualifier", "as_of"])
    frame["operation_id"] = "op"
    frame["source_id"] = "src"
    frame["jurisdiction"] = "BE"
    frame["category"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["unit"] = pd.Categorical(["count"] * len(frame))
    frame["value"] = frame["value"].astype(float)
    frame["value_high"] = np.nan
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[s]")
    frame["as_of_precision"] = "day"
    frame["scope"] = "total"
    frame["doubtful"] = False
    frame["metric"] = pd.Categorical(frame["metric"])
    frame["qualifier"] = pd.Categorical(frame["qualifier"])
    return shaped(frame)


def test_latest_flags_a_falling_total() -> None:
    f = figures([("c1", "convictions", 488, "exact", "2023-06-01"), ("c2", "convictions", 344, "exact", "2024-06-01")])
    row = so.latest(f).iloc[0]
    assert (
        row["figure_id"] == "c2" and bool(row["falls"]) and row["fell_from"] == "c1" and row["fell_from_value"] == 488
    )
    points = so.series(f, OPERATIONS)
    assert points["falls"].tolist() == [False, True]


def test_growth_is_not_a_fall_and_doubtful_rows_are_left_out() -> None:
    f = figures([("c1", "convictions", 100, "exact", "2022-01-01"), ("c2", "convictions", 150, "exact", "2023-01-01")])
    assert not so.latest(f)["falls"].any()
    f.loc[f["figure_id"] == "c2", "doubtful"] = True
    assert so.latest(f)["figure_id"].tolist() == ["c1"]
    assert so.latest(f, include_doubtful=True)["figure_id"].tolist() == ["c2"]
    assert so.doubtful(f)["figure_id"].tolist() == ["c2"]


def test_at_horizons_hand_computed() -> None:
    # months since 2021-01-01: 0, ~6, ~18, ~40
    f = figures(
        [
            ("a0", "arrests", 224, "exact", "2021-01-01"),
            ("a6", "arrests", 300, "at_least", "2021-07-02"),
            ("a18", "arrests", 392, "exact", "2022-07-02"),
            ("a40", "arrests", 400, "exact", "2024-05-01"),
        ]
    )
    h = so.at_horizons(so.series(f, OPERATIONS), (12, 36, 60)).iloc[0]
    assert h["first_value"] == 224 and h["first_id"] == "a0"
    # +12 months: the latest point before is 300 ("more than"), the next one 392
    assert h["value_12m"] == 300 and h["lower_12m"] == 300 and h["upper_12m"] == 392 and not h["short_12m"]
    assert h["ratio_12m"] == pytest.approx(300 / 224)
    assert h["ratio_low_12m"] == pytest.approx(300 / 224) and h["ratio_high_12m"] == pytest.approx(392 / 224)
    assert h["value_36m"] == 392 and h["upper_36m"] == 400
    # +60 months: the series stopped at ~40: stale value, open upper bound, flagged
    assert h["value_60m"] == 400 and h["upper_60m"] == np.inf and h["short_60m"]


def test_at_horizons_leaves_falls_out_and_refuses_bad_horizons() -> None:
    f = figures([("a0", "arrests", 100, "exact", "2021-01-01"), ("a1", "arrests", 50, "exact", "2021-03-01")])
    h = so.at_horizons(so.series(f, OPERATIONS), 12).iloc[0]
    assert h["value_12m"] == 100 and h["n_points"] == 1
    early = so.at_horizons(
        so.series(f, OPERATIONS).assign(months_since_takedown=lambda d: d["months_since_takedown"] + 20), 12
    )
    assert np.isnan(early.loc[0, "value_12m"]) and np.isnan(early.loc[0, "ratio_low_12m"])  # nothing reported by then
    with pytest.raises(ValueError, match="positive"):
        so.at_horizons(so.series(f, OPERATIONS), (0,))
