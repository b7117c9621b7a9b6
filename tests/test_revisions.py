"""Revisions of running totals and the share of the tally the first release held."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from shapes import shaped

OPERATIONS = pd.DataFrame({"operation_id": ["op"], "takedown_date": pd.to_datetime(["2021-06-08"])})


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, jurisdiction, metric, value, qualifier, as_of, precision, publisher, kind)."""
    cols = ["figure_id", "jurisdiction", "metric", "value", "qualifier", "as_of", "as_of_precision", "publisher"]
    frame = pd.DataFrame([r[:8] for r in rows], columns=cols)
    frame["source_kind"] = pd.Categorical([r[8] for r in rows], categories=["primary", "secondary"])
    frame["operation_id"] = "op"
    frame["source_id"] = frame["figure_id"] + "-src"
    frame["category"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["unit"] = pd.Categorical(["count"] * len(frame))
    frame["value"] = frame["value"].astype(float)
    frame["value_high"] = np.nan
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["scope"] = "total"
    frame["doubtful"] = False
    frame["note"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["metric"] = pd.Categorical(frame["metric"])
    frame["qualifier"] = pd.Categorical(frame["qualifier"])
    return shaped(frame)


NZ = [
    ("n1", "NZ", "arrests", 35, "exact", "2021-06-08", "day", "NZ Police", "primary"),
    ("n2", "NZ", "arrests", 36, "exact", "2021-06-01", "month", "NZ Herald", "secondary"),
]
WORLD = [
    ("w1", "global", "arrests", 800, "at_least", "2021-06-08", "day", "Europol", "primary"),
    ("w2", "global", "arrests", 993, "exact", "2021-12-09", "day", "AFP", "primary"),
    ("w3", "global", "arrests", 993, "exact", "2022-06-08", "day", "AFP", "primary"),
    ("w4", "global", "arrests", 900, "exact", "2022-07-01", "day", "Paper", "secondary"),
]


def test_launch_month_revision_is_counted_in_month_end_order() -> None:
    u = so.revision_updates(figures(NZ), OPERATIONS, metrics="arrests")
    assert u["figure_id"].tolist() == ["n1", "n2"]  # "June 2021" read as 30 June, after 8 June
    later = u.iloc[1]
    assert later["direction"] == "up" and later["change"] == 1 and later["rel_change"] == pytest.approx(1 / 35)
    assert later["days_after_first"] == 22 and later["early"] and later["order_uncertain"]
    assert not later["falls"] and not later["same_publisher"]


def test_directions_bounds_and_falls_hand_counted() -> None:
    u = so.revision_updates(figures(NZ + WORLD), OPERATIONS, metrics=["arrests"])
    w = u[u["jurisdiction"] == "global"].set_index("figure_id")
    assert w["direction"].tolist() == ["first", "up", "same", "down"]
    assert bool(w.loc["w2", "within_bounds"])  # 993 lies in "more than 800"
    assert w.loc["w4", "falls"] and w.loc["w4", "fell_from"] == "w2"
    assert w.loc["w3", "same_publisher"]
    c = so.revision_counts(u)
    assert (c["series"], c["later"], c["up"], c["down"], c["same"], c["changed"]) == (2, 4, 2, 1, 1, 3)
    assert (c["falls"], c["within_bounds"], c["uncertain"], c["up_certain"], c["down_certain"]) == (1, 1, 1, 1, 1)
    s = so.revision_summary(u, "jurisdiction").set_index("jurisdiction")
    assert s.loc["global", ["later", "up", "down", "same"]].tolist() == [3, 1, 1, 1]
    assert s.loc["global", "median_rel_up"] == pytest.approx(993 / 800 - 1)
    assert s.loc["global", "median_rel_down"] == pytest.approx(900 / 993 - 1)
    share, low, high = so.share_interval(c["up"], c["changed"])
    assert share == pytest.approx(2 / 3) and 0 < low < share < high < 1


def test_single_updates_are_not_series_and_metrics_are_required() -> None:
    one = figures([WORLD[0]])
    assert so.revision_updates(one, OPERATIONS, metrics="arrests").empty
    with pytest.raises(ValueError, match="did you mean 'arrests'"):
        so.revision_updates(one, OPERATIONS, metrics="arrest")


def test_capture_shares_hand_computed() -> None:
    ops = pd.DataFrame({"operation_id": ["op"], "takedown_date": pd.to_datetime(["2021-01-01"])})
    f = figures(
        [
            ("a0", "AU", "arrests", 100, "exact", "2021-01-01", "day", "AFP", "primary"),
            ("a10", "AU", "arrests", 150, "exact", "2021-11-01", "day", "AFP", "primary"),
            ("a14", "AU", "arrests", 200, "exact", "2022-03-01", "day", "AFP", "primary"),
        ]
    )
    c = so.capture_shares(so.revision_updates(f, ops, metrics="arrests"), (12, 36)).set_index("horizon")
    # +12 months: 150 (last before) .. 200 (first after); share 100/150, bounds 100/200 .. 100/150
    assert c.loc[12, "status"] == "covered"
    assert c.loc[12, "share"] == pytest.approx(2 / 3)
    assert c.loc[12, "share_low"] == pytest.approx(0.5) and c.loc[12, "share_high"] == pytest.approx(2 / 3)
    # +36 months: the series stopped at 14 months; 200 is only a lower bound on the tally
    assert c.loc[36, "status"] == "stops short" and c.loc[36, "share_low"] == 0
    assert c.loc[36, "share_high"] == pytest.approx(0.5)
    assert c.loc[12, "first_date"] == "2021-01-01"
    summary = so.capture_summary(c.reset_index())
    assert summary.set_index("horizon").loc[36, "stops_short"] == 1


def test_coin_amounts_and_currency_values_are_separate_series() -> None:
    f = figures(NZ)
    coins = f.iloc[[0, 1]].copy()
    coins["metric"] = pd.Categorical(["assets_seized"] * 2)
    coins["unit"] = pd.Categorical(["BTC", "USD"])
    coins["as_of"] = pd.to_datetime(["2021-06-10", "2021-06-10"])
    coins["as_of_precision"] = "day"
    coins["value"] = [29655.0, 6_000_000.0]
    coins = shaped(coins.drop(columns=["value_std", "unit_std", "value_usd", "value_eur", "lower", "upper"]))
    both = pd.concat([f, coins], ignore_index=True)
    u = so.revision_updates(both, OPERATIONS, metrics=["assets_seized", "arrests"], min_points=1)
    assets = u[u["metric"] == "assets_seized"]
    assert sorted(assets["unit_std"]) == ["BTC", "USD"] and (assets["update_no"] == 1).all()


def test_charts_draw() -> None:
    u = so.revision_updates(figures(NZ + WORLD), OPERATIONS, metrics="arrests")
    fig = so.revisions_plot(u, u["jurisdiction"], caption="Source: test.")
    assert fig.axes[0].get_xscale() == "log"
    ops = pd.DataFrame({"operation_id": ["op"], "takedown_date": pd.to_datetime(["2021-06-08"])})
    c = so.capture_shares(u, (6,), first_within=None)
    covered = c[c["status"] == "covered"]
    fig = so.capture_plot(covered, covered["jurisdiction"])
    assert fig.axes[0].get_xlim()[0] == 0
    assert ops is not None
