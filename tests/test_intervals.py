"""Exact Poisson (Garwood) intervals and rates widened by the qualifiers' bounds."""

from __future__ import annotations

import numpy as np
import pytest

import sting_outcomes as so


def test_garwood_hand_values() -> None:
    # chi2.ppf(0.975, 2) / 2 = 3.6889; for k = 10: chi2.ppf(0.025, 20)/2 = 4.7954, chi2.ppf(0.975, 22)/2 = 18.3904
    low, high = so.garwood([0, 10])
    assert low[0] == 0 and high[0] == pytest.approx(3.6889, abs=1e-4)
    assert low[1] == pytest.approx(4.7954, abs=1e-4) and high[1] == pytest.approx(18.3904, abs=1e-4)


def test_garwood_refuses_negative_counts_and_keeps_nan_and_inf() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        so.garwood([-1])
    low, high = so.garwood([np.nan, np.inf])
    assert np.isnan(low[0]) and np.isnan(high[0]) and low[1] == np.inf and high[1] == np.inf


def test_rate_bounds_carry_qualifiers() -> None:
    # 10 arrests, exact; 1,000 devices "more than" (upper bound open): rate 10 per 1,000.
    out = so.rate_bounds([10], [10], [10], [1000], [1000], [np.inf])
    row = out.iloc[0]
    assert row["rate"] == pytest.approx(10.0)
    assert row["rate_low"] == pytest.approx(4.7954, abs=1e-3) and row["rate_high"] == pytest.approx(18.3904, abs=1e-3)
    assert row["bound_low"] == 0.0  # the exposure may be arbitrarily large
    assert row["bound_high"] == pytest.approx(18.3904, abs=1e-3)
    # "more than 10" arrests over exactly 1,000 devices: no finite upper end
    out = so.rate_bounds([10], [10], [np.inf], [1000], [1000], [1000])
    assert out.loc[0, "bound_high"] == np.inf and out.loc[0, "bound_low"] == pytest.approx(4.7954, abs=1e-3)
