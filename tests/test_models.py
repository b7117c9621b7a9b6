"""Arrests GLM: coefficient recovery on simulated data, bootstrap, sensitivity, warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sting_outcomes.analysis.models import GLMResult, bootstrap, fit_arrests_glm, model_frame, sensitivity

# log arrests-per-user: intercept, approach effects (vs police_run), target effect (vs phones)
TRUE = {
    "Intercept": -4.0,
    "approach[T.infiltrated]": 0.6,
    "approach[T.sweep]": -0.5,
    "target[T.darknet_market]": 0.4,
}
APPROACHES = ["police_run", "infiltrated", "sweep"]
TARGETS = ["encrypted_phone_network", "darknet_market"]


def simulate(n: int, seed: int = 11, nb_alpha: float = 0.2) -> pd.DataFrame:
    """Negative-binomial arrests with mean users * exp(x'b) (over-dispersed on purpose)."""
    rng = np.random.default_rng(seed)
    approach = rng.choice(APPROACHES, n)
    target = rng.choice(TARGETS, n)
    users = np.exp(rng.uniform(np.log(2_000), np.log(50_000), n))
    eta = (
        TRUE["Intercept"]
        + TRUE["approach[T.infiltrated]"] * (approach == "infiltrated")
        + TRUE["approach[T.sweep]"] * (approach == "sweep")
        + TRUE["target[T.darknet_market]"] * (target == "darknet_market")
    )
    mu = users * np.exp(eta)
    arrests = rng.negative_binomial(1 / nb_alpha, 1 / (1 + nb_alpha * mu))
    return pd.DataFrame(
        {
            "operation_id": [f"op{i}" for i in range(n)],
            "arrests": arrests.astype(float),
            "users": users,
            "approach": pd.Categorical(approach, categories=APPROACHES),
            "target": pd.Categorical(target, categories=TARGETS),
            "arrests_qualifier": np.where(rng.random(n) < 0.3, "at_least", "exact"),
        }
    )


def test_glm_recovers_coefficients() -> None:
    res = fit_arrests_glm(simulate(400))
    assert isinstance(res, GLMResult)
    assert res.n == 400 and res.cov_type == "HC1"
    coefs = res.coefficients.set_index("term")
    for term, value in TRUE.items():
        assert coefs.loc[term, "estimate"] == pytest.approx(value, abs=0.12), term
        assert coefs.loc[term, "ci_low"] < value < coefs.loc[term, "ci_high"], term
    assert coefs.loc["approach[T.infiltrated]", "rate_ratio"] == pytest.approx(
        np.exp(coefs.loc["approach[T.infiltrated]", "estimate"])
    )


def test_negbin_family_also_recovers() -> None:
    res = fit_arrests_glm(simulate(400), family="negbin", alpha=0.2)
    coefs = res.coefficients.set_index("term")
    assert coefs.loc["approach[T.sweep]", "estimate"] == pytest.approx(TRUE["approach[T.sweep]"], abs=0.12)


def test_small_n_warns_and_collinear_refused() -> None:
    small = simulate(12, seed=3)
    with pytest.warns(UserWarning, match="only 12 observations"):
        fit_arrests_glm(small)
    collinear = small.assign(target=np.where(small["approach"] == "sweep", "darknet_market", "encrypted_phone_network"))
    collinear = collinear.assign(approach=np.where(collinear["approach"] == "sweep", "sweep", "police_run"))
    with pytest.raises(ValueError, match="rank-deficient"):
        fit_arrests_glm(collinear)


def test_bad_rows_dropped() -> None:
    frame = simulate(60)
    frame.loc[0, "users"] = 0.0
    frame.loc[1, "arrests"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_arrests_glm(frame)
    assert res.n == 58 and res.n_dropped == 2


def test_bootstrap_seeded_and_covers_truth() -> None:
    frame = simulate(150, seed=5)
    a = bootstrap(frame, n_boot=150, seed=1)
    b = bootstrap(frame, n_boot=150, seed=1)
    pd.testing.assert_frame_equal(a, b)
    c = bootstrap(frame, n_boot=150, seed=2)
    assert not np.allclose(a["boot_low"], c["boot_low"])
    a = a.set_index("term")
    assert (a["n_ok"] > 140).all()
    for term, value in TRUE.items():
        assert a.loc[term, "boot_low"] < value < a.loc[term, "boot_high"], term


def test_sensitivity_moves_estimates_as_expected() -> None:
    frame = simulate(200, seed=9)
    # make every at_least figure an infiltrated operation, so inflating them raises that effect
    frame["arrests_qualifier"] = np.where(frame["approach"] == "infiltrated", "at_least", "exact")
    out = sensitivity(frame, inflate=(1.0, 1.5, 2.0), covariates=("approach",))
    assert set(out["inflate"]) == {1.0, 1.5, 2.0}
    inf = out.loc[out["term"] == "approach[T.infiltrated]"].set_index("inflate")
    assert inf.loc[1.0, "shift"] == pytest.approx(0.0, abs=1e-12)
    # approach alone is a saturated one-way model: doubling every infiltrated count
    # raises exactly that log rate ratio by log(2) and leaves the intercept alone
    intercept = out.loc[out["term"] == "Intercept"].set_index("inflate")
    assert intercept.loc[2.0, "shift"] == pytest.approx(0.0, abs=1e-6)
    assert inf.loc[2.0, "shift"] == pytest.approx(np.log(2.0), abs=1e-6)
    assert inf.loc[1.5, "shift"] == pytest.approx(np.log(1.5), abs=1e-6)
    assert (out["n_inflated"] == (frame["approach"] == "infiltrated").sum()).all()
    both = sensitivity(frame, inflate=(1.0, 2.0)).set_index(["inflate", "term"])
    assert both.loc[(2.0, "approach[T.infiltrated]"), "shift"] > 0.5  # with target too: near log 2


def test_model_frame_pivots_latest_figures() -> None:
    latest = pd.DataFrame(
        {
            "operation_id": ["a", "a", "b", "b", "c", "a"],
            "jurisdiction": ["global"] * 5 + ["AU"],
            "metric": ["arrests", "users", "arrests", "users", "arrests", "arrests"],
            "category": pd.array([pd.NA] * 6, dtype="string"),
            "value_std": [800.0, 12_000.0, 150.0, 3_000.0, 10.0, 224.0],
            "qualifier": ["at_least", "exact", "exact", "approx", "exact", "exact"],
        }
    )
    ops = pd.DataFrame(
        {
            "operation_id": ["a", "b", "c"],
            "approach": ["police_run", "infiltrated", "sweep"],
            "target": ["encrypted_phone_network"] * 3,
        }
    )
    out = model_frame(latest, ops).set_index("operation_id")
    assert list(out.index) == ["a", "b"]  # c has no users figure
    assert out.loc["a", "arrests"] == 800.0 and out.loc["a", "arrests_qualifier"] == "at_least"
    assert out.loc["b", "users_qualifier"] == "approx" and out.loc["b", "approach"] == "infiltrated"
