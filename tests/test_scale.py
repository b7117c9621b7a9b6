"""Rates per scale within one definition, at a stated horizon, with a multiverse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from shapes import shaped

OPERATIONS = pd.DataFrame(
    {
        "operation_id": pd.array(["a", "b"], dtype="string"),
        "name": ["Alpha", "Beta"],
        "approach": pd.Categorical(["police_run", "sweep"]),
        "target": pd.Categorical(["encrypted_phone_network", "darknet_market"]),
        "covert_start": pd.to_datetime(["2019-01-01", None]).astype("datetime64[s]"),
        "takedown_date": pd.to_datetime(["2021-01-01", "2021-01-01"]).astype("datetime64[s]"),
    }
)


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, operation_id, source_id, metric, value, qualifier, as_of)."""
    cols = ["figure_id", "operation_id", "source_id", "metric", "value", "qualifier", "as_of"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["jurisdiction"] = "global"
    frame["category"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["unit"] = pd.Categorical(["count"] * len(frame))
    frame["value"] = frame["value"].astype(float)
    frame["value_high"] = np.nan
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[s]")
    frame["as_of_precision"] = "day"
    frame["scope"] = "total"
    frame["doubtful"] = False
    frame["metric"] = pd.Categorical(frame["metric"], categories=["arrests", "devices", "users"])
    frame["qualifier"] = pd.Categorical(frame["qualifier"])
    kinds = pd.DataFrame({"source_id": ["agency", "paper"], "source_kind": ["primary", "secondary"]})
    return shaped(frame, kinds)


FIGS = figures(
    [
        ("a-1", "a", "agency", "arrests", 100, "exact", "2021-01-01"),
        ("a-2", "a", "paper", "arrests", 200, "exact", "2022-03-01"),  # ~14 months
        ("a-3", "a", "agency", "devices", 1000, "at_least", "2021-01-01"),
        ("b-1", "b", "agency", "arrests", 30, "exact", "2021-01-02"),
        ("b-2", "b", "agency", "users", 500, "exact", "2021-01-02"),
    ]
)


def test_first_release_rate_with_garwood_interval_and_bounds() -> None:
    out = so.per_scale(FIGS, OPERATIONS, denominator="devices").set_index("operation_id")
    a = out.loc["a"]
    assert a["definition"] == "handsets active at the takedown" and a["horizon"] == "first release"
    assert a["rate"] == pytest.approx(100.0)  # 100 arrests per 1,000 devices
    low, high = so.garwood([100])
    assert a["rate_low"] == pytest.approx(low[0]) and a["rate_high"] == pytest.approx(high[0])
    assert a["bound_low"] == 0.0  # "more than 1,000 devices": the rate could be near zero
    assert a["rate_per_month"] == pytest.approx(100 / (731 / 30.4375))
    assert out.loc["b", "reason"] == "no global devices figure" and np.isnan(out.loc["b", "rate"])


def test_horizons_read_the_running_total() -> None:
    at12 = so.per_scale(FIGS, OPERATIONS, denominator="devices", horizon=12).set_index("operation_id").loc["a"]
    assert at12["num_value"] == 100 and at12["num_upper"] == 200 and not at12["num_short"]
    at36 = so.per_scale(FIGS, OPERATIONS, denominator="devices", horizon=36).set_index("operation_id").loc["a"]
    assert at36["num_value"] == 200 and at36["num_short"] and at36["rate"] == pytest.approx(200.0)


def test_primary_only_drops_press_figures() -> None:
    at36 = so.per_scale(FIGS, OPERATIONS, denominator="devices", horizon=36, sources="primary only")
    assert at36.set_index("operation_id").loc["a", "num_value"] == 100


def test_multiverse_ranks_within_one_specification() -> None:
    m = so.multiverse(FIGS, OPERATIONS, denominators=("devices", "users"))
    assert set(m["denominator"]) == {"devices", "users"}
    assert (m["rank"] == 1).all() and (m["n_rated"] == 1).all()  # one operation per definition: nothing to rank
    assert len(m) == 2 * 3 * 2 - 0  # a: devices x 3 horizons x 2 source choices; b: users likewise


def test_unknown_choices_are_refused() -> None:
    with pytest.raises(ValueError, match="denominator"):
        so.per_scale(FIGS, OPERATIONS, denominator="accounts")
    with pytest.raises(ValueError, match="horizon"):
        so.per_scale(FIGS, OPERATIONS, horizon="latest")


def test_captions_name_every_operation_left_out() -> None:
    rated = pd.concat([so.per_scale(FIGS, OPERATIONS, denominator=d) for d in ("devices", "users")])
    assert so.left_out_note(rated) == "No operation is left out."
    only_devices = so.per_scale(FIGS, OPERATIONS, denominator="devices")
    assert so.left_out_note(only_devices) == "Left out (1 operations). no global scale figure of any definition: Beta."


def test_the_words_follow_the_multiverse() -> None:
    m = so.multiverse(FIGS, OPERATIONS, denominators=("devices", "users"))
    text = so.describe_position(m, "a", "Alpha")
    assert "rated under 6 of the 12 specifications that rate any operation" in text
    assert "ranked against nothing" in text  # Alpha is the only operation on 'devices'
    assert "Gamma is rated under none" in so.describe_position(m, "c", "Gamma")
