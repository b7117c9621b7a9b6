"""The faster paths give exactly what the plain ones give.

Each test keeps the straightforward algorithm a helper used before it was sped up (one
fit per resample on a new frame, one ``pick_latest`` per window, one ``series`` call per
unit, one ``per_scale`` call per specification) and checks that the helper's answer is
identical to it, bit for bit, on simulated and on the real data.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from sting_outcomes import plots
from sting_outcomes.analysis import funnel as funnel_module
from sting_outcomes.analysis.models import fit_arrests_glm
from sting_outcomes.analysis.scale import SCALE_DEFINITIONS, SOURCE_CHOICES
from sting_outcomes.analysis.snapshots import pick_latest, series
from sting_outcomes.analysis.timing import effective_series, flag_falls
from test_models import simulate

# Resamples with a level drawn a few times push the quasi-Poisson fit to huge coefficients;
# both paths warn alike, and what is compared is the result.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")


@pytest.fixture(scope="module")
def ds():
    return so.load()


# -- bootstrap ------------------------------------------------------------------------------
def reference_bootstrap(frame: pd.DataFrame, n_boot: int, seed: int, **kwargs) -> tuple[pd.DataFrame, dict]:
    """Draws and discards of the bootstrap as a new frame and a full fit per resample."""
    full = fit_arrests_glm(frame, **kwargs)
    data = frame.loc[frame["operation_id"].astype(str).isin(full.operations)].reset_index(drop=True)
    terms = full.coefficients["term"].tolist()
    rng = np.random.default_rng(seed)
    draws, discarded = [], {"a level drawn fewer than two times": 0, "fit failed": 0}
    for _ in range(n_boot):
        sample = data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)
        sample["operation_id"] = [f"{o}#{i}" for i, o in enumerate(sample["operation_id"].astype(str))]
        try:
            fit = fit_arrests_glm(sample, **kwargs)
        except (ValueError, np.linalg.LinAlgError):
            discarded["fit failed"] += 1
            continue
        got = fit.coefficients.set_index("term")["estimate"]
        if len(fit.refused) or not set(terms) <= set(got.index) or not np.isfinite(got.reindex(terms)).all():
            discarded["a level drawn fewer than two times"] += 1
            continue
        draws.append(got.reindex(terms).to_numpy())
    arr = np.array(draws).reshape(-1, len(terms))
    tail = (1 - 0.95) / 2 * 100  # as bootstrap() computes it (not exactly 2.5)
    low, high = np.percentile(arr, tail, axis=0), np.percentile(arr, 100 - tail, axis=0)
    return pd.DataFrame({"term": terms, "boot_low": low, "boot_high": high}), {k: v for k, v in discarded.items() if v}


def awkward_frame() -> pd.DataFrame:
    """Missing and zero values, a level with no arrests at all, text (not categorical) levels."""
    frame = simulate(16, seed=6)
    frame["approach"] = frame["approach"].astype(str)
    frame.loc[frame["approach"].eq("sweep"), "arrests"] = 0.0
    frame.loc[[2, 7], "arrests"] = np.nan
    frame.loc[3, "devices"] = 0.0
    return frame


@pytest.mark.parametrize("family", ["quasipoisson", "negbin"])
@pytest.mark.parametrize("make", [lambda: simulate(9), awkward_frame])
def test_bootstrap_matches_one_full_fit_per_resample(make, family) -> None:
    frame = make()
    got = so.bootstrap(frame, n_boot=80, seed=5, covariates="approach", family=family)
    table, discarded = reference_bootstrap(frame, 80, 5, covariates="approach", family=family)
    pd.testing.assert_frame_equal(got.table[["term", "boot_low", "boot_high"]], table, check_exact=True)
    assert got.discarded == discarded


def test_bootstrap_on_real_data_matches_one_full_fit_per_resample(ds) -> None:
    frame = so.model_frame(ds.normalized, ds.operations, exposure="users")
    kwargs = {"exposure": "users", "covariates": ("approach", "target")}
    got = so.bootstrap(frame, n_boot=120, seed=20210608, **kwargs)
    table, discarded = reference_bootstrap(frame, 120, 20210608, **kwargs)
    pd.testing.assert_frame_equal(got.table[["term", "boot_low", "boot_high"]], table, check_exact=True)
    assert got.discarded == discarded and "fit failed" in discarded  # both kinds of discard occur


# -- multiverses ----------------------------------------------------------------------------
def test_multiverse_matches_one_per_scale_call_per_specification(ds) -> None:
    figures, ops = ds.normalized, ds.operations
    rows = [
        so.per_scale(figures, ops, denominator=d, horizon=h, sources=s)
        for d in SCALE_DEFINITIONS
        for h in ("first", 12, 36)
        for s in SOURCE_CHOICES
    ]
    expected = pd.concat(rows, ignore_index=True)
    expected = expected.loc[expected["reason"].eq("")].reset_index(drop=True)
    got = so.multiverse(figures, ops)
    pd.testing.assert_frame_equal(got.drop(columns=["rank", "n_rated"]), expected, check_exact=True)


def test_model_multiverse_matches_one_model_frame_per_specification(ds) -> None:
    figures, ops = ds.normalized, ds.operations
    got = so.model_multiverse(figures, ops, exposures=("users", "devices"), horizons=("first", 12))
    for (exposure, horizon, source), rows in got.groupby(["exposure", "horizon", "sources"], sort=False):
        h = "first" if horizon == "first release" else int(horizon.split()[0])
        frame = so.model_frame(figures, ops, exposure=exposure, horizon=h, sources=source)
        if rows["term"].eq("").all():
            assert rows["n"].iloc[0] == len(frame)
            continue
        fit = so.fit_arrests_glm(frame, exposure=exposure)
        assert rows["rate_ratio"].tolist() == fit.coefficients["rate_ratio"].tolist()


# -- funnel windows -------------------------------------------------------------------------
def reference_windows(frame: pd.DataFrame, window_days: int, prefer: str | None) -> pd.DataFrame:
    """Cohorts of a window as one pick_latest per (operation, place, start date)."""
    width = pd.Timedelta(days=window_days)
    parts, n = [], 0
    for _, group in frame.groupby(["operation_id", "jurisdiction"], observed=True, sort=True):
        chosen: list[tuple[frozenset, pd.DataFrame]] = []
        for start in sorted(group["as_of"].unique()):
            picked = pick_latest(group.loc[group["as_of"].between(start, start + width)], ["stage"], prefer)
            ids = frozenset(picked["figure_id"].astype(str))
            if any(ids <= other for other, _ in chosen):
                continue
            chosen = [(other, p) for other, p in chosen if not other < ids]
            chosen.append((ids, picked))
        for _, picked in chosen:
            parts.append(picked.assign(_cohort=n, cohort_start=picked["as_of"].min(), cohort_end=picked["as_of"].max()))
            n += 1
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("window_days", [1, 7, 31, 365, 5000])
@pytest.mark.parametrize("prefer", ["primary", None])
def test_funnel_windows_match_one_pick_per_window(ds, monkeypatch, window_days, prefer) -> None:
    got = so.funnel(ds.normalized, window_days=window_days, prefer=prefer)
    monkeypatch.setattr(funnel_module, "_windows", reference_windows)
    expected = so.funnel(ds.normalized, window_days=window_days, prefer=prefer)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


# -- effective series -----------------------------------------------------------------------
def reference_effective_series(figures: pd.DataFrame, operations: pd.DataFrame, metrics, prefer) -> pd.DataFrame:
    """effective_series as one series() call per standard unit."""
    units = figures["unit_std"].astype("string").fillna("")
    parts = []
    for u in sorted(units.unique()):
        subset = figures.loc[units.eq(u).to_numpy()]
        here = set(subset["metric"].astype(str))
        wanted = [m for m in metrics if m in here] if metrics is not None else None
        if wanted is None or wanted:
            parts.append(series(subset, operations, metrics=wanted, prefer=prefer))
    points = pd.concat(parts, ignore_index=True)
    points = points.drop(columns=["falls", "fell_from", "fell_from_value"]).reset_index(drop=True)
    points = flag_falls(points, by=["operation_id", "jurisdiction", "metric", "category", "unit_std"])
    points["as_of_stated"] = points["as_of"]
    points["as_of"] = points["effective"]
    points["months_since_takedown"] = (points["effective"] - points["takedown_date"]).dt.days / 30.4375
    return points.sort_values(
        ["operation_id", "jurisdiction", "metric", "category", "as_of", "figure_id"], kind="stable", ignore_index=True
    )


@pytest.mark.parametrize("metrics", [None, ["arrests"], ["money_seized", "cryptocurrency_seized", "arrests"]])
@pytest.mark.parametrize("kind", [None, "primary"])
def test_effective_series_matches_one_series_per_unit(ds, metrics, kind) -> None:
    figures = ds.normalized
    if kind:
        figures = figures.loc[figures["source_kind"].astype(str).eq(kind)]
    for prefer in ("primary", None):
        got = effective_series(figures, ds.operations, metrics=metrics, prefer=prefer)
        expected = reference_effective_series(figures, ds.operations, metrics, prefer)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


# -- minor ticks ----------------------------------------------------------------------------
def png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def log_figure(lo: float, hi: float):
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.plot([lo * 2, hi / 2], [0, 1], "o")
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    return fig, ax


@pytest.fixture
def theme():
    with plt.rc_context():
        plots.set_theme()
        yield
    plt.close("all")


def test_unseen_minor_ticks_go_and_the_picture_stays(theme) -> None:
    fig, ax = log_figure(1e-4, 300)
    before = png(fig)
    plots.hide_unseen_minor_ticks(ax)
    assert len(ax.xaxis.get_minorticklocs()) == 0
    assert png(fig) == before


def test_labelled_or_marked_minor_ticks_stay(theme) -> None:
    _fig, ax = log_figure(2, 9)  # less than a decade: minor ticks carry the labels
    plots.hide_unseen_minor_ticks(ax)
    assert len(ax.xaxis.get_minorticklocs()) > 0
    _fig, ax = log_figure(1e-4, 300)
    ax.tick_params(axis="x", which="minor", bottom=True)  # minor tick marks drawn
    plots.hide_unseen_minor_ticks(ax)
    assert len(ax.xaxis.get_minorticklocs()) > 0
