"""Arrests per million inhabitants, and the sourced population table."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from shapes import figure_rows
from sting_outcomes.paths import DATA_DIR

OPERATIONS = pd.DataFrame(
    {
        "operation_id": ["op"],
        "name": ["Operation"],
        "countries": ["AU;NZ;CA"],
        "takedown_date": pd.to_datetime(["2021-06-08"]),
    }
)
POPULATION = pd.DataFrame(
    {
        "country": ["AU", "AU", "NZ", "SE"],
        "year": [2019, 2022, 2021, 2021],
        "population": [4_000_000.0, 5_000_000.0, 2_000_000.0, 10_000_000.0],
        "source_id": ["p1", "p2", "p3", "p4"],
        "source_kind": ["primary", "primary", "secondary", "primary"],
    }
)


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, jurisdiction, value, qualifier, as_of)."""
    return figure_rows(rows, ["figure_id", "jurisdiction", "value", "qualifier", "as_of"], metric="arrests")


def test_per_million_hand_computed_with_reasons() -> None:
    f = figures(
        [
            ("a1", "AU", 50, "exact", "2021-06-08"),
            ("a2", "NZ", 10, "at_least", "2021-06-08"),
            ("a3", "SE", 20, "exact", "2021-06-08"),
            ("a4", "AU-NSW", 30, "exact", "2021-06-08"),
        ]
    )
    r = so.per_million(f, OPERATIONS, POPULATION, operation_ids=["op"]).set_index("country")
    au = r.loc["AU"]
    # 2022 is one year from the action day, 2019 two: 50 / 5,000,000 * 1e6 = 10 per million
    assert au["population_year"] == 2022 and au["year_gap"] == 1 and au["rate"] == pytest.approx(10.0)
    low, high = so.garwood(50)
    assert au["rate_low"] == pytest.approx(low / 5) and au["rate_high"] == pytest.approx(high / 5)
    nz = r.loc["NZ"]
    assert nz["rate"] == pytest.approx(5.0) and np.isinf(nz["bound_high"]) and nz["population_kind"] == "secondary"
    assert r.loc["SE", "rate"] == pytest.approx(2.0)  # reported, though not in the operation's list
    assert r.loc["CA", "reason"] == "no national arrests figure; no sourced population"
    assert "AU-NSW" not in r.index  # a state count is a part of the national one
    assert (r.drop(index="CA")["reason"] == "").all()


def test_per_million_at_a_horizon_flags_a_series_that_stopped() -> None:
    f = figures([("a1", "AU", 50, "exact", "2021-06-08"), ("a2", "AU", 80, "exact", "2022-01-08")])
    r = so.per_million(f, OPERATIONS, POPULATION, operation_ids=["op"], horizon=12).set_index("country")
    au = r.loc["AU"]
    assert au["value"] == 80 and bool(au["short"]) and np.isinf(au["bound_high"])
    assert r.loc["NZ", "reason"] == "no national arrests figure"
    with pytest.raises(ValueError):
        so.per_million(f, OPERATIONS, POPULATION, horizon=24)


def test_population_table_joins_sources_and_reads_the_resource() -> None:
    sources = pd.DataFrame(
        {
            "source_id": ["p1"],
            "source_kind": ["primary"],
            "publisher": ["Office"],
            "url": ["https://example.org"],
            "published": pd.to_datetime(["2022-01-01"]),
        }
    )
    ds = SimpleNamespace(
        population=POPULATION.drop(columns="source_kind").assign(locator="x", note=""), sources=sources
    )
    table = so.population_table(ds)
    assert table.loc[table["source_id"] == "p1", "publisher"].tolist() == ["Office"]
    assert table["year"].dtype == "Int64"


def test_real_population_rows_are_sourced_and_whole() -> None:
    with (DATA_DIR / "population.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with (DATA_DIR / "sources.csv").open(newline="", encoding="utf-8") as fh:
        sources = {r["source_id"]: r for r in csv.DictReader(fh)}
    assert rows
    keys = [(r["country"], r["year"]) for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert r["source_id"] in sources and r["locator"]
        assert r["population"].isdigit() and r["year"].isdigit() and len(r["year"]) == 4
        import pycountry

        assert pycountry.countries.get(alpha_2=r["country"]) is not None, r["country"]


def test_real_dataset_gives_the_population_table() -> None:
    ds = so.load()
    table = so.population_table(ds)
    assert {"AU", "GB", "NL", "DE"} <= set(table["country"])
    assert table["source_kind"].notna().all()


def test_per_million_plot_draws() -> None:
    f = figures([("a1", "AU", 50, "exact", "2021-06-08")])
    r = so.per_million(f, OPERATIONS, POPULATION, operation_ids=["op"])
    fig = so.per_million_plot(r, caption="Source: test.")
    assert fig.axes[0].get_xlim()[0] == 0
