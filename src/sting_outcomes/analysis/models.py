"""Count models of arrests per user, with honest uncertainty for small samples.

Model: ``log E[arrests] = log(users) + b0 + b_approach + b_target`` — a log-linear GLM
with ``log(users)`` as exposure (offset), so ``exp(b)`` is a *rate ratio* of arrests per
user relative to the reference level (the first observed level of each categorical, in
category order).

Choice of family (``family=``):

* ``"poisson"`` (default): Poisson quasi-likelihood with heteroskedasticity-robust
  (HC1 sandwich) standard errors. The point estimates only need the mean model to be
  right, and the robust errors absorb over-dispersion without estimating a dispersion
  parameter, which a handful of operations cannot pin down.
* ``"negbin"``: negative-binomial GLM with a *fixed* ``alpha`` (default 1.0) and
  model-based errors; useful as a check, not as the default, because ``alpha`` is assumed.

Intervals are Wald intervals on the normal scale; with fewer than 30 observations
(``SMALL_N``) they are not trustworthy, a ``UserWarning`` says so, and the case bootstrap
(:func:`bootstrap`) and lower-bound sensitivity (:func:`sensitivity`) should be read
alongside.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ..checks import as_names, check_choice, check_names, check_positive, require_columns
from .snapshots import KEY, SHAPE_HINT, known_metrics

__all__ = ["SMALL_N", "GLMResult", "bootstrap", "fit_arrests_glm", "model_frame", "sensitivity"]

#: Below this many observations the model warns that its intervals are unreliable.
SMALL_N = 30


@dataclass(frozen=True)
class GLMResult:
    """A fitted arrests GLM.

    ``n`` observations used (``n_dropped`` left out for missing or non-positive values);
    ``family`` and ``cov_type``; ``coefficients``: one row per term with ``estimate``
    (log rate ratio), ``se``, ``ci_low``, ``ci_high`` (``level``), ``p_value``,
    ``rate_ratio``, ``rr_low``, ``rr_high``; ``result``: the statsmodels results object.
    """

    n: int
    n_dropped: int
    family: str
    cov_type: str
    level: float
    coefficients: pd.DataFrame
    result: object = field(repr=False)


def model_frame(
    figures_latest: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    jurisdiction: str = "global",
    y: str = "arrests",
    exposure: str = "users",
) -> pd.DataFrame:
    """One row per operation: ``y`` and ``exposure`` (standard units) with their
    qualifiers (``<y>_qualifier``, ``<exposure>_qualifier``), plus ``approach`` and
    ``target``, from latest figures (e.g. ``select.latest``) of one jurisdiction and
    without category. Operations lacking either figure are left out. Unknown metric or
    jurisdiction names raise ``ValueError``."""
    require_columns(figures_latest, [*KEY, "qualifier", "value_std"], "figures_latest", SHAPE_HINT)
    require_columns(operations, ["operation_id", "approach", "target"], "operations")
    check_names([y, exposure], known_metrics(figures_latest), "metric")
    check_names(jurisdiction, figures_latest["jurisdiction"].dropna().astype(str).unique(), "jurisdiction")
    f = figures_latest
    f = f.loc[(f["jurisdiction"] == jurisdiction).fillna(False) & f["category"].isna()]
    f = f.loc[f["metric"].astype("string").isin([y, exposure]).fillna(False)]
    wide = f.pivot_table(index="operation_id", columns=f["metric"].astype(str), values="value_std", aggfunc="first")
    quals = (
        f.assign(q=f["qualifier"].astype(str))
        .pivot_table(index="operation_id", columns=f["metric"].astype(str), values="q", aggfunc="first")
        .add_suffix("_qualifier")
    )
    wide = wide.join(quals).reindex(columns=[y, exposure, f"{y}_qualifier", f"{exposure}_qualifier"])
    wide = wide.dropna(subset=[y, exposure]).reset_index()
    ops = operations[["operation_id", "approach", "target"]]
    return wide.merge(ops, on="operation_id", how="left")


def _design(frame: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
    """Intercept plus treatment dummies (first observed level as reference)."""
    parts = [pd.Series(1.0, index=frame.index, name="Intercept")]
    for cov in covariates:
        col = frame[cov]
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels = [c for c in col.cat.categories if (col == c).any()]
        else:
            levels = sorted(col.dropna().astype(str).unique())
        col = col.astype(str)
        for level in levels[1:]:
            parts.append((col == str(level)).astype(float).rename(f"{cov}[T.{level}]"))
    return pd.concat(parts, axis=1)


def _check_frame(frame: pd.DataFrame, y: str, exposure: str, covariates) -> tuple[str, ...]:
    """The covariates as a tuple, after checking every named column is in ``frame``."""
    covariates = tuple(as_names(covariates, "covariates") or ())
    check_names([y, exposure, *covariates], frame.columns, "column")
    return covariates


def _prepare(frame: pd.DataFrame, y: str, exposure: str, covariates: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    ok = frame[y].notna() & frame[exposure].gt(0).fillna(False) & frame[y].ge(0).fillna(False)
    for cov in covariates:
        ok &= frame[cov].notna()
    return frame.loc[ok].reset_index(drop=True), int((~ok).sum())


def _family(family: str, alpha: float) -> sm.families.Family:
    if family == "poisson":
        return sm.families.Poisson()
    if family == "negbin":
        return sm.families.NegativeBinomial(alpha=alpha)
    raise ValueError(f"family must be 'poisson' or 'negbin', got {family!r}")


def _fit(data: pd.DataFrame, X: pd.DataFrame, y: str, exposure: str, family: str, alpha: float):
    model = sm.GLM(data[y].astype(float), X, family=_family(family, alpha), offset=np.log(data[exposure].astype(float)))
    cov_type = "HC1" if family == "poisson" else "nonrobust"
    return model.fit(cov_type=cov_type), cov_type


def _coef_table(params: pd.Series, se: pd.Series, level: float) -> pd.DataFrame:
    z = stats.norm.ppf(0.5 + level / 2)
    table = pd.DataFrame({"term": params.index, "estimate": params.to_numpy(), "se": se.to_numpy()})
    table["ci_low"] = table["estimate"] - z * table["se"]
    table["ci_high"] = table["estimate"] + z * table["se"]
    table["p_value"] = 2 * stats.norm.sf(np.abs(table["estimate"] / table["se"]))
    table["rate_ratio"] = np.exp(table["estimate"])
    table["rr_low"] = np.exp(table["ci_low"])
    table["rr_high"] = np.exp(table["ci_high"])
    return table


def fit_arrests_glm(
    frame: pd.DataFrame,
    *,
    y: str = "arrests",
    exposure: str = "users",
    covariates: tuple[str, ...] = ("approach", "target"),
    family: str = "poisson",
    alpha: float = 1.0,
    level: float = 0.95,
) -> GLMResult:
    """Fit arrests ~ approach + target with offset log(users) (see module docstring).

    ``frame`` has one row per observation (e.g. :func:`model_frame`). Rows with a missing
    value, a negative count or a non-positive exposure are dropped (counted in
    ``n_dropped``). Raises ``ValueError`` when the covariates are collinear in these data
    (rank-deficient design) or there are no more rows than parameters; warns
    (``UserWarning``) when n < 30 and when a standard error is undefined (NaN).
    """
    covariates = _check_frame(frame, y, exposure, covariates)
    check_choice(family, ("poisson", "negbin"), "family")
    check_positive(level, "level")
    data, dropped = _prepare(frame, y, exposure, covariates)
    X = _design(data, covariates)
    n, p = X.shape
    if n <= p:
        raise ValueError(f"{n} observation(s) for {p} parameters: cannot fit")
    if np.linalg.matrix_rank(X.to_numpy()) < p:
        raise ValueError(
            f"design is rank-deficient: covariates {list(covariates)} are collinear in these {n} rows; drop one"
        )
    if n < SMALL_N:
        warnings.warn(
            f"arrests GLM on only {n} observations (< {SMALL_N}): Wald intervals are unreliable; "
            "read the bootstrap and sensitivity results too",
            UserWarning,
            stacklevel=2,
        )
    result, cov_type = _fit(data, X, y, exposure, family, alpha)
    table = _coef_table(result.params, result.bse, level)
    undefined = table.loc[~np.isfinite(table["se"]), "term"].tolist()
    if undefined:
        warnings.warn(
            f"standard errors undefined for {', '.join(undefined)} (an observation with leverage 1, "
            "e.g. a covariate level seen once); their intervals are NaN",
            UserWarning,
            stacklevel=2,
        )
    return GLMResult(
        n=n, n_dropped=dropped, family=family, cov_type=cov_type, level=level, coefficients=table, result=result
    )


def bootstrap(
    frame: pd.DataFrame,
    n_boot: int = 999,
    seed: int = 20210608,
    *,
    y: str = "arrests",
    exposure: str = "users",
    covariates: tuple[str, ...] = ("approach", "target"),
    family: str = "poisson",
    alpha: float = 1.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Case-resampling bootstrap of the GLM coefficients (seeded, reproducible).

    Rows are drawn with replacement ``n_boot`` times with ``numpy.random.default_rng(seed)``;
    each resample is refitted with the design of the full data. A term whose dummy is
    constant in a resample (its level not drawn) is NaN there; resamples that fail to
    fit are skipped. Returns per term: ``estimate`` (full data), ``boot_se``,
    ``boot_low``/``boot_high`` (percentile interval at ``level``), ``rr_low``/``rr_high``
    (the same on the rate-ratio scale) and ``n_ok`` (resamples giving the term).
    """
    covariates = _check_frame(frame, y, exposure, covariates)
    data, _ = _prepare(frame, y, exposure, covariates)
    X = _design(data, covariates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full, _ = _fit(data, X, y, exposure, family, alpha)
    rng = np.random.default_rng(seed)
    draws = np.full((n_boot, X.shape[1]), np.nan)
    for b in range(n_boot):
        idx = rng.integers(0, len(data), len(data))
        Xb = X.iloc[idx].reset_index(drop=True)
        informative = (Xb.std(axis=0) > 0) | (Xb.columns == "Intercept")
        if np.linalg.matrix_rank(Xb.loc[:, informative].to_numpy()) < informative.sum():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res, _ = _fit(data.iloc[idx].reset_index(drop=True), Xb.loc[:, informative], y, exposure, family, alpha)
            except (ValueError, np.linalg.LinAlgError):
                continue
        draws[b, informative.to_numpy()] = res.params.to_numpy()
    tail = (1 - level) / 2 * 100
    ok = np.isfinite(draws)
    low = np.array([np.percentile(draws[ok[:, j], j], tail) if ok[:, j].any() else np.nan for j in range(X.shape[1])])
    high = np.array(
        [np.percentile(draws[ok[:, j], j], 100 - tail) if ok[:, j].any() else np.nan for j in range(X.shape[1])]
    )
    return pd.DataFrame(
        {
            "term": X.columns,
            "estimate": full.params.to_numpy(),
            "boot_se": np.nanstd(draws, axis=0, ddof=1),
            "boot_low": low,
            "boot_high": high,
            "rr_low": np.exp(low),
            "rr_high": np.exp(high),
            "n_ok": ok.sum(axis=0),
        }
    )


def sensitivity(
    frame: pd.DataFrame,
    inflate: tuple[float, ...] = (1.0, 1.25, 1.5, 2.0),
    *,
    y: str = "arrests",
    qualifier_col: str | None = None,
    **glm_kwargs,
) -> pd.DataFrame:
    """How estimates move if ``at_least`` counts understate the truth.

    For each factor in ``inflate``, every ``y`` whose qualifier (column ``qualifier_col``,
    default ``"<y>_qualifier"``) is ``at_least`` is multiplied by the factor and the GLM
    refitted (quasi-likelihood, so non-integer counts are fine). Returns a tidy frame:
    ``inflate``, ``n_inflated``, and the coefficient table of each refit (``term``,
    ``estimate``, ``ci_low``, ``ci_high``, ``rate_ratio``, ...), plus ``shift`` = estimate
    minus the estimate at factor 1 (the uninflated fit).
    """
    qualifier_col = qualifier_col or f"{y}_qualifier"
    if qualifier_col not in frame:
        raise ValueError(f"frame has no {qualifier_col!r} column to find at_least figures")
    lower_bound = frame[qualifier_col].astype("string").eq("at_least").fillna(False)
    tables = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        base = fit_arrests_glm(frame, y=y, **glm_kwargs).coefficients.set_index("term")["estimate"]
        for factor in inflate:
            scaled = frame.assign(**{y: frame[y].where(~lower_bound, frame[y] * factor)})
            table = fit_arrests_glm(scaled, y=y, **glm_kwargs).coefficients
            table.insert(0, "n_inflated", int(lower_bound.sum()))
            table.insert(0, "inflate", float(factor))
            table["shift"] = table["estimate"] - table["term"].map(base)
            tables.append(table)
    n = len(frame)
    if n < SMALL_N:
        warnings.warn(f"sensitivity refits on only {n} observations (< {SMALL_N})", UserWarning, stacklevel=2)
    return pd.concat(tables, ignore_index=True)
