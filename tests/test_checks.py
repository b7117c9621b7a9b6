"""Public helpers refuse names they do not know, with a suggestion, instead of returning
an empty frame; a single name where a list is meant is accepted."""

from __future__ import annotations

import pytest

import sting_outcomes as so


@pytest.fixture(scope="module")
def ds():
    return so.load()


def test_latest_works_with_its_defaults(ds) -> None:
    assert len(so.latest(ds.figures)) == len(so.latest(ds.normalized)) > 0


def test_series_takes_one_metric_as_a_string(ds) -> None:
    one = so.series(ds.normalized, ds.operations, metrics="arrests")
    assert len(one) > 0 and set(one["metric"].astype(str)) == {"arrests"}
    assert one.equals(so.series(ds.normalized, ds.operations, metrics=["arrests"]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ds: so.series(ds.normalized, ds.operations, metrics=["arrest"]), "did you mean 'arrests'"),
        (lambda ds: so.latest(ds.normalized, scope="totals"), "did you mean 'total'"),
        (lambda ds: so.latest(ds.normalized, prefer="primay"), "did you mean 'primary'"),
        (lambda ds: so.conflicts(ds.normalized, window_days=-1), "window_days"),
        (lambda ds: so.model_frame(ds.normalized, ds.operations, y="arrestz"), "did you mean 'arrests'"),
        (lambda ds: so.model_frame(ds.normalized, ds.operations, exposure="user"), "denominator must be one of"),
        (lambda ds: so.rates(so.latest(ds.normalized), ds.operations, metrics="arests"), "did you mean 'arrests'"),
        (lambda ds: so.rates(so.latest(ds.normalized), ds.operations, per=0), "per must be"),
        (lambda ds: so.funnel(ds.normalized, stages=("arrests", "convictons")), "did you mean 'convictions'"),
        (lambda ds: so.series(ds.figures, ds.operations), "lacks column(s) 'value_std'"),
        (lambda ds: so.latest(ds.figures.drop(columns="source_kind")), "lacks column(s) 'source_kind'"),
    ],
)
def test_unknown_names_and_missing_columns_raise(ds, call, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(ds)


def test_glm_takes_one_covariate_as_a_string_and_refuses_unknown_columns() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "arrests": [10, 20, 30, 40, 55, 60],
            "users": [100, 200, 300, 400, 500, 600],
            "approach": ["a", "a", "b", "b", "a", "b"],
        }
    )
    fit = so.fit_arrests_glm(frame, exposure="users", covariates="approach")
    assert list(fit.coefficients["term"]) == ["Intercept", "approach[T.b]"]
    with pytest.raises(ValueError, match="did you mean 'approach'"):
        so.fit_arrests_glm(frame, exposure="users", covariates=["aproach"])


def test_a_number_where_names_are_meant_is_a_type_error(ds) -> None:
    with pytest.raises(TypeError, match="metric"):
        so.series(ds.normalized, ds.operations, metrics=5)
