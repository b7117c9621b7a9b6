"""Saturating growth fits: recovery of known parameters, refusals, per-series fitting."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sting_outcomes.analysis.growth import SaturatingFit, fit_saturating, fit_series, saturating

A_TRUE, K_TRUE = 1000.0, 0.25  # plateau (arrests) and rate (per month)


def noisy_curve(n: int = 20, sd: float = 15.0, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.5, 24.0, n)
    return t, A_TRUE * (1 - np.exp(-K_TRUE * t)) + rng.normal(0.0, sd, n)


def test_recovers_known_parameters() -> None:
    t, y = noisy_curve()
    fit = fit_saturating(t, y)
    assert isinstance(fit, SaturatingFit)
    assert fit.A == pytest.approx(A_TRUE, rel=0.03)
    assert fit.k == pytest.approx(K_TRUE, rel=0.08)
    assert fit.A_ci[0] < A_TRUE < fit.A_ci[1]
    assert fit.n == 20 and fit.dof == 18
    assert fit.cov.shape == (2, 2) and fit.A_se == pytest.approx(np.sqrt(fit.cov[0, 0]))
    assert fit.first_share == pytest.approx(y[0] / fit.A)
    assert fit.half_life == pytest.approx(np.log(2) / fit.k)


def test_exact_data_recovered_exactly() -> None:
    t = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    fit = fit_saturating(t, saturating(t, 500.0, 0.1))
    assert fit.A == pytest.approx(500.0, rel=1e-6)
    assert fit.k == pytest.approx(0.1, rel=1e-6)
    # the first point, 500 (1 - e^-0.1) = 47.58, is 9.5 % of the plateau
    assert fit.first_share == pytest.approx(1 - np.exp(-0.1), rel=1e-6)


def test_predict_band_contains_fit_and_narrows_with_data() -> None:
    t, y = noisy_curve()
    fit = fit_saturating(t, y)
    band = fit.predict([1.0, 6.0, 48.0])
    assert list(band.columns) == ["t", "fit", "lower", "upper"]
    assert (band["lower"] < band["fit"]).all() and (band["fit"] < band["upper"]).all()
    assert band["fit"].iloc[1] == pytest.approx(fit.A * (1 - np.exp(-fit.k * 6.0)))
    t2, y2 = noisy_curve(n=200)
    band2 = fit_saturating(t2, y2).predict([6.0])
    assert (band2["upper"] - band2["lower"]).iloc[0] < (band["upper"] - band["lower"]).iloc[1]


def test_refuses_too_few_points() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        fit_saturating([3.0], [100.0])
    with pytest.raises(ValueError, match="at least 2"):
        fit_saturating([3.0, np.nan], [100.0, 200.0])


def test_warns_on_small_n() -> None:
    t = np.array([1.0, 3.0, 6.0, 12.0])
    with pytest.warns(UserWarning, match="only 4 points"):
        fit = fit_saturating(t, saturating(t, 800.0, 0.3) + np.array([5.0, -5.0, 3.0, -2.0]))
    assert np.isfinite(fit.A_ci).all()


def test_fit_series_fits_and_explains_skips() -> None:
    t, y = noisy_curve(n=8)
    rows = [("op", "global", "arrests", tt, yy) for tt, yy in zip(t, y)]
    rows += [("op", "AU", "arrests", 0.0, 224.0), ("op", "AU", "arrests", 2.0, 300.0)]  # one usable point
    rows += [("op2", "global", "arrests", np.nan, 10.0), ("op2", "global", "arrests", np.nan, 20.0)]
    df = pd.DataFrame(rows, columns=["operation_id", "jurisdiction", "metric", "months_since_takedown", "value_std"])
    df["category"] = pd.array([pd.NA] * len(df), dtype="string")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # per-series warnings are recorded, not raised
        out = fit_series(df)
    assert len(out) == 3
    fitted = out.loc[out["jurisdiction"].eq("global") & out["operation_id"].eq("op")].iloc[0]
    assert pd.isna(fitted["reason"])
    assert fitted["A"] == pytest.approx(A_TRUE, rel=0.05)
    assert isinstance(fitted["fit"], SaturatingFit)
    au = out.loc[out["jurisdiction"].eq("AU")].iloc[0]
    assert "1 usable point" in au["reason"] and np.isnan(au["A"])
    op2 = out.loc[out["operation_id"].eq("op2")].iloc[0]
    assert "takedown" in op2["reason"]
