"""Drugs by substance, money by kind in USD and EUR, and constant dollars (CPI-U)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from shapes import figure_rows

OPERATIONS = pd.DataFrame({"operation_id": ["op"], "takedown_date": pd.to_datetime(["2021-06-08"])})


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, jurisdiction, metric, category, value, unit, qualifier, as_of)."""
    cols = ["figure_id", "jurisdiction", "metric", "category", "value", "unit", "qualifier", "as_of"]
    return figure_rows([(*r, f"{r[0]}-src") for r in rows], [*cols, "source_id"])


def test_drugs_in_kg_by_substance_pills_apart_and_subnational_listed() -> None:
    f = figures(
        [
            ("d1", "global", "drugs_seized", "cocaine", 3.7, "tonne", "exact", "2021-06-08"),
            ("d2", "global", "drugs_seized", None, 8000, "kg", "at_least", "2021-06-08"),
            ("d3", "global", "drug_pills_seized", "mdma", 25000, "pills", "exact", "2021-06-08"),
            ("d4", "AU-NSW", "drugs_seized", "cocaine", 500, "kg", "exact", "2021-06-08"),
            ("d5", "global", "drugs_seized", "cocaine", 4.0, "tonne", "exact", "2022-01-08"),
        ]
    )
    d = so.drug_seizures(f, OPERATIONS, horizons=(12,))
    assert set(d["jurisdiction"]) == {"global"}  # the state count is a part, left out here
    coke = d[(d["metric"] == "drugs_seized") & (d["category"] == "cocaine")].iloc[0]
    assert coke["first_value"] == pytest.approx(3700) and coke["value_12m"] == pytest.approx(4000)
    assert coke["first_date"] == "2021-06-08" and coke["first_source_kind"] == "primary"
    total = d[(d["metric"] == "drugs_seized") & d["category"].isna()].iloc[0]
    assert total["first_upper"] == np.inf
    pills = d[d["metric"] == "drug_pills_seized"].iloc[0]
    assert pills["unit_std"] == "pills" and pills["first_value"] == 25000
    assert so.subnational(f, ["drugs_seized"]).to_dict("records") == [
        {"operation_id": "op", "jurisdiction": "AU-NSW", "figures": 1}
    ]


def test_money_by_kind_in_usd_and_eur_coins_kept_apart() -> None:
    f = figures(
        [
            ("m1", "global", "cash_seized", None, 1_000_000, "EUR", "exact", "2021-06-08"),
            ("m2", "global", "cryptocurrency_seized", None, 543, "BTC", "exact", "2021-06-08"),
            ("m3", "global", "money_seized", None, 48_000_000, "USD", "at_least", "2021-06-08"),
        ]
    )
    m = so.money_seizures(f, OPERATIONS, horizons=(12,)).set_index("kind")
    cash = m.loc["cash"]
    assert cash["first_eur"] == pytest.approx(1_000_000)  # EUR stays EUR
    eur_usd = f.loc[f["figure_id"] == "m1", "value_usd"].iloc[0] / 1_000_000
    assert cash["first_value"] == pytest.approx(1_000_000 * eur_usd) and cash["first_reported"] == "EUR 1,000,000"
    coins = m.loc["cryptocurrency"]
    assert coins["unit_std"] == "BTC" and np.isnan(coins["first_eur"]) and coins["first_value"] == 543
    combined = m.loc["cash, crypto and assets as one value"]
    assert combined["first_value"] == 48_000_000 and np.isinf(combined["first_eur_upper"])


def test_constant_dollars_hand_computed() -> None:
    # CPI-U annual averages (BLS series CUUR0000SA0): 2013 = 232.957, 2025 = 321.943
    info = so.cpi_info()
    assert info["series"] == "CUUR0000SA0" and "annual average" in info["index"]
    out = so.constant_dollars([100.0, 100.0], [2013, 2025], base_year=2025)
    assert out["value_const"].tolist() == pytest.approx([100 * 321.943 / 232.957, 100.0])
    latest = info["latest_year"]
    missing = so.constant_dollars([100.0], [latest + 1])
    assert bool(missing["cpi_missing"].iloc[0]) and np.isnan(missing["value_const"].iloc[0])
    with pytest.raises(ValueError, match="no CPI-U annual average"):
        so.constant_dollars([1.0], [2020], base_year=latest + 5)


def test_cpi_loads_without_its_stale_data_warning() -> None:
    code = "from sting_outcomes.analysis.seizures import cpi_info; print(cpi_info()['latest_year'])"
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 2024


def test_money_chart_draws_on_a_log_axis() -> None:
    f = figures([("m1", "global", "cash_seized", None, 1_000_000, "EUR", "exact", "2021-06-08")])
    m = so.money_seizures(f, OPERATIONS).assign(where="op")
    fig = so.money_plot(m, label="where", caption="Source: test.")
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="no positive values"):
        so.money_plot(m.assign(first_value=0.0), label="where")
