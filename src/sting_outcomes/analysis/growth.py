"""Growth of tallies after the first release: a saturating curve that fits the facts.

Model (for ``t >= t0``, the first release's months since the action day)::

    y(t) = y0 + (A - y0) * (1 - exp(-k (t - t0)))

The curve starts at the **first reported value** ``y0`` (the anchor: launch-day tallies
are often large, so forcing the curve through zero on the action day misdescribes them)
and rises towards the plateau ``A`` at rate ``k`` (per unit of ``t``; per month in
:func:`fit_series`). Before ``t0`` nothing was reported and the curve is undefined (NaN).

Parametrisation: ``A = ymax + exp(a)`` (``ymax`` = the largest value reported in the
series) and ``k = exp(b)``. ``(a, b)`` are fitted by least squares
(``scipy.optimize.least_squares``, started from the best point of a grid over ``k``) to
the points after the anchor, so the plateau is never below a value already reported.
The residual variance ``s²`` is estimated on ``dof = n - 3`` degrees of freedom (the
anchor carries no residual; two parameters are fitted).

Intervals are likelihood-ratio (profile) intervals with the Student-t quantile on
``dof``: the ``level`` region is every ``(a, b)`` whose residual sum of squares is at most
``RSS_min (1 + t²/dof)``, and an interval for any quantity (the plateau ``A``, the rate
``k``, the curve at a time ``t``) is its range over that region. With one parameter and
a linear model this is exactly the usual t interval; unlike a Wald interval it does not
depend on the parametrisation, and it stays sensible when the plateau estimate sits on
its bound (a series that has levelled off at its largest value), where ``cov`` (the
Wald covariance of ``(a, b)``, kept for reference) is meaningless. Because ``A >= ymax``
throughout the region, the plateau interval's lower end is at least ``ymax``; when the
region reaches a straight line (``k`` -> 0) the plateau is unbounded and
``A_ci = (lower, inf)``. Without residual degrees of freedom there is no interval: the
plateau is only known to be at least ``ymax``, ``A_ci = (ymax, inf)``.

The region is computed on a fixed grid over ``k`` (``A`` given ``k`` enters linearly, so
its range per ``k`` is exact), so bands are deterministic: the same data give the same
band. Every curve in the region starts at ``y0`` and rises towards a plateau at or above
``ymax``, so a band never goes below ``y0`` (>= 0 for a count). Bands are pointwise and
describe uncertainty in the mean curve, not the scatter of individual releases; they
have zero width at the anchor.

Each point is taken at face value: qualifier bounds ("more than 800") are not carried
into the fit. Warnings (``UserWarning``) say when a fit is fragile: few points, an
estimate at the edge of its search range, no interval.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..checks import check_positive, require_columns
from .snapshots import KEY

__all__ = [
    "MIN_POINTS",
    "MIN_SPAN_MONTHS",
    "PLATEAU_LIMIT",
    "SMALL_N",
    "SaturatingFit",
    "fit_saturating",
    "fit_series",
    "identified",
    "saturating",
]

#: Fewest points :func:`fit_saturating` accepts: the anchor plus one per parameter.
N_MIN_FIT = 3
#: Below this many points a fit warns that its intervals are unreliable.
SMALL_N = 5
#: :func:`fit_series` does not fit a series with fewer points than this.
MIN_POINTS = 4
#: :func:`fit_series` does not fit a series whose points span fewer months than this.
MIN_SPAN_MONTHS = 6.0
#: A plateau whose interval reaches this multiple of the largest reported value (or is
#: open-ended) is not pinned down by the data.
PLATEAU_LIMIT = 10.0
# Scaled parameters: exp(alpha) = (A - ymax) / (ymax - y0), exp(beta) = k * span (the
# span of the points). The search range of the fit, and the grid of the interval region;
# at the grid's low end the curve is a straight line over the data (the plateau is
# unbounded), at its high end a step right after the first release.
ALPHA_RANGE = (np.log(1e-6), np.log(1e6))
BETA_RANGE = (np.log(1e-4), np.log(1e4))
N_GRID = 2001


def saturating(t: np.ndarray | list[float] | float, A: float, k: float, y0: float = 0.0, t0: float = 0.0) -> np.ndarray:
    """``y0 + (A - y0) (1 - exp(-k (t - t0)))`` for ``t >= t0``; NaN before ``t0``.

    With the defaults ``y0 = t0 = 0`` this is ``A (1 - exp(-k t))``.
    """
    dt = np.asarray(t, dtype=float) - t0
    with np.errstate(invalid="ignore"):
        out = y0 + (A - y0) * -np.expm1(-k * np.maximum(dt, 0.0))
    return np.where(dt >= 0, out, np.nan)


def _rise(beta: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``1 - exp(-e^beta tau)`` for every beta (rows) and tau (columns)."""
    return -np.expm1(-np.exp(beta)[:, None] * np.maximum(tau, 0.0)[None, :])


def _region(tau: np.ndarray, z: np.ndarray, sse_min: float, dof: int, level: float, beta_hat: float) -> dict:
    """The ``level`` likelihood-ratio region of the scaled problem ``z = c (1 - e^(-e^beta tau))``
    with ``c = 1 + e^alpha >= 1``: for each beta of a grid (plus the estimate), the range
    ``[c_lo, c_hi]`` of c whose residual sum of squares is at most ``sse_min (1 + q²/dof)``.
    ``open_low`` / ``open_high``: the region reaches the grid's ends (k -> 0 or k -> inf)."""
    q = stats.t.ppf(0.5 + level / 2, dof)
    threshold = sse_min * (1.0 + q**2 / dof) * (1 + 1e-9) + 1e-15
    beta = np.unique(np.append(np.linspace(*BETA_RANGE, N_GRID), beta_hat))
    g = _rise(beta, tau)
    gg, gz, zz = (g * g).sum(axis=1), g @ z, float(z @ z)
    disc = gz**2 - gg * (zz - threshold)
    root = np.sqrt(np.clip(disc, 0.0, None))
    c_lo, c_hi = (gz - root) / gg, (gz + root) / gg
    ok = (disc >= 0) & (c_hi >= 1.0)
    return {
        "beta": beta[ok],
        "c_lo": np.maximum(c_lo[ok], 1.0),
        "c_hi": c_hi[ok],
        "open_low": bool(ok[0]),
        "open_high": bool(ok[-1]),
    }


@dataclass(frozen=True)
class SaturatingFit:
    """A fitted curve ``y = y0 + (A - y0)(1 - exp(-k (t - t0)))`` for ``t >= t0``.

    ``t0``, ``y0``: the anchor (the earliest point); ``ymax``: the largest value used.
    ``A = ymax + exp(a)`` (plateau, unit of y) and ``k = exp(b)`` (rate per unit of t).
    ``n`` points, ``dof = n - 3``, ``rss`` the residual sum of squares (unit of y²);
    ``A_ci`` and ``k_ci`` the ``level`` likelihood-ratio intervals (see the module
    docstring; ``A_ci[0] >= ymax``, ``A_ci[1]`` may be inf); ``first_share = y0 / A`` with
    ``first_share_ci`` from ``A_ci``; ``cov``, ``a_se``, ``b_se`` the Wald covariance and
    standard errors of ``(a, b)`` (for reference only: meaningless when an estimate sits
    on its bound); ``t``, ``y`` the data used (sorted by t); ``warnings`` the texts of the
    warnings the fit raised.
    """

    A: float
    k: float
    a: float
    b: float
    a_se: float
    b_se: float
    cov: np.ndarray = field(repr=False)
    n: int
    dof: int
    rss: float
    level: float
    t0: float
    y0: float
    ymax: float
    A_ci: tuple[float, float]
    k_ci: tuple[float, float]
    first_share: float
    first_share_ci: tuple[float, float]
    t: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def half_life(self) -> float:
        """Time from the first release until the curve is halfway from ``y0`` to ``A``,
        ``ln 2 / k`` (unit of t)."""
        return float(np.log(2) / self.k)

    @property
    def span(self) -> float:
        """Time between the first and the last point (unit of t)."""
        return float(self.t[-1] - self.t[0])

    def region(self, level: float | None = None) -> dict | None:
        """The likelihood-ratio region behind the intervals and bands (scaled units: see
        :func:`_region`), or None without residual degrees of freedom."""
        if self.dof <= 0:
            return None
        scale = self.ymax - self.y0
        tau = (self.t[1:] - self.t0) / self.span
        z = (self.y[1:] - self.y0) / scale
        beta_hat = self.b + np.log(self.span)
        return _region(tau, z, self.rss / scale**2, self.dof, self.level if level is None else level, beta_hat)

    def predict(self, t: np.ndarray | list[float] | float, level: float | None = None) -> pd.DataFrame:
        """Fitted curve with its pointwise ``level`` band (default: the fit's level).

        Returns a frame with ``t``, ``fit``, ``lower``, ``upper``. Before the first
        release (``t < t0``) every column but ``t`` is NaN; without residual degrees of
        freedom the band is NaN. The band never goes below ``y0`` and is the same on
        every call.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        fit = saturating(t, self.A, self.k, self.y0, self.t0)
        lower = np.full(len(t), np.nan)
        upper = np.full(len(t), np.nan)
        reg = self.region(level)
        valid = t >= self.t0
        if reg is not None and valid.any():
            scale = self.ymax - self.y0
            g = _rise(reg["beta"], (t[valid] - self.t0) / self.span)
            lower[valid] = self.y0 + scale * (reg["c_lo"][:, None] * g).min(axis=0)
            upper[valid] = self.y0 + scale * (reg["c_hi"][:, None] * g).max(axis=0)
        return pd.DataFrame({"t": t, "fit": fit, "lower": lower, "upper": upper})


def _at_edge(value: float, bounds: tuple[float, float], tol: float = 1e-3) -> int:
    """-1 at the lower end of ``bounds``, +1 at the upper, 0 inside."""
    if value <= bounds[0] + tol:
        return -1
    if value >= bounds[1] - tol:
        return 1
    return 0


def fit_saturating(
    t: np.ndarray | pd.Series | list[float],
    y: np.ndarray | pd.Series | list[float],
    *,
    level: float = 0.95,
) -> SaturatingFit:
    """Fit ``y = y0 + (A - y0)(1 - exp(-k (t - t0)))`` anchored at the earliest point.

    Parameters
    ----------
    t, y:
        Times (e.g. months since the action day; any origin) and the running total at
        each. Pairs with a missing value are dropped. The earliest point is the anchor
        ``(t0, y0)``; the plateau is at least the largest ``y``.
    level:
        Confidence level of ``A_ci``, ``k_ci`` and of the bands of ``predict`` (0.95).

    Raises ``ValueError`` with fewer than 3 usable points (the anchor, and one per
    parameter), when the points span no time, or when no value rises above the first
    (nothing to fit: the tally did not grow); ``RuntimeError`` when the optimiser fails.
    Warns (``UserWarning``) when n < 5 (intervals unreliable), when there are no residual
    degrees of freedom (no interval: the plateau is only known to be at least the largest
    value), when a straight line fits as well (the plateau interval has no upper end),
    and when the plateau or the rate sits at the edge of its search range.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.shape != y.shape:
        raise ValueError(f"t and y differ in length: {t.shape} vs {y.shape}")
    ok = np.isfinite(t) & np.isfinite(y)
    order = np.lexsort((y[ok], t[ok]))
    t, y = t[ok][order], y[ok][order]
    n = len(t)
    if n < N_MIN_FIT:
        raise ValueError(
            f"cannot fit A and k from {n} point(s): need at least {N_MIN_FIT} (the first release and two more)"
        )
    t0, y0, ymax = float(t[0]), float(y[0]), float(np.max(y))
    span = float(t[-1] - t0)
    if not span > 0:
        raise ValueError("the points span no time: all are dated at the first release")
    if not ymax > y0:
        raise ValueError(f"no growth after the first release: no value rises above the first ({y0:,.6g})")
    messages: list[str] = []

    def warn(text: str) -> None:
        messages.append(text)
        warnings.warn(text, UserWarning, stacklevel=3)

    if n < SMALL_N:
        warn(f"saturating fit on only {n} points: estimates and intervals are unreliable")

    # Scaled problem: tau in (0, 1], z in [0, 1]; z = c (1 - e^(-e^beta tau)), c = 1 + e^alpha.
    scale = ymax - y0
    tau = (t[1:] - t0) / span
    z = (y[1:] - y0) / scale

    def residuals(p: np.ndarray) -> np.ndarray:
        return (1.0 + np.exp(p[0])) * -np.expm1(-np.exp(p[1]) * tau) - z

    def jacobian(p: np.ndarray) -> np.ndarray:
        rate = np.exp(p[1])
        decay = np.exp(-rate * tau)
        return np.column_stack([np.exp(p[0]) * (1.0 - decay), (1.0 + np.exp(p[0])) * rate * tau * decay])

    # Start from the best point of a grid over beta (given beta, c is linear least squares).
    beta = np.linspace(*BETA_RANGE, N_GRID)[1:-1]
    g = _rise(beta, tau)
    c = np.clip((g @ z) / (g * g).sum(axis=1), 1.0 + np.exp(ALPHA_RANGE[0]), 1.0 + np.exp(ALPHA_RANGE[1]))
    best = int(np.argmin(((c[:, None] * g - z) ** 2).sum(axis=1)))
    bounds = ([ALPHA_RANGE[0], BETA_RANGE[0]], [ALPHA_RANGE[1], BETA_RANGE[1]])
    start = [float(np.clip(np.log(c[best] - 1.0), *ALPHA_RANGE)), float(beta[best])]
    res = optimize.least_squares(residuals, x0=start, jac=jacobian, bounds=bounds, xtol=1e-12, ftol=1e-12)
    if res.status <= 0 or not np.isfinite(res.x).all():
        raise RuntimeError(f"the least-squares fit did not converge: {res.message}")
    alpha, beta_hat = (float(v) for v in res.x)
    a, b = alpha + np.log(scale), beta_hat - np.log(span)
    if _at_edge(alpha, ALPHA_RANGE) < 0:
        warn("the best curve puts its plateau at the largest reported value, the lowest it may be")
    if _at_edge(beta_hat, BETA_RANGE) > 0:
        warn("the tally jumps to its level right after the first release: the rate is not pinned down")

    dof = n - N_MIN_FIT
    sse = float(np.sum(res.fun**2))
    # Wald covariance of (a, b), for reference (the intervals do not use it).
    if dof == 0:
        cov = np.full((2, 2), np.nan)
    else:
        J = jacobian(res.x)
        _, sv, vt = np.linalg.svd(J, full_matrices=False)
        if sv[-1] <= np.finfo(float).eps * max(J.shape) * sv[0]:
            cov = np.full((2, 2), np.inf)
        else:
            cov = (vt.T / sv**2) @ vt * (sse / dof)
    a_se, b_se = (float(v) for v in np.sqrt(np.diag(cov)))

    if dof == 0:
        warn("no residual degrees of freedom (3 points for 3 quantities): no interval")
        A_ci, k_ci = (ymax, np.inf), (0.0, np.inf)
    else:
        reg = _region(tau, z, sse, dof, level, beta_hat)
        if reg["open_low"]:
            warn("a straight line fits as well (the tally may still be rising): the plateau has no upper bound")
        A_ci = (
            y0 + scale * float(reg["c_lo"].min()),
            np.inf if reg["open_low"] else y0 + scale * float(reg["c_hi"].max()),
        )
        k_ci = (
            0.0 if reg["open_low"] else float(np.exp(reg["beta"].min())) / span,
            np.inf if reg["open_high"] else float(np.exp(reg["beta"].max())) / span,
        )
    A = ymax + float(np.exp(a))
    return SaturatingFit(
        A=A,
        k=float(np.exp(b)),
        a=float(a),
        b=float(b),
        a_se=a_se,
        b_se=b_se,
        cov=np.asarray(cov, dtype=float),
        n=n,
        dof=dof,
        rss=sse * scale**2,
        level=level,
        t0=t0,
        y0=y0,
        ymax=ymax,
        A_ci=(float(A_ci[0]), float(A_ci[1])),
        k_ci=(float(k_ci[0]), float(k_ci[1])),
        first_share=y0 / A,
        first_share_ci=(y0 / A_ci[1], y0 / A_ci[0]),
        t=t,
        y=y,
        warnings=tuple(messages),
    )


FLOAT_COLUMNS = [
    "span_months",
    "A",
    "A_low",
    "A_high",
    "k",
    "half_life",
    "first_value",
    "largest_reported",
    "first_share",
    "first_share_low",
    "first_share_high",
]


def fit_series(
    series_df: pd.DataFrame,
    min_span_months: float = MIN_SPAN_MONTHS,
    *,
    min_points: int = MIN_POINTS,
    t: str = "months_since_takedown",
    y: str = "value_std",
    keys: list[str] | None = None,
    level: float = 0.95,
    limit: float = PLATEAU_LIMIT,
) -> pd.DataFrame:
    """Fit :func:`fit_saturating` to every series of ``series_df`` that supports a curve.

    ``series_df`` is the output of ``so.series()``. Points flagged ``falls`` (below a
    value reported earlier: a different count, not the tally) are left out, as are
    points without ``t`` or ``y``. A series is not fitted when fewer than ``min_points``
    (4) points remain or they span less than ``min_span_months`` (6) of ``t``; ``reason``
    says why (e.g. ``"spans 0.5 months (< 6)"``), as it does for a fit that fails.

    Returns one row per series (``keys``, default operation, jurisdiction, metric,
    category) with ``n`` (points used), ``n_falls`` (left out as falls),
    ``span_months``, ``A``, ``A_low``, ``A_high`` (plateau and its ``level`` interval),
    ``k`` (per unit of t), ``half_life``, ``first_value`` (the anchor), ``largest_reported``
    (the largest value used), ``first_share`` (``first_value / A``) with
    ``first_share_low`` / ``first_share_high`` (from A's interval), ``identified`` (see
    :func:`identified`), ``warning`` (every warning raised while fitting this series,
    joined by "; "; ``<NA>`` when none), ``reason`` (``<NA>`` when fitted) and ``fit``
    (the :class:`SaturatingFit` or None).
    """
    keys = list(KEY if keys is None else keys)
    require_columns(series_df, [*keys, t, y], "series_df", "pass the output of so.series()")
    check_positive(float(min_span_months), "min_span_months", allow_zero=True)
    if min_points < N_MIN_FIT:
        raise ValueError(f"min_points must be at least {N_MIN_FIT} (the first release and one per parameter)")
    rows = []
    for key, group in series_df.groupby(keys, dropna=False, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row: dict = dict(zip(keys, key, strict=True))
        falls = group["falls"].fillna(False).to_numpy(bool) if "falls" in group else np.zeros(len(group), bool)
        tt = group[t].to_numpy(dtype=float)
        yy = group[y].to_numpy(dtype=float)
        use = np.isfinite(tt) & np.isfinite(yy) & ~falls
        tt, yy = tt[use], yy[use]
        order = np.lexsort((yy, tt))
        tt, yy = tt[order], yy[order]
        n = len(tt)
        span = float(tt[-1] - tt[0]) if n else np.nan
        row.update(
            n=n,
            n_falls=int(falls.sum()),
            span_months=span,
            first_value=float(yy[0]) if n else np.nan,
            largest_reported=float(np.max(yy)) if n else np.nan,
            fit=None,
            warning=pd.NA,
            reason=pd.NA,
        )
        problems = []
        if not np.isfinite(group[t].to_numpy(dtype=float)).any():
            problems.append(f"no {t} (missing action-day date?)")
        else:
            dropped = f" after leaving out {row['n_falls']} falling" if row["n_falls"] else ""
            if n < min_points:
                problems.append(f"{n} point{'s' if n != 1 else ''}{dropped} (< {min_points})")
            if n and span < min_span_months:
                problems.append(f"spans {span:.1f} months (< {min_span_months:g})")
        if problems:
            row["reason"] = "; ".join(problems)
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    res = fit_saturating(tt, yy, level=level)
                except (RuntimeError, ValueError) as exc:
                    res = None
                    row["reason"] = f"not fitted: {exc}"
            texts = list(dict.fromkeys(str(w.message) for w in caught))
            if texts:
                row["warning"] = "; ".join(texts)
            if res is not None:
                row.update(
                    fit=res,
                    A=res.A,
                    A_low=res.A_ci[0],
                    A_high=res.A_ci[1],
                    k=res.k,
                    half_life=res.half_life,
                    first_share=res.first_share,
                    first_share_low=res.first_share_ci[0],
                    first_share_high=res.first_share_ci[1],
                )
        rows.append(row)
    cols = [*keys, "n", "n_falls", *FLOAT_COLUMNS, "warning", "reason", "fit"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for c in FLOAT_COLUMNS:
        out[c] = out[c].astype("float64")
    out["n"] = out["n"].astype("int64")
    out["n_falls"] = out["n_falls"].astype("int64")
    out["warning"] = out["warning"].astype("string")
    out["reason"] = out["reason"].astype("string")
    out = identified(out, limit=limit)
    return out[[*cols[: cols.index("warning")], "identified", *cols[cols.index("warning") :]]]


def identified(fits: pd.DataFrame, *, limit: float = PLATEAU_LIMIT) -> pd.DataFrame:
    """``fits`` (from :func:`fit_series`) with ``identified``: a curve was fitted and the
    upper end of its plateau interval is finite and below ``limit`` times the largest
    reported value (``largest_reported``)."""
    require_columns(fits, ["fit", "A_high", "largest_reported"], "fits", "pass the output of so.fit_series()")
    check_positive(float(limit), "limit")
    high = fits["A_high"].to_numpy(dtype=float)
    ok = fits["fit"].notna().to_numpy(bool) & np.isfinite(high)
    ok &= high < limit * fits["largest_reported"].to_numpy(dtype=float)
    return fits.assign(identified=ok)
