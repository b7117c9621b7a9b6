"""Growth of tallies after the action day: a saturating curve with honest uncertainty.

Model: ``y(t) = A * (1 - exp(-k t))`` where ``t`` is time since the action day (months
in :func:`fit_series`, so ``k`` is per month) and ``A`` is the plateau the tally tends to,
in the unit of ``y``. Fitted by non-linear least squares (``scipy.optimize.curve_fit``,
``A > 0``, ``k > 0``); standard errors come from the scaled covariance (residual variance
estimated from the data), and intervals use Student's t with ``n - 2`` degrees of
freedom. Confidence bands of ``predict`` use the delta method (the gradient of the curve
with respect to ``(A, k)`` times the covariance), so they describe uncertainty in the
mean curve, not the scatter of individual snapshots.

The model passes through 0 at ``t = 0``: a tally already reported on the action day
(``t = 0``) cannot be matched; measure ``t`` from an earlier origin or drop that point.
With few points (< 5) the fit is fragile and a ``UserWarning`` says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .snapshots import KEY

__all__ = ["PLATEAU_LIMIT", "SMALL_N", "SaturatingFit", "fit_saturating", "fit_series", "identified", "saturating"]

#: Below this many points a fit warns that its intervals are unreliable.
SMALL_N = 5
N_PARAMS = 2


def saturating(t: np.ndarray, A: float, k: float) -> np.ndarray:
    """``A * (1 - exp(-k t))``."""
    return A * -np.expm1(-k * np.asarray(t, dtype=float))


def _gradient(t: np.ndarray, A: float, k: float) -> np.ndarray:
    """d y / d(A, k) at each t, shape (len(t), 2)."""
    t = np.asarray(t, dtype=float)
    return np.column_stack([-np.expm1(-k * t), A * t * np.exp(-k * t)])


@dataclass(frozen=True)
class SaturatingFit:
    """A fitted saturating curve ``y = A (1 - exp(-k t))``.

    ``A`` (plateau, unit of y) and ``k`` (rate, per unit of t) with standard errors
    ``A_se``, ``k_se`` and covariance ``cov`` (2x2, order A, k); ``n`` points, ``dof`` =
    n - 2; ``A_ci`` the ``level`` (default 95 %) interval for the plateau (t-based;
    ``(nan, nan)`` with no residual degrees of freedom); ``first_share`` = y of the
    earliest point / A, the share of the projected plateau already reported at the first
    snapshot; ``t``, ``y`` the data used.
    """

    A: float
    k: float
    A_se: float
    k_se: float
    cov: np.ndarray = field(repr=False)
    n: int
    dof: int
    level: float
    A_ci: tuple[float, float]
    first_share: float
    t: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)

    @property
    def half_life(self) -> float:
        """Time to reach half the plateau, ``ln 2 / k`` (unit of t)."""
        return float(np.log(2) / self.k)

    def predict(self, t: np.ndarray | list[float] | float, level: float | None = None) -> pd.DataFrame:
        """Fitted curve with a delta-method confidence band for the mean.

        Returns a frame with ``t``, ``fit``, ``lower``, ``upper`` (``level`` defaults to the
        fit's level; t quantile with ``dof`` degrees of freedom, NaN band when dof = 0).
        """
        level = self.level if level is None else level
        t = np.atleast_1d(np.asarray(t, dtype=float))
        fit = saturating(t, self.A, self.k)
        grad = _gradient(t, self.A, self.k)
        se = np.sqrt(np.einsum("ij,jk,ik->i", grad, self.cov, grad))
        q = stats.t.ppf(0.5 + level / 2, self.dof) if self.dof > 0 else np.nan
        return pd.DataFrame({"t": t, "fit": fit, "lower": fit - q * se, "upper": fit + q * se})


def fit_saturating(
    t: np.ndarray | pd.Series | list[float],
    y: np.ndarray | pd.Series | list[float],
    *,
    level: float = 0.95,
    p0: tuple[float, float] | None = None,
    sigma: np.ndarray | None = None,
) -> SaturatingFit:
    """Fit ``y = A (1 - exp(-k t))`` by least squares.

    Parameters
    ----------
    t, y:
        Times (e.g. months since the action day; must be > 0 to carry information) and
        tallies. Pairs with a missing value are dropped.
    level:
        Confidence level of ``A_ci`` and of ``predict`` bands (default 0.95).
    p0:
        Starting values (A, k); default ``A = 1.2 * max(y)``, ``k = 1 / median(t)``.
    sigma:
        Optional per-point standard deviations (relative weights) passed to curve_fit.

    Raises ``ValueError`` when fewer than 2 usable points remain (2 parameters) and
    ``RuntimeError`` when the optimiser does not converge. Warns (``UserWarning``) when
    n < 5: with so few snapshots the intervals are unreliable.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.shape != y.shape:
        raise ValueError(f"t and y differ in length: {t.shape} vs {y.shape}")
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    sigma = None if sigma is None else np.asarray(sigma, dtype=float)[ok]
    n = len(t)
    if n < N_PARAMS:
        raise ValueError(f"cannot fit A and k from {n} point(s): need at least {N_PARAMS}")
    if n < SMALL_N:
        warnings.warn(
            f"saturating fit on only {n} points: estimates and intervals are unreliable", UserWarning, stacklevel=2
        )
    positive = t[t > 0]
    if p0 is None:
        p0 = (
            1.2 * float(np.max(y)) if np.max(y) > 0 else 1.0,
            1.0 / float(np.median(positive)) if len(positive) else 1.0,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optimize.OptimizeWarning)
        params, cov = optimize.curve_fit(
            saturating, t, y, p0=p0, sigma=sigma, bounds=([0.0, 0.0], [np.inf, np.inf]), maxfev=20000
        )
    A, k = (float(v) for v in params)
    dof = n - N_PARAMS
    cov = np.asarray(cov, dtype=float)
    if dof == 0:
        cov = np.full((2, 2), np.nan)
    A_se, k_se = (float(v) for v in np.sqrt(np.diag(cov)))
    if dof > 0 and np.isfinite(A_se):
        q = stats.t.ppf(0.5 + level / 2, dof)
        A_ci = (A - q * A_se, A + q * A_se)
    else:
        A_ci = (np.nan, np.nan)
    order = np.argsort(t, kind="stable")
    first_share = float(y[order[0]] / A) if A > 0 else np.nan
    return SaturatingFit(
        A=A,
        k=k,
        A_se=A_se,
        k_se=k_se,
        cov=cov,
        n=n,
        dof=dof,
        level=level,
        A_ci=(float(A_ci[0]), float(A_ci[1])),
        first_share=first_share,
        t=t[order],
        y=y[order],
    )


def fit_series(
    series_df: pd.DataFrame,
    *,
    t: str = "months_since_takedown",
    y: str = "value_std",
    keys: list[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Fit :func:`fit_saturating` to every series in ``series_df`` (see ``select.series``).

    One row per series (``keys``, default operation, jurisdiction, metric, category)
    with ``n``, ``A``, ``A_se``, ``A_low``, ``A_high``, ``k``, ``k_se``, ``half_life``,
    ``first_share``, ``fit`` (the :class:`SaturatingFit`, or None), ``warning`` (text of
    any warning raised by the fit) and ``reason`` (why a series was skipped, ``<NA>``
    when fitted). Points with t <= 0 or missing t/y are left out of the fit (the model is
    0 at t = 0), but ``first_share`` uses the series' earliest point, so a tally reported
    on the action day counts as the first snapshot.
    """
    keys = list(KEY if keys is None else keys)
    rows = []
    for key, group in series_df.groupby(keys, dropna=False, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row: dict = dict(zip(keys, key))
        tt = group[t].to_numpy(dtype=float)
        yy = group[y].to_numpy(dtype=float)
        use = np.isfinite(tt) & np.isfinite(yy) & (tt > 0)
        row["n"] = int(use.sum())
        row.update(fit=None, warning=pd.NA, reason=pd.NA)
        if not np.isfinite(tt).any():
            row["reason"] = f"no {t} (missing takedown date?)"
        elif row["n"] < N_PARAMS:
            row["reason"] = f"{row['n']} usable point(s) after the action day; need at least {N_PARAMS}"
        else:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    res = fit_saturating(tt[use], yy[use], level=level)
                row["fit"] = res
                if caught:
                    row["warning"] = "; ".join(str(w.message) for w in caught)
                row.update(
                    A=res.A,
                    A_se=res.A_se,
                    A_low=res.A_ci[0],
                    A_high=res.A_ci[1],
                    k=res.k,
                    k_se=res.k_se,
                    half_life=res.half_life,
                    first_share=_first_share(tt, yy, res.A),
                )
            except (RuntimeError, ValueError) as exc:
                row["reason"] = f"fit failed: {exc}"
        rows.append(row)
    cols = [
        *keys,
        "n",
        "A",
        "A_se",
        "A_low",
        "A_high",
        "k",
        "k_se",
        "half_life",
        "first_share",
        "fit",
        "warning",
        "reason",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for c in ("A", "A_se", "A_low", "A_high", "k", "k_se", "half_life", "first_share"):
        out[c] = out[c].astype("float64")
    out["warning"] = out["warning"].astype("string")
    out["reason"] = out["reason"].astype("string")
    return out


def _first_share(t: np.ndarray, y: np.ndarray, A: float) -> float:
    """y at the earliest finite t, divided by A."""
    ok = np.isfinite(t) & np.isfinite(y)
    if not ok.any() or not A > 0:
        return np.nan
    return float(y[ok][np.argmin(t[ok])] / A)


#: A plateau whose upper bound exceeds this multiple of the largest reported value is not
#: pinned down by the data.
PLATEAU_LIMIT = 10.0


def identified(
    fits: pd.DataFrame, series_df: pd.DataFrame, *, limit: float = PLATEAU_LIMIT, keys: list[str] | None = None
) -> pd.DataFrame:
    """``fits`` (from :func:`fit_series`) with ``last_reported`` (the series' largest
    ``value_std``) and ``identified``: a curve was fitted and the upper end of its plateau
    interval stays below ``limit`` times ``last_reported``."""
    keys = list(KEY if keys is None else keys)
    largest = series_df.groupby(keys, observed=True, dropna=False)["value_std"].max().rename("last_reported")
    out = fits.merge(largest.reset_index(), on=keys, how="left")
    out["identified"] = out["fit"].notna() & (out["A_high"] < limit * out["last_reported"])
    return out
