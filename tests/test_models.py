"""The count model: quasi-Poisson recovery, refusals, dispersion, leave-one-out,
bootstrap discards and a sensitivity analysis that must vary something."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from sting_outcomes.analysis.models import GLMResult

TRUE = {"Intercept": -4.0, "approach[T.infiltrated]": 0.6, "approach[T.sweep]": -0.5}
APPROACHES = ["police_run", "infiltrated", "sweep"]


def simulate(n: int, seed: int = 11, nb_alpha: float = 0.2) -> pd.DataFrame:
    """Negative-binomial arrests with mean devices * exp(x'b) (over-dispersed on purpose),
    exact bounds unless set otherwise."""
    rng = np.random.default_rng(seed)
    approach = rng.choice(APPROACHES, n)
    devices = np.exp(rng.uniform(np.log(2_000), np.log(50_000), n))
    eta = TRUE["Intercept"] + TRUE["approach[T.infiltrated]"] * (approach == "infiltrated")
    eta = eta + TRUE["approach[T.sweep]"] * (approach == "sweep")
    mu = devices * np.exp(eta)
    arrests = rng.negative_binomial(1 / nb_alpha, 1 / (1 + nb_alpha * mu)).astype(float)
    return pd.DataFrame(
        {
            "operation_id": [f"op{i}" for i in range(n)],
            "arrests": arrests,
            "arrests_lower": arrests,
            "arrests_upper": arrests,
            "devices": devices,
            "devices_lower": devices,
            "devices_upper": devices,
            "approach": pd.Categorical(approach, categories=APPROACHES),
        }
    )


def test_quasipoisson_recovers_coefficients_and_reports_dispersion() -> None:
    res = so.fit_arrests_glm(simulate(400), covariates="approach")
    assert isinstance(res, GLMResult) and res.n == 400 and res.family == "quasipoisson"
    assert res.dispersion > 1.5  # the data are over-dispersed on purpose
    coefs = res.coefficients.set_index("term")
    for term, value in TRUE.items():
        assert coefs.loc[term, "estimate"] == pytest.approx(value, abs=0.15), term
        assert coefs.loc[term, "ci_low"] < value < coefs.loc[term, "ci_high"], term


def test_negbin_estimates_its_alpha() -> None:
    res = so.fit_arrests_glm(simulate(400), covariates="approach", family="negbin")
    assert res.dispersion == pytest.approx(0.2, abs=0.1)
    assert res.coefficients.set_index("term").loc["approach[T.infiltrated]", "estimate"] == pytest.approx(0.6, abs=0.2)


def test_a_level_seen_once_is_refused_not_fitted() -> None:
    frame = simulate(12)
    frame["approach"] = pd.Categorical(["police_run"] * 6 + ["infiltrated"] * 5 + ["sweep"], categories=APPROACHES)
    res = so.fit_arrests_glm(frame, covariates="approach")
    assert res.refused.to_dict("records") == [{"covariate": "approach", "level": "sweep", "operations": "op11"}]
    assert res.n == 11 and "approach[T.sweep]" not in set(res.coefficients["term"])


def test_leave_one_out_has_a_row_per_operation_and_term() -> None:
    frame = simulate(8)
    loo = so.leave_one_out(frame, covariates="approach")
    terms = so.fit_arrests_glm(frame, covariates="approach").coefficients["term"].tolist()
    assert len(loo) == (8 + 1) * len(terms)
    assert set(loo["left_out"]) == {"none", *frame["operation_id"]}


def test_bootstrap_is_seeded_and_counts_what_it_discards() -> None:
    frame = simulate(9)
    a = so.bootstrap(frame, n_boot=60, seed=3, covariates="approach")
    b = so.bootstrap(frame, n_boot=60, seed=3, covariates="approach")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.n_used + sum(a.discarded.values()) == 60
    assert a.discarded  # with nine operations and three levels, some resamples lose a level
    assert (a.table["n_ok"] == a.n_used).all()


def test_sensitivity_raises_when_nothing_is_bounded() -> None:
    with pytest.raises(ValueError, match="nothing to vary"):
        so.sensitivity(simulate(30), covariates="approach")


def test_sensitivity_varies_bounded_outcomes_and_exposures() -> None:
    frame = simulate(60)
    frame.loc[:4, "arrests_upper"] = np.inf  # "more than" arrests
    frame.loc[10:14, "devices_upper"] = frame.loc[10:14, "devices"] * 1.1  # "about" devices
    frame.loc[10:14, "devices_lower"] = frame.loc[10:14, "devices"] * 0.9
    out = so.sensitivity(frame, covariates="approach", factors=(2.0,))
    moved = out.drop_duplicates("scenario").set_index("scenario")
    assert moved.loc["outcomes high", "n_outcomes_moved"] == 5
    assert moved.loc["exposures high", "n_exposures_moved"] == 5
    assert moved.loc["rates high", "n_outcomes_moved"] == 5 and moved.loc["rates high", "n_exposures_moved"] == 5
    assert "outcomes low" not in moved.index  # no outcome has a lower bound below its value
    shift = out.set_index(["scenario", "term"]).loc[("outcomes high", "Intercept"), "shift"]
    assert shift > 0  # doubling five counts raises the baseline rate


def test_format_p_never_prints_zero() -> None:
    assert so.format_p(1e-17) == "< 0.001"
    assert so.format_p(0.0312) == "0.031"
    assert so.format_p(0.5) == "0.50"


def test_model_frame_from_real_data_states_bounds() -> None:
    ds = so.load()
    frame = so.model_frame(ds.normalized, ds.operations, exposure="users")
    assert {"arrests_lower", "arrests_upper", "users_lower", "users_upper", "approach", "target"} <= set(frame)
    assert (frame["arrests_lower"] <= frame["arrests"]).all() and (frame["users_upper"] >= frame["users"]).all()


def test_the_words_follow_the_fit() -> None:
    """describe_fit() says 'none spans one' only when none does, and names those that do."""
    strong = so.fit_arrests_glm(simulate(400), covariates="approach")
    assert "None of the 2 rate-ratio intervals spans one." in so.describe_fit(strong)
    weak = so.fit_arrests_glm(simulate(8, seed=2), covariates="approach")
    text = so.describe_fit(weak)
    spans = weak.coefficients.query("term != 'Intercept' and rr_low <= 1 <= rr_high")["term"].tolist()
    n_terms = len(weak.coefficients) - 1
    if not spans:
        assert "None of the" in text
    elif len(spans) == n_terms:
        assert f"All {n_terms} rate-ratio intervals span one" in text
    else:
        assert f"{len(spans)} of {n_terms} rate-ratio intervals span one" in text
        assert all(term in text for term in spans)
    assert f"{weak.n} operations" in text and f"{weak.dispersion:,.3g}" in text


def test_the_words_follow_the_leave_one_out_table() -> None:
    frame = simulate(8)
    loo = so.leave_one_out(frame, covariates="approach")
    text = so.describe_leave_one_out(loo)
    rr = loo.loc[(loo["left_out"] != "none") & (loo["term"] == "approach[T.sweep]"), "rate_ratio"].dropna()
    assert f"{rr.min():,.3g}" in text and f"{rr.max():,.3g}" in text


def test_model_multiverse_says_why_a_specification_has_no_model() -> None:
    ds = so.load()
    mv = so.model_multiverse(ds.normalized, ds.operations, exposures=("users", "visits"), horizons=("first",))
    assert set(mv["exposure"]) == {"users", "visits"}
    unfit = mv[mv["term"].eq("")]
    assert (unfit["reason"].str.len() > 0).all()
    fitted = mv[mv["term"].ne("")]
    assert fitted["n"].gt(fitted["term"].groupby([fitted["exposure"], fitted["sources"]]).transform("size")).all()
