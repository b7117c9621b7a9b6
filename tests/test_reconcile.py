"""Totals against their parts within one release: fixtures, then the real data."""

from __future__ import annotations

from pathlib import Path

import pytest

import sting_outcomes as so
from conftest import read_csv, write_csv
from sting_outcomes.analysis.reconcile import part_sums


def add_rows(data: Path, rows: list[dict]) -> None:
    figures = read_csv(data / "figures.csv")
    template = figures[0]
    write_csv(data / "figures.csv", figures + [dict(template, **r) for r in rows])


def test_state_parts_within_the_national_total(mini_data: Path) -> None:
    # op-one-0001 is 224 arrests in AU; add two states adding to 200
    add_rows(
        mini_data,
        [
            {"figure_id": "op-one-0101", "jurisdiction": "AU-NSW", "value": "150"},
            {"figure_id": "op-one-0102", "jurisdiction": "AU-VIC", "value": "50"},
        ],
    )
    result = part_sums(so.load(mini_data)).set_index("total_id")
    assert result.loc["op-one-0001", "parts_sum"] == 200
    assert result.loc["op-one-0001", "ok"]


def test_parts_above_the_total_fail_unless_the_note_explains(mini_data: Path) -> None:
    add_rows(
        mini_data,
        [
            {"figure_id": "op-one-0101", "jurisdiction": "AU-NSW", "value": "200"},
            {"figure_id": "op-one-0102", "jurisdiction": "AU-VIC", "value": "50"},
        ],
    )
    result = part_sums(so.load(mini_data)).set_index("total_id")
    assert not result.loc["op-one-0001", "ok"]
    figures = read_csv(mini_data / "figures.csv")
    figures[0]["note"] = "State counts do not add up: they include later arrests."
    write_csv(mini_data / "figures.csv", figures)
    assert part_sums(so.load(mini_data)).set_index("total_id").loc["op-one-0001", "ok"]


def test_substances_compare_in_kilograms(mini_data: Path) -> None:
    # a 3.7 tonne total (no category) against 3,000 kg cocaine + 800 kg cannabis: 3.8 t > 3.7 t
    add_rows(
        mini_data,
        [
            {"figure_id": "op-one-0101", "metric": "drugs_seized", "category": "", "value": "3.7", "unit": "tonne"},
            {
                "figure_id": "op-one-0102",
                "metric": "drugs_seized",
                "category": "cocaine",
                "value": "3000",
                "unit": "kg",
            },
            {
                "figure_id": "op-one-0103",
                "metric": "drugs_seized",
                "category": "cannabis",
                "value": "800",
                "unit": "kg",
            },
        ],
    )
    result = part_sums(so.load(mini_data)).set_index("total_id")
    assert result.loc["op-one-0101", "kind"] == "substance"
    assert result.loc["op-one-0101", "total"] == 3700 and result.loc["op-one-0101", "parts_sum"] == 3800
    assert not result.loc["op-one-0101", "ok"]


def test_real_totals_and_parts_reconcile() -> None:
    result = part_sums(so.load())
    assert len(result) > 0
    bad = result[~result["ok"]]
    assert bad.empty, "parts exceed their total without a note saying why:\n" + bad.to_string()


def test_money_parts_compared_in_one_currency(mini_data) -> None:
    """A EUR total and a GBP part of one release (as Dark HunTor's NCA release gives them,
    dark-huntor-5006 and -0033) are compared in USD at the release date, not as raw numbers."""
    from test_normalize import raw_ecb_rates

    rows = read_csv(mini_data / "figures.csv")
    base = {
        **rows[0],
        "operation_id": "op-one",
        "source_id": "agency-a-2021-06-08",
        "metric": "money_seized",
        "category": "",
        "value_high": "",
        "qualifier": "exact",
        "as_of": "2021-06-08",
        "scope": "total",
        "note": "",
    }
    rows += [
        {**base, "figure_id": "op-one-0101", "jurisdiction": "global", "value": "26700000", "unit": "EUR"},
        {**base, "figure_id": "op-one-0102", "jurisdiction": "GB", "value": "220000", "unit": "GBP"},
    ]
    write_csv(mini_data / "figures.csv", rows, header=list(rows[0]))
    ds = so.load(mini_data)
    row = part_sums(ds).set_index("total_id").loc["op-one-0101"]
    usd, gbp = raw_ecb_rates("USD")["2021-06-08"], raw_ecb_rates("GBP")["2021-06-08"]
    assert row["total"] == pytest.approx(26_700_000 * usd)
    assert row["parts_sum"] == pytest.approx(220_000 * usd / gbp)
    assert row["ok"]
