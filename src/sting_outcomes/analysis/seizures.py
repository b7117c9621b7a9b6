"""What was seized: drugs by substance, and money by kind, in USD and EUR at the as-of
date and in constant US dollars.

Every running total is read at common horizons (the first release and +12 months by
default; :func:`~sting_outcomes.analysis.horizons.at_horizons`), per operation and place.
Places are worldwide totals and national ones; sub-national counts (a German state, a
British police area) are parts of a national count and are listed by
:func:`subnational`, never added up. Drugs in mass (kg) and drugs counted in pills stay in
separate tables: no pill weight is assumed.

Money is kept by kind, never summed across kinds: ``cash`` (cash only), ``cryptocurrency``
(valued in a currency; coin amounts such as BTC are listed apart and never converted),
``other assets`` (property, goods and other assets seized; the codebook lets a source
include cryptocurrency there), ``cash, crypto and assets as one value`` (a source's
combined figure), ``frozen or restrained`` and ``forfeited``. USD and EUR values come from
``Dataset.normalized`` (ECB reference rate of the figure's as-of date).

**Constant dollars** (:func:`constant_dollars`): the USD value at the as-of date times
``CPI(base) / CPI(year of as_of)``, with the US Consumer Price Index for All Urban
Consumers (CPI-U, U.S. city average, all items, not seasonally adjusted; BLS series
CUUR0000SA0), **annual averages**, as shipped offline by the ``cpi`` package. The base year
is the latest year with an annual average in that package. A figure dated in a year
without an annual average yet gets no constant-dollar value (``cpi_missing``). Deflating
amounts first converted from other currencies by a US index is a convention for
comparing them on one scale, not a measure of their purchasing power at home.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from ..checks import require_columns
from .horizons import at_horizons
from .snapshots import KEY, known_metrics
from .timing import effective_series, stated_date

__all__ = [
    "CPI_SERIES",
    "MONEY_KINDS",
    "constant_dollars",
    "cpi_annual",
    "cpi_info",
    "drug_seizures",
    "money_plot",
    "money_seizures",
    "seizure_plot",
    "subnational",
]

#: Money metric -> the kind of money it counts (kept apart, never summed).
MONEY_KINDS = {
    "cash_seized": "cash",
    "cryptocurrency_seized": "cryptocurrency",
    "assets_seized": "other assets",
    "money_seized": "cash, crypto and assets as one value",
    "funds_seized_or_frozen": "seized or frozen, one value",
    "assets_frozen": "frozen or restrained",
    "assets_forfeited": "forfeited by a court",
}
DRUG_METRICS = ("drugs_seized", "drug_pills_seized")
#: The CPI series used for constant dollars (CPI-U, all items, U.S. city average, NSA).
CPI_SERIES = "CUUR0000SA0"


def _national(figures: pd.DataFrame) -> pd.Series:
    j = figures["jurisdiction"].astype("string")
    return (j.eq("global") | j.eq("EU") | ~j.str.contains("-", regex=False)).fillna(False)


def subnational(figures: pd.DataFrame, metrics: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Running totals of ``metrics`` reported for a sub-national place (``DE-BW``): one
    row per operation and place with the number of figures. They are parts of a national
    count and are left out of the per-operation tables."""
    m = figures["metric"].astype("string").isin(list(metrics)).fillna(False)
    total = figures["scope"].astype("string").eq("total").fillna(False) if "scope" in figures else True
    rows = figures.loc[m & total & ~_national(figures)]
    out = rows.groupby(["operation_id", "jurisdiction"], observed=True).size().rename("figures").reset_index()
    return out.sort_values(["operation_id", "jurisdiction"], ignore_index=True)


def _read(figures: pd.DataFrame, operations: pd.DataFrame, metrics: list[str], horizons: tuple[int, ...]):
    present = [m for m in metrics if m in set(figures["metric"].astype(str))]
    if not present:
        return pd.DataFrame()
    chosen = figures.loc[_national(figures)]
    points = effective_series(chosen, operations, metrics=present)
    if points.empty:
        return pd.DataFrame()
    at = at_horizons(points, horizons, keys=[*KEY, "unit_std"])
    by_id = figures.drop_duplicates("figure_id").set_index("figure_id")
    stated = stated_date(figures)
    for prefix, col in [("first", "first_id"), *[(f"h{h}", f"id_{h}m") for h in horizons]]:
        ids = at[col].astype("string")
        at[f"{prefix}_source_kind"] = ids.map(by_id["source_kind"].astype("string"))
        at[f"{prefix}_source"] = ids.map(by_id["source_id"].astype("string"))
        at[f"{prefix}_date"] = ids.map(stated)
    return at


def drug_seizures(
    figures: pd.DataFrame, operations: pd.DataFrame, *, horizons: tuple[int, ...] = (12,)
) -> pd.DataFrame:
    """Drugs seized per operation, place and substance, at the first release and at each
    horizon (months after the action day). ``metric`` says the unit: ``drugs_seized`` in
    kg (mass units converted), ``drug_pills_seized`` in pills. ``category`` is the
    substance; empty for a source's total over substances (not the sum of the rows).
    Columns as :func:`~sting_outcomes.analysis.horizons.at_horizons` plus the source kind
    and source of the first figure and of the figure read at each horizon."""
    require_columns(figures, ["value_std", "unit_std", "lower", "upper"], "figures")
    known = known_metrics(figures)
    return _read(figures, operations, [m for m in DRUG_METRICS if m in known], tuple(horizons))


def money_seizures(
    figures: pd.DataFrame, operations: pd.DataFrame, *, horizons: tuple[int, ...] = (12,)
) -> pd.DataFrame:
    """Money seized per operation, place and kind (:data:`MONEY_KINDS`), at the first
    release and at each horizon, valued in USD (``first_value``, ``value_<h>m``) and EUR
    (``first_eur``, ``eur_<h>m``, with bounds) at each figure's as-of date, and the amount
    as the source gave it (``first_reported``: "AUD 44,934,457"). Coin amounts (BTC, XMR)
    keep ``unit_std`` of the coin and have no USD or EUR value."""
    require_columns(figures, ["value_std", "unit_std", "lower", "upper", "value_usd", "value_eur"], "figures")
    at = _read(figures, operations, [m for m in MONEY_KINDS if m in known_metrics(figures)], tuple(horizons))
    if at.empty:
        return at
    at.insert(at.columns.get_loc("metric") + 1, "kind", at["metric"].astype(str).map(MONEY_KINDS))
    by_id = figures.drop_duplicates("figure_id").set_index("figure_id")
    with np.errstate(divide="ignore", invalid="ignore"):
        eur_per_usd = (by_id["value_eur"] / by_id["value_usd"]).astype(float)
    reported = by_id["unit"].astype(str) + " " + by_id["value"].map(lambda v: f"{v:,.0f}" if v >= 100 else f"{v:,.4g}")
    for prefix, id_col, value, low, high in [
        ("first", "first_id", "first_value", "first_lower", "first_upper"),
        *[(f"{h}m", f"id_{h}m", f"value_{h}m", f"lower_{h}m", f"upper_{h}m") for h in horizons],
    ]:
        ids = at[id_col].astype("string")
        rate = ids.map(eur_per_usd).astype(float)
        name = "first_eur" if prefix == "first" else f"eur_{prefix}"
        at[name] = at[value] * rate
        at[f"{name}_lower"] = at[low] * rate
        at[f"{name}_upper"] = at[high] * rate
        at["first_reported" if prefix == "first" else f"reported_{prefix}"] = ids.map(reported)
    return at


# -- constant dollars -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def cpi_annual() -> pd.Series:
    """CPI-U annual averages (index 1982-84 = 100) by year, from the ``cpi`` package's
    bundled database (read offline; its warning that the data are not the latest is
    silenced, since the latest year covered is reported by :func:`cpi_info`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*CPI data is out of date.*")
        warnings.filterwarnings("ignore", category=UserWarning, module="cpi")
        import cpi

        frame = cpi.series.get_by_id(CPI_SERIES).to_dataframe()
    annual = frame.loc[frame["period_type"] == "annual", ["year", "value"]]
    return annual.set_index("year")["value"].astype(float).sort_index()


def cpi_info() -> dict:
    """What :func:`constant_dollars` uses: ``series`` id, ``index`` (its name),
    ``first_year`` and ``latest_year`` with an annual average, and ``base_year`` (the
    latest)."""
    annual = cpi_annual()
    latest = int(annual.index.max())
    return {
        "series": CPI_SERIES,
        "index": "CPI-U (all urban consumers, U.S. city average, all items, not seasonally adjusted), annual average",
        "first_year": int(annual.index.min()),
        "latest_year": latest,
        "base_year": latest,
    }


def constant_dollars(
    values_usd: pd.Series | np.ndarray, years: pd.Series | np.ndarray, base_year: int | None = None
) -> pd.DataFrame:
    """``values_usd`` (USD at their dates) in constant ``base_year`` dollars: value ×
    CPI(base_year) / CPI(year). Returns ``value_const``, ``cpi_factor`` and
    ``cpi_missing`` (no annual average for that year: no constant-dollar value),
    aligned on the inputs' positions."""
    annual = cpi_annual()
    base = int(base_year) if base_year is not None else int(annual.index.max())
    if base not in annual.index:
        raise ValueError(
            f"no CPI-U annual average for base year {base} (covered: {annual.index.min()}-{annual.index.max()})"
        )
    v = np.asarray(values_usd, dtype=float)
    y = pd.Series(np.asarray(years)).astype("Int64")
    cpi_year = y.map(annual).astype(float).to_numpy()
    factor = annual[base] / cpi_year
    return pd.DataFrame({"value_const": v * factor, "cpi_factor": factor, "cpi_missing": np.isnan(cpi_year)})


# -- charts --------------------------------------------------------------------------------
def seizure_plot(
    table: pd.DataFrame,
    *,
    label: str,
    hue: str,
    x: str,
    low: str,
    high: str,
    xlabel: str,
    caption: str | None = None,
    title: str | None = None,
    hue_order: list[str] | None = None,
):
    """Dot plot on a log x axis (dots and interval lines only, no bars): one row per
    ``label``, one colour and marker per ``hue``; a line over ``low``–``high`` (the
    bounds), an arrow where the upper bound is open. Non-positive values cannot sit on a
    log axis and are left out (say so in the caption). ``hue_order`` fixes the colour and
    marker of each kind (so that two charts encode a kind alike)."""
    import matplotlib.pyplot as plt

    from ..plots import finish_figure, hide_unseen_minor_ticks

    frame = table.loc[table[x].gt(0).fillna(False)].copy()
    if frame.empty:
        raise ValueError("nothing to draw: no positive values")
    rows = frame.groupby(label)[x].max().sort_values().index.tolist()
    pos = {r: i for i, r in enumerate(rows)}
    present = list(pd.unique(frame[hue].astype(str)))
    kinds = [k for k in hue_order if k in present] if hue_order else present
    markers = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p"]
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(rows) + 1.8))
    finite = frame[[x, low, high]].to_numpy(float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    top = finite.max() * 3
    n = max(1, len(kinds))
    n_colours = len(hue_order) if hue_order else n
    for j, kind in enumerate(kinds):
        k = hue_order.index(kind) if hue_order else j  # colour and marker slot, fixed by hue_order
        sub = frame.loc[frame[hue].astype(str) == kind]
        color = plt.cm.tab20(k % 20) if n_colours > 10 else f"C{k % 10}"
        offset = (j - (n - 1) / 2) * min(0.6 / n, 0.12)
        y = sub[label].map(pos).to_numpy(float) + offset
        lo = sub[low].where(sub[low] > 0, sub[x]).to_numpy(float)
        hi = sub[high].to_numpy(float)
        ax.hlines(y, lo, np.where(np.isfinite(hi), hi, top), color=color, lw=1.2, alpha=0.7)
        open_end = ~np.isfinite(hi)
        for yy, start in zip(y[open_end], sub[x].to_numpy(float)[open_end], strict=True):
            ax.annotate("", xy=(top, yy), xytext=(start, yy), arrowprops={"arrowstyle": "->", "color": color, "lw": 1})
        ax.plot(sub[x], y, markers[k % len(markers)], color=color, ms=6, ls="none", label=kind.replace("_", " "))
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    if title:
        ax.set_title(title, loc="left")
    hide_unseen_minor_ticks(ax)
    return finish_figure(fig, caption)


def money_plot(table: pd.DataFrame, *, label: str, caption: str | None = None, title: str | None = None):
    """Money seized per operation and place (rows) and kind (colour and marker), in USD at
    the as-of date of the first release, on a log axis with the bounds as lines."""
    return seizure_plot(
        table,
        label=label,
        hue="kind",
        x="first_value",
        low="first_lower",
        high="first_upper",
        xlabel="USD at the ECB rate of the as-of date (log scale)",
        caption=caption,
        title=title,
        hue_order=list(MONEY_KINDS.values()),
    )


def key_columns() -> list[str]:
    """The series key (operation, jurisdiction, metric, category)."""
    return list(KEY)
