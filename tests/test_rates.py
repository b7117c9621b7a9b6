"""rates(): per 1,000 users/devices and per month of interception, never a silent zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shapes import METRICS, shaped
from sting_outcomes.analysis.rates import interception_months, outcome_metrics, rates

OPERATIONS = pd.DataFrame(
    {
        "operation_id": pd.array(["anom", "market", "nodates"], dtype="string"),
        # 2018-10-01 -> 2021-06-08 is 981 days; 2020-01-01 -> 2020-07-01 is 182 days
        "covert_start": pd.to_datetime(["2018-10-01", "2020-01-01", None]).astype("datetime64[s]"),
        "takedown_date": pd.to_datetime(["2021-06-08", "2020-07-01", "2021-01-01"]).astype("datetime64[s]"),
    }
)


def latest_figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (operation_id, jurisdiction, metric, category, value_std, unit_std, qualifier)."""
    cols = ["operation_id", "jurisdiction", "metric", "category", "value_std", "unit_std", "qualifier"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["category"] = frame["category"].astype("string")
    frame["figure_id"] = [f"f{i}" for i in range(len(frame))]
    frame["source_id"] = "src"
    return frame


FIGS = shaped(
    latest_figures(
        [
            ("anom", "global", "arrests", None, 800.0, "count", "exact"),
            ("anom", "global", "users", None, 12_000.0, "count", "exact"),
            ("anom", "global", "devices", None, 9_000.0, "count", "exact"),
            ("anom", "global", "drugs_seized", "cocaine", 8_000.0, "kg", "at_least"),
            ("anom", "AU", "arrests", None, 224.0, "count", "exact"),  # no AU users or devices
            ("market", "global", "arrests", None, 150.0, "count", "exact"),
            ("market", "global", "devices", None, 3_000.0, "count", "at_least"),
            ("nodates", "global", "charges", None, 40.0, "count", "exact"),
            ("nodates", "global", "users", None, 0.0, "count", "exact"),
        ]
    )
)


def test_interception_months() -> None:
    out = interception_months(OPERATIONS).set_index("operation_id")
    assert out.loc["anom", "interception_months"] == pytest.approx(981 / 30.4375)
    assert out.loc["market", "interception_months"] == pytest.approx(182 / 30.4375)
    assert np.isnan(out.loc["nodates", "interception_months"])
    assert out.loc["nodates", "months_reason"] == "no covert_start"


def test_rates_hand_computed() -> None:
    out = rates(FIGS, OPERATIONS).set_index(["operation_id", "jurisdiction", "metric"])
    anom = out.loc[("anom", "global", "arrests")]
    assert anom["scale_metric"] == "users"  # users preferred over devices
    assert anom["rate_per_scale"] == pytest.approx(800 / 12_000 * 1000)  # 66.67 per 1,000 users
    assert anom["rate_per_month"] == pytest.approx(800 / (981 / 30.4375))  # 24.82 per month
    assert pd.isna(anom["reason"])
    cocaine = out.loc[("anom", "global", "drugs_seized")]
    assert cocaine["rate_per_scale"] == pytest.approx(8_000 / 12_000 * 1000)
    assert cocaine["qualifier"] == "at_least"
    market = out.loc[("market", "global", "arrests")]
    assert market["scale_metric"] == "devices"
    assert market["rate_per_scale"] == pytest.approx(50.0)
    assert market["scale_qualifier"] == "at_least"


def test_missing_denominators_give_nan_and_reason() -> None:
    out = rates(FIGS, OPERATIONS).set_index(["operation_id", "jurisdiction", "metric"])
    au = out.loc[("anom", "AU", "arrests")]
    assert np.isnan(au["rate_per_scale"]) and au["reason"] == "no users or devices figure"
    assert au["rate_per_month"] == pytest.approx(224 / (981 / 30.4375))
    nod = out.loc[("nodates", "global", "charges")]
    assert np.isnan(nod["rate_per_scale"]) and np.isnan(nod["rate_per_month"])
    assert "no covert_start" in nod["reason"] and "zero" in nod["reason"]
    assert not (out[["rate_per_scale", "rate_per_month"]] == 0).any().any()


def test_per_parameter_and_metric_selection() -> None:
    out = rates(FIGS, OPERATIONS, per=100_000, metrics=["arrests"])
    assert set(out["metric"]) == {"arrests"}
    row = out.loc[out["operation_id"].eq("anom") & out["jurisdiction"].eq("global")].iloc[0]
    assert row["rate_per_scale"] == pytest.approx(800 / 12_000 * 100_000)


def test_outcome_metrics_include_seizures_from_vocabulary() -> None:
    names = outcome_metrics(METRICS)
    assert names[:3] == ["arrests", "persons_charged", "charges"]
    assert {"drugs_seized", "cash_seized", "firearms_seized"} <= set(names)
    assert "users" not in names
