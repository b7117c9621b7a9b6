"""Saturating growth from the first release: anchored curve, plateau at or above the largest
reported value, bands never below the first value, refusals with reasons, warnings kept."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import sting_outcomes as so
from sting_outcomes.analysis.growth import SaturatingFit, fit_saturating, fit_series, identified, saturating

# ANOM-like: 224 on the action day, levelling off at 400 (the acceptance case of the issue)
ACCEPT_T = [0, 3, 6, 12, 36]
ACCEPT_Y = [224, 300, 380, 392, 400]
# a series that has levelled off: an unconstrained curve would put its plateau below 400
LEVELLED_T = [0.2, 0.7, 4.6, 6.0, 6.4, 12.4, 35.8, 51.8, 52.7]
LEVELLED_Y = [268, 287, 300, 311, 340, 383, 392, 392, 400]


def frame(rows: list[tuple]) -> pd.DataFrame:
    """rows of (operation, jurisdiction, months, value[, falls]) in the so.series() layout."""
    rows = [(*r, False) if len(r) == 4 else r for r in rows]
    df = pd.DataFrame(rows, columns=["operation_id", "jurisdiction", "months_since_takedown", "value_std", "falls"])
    df["metric"] = "arrests"
    df["category"] = pd.array([pd.NA] * len(df), dtype="string")
    return df


def min_rss_at(fit: SaturatingFit, A: float) -> float:
    """Smallest residual sum of squares over k with the plateau held at A (profiling k out)."""
    t, y = fit.t, fit.y

    def rss(log_k: float) -> float:
        return float(np.sum((saturating(t, A, np.exp(log_k), fit.y0, fit.t0) - y) ** 2))

    grid = np.linspace(-12, 6, 2000)
    start = grid[np.argmin([rss(v) for v in grid])]
    return float(optimize.minimize_scalar(rss, bracket=(start - 0.01, start, start + 0.01)).fun)


def test_acceptance_case_through_the_public_api() -> None:
    fit = so.fit_saturating(t=ACCEPT_T, y=ACCEPT_Y)
    start = fit.predict([0.0])["fit"].iloc[0]
    assert start == pytest.approx(224, rel=0.05)
    assert start == pytest.approx(224, abs=1e-9)  # the curve is anchored at the first release
    assert fit.A >= 400
    assert fit.A_ci[0] >= 400 and fit.A_ci[0] >= 0
    assert fit.A_ci[0] <= fit.A <= fit.A_ci[1] < np.inf
    assert fit.n == 5 and fit.dof == 2  # the anchor carries no residual
    assert fit.first_share == pytest.approx(224 / fit.A)
    assert fit.first_share_ci == pytest.approx((224 / fit.A_ci[1], 224 / fit.A_ci[0]))


def test_exact_data_recovered_with_offset() -> None:
    t = np.array([0.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    y = saturating(t, 500.0, 0.1, y0=100.0)
    # by hand: y(2) = 100 + 400 (1 - e^-0.2) = 172.51
    assert y[1] == pytest.approx(172.5077, abs=1e-4)
    fit = fit_saturating(t, y)
    assert fit.A == pytest.approx(500.0, rel=1e-6)
    assert fit.k == pytest.approx(0.1, rel=1e-6)
    assert fit.half_life == pytest.approx(np.log(2) / 0.1, rel=1e-6)
    assert fit.first_share == pytest.approx(100 / 500, rel=1e-6)
    assert fit.A_ci == pytest.approx((500.0, 500.0), rel=1e-4)  # no scatter: no uncertainty


def test_offset_origin_before_the_action_day() -> None:
    t = np.array([-1.0, 1.0, 3.0, 7.0, 15.0])
    fit = fit_saturating(t, saturating(t, 300.0, 0.2, y0=50.0, t0=-1.0))
    assert fit.t0 == -1.0 and fit.y0 == 50.0
    assert fit.A == pytest.approx(300.0, rel=1e-6)
    pred = fit.predict([-2.0, -1.0, 4.0])
    assert np.isnan(pred["fit"].iloc[0]) and np.isnan(pred["lower"].iloc[0])  # nothing before the first release
    assert pred["fit"].iloc[1] == pytest.approx(50.0)
    assert pred["fit"].iloc[2] == pytest.approx(50 + 250 * (1 - np.exp(-0.2 * 5)))


def test_plateau_never_below_largest_reported_value() -> None:
    with pytest.warns(UserWarning, match="largest reported value"):
        fit = fit_saturating(LEVELLED_T, LEVELLED_Y)
    # least squares wants a plateau below 400; the constraint holds it at 400
    assert fit.A >= 400 and fit.A == pytest.approx(400, abs=0.01)
    assert fit.A_ci[0] >= 400
    assert 400 < fit.A_ci[1] < 500
    assert (fit.predict(np.linspace(0.2, 200, 50))["fit"] <= fit.A + 1e-9).all()


def test_plateau_interval_is_the_likelihood_ratio_interval() -> None:
    fit = fit_saturating(ACCEPT_T, ACCEPT_Y)
    q = stats.t.ppf(0.975, fit.dof)
    threshold = fit.rss * (1 + q**2 / fit.dof)
    # at the upper end of the interval the best curve is just on the threshold ...
    assert min_rss_at(fit, fit.A_ci[1]) == pytest.approx(threshold, rel=0.01)
    # ... beyond it every curve is worse, inside some curve is better
    assert min_rss_at(fit, fit.A_ci[1] * 1.05) > threshold
    assert min_rss_at(fit, (fit.A + fit.A_ci[1]) / 2) < threshold


def test_bands_never_below_the_first_value_or_zero() -> None:
    # a count that starts at 0 with a lot of scatter: a symmetric band would go negative
    t = [0.0, 1.0, 2.0, 4.0, 6.0, 12.0]
    y = [0.0, 9.0, 3.0, 14.0, 8.0, 15.0]
    with pytest.warns(UserWarning) as record:
        fit = fit_saturating(t, y)
    assert "straight line" in " | ".join(str(w.message) for w in record)
    band = fit.predict(np.linspace(0.0, 30.0, 121))
    assert (band["lower"] >= 0).all()
    assert (band["lower"] <= band["fit"] + 1e-9).all() and (band["fit"] <= band["upper"] + 1e-9).all()
    assert band["lower"].iloc[0] == band["upper"].iloc[0] == 0.0  # zero width at the anchor
    fit2 = fit_saturating(ACCEPT_T, ACCEPT_Y)
    band2 = fit2.predict(np.linspace(0.0, 60.0, 61))
    assert (band2["lower"] >= 224).all()
    pd.testing.assert_frame_equal(band2, fit2.predict(np.linspace(0.0, 60.0, 61)))  # reproducible


def test_open_plateau_when_the_tally_still_rises_in_a_line() -> None:
    t = np.array([0.0, 6.0, 12.0, 24.0, 36.0])
    with pytest.warns(UserWarning, match="straight line fits as well"):
        fit = fit_saturating(t, 100.0 + 10.0 * t)
    assert fit.A_ci[0] >= 460 and fit.A_ci[1] == np.inf


def test_refusals_and_small_sample_warnings() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_saturating([0.0, 3.0], [100.0, 200.0])
    with pytest.raises(ValueError, match="no growth"):
        fit_saturating([0.0, 3.0, 6.0], [100.0, 100.0, 100.0])
    with pytest.raises(ValueError, match="span no time"):
        fit_saturating([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.warns(UserWarning) as record:
        fit = fit_saturating([0.0, 6.0, 12.0], [100.0, 180.0, 200.0])
    texts = " | ".join(str(w.message) for w in record)
    assert "only 3 points" in texts and "no interval" in texts
    assert fit.A_ci == (200.0, np.inf) and fit.dof == 0  # at least the largest value, nothing more
    assert fit.predict([6.0])["lower"].isna().all()


def test_fit_series_refuses_a_two_week_series_with_its_reason() -> None:
    # four releases within a fortnight (Ghost-like): not a growth curve
    df = frame([("ghost", "AU", 0.0, 38.0), ("ghost", "AU", 0.033, 38.0), ("ghost", "AU", 0.164, 46.0)])
    df = pd.concat([df, frame([("ghost", "AU", 0.493, 46.0)])], ignore_index=True)
    out = fit_series(df)
    row = out.iloc[0]
    assert row["reason"] == "spans 0.5 months (< 6)"
    assert row["fit"] is None and not row["identified"] and np.isnan(row["A"])
    assert row["n"] == 4 and row["span_months"] == pytest.approx(0.493)
    assert row["first_value"] == 38.0 and row["largest_reported"] == 46.0
    short = fit_series(frame([("op", "AU", 0.0, 10.0), ("op", "AU", 8.0, 20.0), ("op", "AU", 20.0, 25.0)]))
    assert short["reason"].iloc[0] == "3 points (< 4)"
    assert fit_series(df, min_span_months=0.25)["reason"].isna().all()  # the rule is a parameter


def test_fit_series_records_every_warning_and_raises_none() -> None:
    df = frame(
        [("op", "AU", 0.0, 100.0), ("op", "AU", 4.0, 160.0), ("op", "AU", 9.0, 185.0), ("op", "AU", 14.0, 197.0)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes: warnings go to the column
        out = fit_series(df)
    row = out.iloc[0]
    assert isinstance(row["fit"], SaturatingFit) and pd.isna(row["reason"])
    assert "only 4 points" in row["warning"]
    assert row["warning"] == "; ".join(row["fit"].warnings)


def test_fit_series_leaves_out_falling_points() -> None:
    rows = [("op", "AU", 0.0, 100.0), ("op", "AU", 6.0, 150.0), ("op", "AU", 12.0, 180.0)]
    rows += [("op", "AU", 24.0, 50.0, True), ("op", "AU", 36.0, 200.0)]  # 50 is a narrower count
    out = fit_series(frame(rows))
    row = out.iloc[0]
    assert row["n"] == 4 and row["n_falls"] == 1
    assert 50.0 not in row["fit"].y and row["largest_reported"] == 200.0
    assert row["A"] >= 200 and row["A_low"] >= 200
    # with only three points left the series is refused, and the reason says why
    refused = fit_series(frame([*rows[:2], rows[3], rows[4]]))
    assert refused["reason"].iloc[0] == "3 points after leaving out 1 falling (< 4)"


def test_fit_series_columns_and_identified() -> None:
    rows = [("a", "AU", float(tt), float(v)) for tt, v in zip(ACCEPT_T, ACCEPT_Y)]
    rows += [("b", "AU", float(tt), 100.0 + 10.0 * tt) for tt in (0, 6, 12, 24, 36)]  # still rising: open
    rows += [("c", "AU", np.nan, 5.0), ("c", "AU", np.nan, 6.0)]
    out = fit_series(frame(rows))
    for col in ["n", "span_months", "A", "A_low", "A_high", "k", "half_life", "first_value", "largest_reported"]:
        assert col in out
    for col in ["first_share", "identified", "warning", "reason", "fit"]:
        assert col in out
    a, b, c = (out.loc[out["operation_id"].eq(op)].iloc[0] for op in "abc")
    assert a["identified"] and a["A_high"] < 10 * 400
    assert a["first_share"] == pytest.approx(224 / a["A"])
    assert not b["identified"] and b["A_high"] == np.inf and "straight line" in b["warning"]
    assert "missing action-day date" in c["reason"]
    # identified(): the plateau interval must stay below `limit` times the largest value
    strict = identified(out, limit=a["A_high"] / 400 * 0.99)
    assert not strict.loc[strict["operation_id"].eq("a"), "identified"].iloc[0]


def test_saturating_keeps_the_two_parameter_form() -> None:
    t = np.array([0.0, 1.0, 5.0])
    assert saturating(t, 1000.0, 0.2) == pytest.approx(1000 * (1 - np.exp(-0.2 * t)))
    assert np.isnan(saturating(-1.0, 1000.0, 0.2))


def test_tallies_plot_zero_floor_legend_outside_and_bands_from_predict() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from sting_outcomes import plots

    rows = [("a", "AU", float(tt), float(v)) for tt, v in zip(ACCEPT_T, ACCEPT_Y)]
    rows += [("b", "AU", float(tt), float(v)) for tt, v in zip([0, 2, 4, 6, 12], [0, 5, 3, 9, 10])]
    df = frame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fits = fit_series(df)
    fig = plots.tallies_plot(df, fits, caption="Source: hand-made figures.")
    try:
        ax = fig.axes[0]
        assert ax.get_ylim()[0] == 0
        assert ax.get_xlabel() == "months since the action day"
        fig.canvas.draw()
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 >= ax.get_window_extent().x1  # beside the data, not on it
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2
        assert min(float(np.nanmin(b.get_paths()[0].vertices[:, 1])) for b in bands) >= 0
        colours = {tuple(line.get_color()) for line in ax.lines if line.get_linestyle() == "-"}
        assert len(colours) == 2  # one distinct colour per series
    finally:
        plt.close(fig)
