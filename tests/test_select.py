"""latest(), conflicts() and series() on small hand-made fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from shapes import shaped
from sting_outcomes.analysis.conflicts import conflicts
from sting_outcomes.analysis.snapshots import DAYS_PER_MONTH, latest, series

SOURCES = pd.DataFrame(
    {
        "source_id": pd.array(["agency", "agency2", "paper", "wiki"], dtype="string"),
        "source_kind": pd.Categorical(
            ["primary", "primary", "secondary", "secondary"], categories=["primary", "secondary"]
        ),
    }
)
OPERATIONS = pd.DataFrame(
    {
        "operation_id": pd.array(["op", "op2"], dtype="string"),
        "covert_start": pd.to_datetime(["2018-10-01", None]).astype("datetime64[s]"),
        "takedown_date": pd.to_datetime(["2021-06-08", "2020-01-01"]).astype("datetime64[s]"),
    }
)


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, source_id, jurisdiction, metric, category, value, unit, qualifier, as_of)."""
    cols = ["figure_id", "source_id", "jurisdiction", "metric", "category", "value", "unit", "qualifier", "as_of"]
    frame = pd.DataFrame(rows, columns=cols)
    frame.insert(1, "operation_id", "op")
    frame["value_high"] = np.nan
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[s]")
    frame["as_of_precision"] = pd.Categorical(["day"] * len(frame), categories=["day", "month"])
    for col in ("figure_id", "operation_id", "source_id", "jurisdiction", "category"):
        frame[col] = frame[col].astype("string")
    for col in ("metric", "unit", "qualifier"):
        frame[col] = frame[col].astype("category")
    return frame


SNAPSHOTS = shaped(
    figures(
        [
            ("a1", "agency", "global", "arrests", None, 800, "count", "exact", "2021-06-08"),
            ("a2", "paper", "global", "arrests", None, 810, "count", "exact", "2021-06-08"),
            ("a3", "paper", "global", "arrests", None, 900, "count", "at_least", "2021-07-01"),
            ("a4", "agency", "global", "arrests", None, 1000, "count", "exact", "2022-06-01"),
            ("d1", "agency", "global", "drugs_seized", None, 8, "tonne", "exact", "2021-06-08"),
            ("d2", "agency", "global", "drugs_seized", "cocaine", 6, "tonne", "exact", "2021-06-08"),
            ("d3", "paper", "global", "drugs_seized", "cocaine", 6500, "kg", "exact", "2021-06-09"),
            ("u1", "wiki", "AU", "arrests", None, 224, "count", "exact", "2021-06-08"),
        ]
    ),
    SOURCES,
)


def test_latest_picks_latest_and_keeps_na_category() -> None:
    out = latest(SNAPSHOTS).set_index(["jurisdiction", "metric", "category"], drop=False)
    assert len(out) == 4  # global arrests, global drugs total (NA), global cocaine, AU arrests
    assert out["figure_id"].tolist() == ["u1", "a4", "d3", "d1"]
    total = out.loc[out["metric"].eq("drugs_seized") & out["category"].isna()]
    assert total["figure_id"].tolist() == ["d1"]
    assert "source_id" in out


def test_latest_as_of_and_primary_preference() -> None:
    out = latest(SNAPSHOTS, as_of="2021-06-30")
    arrests = out.loc[out["metric"].eq("arrests") & out["jurisdiction"].eq("global")].iloc[0]
    assert arrests["figure_id"] == "a1"  # same date as a2, but primary
    assert arrests["source_id"] == "agency"
    assert arrests["n_same_date"] == 2
    out2 = latest(SNAPSHOTS, as_of="2021-06-30", prefer="secondary")
    arrests2 = out2.loc[out2["metric"].eq("arrests") & out2["jurisdiction"].eq("global")].iloc[0]
    assert arrests2["figure_id"] == "a2"


def test_latest_before_any_snapshot_is_empty() -> None:
    assert latest(SNAPSHOTS, as_of="2020-01-01").empty


def test_conflicts_finds_disagreement_between_sources() -> None:
    out = conflicts(SNAPSHOTS, window_days=31, rel_tol=0.02)
    pairs = set(zip(out["figure_id_a"], out["figure_id_b"]))
    # 800 vs 810: 10/810 = 1.2 % < 2 %: no conflict. d2 (6 t) vs d3 (6.5 t): 500/6500 = 7.7 %.
    # a1 exact 800 vs a3 at_least 900 (23 days apart): gap 100 / 900 = 11.1 %.
    assert pairs == {("d2", "d3"), ("a1", "a3")}
    row = out.set_index("figure_id_a").loc["d2"]
    assert row["rel_diff"] == pytest.approx(500 / 6500)
    assert row["days_apart"] == 1
    assert row["value_std_a"] == 6000 and row["value_std_b"] == 6500
    assert (row["unit_a"], row["unit_b"]) == ("tonne", "kg")


def test_conflicts_respects_qualifiers_window_and_tolerance() -> None:
    f = shaped(
        figures(
            [
                ("x1", "agency", "global", "arrests", None, 800, "count", "at_least", "2021-06-08"),
                ("x2", "paper", "global", "arrests", None, 850, "count", "exact", "2021-06-10"),
                ("x3", "wiki", "global", "arrests", None, 1000, "count", "approx", "2021-06-10"),
                ("x4", "agency2", "global", "arrests", None, 2000, "count", "exact", "2021-09-10"),
            ]
        ),
        SOURCES,
    )
    out = conflicts(f)
    pairs = set(zip(out["figure_id_a"], out["figure_id_b"]))
    # at_least 800 vs 850: compatible; approx 1000 (900..1100) vs exact 850: gap 50/1000 = 5 %.
    assert pairs == {("x2", "x3")}
    assert conflicts(f, rel_tol=0.06).empty
    wide = conflicts(f, window_days=100)  # x4 now compared too; at_least 800 fits 2000
    assert set(zip(wide["figure_id_a"], wide["figure_id_b"])) == {("x2", "x3"), ("x2", "x4"), ("x3", "x4")}


def test_conflicts_ignores_same_source() -> None:
    f = shaped(
        figures(
            [
                ("s1", "agency", "global", "arrests", None, 100, "count", "exact", "2021-06-08"),
                ("s2", "agency", "global", "arrests", None, 200, "count", "exact", "2021-06-09"),
            ]
        ),
        SOURCES,
    )
    assert conflicts(f).empty


def test_series_one_point_per_date_with_months() -> None:
    out = series(SNAPSHOTS, OPERATIONS, metrics=["arrests"])
    glob = out.loc[out["jurisdiction"].eq("global")]
    assert glob["figure_id"].tolist() == ["a1", "a3", "a4"]  # a2 loses the tie to primary a1
    assert glob["as_of"].is_monotonic_increasing
    expected = (pd.Timestamp("2022-06-01") - pd.Timestamp("2021-06-08")).days / DAYS_PER_MONTH
    assert glob["months_since_takedown"].tolist() == pytest.approx([0.0, 23 / 30.4375, expected])
    assert glob["n_points"].unique().tolist() == [3]


def test_series_on_loaded_mini_data(mini_data) -> None:
    ds = so.load(mini_data)
    out = series(ds.normalized, ds.operations)
    assert len(out) == 2  # the fixture's op-one-0002 is a part, not a running tally
    assert len(series(ds.normalized, ds.operations, scope=None)) == 3
    assert out.loc[out["figure_id"].eq("op-two-0001"), "months_since_takedown"].iloc[0] == pytest.approx(
        (pd.Timestamp("2021-06-01") - pd.Timestamp("2020-09-22")).days / DAYS_PER_MONTH
    )


def test_parts_are_left_out_of_latest_series_and_conflicts(mini_data) -> None:
    """A part (one follow-up action) is neither the latest tally nor a conflict with a total."""
    import sting_outcomes as so
    from conftest import read_csv, write_csv
    from sting_outcomes.analysis.conflicts import conflicts
    from sting_outcomes.analysis.snapshots import latest, series

    rows = read_csv(mini_data / "figures.csv")
    later_part = dict(
        rows[0], figure_id="op-one-0201", source_id="paper-2021-06", as_of="2021-06", value="30", scope="part"
    )
    write_csv(mini_data / "figures.csv", [*rows, later_part])
    ds = so.load(mini_data)
    arrests = latest(ds.normalized)
    arrests = arrests[arrests["metric"] == "arrests"]
    assert arrests["figure_id"].tolist() == ["op-one-0001"]
    assert latest(ds.normalized, scope=None).query("metric == 'arrests'")["figure_id"].tolist() == ["op-one-0001"]
    assert conflicts(ds.normalized).empty
    assert not conflicts(ds.normalized, scope=None).empty
    assert "op-one-0201" not in set(series(ds.normalized, ds.operations)["figure_id"])


def test_fast_latest_choice_matches_a_plain_sort() -> None:
    """The lexsort-with-tie-blocks choice equals sort_values + drop_duplicates on random data
    full of ties (same key, same date, same source kind)."""
    import numpy as np

    from sting_outcomes.analysis.snapshots import _group_codes, _winners

    rng = np.random.default_rng(7)
    n = 4000
    frame = pd.DataFrame(
        {
            "operation_id": rng.choice(["a", "b", "c"], n),
            "jurisdiction": rng.choice(["AU", "global"], n),
            "metric": rng.choice(["arrests", "charges"], n),
            "category": pd.array(rng.choice(["x", None], n), dtype="string"),
            "as_of": pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 4, n), unit="D"),
            "source_kind": rng.choice(["primary", "secondary"], n),
            "figure_id": [f"f-{i:05d}" for i in rng.permutation(n)],
        }
    )
    by = ["operation_id", "jurisdiction", "metric", "category"]
    fast = frame.iloc[_winners(frame, _group_codes(frame, by), "primary")]
    plain = (
        frame.assign(_r=(frame["source_kind"] != "primary").astype(int))
        .sort_values(["as_of", "_r", "figure_id"], ascending=[False, True, True])
        .drop_duplicates(by)
    )
    assert sorted(fast["figure_id"]) == sorted(plain["figure_id"])
