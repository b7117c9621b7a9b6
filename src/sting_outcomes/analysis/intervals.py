"""Intervals for counts and rates: exact Poisson (Garwood) intervals, widened by bounds.

A reported count ``k`` is treated as one draw of a Poisson count; its exact two-sided
interval at level ``1 - alpha`` (Garwood 1936) is

    lower = chi2.ppf(alpha / 2, 2k) / 2          (0 when k = 0)
    upper = chi2.ppf(1 - alpha / 2, 2k + 2) / 2

The interval describes the randomness of a count, not the doubt about what was counted.
That doubt is carried separately by the qualifier's bounds ("more than 800" is
``[800, inf)``, "about 1,000" is ``[900, 1100]``): :func:`rate_bounds` takes the Garwood
lower limit of the lowest count the figure allows and the upper limit of the highest, and
divides by the highest and lowest exposure the denominator allows (partial
identification). An unbounded count or an exposure with no positive lower bound gives an
infinite upper end; nothing is clipped to look precise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["garwood", "rate_bounds"]


def _array(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def garwood(count, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval for ``count`` (array-like, >= 0; non-integer counts, such as
    a count multiplied by a factor, are allowed and use the same formula). NaN stays NaN,
    an infinite count gives ``(inf, inf)``."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    k = _array(count)
    if np.any(k < 0):
        raise ValueError("counts must be >= 0")
    alpha = 1 - level
    finite = np.isfinite(k)
    safe = np.where(finite, k, 0.0)
    with np.errstate(invalid="ignore"):
        lower = np.where(safe > 0, stats.chi2.ppf(alpha / 2, 2 * safe) / 2, 0.0)
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * safe + 2) / 2
    lower = np.where(finite, lower, np.where(np.isnan(k), np.nan, np.inf))
    upper = np.where(finite, upper, np.where(np.isnan(k), np.nan, np.inf))
    return lower, upper


def rate_bounds(
    count: pd.Series | np.ndarray,
    count_lower: pd.Series | np.ndarray,
    count_upper: pd.Series | np.ndarray,
    exposure: pd.Series | np.ndarray,
    exposure_lower: pd.Series | np.ndarray,
    exposure_upper: pd.Series | np.ndarray,
    *,
    per: float = 1000.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rate ``count / exposure * per`` with two intervals.

    ``rate_low`` / ``rate_high``: the Garwood interval of the count as reported, divided by
    the exposure as reported (sampling only). ``bound_low`` / ``bound_high``: the Garwood
    lower limit of ``count_lower`` over ``exposure_upper`` and the upper limit of
    ``count_upper`` over ``exposure_lower`` (sampling and the qualifiers' bounds together).
    Returns a frame aligned on the inputs' positions.
    """
    k, klo, khi = _array(count), _array(count_lower), _array(count_upper)
    e, elo, ehi = _array(exposure), _array(exposure_lower), _array(exposure_upper)
    g_lo, g_hi = garwood(k, level)
    b_lo, _ = garwood(klo, level)
    _, b_hi = garwood(khi, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(e > 0, k / e * per, np.nan)
        out = pd.DataFrame(
            {
                "rate": rate,
                "rate_low": np.where(e > 0, g_lo / e * per, np.nan),
                "rate_high": np.where(e > 0, g_hi / e * per, np.nan),
                "bound_low": np.where(np.isfinite(ehi) & (ehi > 0), b_lo / ehi * per, 0.0),
                "bound_high": np.where(elo > 0, b_hi / elo * per, np.inf),
            }
        )
    out.loc[np.isnan(rate), ["bound_low", "bound_high"]] = np.nan
    return out
