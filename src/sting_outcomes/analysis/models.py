"""A count model of outcomes per unit of scale: secondary to the per-operation rates.

With a dozen operations the primary output is the per-operation rate with its interval
(:mod:`.scale`). A model is shown only as a summary with its limits in view:

* **Model.** ``log E[y] = log(exposure) + b0 + b_approach + b_target``: exposure enters as
  an offset, so ``exp(b)`` is a rate ratio against the reference level.
* **Family.** ``"quasipoisson"`` (default): Poisson mean model, variance ``phi * mu`` with
  the dispersion ``phi`` estimated by Pearson's chi-square over the residual degrees of
  freedom, and standard errors scaled by ``sqrt(phi)``; intervals use Student's t with the
  residual degrees of freedom. ``"negbin"``: negative binomial with its ``alpha`` estimated
  by maximum likelihood (statsmodels' discrete ``NegativeBinomial``). Either way the
  dispersion is reported.
* **Refusals.** A covariate level seen in fewer than ``MIN_CASES`` (2) operations gets no
  coefficient: its operations are left out of the fit and listed in ``refused``. A level
  seen once would be fitted exactly, and its coefficient and p-value would say nothing.
* **Leave one out.** :func:`leave_one_out` refits without each operation in turn.
* **Bootstrap.** :func:`bootstrap` resamples operations and says how many resamples it
  discarded and why (a level missing, a design that cannot be fitted).
* **Bounds.** :func:`sensitivity` moves every bounded quantity to the ends its qualifier
  allows (outcomes and exposures, and tallies still growing after the horizon) and refits;
  it raises when nothing in the frame is bounded.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ..checks import as_names, check_choice, check_names, check_positive, require_columns
from .scale import _per_scale

__all__ = [
    "MIN_CASES",
    "BootstrapResult",
    "GLMResult",
    "bootstrap",
    "describe_fit",
    "describe_leave_one_out",
    "fit_arrests_glm",
    "format_p",
    "leave_one_out",
    "model_frame",
    "model_multiverse",
    "sensitivity",
]

#: A covariate level needs at least this many operations to get a coefficient.
MIN_CASES = 2
FAMILIES = ("quasipoisson", "negbin")
#: Factors applied to an open upper bound ("more than") in :func:`sensitivity`.
OPEN_FACTORS = (1.25, 1.5, 2.0)


@dataclass(frozen=True)
class GLMResult:
    """A fitted count model.

    ``n`` operations used; ``n_dropped`` left out for missing or non-positive values;
    ``refused``: one row per covariate level seen in fewer than ``MIN_CASES`` operations
    (``covariate``, ``level``, ``operations``), whose operations were left out;
    ``family``; ``dispersion`` (Pearson chi-square / residual df for quasi-Poisson, the
    estimated ``alpha`` for the negative binomial) and ``df_resid``; ``coefficients``: one
    row per term with ``estimate`` (log rate ratio), ``se``, ``ci_low``, ``ci_high``
    (``level``), ``p_value``, ``rate_ratio``, ``rr_low``, ``rr_high``.
    """

    n: int
    n_dropped: int
    refused: pd.DataFrame
    family: str
    dispersion: float
    df_resid: float
    level: float
    coefficients: pd.DataFrame
    operations: tuple[str, ...]
    result: object = field(repr=False)


@dataclass(frozen=True)
class BootstrapResult:
    """Case bootstrap: ``table`` per term (``estimate``, ``boot_low``, ``boot_high``,
    ``rr_low``, ``rr_high``, ``n_ok``), ``n_boot`` drawn, ``discarded`` (reason -> count)."""

    table: pd.DataFrame
    n_boot: int
    discarded: dict[str, int]

    @property
    def n_used(self) -> int:
        return self.n_boot - sum(self.discarded.values())


def format_p(p: float) -> str:
    """A p-value as people should read it: two significant digits, never ``0.000``."""
    if p != p:
        return "–"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def model_frame(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    y: str = "arrests",
    exposure: str = "devices",
    horizon: int | str = "first",
    sources: str = "all sources",
    jurisdiction: str = "global",
) -> pd.DataFrame:
    """One row per operation with ``y`` at ``horizon`` and ``exposure`` as first reported
    (see :func:`~sting_outcomes.analysis.scale.per_scale`), their bounds (``<y>_lower``,
    ``<y>_upper``, ``<exposure>_lower``, ``<exposure>_upper``), ``<y>_short`` (the series
    ends before the horizon) and the operation's ``approach`` and ``target``. Operations
    lacking either figure are left out (``per_scale`` says why)."""
    return _model_frame(figures, operations, y, exposure, horizon, sources, jurisdiction, memo={})


def _model_frame(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    y: str,
    exposure: str,
    horizon: int | str,
    sources: str,
    jurisdiction: str,
    memo: dict,
) -> pd.DataFrame:
    """:func:`model_frame`, reusing the series and readings kept in ``memo`` (see
    :func:`~sting_outcomes.analysis.scale._reading`)."""
    rated = _per_scale(
        figures,
        operations,
        outcome=y,
        denominator=exposure,
        horizon=horizon,
        sources=sources,
        jurisdiction=jurisdiction,
        per=1000.0,
        level=0.95,
        memo=memo,
    )
    rated = rated.loc[rated["reason"].eq("")]
    out = pd.DataFrame(
        {
            "operation_id": rated["operation_id"].to_numpy(),
            y: rated["num_value"].to_numpy(float),
            f"{y}_lower": rated["num_lower"].to_numpy(float),
            f"{y}_upper": rated["num_upper"].to_numpy(float),
            f"{y}_short": rated["num_short"].fillna(False).to_numpy(bool),
            exposure: rated["den_value"].to_numpy(float),
            f"{exposure}_lower": rated["den_lower"].to_numpy(float),
            f"{exposure}_upper": rated["den_upper"].to_numpy(float),
            "approach": rated["approach"].to_numpy(),
            "target": rated["target"].to_numpy(),
        }
    )
    return out.sort_values("operation_id", ignore_index=True)


def _check_frame(frame: pd.DataFrame, y: str, exposure: str, covariates) -> tuple[str, ...]:
    covariates = tuple(as_names(covariates, "covariates") or ())
    check_names([y, exposure, *covariates], frame.columns, "column")
    return covariates


def _usable(frame: pd.DataFrame, y: str, exposure: str, covariates: tuple[str, ...]) -> pd.Series:
    ok = frame[y].notna() & frame[exposure].gt(0).fillna(False) & frame[y].ge(0).fillna(False)
    for cov in covariates:
        ok &= frame[cov].notna()
    return ok


def _refusals(data: pd.DataFrame, covariates: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave out operations at covariate levels seen fewer than MIN_CASES times (repeated
    until every remaining level has enough cases); return (kept rows, refused levels)."""
    refused = []
    while True:
        small = []
        for cov in covariates:
            counts = data[cov].astype(str).value_counts()
            small += [(cov, lvl) for lvl, c in counts.items() if c < MIN_CASES]
        if not small:
            break
        for cov, lvl in small:
            hit = data[cov].astype(str).eq(lvl)
            ids = data.loc[hit, "operation_id"].astype(str).tolist() if "operation_id" in data else []
            refused.append({"covariate": cov, "level": lvl, "operations": ", ".join(ids)})
            data = data.loc[~hit]
    return data, pd.DataFrame(refused, columns=["covariate", "level", "operations"])


def _design(frame: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
    """Intercept plus treatment dummies (first level present, in category order, as reference)."""
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


def _fit(yv: np.ndarray, offset: np.ndarray, X: pd.DataFrame | np.ndarray, family: str):
    """(params, bse, dispersion, df_resid, result) of one fit; ``params`` and ``bse`` are
    arrays in the column order of ``X`` (a frame keeps its column names in ``result``)."""
    if family == "quasipoisson":
        res = sm.GLM(yv, X, family=sm.families.Poisson(), offset=offset).fit(scale="X2")
        return np.asarray(res.params), np.asarray(res.bse), float(res.scale), float(res.df_resid), res
    model = sm.NegativeBinomial(np.round(yv), X, offset=offset, loglike_method="nb2")
    res = model.fit(disp=0, maxiter=500)
    params, bse = np.asarray(res.params), np.asarray(res.bse)  # the last entry is alpha
    return params[:-1], bse[:-1], float(params[-1]), float(len(yv) - len(params)), res


def _coef_table(params: pd.Series, se: pd.Series, level: float, df: float) -> pd.DataFrame:
    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    table = pd.DataFrame({"term": params.index, "estimate": params.to_numpy(), "se": se.to_numpy()})
    table["ci_low"] = table["estimate"] - q * table["se"]
    table["ci_high"] = table["estimate"] + q * table["se"]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["p_value"] = 2 * stats.t.sf(np.abs(table["estimate"] / table["se"]), df) if df > 0 else np.nan
    table["rate_ratio"] = np.exp(table["estimate"])
    table["rr_low"] = np.exp(table["ci_low"])
    table["rr_high"] = np.exp(table["ci_high"])
    return table


def fit_arrests_glm(
    frame: pd.DataFrame,
    *,
    y: str = "arrests",
    exposure: str = "devices",
    covariates: str | tuple[str, ...] = ("approach", "target"),
    family: str = "quasipoisson",
    level: float = 0.95,
) -> GLMResult:
    """Fit ``y ~ covariates`` with offset ``log(exposure)`` (see the module docstring).

    Rows with a missing value, a negative count or a non-positive exposure are dropped
    (``n_dropped``); levels seen in fewer than two operations are refused (``refused``).
    Raises ``ValueError`` when the remaining design is rank-deficient or has no residual
    degrees of freedom.
    """
    covariates = _check_frame(frame, y, exposure, covariates)
    check_choice(family, FAMILIES, "family")
    check_positive(level, "level")
    ok = _usable(frame, y, exposure, covariates)
    data, refused = _refusals(frame.loc[ok].reset_index(drop=True), covariates)
    data = data.reset_index(drop=True)
    X = _design(data, covariates)
    n, p = X.shape
    if n <= p + (1 if family == "negbin" else 0):
        after = f" after refusing {len(refused)} level(s) seen once" if len(refused) else ""
        raise ValueError(f"{n} operation(s) left{after} for {p} coefficient(s): no residual degrees of freedom")
    if np.linalg.matrix_rank(X.to_numpy()) < p:
        raise ValueError(f"design is rank-deficient: covariates {list(covariates)} are collinear in these {n} rows")
    yv = data[y].astype(float).to_numpy()
    offset = np.log(data[exposure].astype(float).to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params, bse, dispersion, df_resid, res = _fit(yv, offset, X, family)
    ops = tuple(data["operation_id"].astype(str)) if "operation_id" in data else ()
    return GLMResult(
        n=n,
        n_dropped=int((~ok).sum()),
        refused=refused,
        family=family,
        dispersion=dispersion,
        df_resid=df_resid,
        level=level,
        coefficients=_coef_table(pd.Series(params, index=X.columns), pd.Series(bse, index=X.columns), level, df_resid),
        operations=ops,
        result=res,
    )


def leave_one_out(frame: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """Refit without each operation in turn (``frame`` needs ``operation_id``).

    Returns one row per (left-out operation, term): ``left_out``, ``term``,
    ``rate_ratio``, ``rr_low``, ``rr_high``, and ``reason`` when the refit could not give
    that term (a level refused or absent once the operation is gone, or no fit at all).
    The first rows (``left_out`` = "none") are the full fit.
    """
    require_columns(frame, ["operation_id"], "frame")
    full = fit_arrests_glm(frame, **kwargs).coefficients.assign(reason="")
    terms = full["term"].tolist()
    rows = [full.assign(left_out="none")]
    for op in frame["operation_id"].astype(str):
        rest = frame.loc[frame["operation_id"].astype(str) != op]
        try:
            coefs = fit_arrests_glm(rest, **kwargs).coefficients.assign(reason="")
        except ValueError as exc:
            coefs = pd.DataFrame({"term": terms, "estimate": np.nan, "reason": f"no fit: {exc}"})
        coefs = pd.DataFrame({"term": terms}).merge(coefs, on="term", how="left")
        coefs["reason"] = coefs["reason"].fillna("level refused or absent")
        rows.append(coefs.assign(left_out=op))
    out = pd.concat(rows, ignore_index=True).reindex(
        columns=["left_out", "term", "rate_ratio", "rr_low", "rr_high", "reason"]
    )
    return out


@dataclass(frozen=True)
class _Cases:
    """The rows of a frame as arrays, for refitting resamples without pandas.

    ``y`` and ``offset`` (log exposure) are float; ``usable`` marks the rows
    :func:`fit_arrests_glm` would keep; ``codes[j]`` holds each row's level of covariate
    ``j`` as an index into ``levels[j]``, which lists the levels in the order
    :func:`_design` gives them (category order for a categorical, else sorted text).
    """

    y: np.ndarray
    offset: np.ndarray
    usable: np.ndarray
    covariates: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    codes: tuple[np.ndarray, ...]


def _cases(data: pd.DataFrame, y: str, exposure: str, covariates: tuple[str, ...]) -> _Cases:
    """:class:`_Cases` of ``data`` (levels named as ``astype(str)`` names them)."""
    usable = _usable(data, y, exposure, covariates).to_numpy(bool)
    levels, codes = [], []
    for cov in covariates:
        col = data[cov]
        text = col.astype(str).to_numpy(object)
        if isinstance(col.dtype, pd.CategoricalDtype):
            names = [str(c) for c in col.cat.categories]
        else:
            names = sorted(set(text[usable]))
        index = {name: i for i, name in enumerate(names)}
        levels.append(tuple(names))
        codes.append(np.array([index.get(t, -1) if ok else -1 for t, ok in zip(text, usable)], dtype=np.intp))
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.log(data[exposure].astype(float).to_numpy())
    return _Cases(data[y].astype(float).to_numpy(), offset, usable, covariates, tuple(levels), tuple(codes))


def _refuse(cases: _Cases, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """(rows kept, number of levels refused): :func:`_refusals` on row indices."""
    n_refused = 0
    while True:
        drop = np.zeros(len(rows), dtype=bool)
        for codes, names in zip(cases.codes, cases.levels):
            drawn = codes[rows]
            counts = np.bincount(drawn, minlength=len(names))
            small = np.flatnonzero((counts > 0) & (counts < MIN_CASES))
            n_refused += len(small)
            drop |= np.isin(drawn, small)
        if not drop.any():
            return rows, n_refused
        rows = rows[~drop]


def _resample_design(cases: _Cases, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(design matrix, term names) for ``rows``, as :func:`_design` builds them.

    The matrix is column-major, as ``np.asarray`` of :func:`_design`'s frame is: the
    memory order changes the rounding in the fit's linear algebra, and the negative
    binomial's optimiser can magnify a last-bit difference."""
    columns, terms = [np.ones(len(rows))], ["Intercept"]
    for cov, codes, names in zip(cases.covariates, cases.codes, cases.levels):
        drawn = codes[rows]
        present = np.flatnonzero(np.bincount(drawn, minlength=len(names)))
        for k in present[1:]:
            columns.append((drawn == k).astype(float))
            terms.append(f"{cov}[T.{names[k]}]")
    return np.asfortranarray(np.column_stack(columns)), terms


def _refit(cases: _Cases, rows: np.ndarray, family: str) -> tuple[int, pd.Series]:
    """(levels refused, estimates by term) of :func:`fit_arrests_glm` on the rows
    ``rows`` of the frame behind ``cases``; raises as it does when no fit is possible."""
    rows, n_refused = _refuse(cases, rows[cases.usable[rows]])
    X, terms = _resample_design(cases, rows)
    n, p = X.shape
    if n <= p + (1 if family == "negbin" else 0):
        raise ValueError("no residual degrees of freedom")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError("design is rank-deficient")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = _fit(cases.y[rows], cases.offset[rows], X, family)[0]
    return n_refused, pd.Series(params, index=terms)


def bootstrap(
    frame: pd.DataFrame,
    n_boot: int = 999,
    seed: int = 20210608,
    *,
    level: float = 0.95,
    **kwargs,
) -> BootstrapResult:
    """Case bootstrap of the model's rate ratios (seeded, reproducible).

    Operations are drawn with replacement ``n_boot`` times; a resample is discarded when
    a term of the full fit cannot be estimated in it (a level drawn fewer than two
    times, so refused) or the fit fails, and ``discarded`` counts each reason. Percentile
    intervals come from the resamples kept.

    Each resample is refitted exactly as :func:`fit_arrests_glm` would fit it (same
    refusals, design columns, family and statsmodels fit), on arrays built once from
    ``frame`` rather than on a new data frame per resample.
    """
    check_positive(n_boot, "n_boot")
    full = fit_arrests_glm(frame, level=level, **kwargs)
    data = frame.loc[frame["operation_id"].astype(str).isin(full.operations)].reset_index(drop=True)
    options = inspect.signature(fit_arrests_glm).bind(frame, level=level, **kwargs)
    options.apply_defaults()  # the y, exposure and covariates the full fit used
    y, exposure = options.arguments["y"], options.arguments["exposure"]
    cases = _cases(data, y, exposure, _check_frame(frame, y, exposure, options.arguments["covariates"]))
    terms = full.coefficients["term"].tolist()
    rng = np.random.default_rng(seed)
    draws, discarded = [], {"a level drawn fewer than two times": 0, "fit failed": 0}
    for _ in range(int(n_boot)):
        try:
            n_refused, got = _refit(cases, rng.integers(0, len(data), len(data)), full.family)
        except (ValueError, np.linalg.LinAlgError):
            discarded["fit failed"] += 1
            continue
        if n_refused or not set(terms) <= set(got.index) or not np.isfinite(got.reindex(terms)).all():
            discarded["a level drawn fewer than two times"] += 1
            continue
        draws.append(got.reindex(terms).to_numpy())
    arr = np.array(draws).reshape(-1, len(terms))
    tail = (1 - level) / 2 * 100
    low = np.percentile(arr, tail, axis=0) if len(arr) else np.full(len(terms), np.nan)
    high = np.percentile(arr, 100 - tail, axis=0) if len(arr) else np.full(len(terms), np.nan)
    table = pd.DataFrame(
        {
            "term": terms,
            "estimate": full.coefficients["estimate"].to_numpy(),
            "boot_low": low,
            "boot_high": high,
            "rr_low": np.exp(low),
            "rr_high": np.exp(high),
            "n_ok": len(arr),
        }
    )
    return BootstrapResult(table=table, n_boot=int(n_boot), discarded={k: v for k, v in discarded.items() if v})


def _ends(value: pd.Series, lower: pd.Series, upper: pd.Series, factor: float) -> tuple[pd.Series, pd.Series]:
    """(low end, high end) of each bounded quantity: a finite bound as given, an open
    upper bound as ``value * factor``."""
    high = upper.where(np.isfinite(upper), value * factor).fillna(value)
    low = lower.fillna(value)
    return low, high


def sensitivity(
    frame: pd.DataFrame,
    *,
    y: str = "arrests",
    exposure: str = "devices",
    factors: tuple[float, ...] = OPEN_FACTORS,
    **kwargs,
) -> pd.DataFrame:
    """Refit with every bounded quantity moved to the ends its bounds allow.

    Bounded quantities are the outcomes and exposures whose qualifier gives an interval
    (``<col>_lower`` < ``<col>_upper``: "more than", "about", a range) and outcomes read at
    a horizon before the series' next update (their upper bound is that update). Open
    upper bounds are taken as the value times each of ``factors``. Scenarios: ``outcomes
    high``, ``outcomes low``, ``exposures high``, ``exposures low`` and the two that push a
    rate furthest (``rates high`` = outcomes high with exposures low, ``rates low``).
    Returns one row per (scenario, factor, term) with ``n_outcomes_moved``,
    ``n_exposures_moved``, the coefficients and ``shift`` from the fit as reported.

    Raises ``ValueError`` when no outcome and no exposure in ``frame`` is bounded: such a
    "sensitivity analysis" would vary nothing.
    """
    cols = [y, f"{y}_lower", f"{y}_upper", exposure, f"{exposure}_lower", f"{exposure}_upper"]
    require_columns(frame, cols, "frame", "build it with so.model_frame()")
    y_bounded = (frame[f"{y}_upper"] > frame[y]) | (frame[f"{y}_lower"] < frame[y])
    e_bounded = (frame[f"{exposure}_upper"] > frame[exposure]) | (frame[f"{exposure}_lower"] < frame[exposure])
    if not (y_bounded.any() or e_bounded.any()):
        raise ValueError(f"nothing to vary: no {y} or {exposure} in the frame is bounded (all exact)")
    base = fit_arrests_glm(frame, y=y, exposure=exposure, **kwargs).coefficients.set_index("term")["estimate"]
    tables, seen = [], set()
    for factor in factors:
        y_low, y_high = _ends(frame[y], frame[f"{y}_lower"], frame[f"{y}_upper"], factor)
        e_low, e_high = _ends(frame[exposure], frame[f"{exposure}_lower"], frame[f"{exposure}_upper"], factor)
        e_low = e_low.where(e_low > 0, frame[exposure])
        scenarios = {
            "outcomes high": (y_high, frame[exposure]),
            "outcomes low": (y_low, frame[exposure]),
            "exposures high": (frame[y], e_high),
            "exposures low": (frame[y], e_low),
            "rates high": (y_high, e_low),
            "rates low": (y_low, e_high),
        }
        for name, (yy, ee) in scenarios.items():
            moved_y = int((yy != frame[y]).sum())
            moved_e = int((ee != frame[exposure]).sum())
            signature = (name, tuple(np.asarray(yy, float)), tuple(np.asarray(ee, float)))
            if moved_y + moved_e == 0 or signature in seen:
                continue  # nothing moved, or a finite bound that the factor does not change
            seen.add(signature)
            table = fit_arrests_glm(
                frame.assign(**{y: yy, exposure: ee}), y=y, exposure=exposure, **kwargs
            ).coefficients
            table.insert(0, "n_exposures_moved", moved_e)
            table.insert(0, "n_outcomes_moved", moved_y)
            table.insert(0, "factor", float(factor))
            table.insert(0, "scenario", name)
            table["shift"] = table["estimate"] - table["term"].map(base)
            tables.append(table)
    return pd.concat(tables, ignore_index=True)


def describe_fit(fit: GLMResult) -> str:
    """Sentences a notebook may print about a fit; every number and claim is computed
    here (e.g. "no interval spans one" appears only when none does)."""
    coefs = fit.coefficients.loc[fit.coefficients["term"] != "Intercept"]
    kind = "Pearson dispersion" if fit.family == "quasipoisson" else "negative-binomial alpha"
    text = [
        f"The model uses {fit.n} operations with {len(fit.coefficients)} coefficients, leaving "
        f"{fit.df_resid:.0f} residual degree{'s' if fit.df_resid != 1 else ''} of freedom; the {kind} is "
        f"{fit.dispersion:,.3g}"
        + (" (variance far above a Poisson count's)." if fit.family == "quasipoisson" and fit.dispersion > 2 else ".")
    ]
    if len(fit.refused):
        refused = "; ".join(f"{r.covariate} = {r.level} ({r.operations})" for r in fit.refused.itertuples())
        text.append(
            f"Levels seen in fewer than {MIN_CASES} operations get no coefficient and their operations are "
            f"left out: {refused}."
        )
    if fit.n_dropped:
        text.append(f"{fit.n_dropped} operation(s) lacked a usable value and were dropped.")
    if coefs.empty:
        text.append("No covariate coefficient could be estimated.")
        return " ".join(text)
    spans = coefs.loc[(coefs["rr_low"] <= 1) & (coefs["rr_high"] >= 1), "term"].tolist()
    if not spans:
        text.append(f"None of the {len(coefs)} rate-ratio intervals spans one.")
    elif len(spans) == len(coefs):
        text.append(f"All {len(coefs)} rate-ratio intervals span one: the data cannot tell these levels apart.")
    else:
        text.append(f"{len(spans)} of {len(coefs)} rate-ratio intervals span one ({', '.join(spans)}).")
    widest = coefs.assign(width=coefs["rr_high"] / coefs["rr_low"]).sort_values("width").iloc[-1]
    text.append(
        f"The widest interval, for {widest['term']}, runs from {widest['rr_low']:,.3g} to {widest['rr_high']:,.3g}."
    )
    return " ".join(text)


def describe_leave_one_out(loo: pd.DataFrame) -> str:
    """How far each rate ratio moves when one operation is left out (computed)."""
    full = loo.loc[loo["left_out"] == "none"].set_index("term")["rate_ratio"]
    parts = []
    for term, g in loo.loc[(loo["left_out"] != "none") & (loo["term"] != "Intercept")].groupby("term", sort=False):
        got = g.dropna(subset=["rate_ratio"])
        lost = len(g) - len(got)
        if got.empty:
            parts.append(f"{term}: no estimate once any operation is left out")
            continue
        lo, hi = got.loc[got["rate_ratio"].idxmin()], got.loc[got["rate_ratio"].idxmax()]
        parts.append(
            f"{term} (full data {full.get(term, np.nan):,.3g}) runs from {lo['rate_ratio']:,.3g} without "
            f"{lo['left_out']} to {hi['rate_ratio']:,.3g} without {hi['left_out']}"
            + (f", and cannot be estimated in {lost} of the refits" if lost else "")
        )
    return "Leaving one operation out at a time: " + "; ".join(parts) + "." if parts else "No covariate to move."


def model_multiverse(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    *,
    exposures: tuple[str, ...] = ("users", "devices", "devices_distributed", "paying_users", "visits"),
    horizons: tuple[int | str, ...] = ("first", 12, 36),
    sources: tuple[str, ...] = ("all sources", "primary only"),
    covariates: str | tuple[str, ...] = ("approach", "target"),
    family: str = "quasipoisson",
) -> pd.DataFrame:
    """The model under every exposure definition, horizon and source choice.

    One row per (specification, term) where a fit exists, with ``n``, ``dispersion``,
    ``rate_ratio``, ``rr_low``, ``rr_high`` and ``refused`` (levels left out); one row per
    specification with ``term`` empty and ``reason`` where no model can be fitted (too few
    operations for the coefficients, a design that cannot be estimated). Each series and
    each reading of it is computed once for the whole grid.
    """
    from .horizons import horizon_label

    rows, memo = [], {}
    for exposure in exposures:
        for horizon in horizons:
            for source in sources:
                spec = {"exposure": exposure, "horizon": horizon_label(horizon), "sources": source}
                frame = _model_frame(figures, operations, "arrests", exposure, horizon, source, "global", memo=memo)
                try:
                    fit = fit_arrests_glm(frame, exposure=exposure, covariates=covariates, family=family)
                except ValueError as exc:
                    rows.append({**spec, "n": len(frame), "term": "", "reason": str(exc)})
                    continue
                refused = "; ".join(f"{r.covariate}={r.level}" for r in fit.refused.itertuples())
                for r in fit.coefficients.itertuples():
                    rows.append(
                        {
                            **spec,
                            "n": fit.n,
                            "dispersion": fit.dispersion,
                            "term": r.term,
                            "rate_ratio": r.rate_ratio,
                            "rr_low": r.rr_low,
                            "rr_high": r.rr_high,
                            "refused": refused,
                            "reason": "",
                        }
                    )
    return pd.DataFrame(rows)
