"""Outcomes per head of population, by country.

``data/population.csv`` holds one sourced population figure per country and year (a
national statistics office, the World Bank or the UN, each with its ``sources.csv``
row). :func:`population_table` returns it with each row's source kind and publisher.
:func:`per_million` reads a running total (arrests by default) per operation and
country at a common horizon (the first release, +12 or +36 months; see
:mod:`~sting_outcomes.analysis.horizons`) and divides it by the population of the year
closest to the operation's action day, with an exact Poisson (Garwood) interval and the
wider interval the count's qualifier allows
(:func:`~sting_outcomes.analysis.intervals.rate_bounds`; the population is taken as
exact: the rounding the notes state is far below the Poisson noise). Countries that
took part but have no national count, counts for a sub-national place, and countries
without a sourced population are returned with the reason, never dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_names, require_columns
from .horizons import at_horizons, horizon_label
from .intervals import rate_bounds
from .snapshots import KEY, known_metrics
from .timing import effective_series, stated_date

__all__ = ["POPULATION_COLUMNS", "per_million", "per_million_plot", "population_table"]

POPULATION_COLUMNS = ["country", "year", "population", "source_id", "locator", "note"]


def population_table(ds) -> pd.DataFrame:
    """The population table of a dataset (``ds.population``, read and validated by
    :func:`sting_outcomes.load` like every table) with ``source_kind``, ``publisher``,
    ``url`` and ``published`` of each row's source joined. A dataset without the table
    gives an empty frame with the columns."""
    frame = ds.population if getattr(ds, "population", None) is not None else pd.DataFrame(columns=POPULATION_COLUMNS)
    frame = frame.reindex(columns=POPULATION_COLUMNS).copy()
    frame["year"] = pd.to_numeric(frame["year"]).astype("Int64")
    frame["population"] = pd.to_numeric(frame["population"]).astype(float)
    sources = ds.sources.drop_duplicates("source_id").set_index("source_id")
    for col in ("source_kind", "publisher", "url", "published"):
        if col in sources:
            frame[col] = frame["source_id"].map(sources[col])
    return frame.sort_values(["country", "year"], ignore_index=True)


def _closest_year(pop: pd.DataFrame, country: str, year: int) -> pd.Series | None:
    rows = pop.loc[pop["country"] == country]
    if rows.empty:
        return None
    gap = (rows["year"].astype(int) - year).abs()
    # nearest year; on a tie, the earlier year (the population before the action day)
    best = rows.assign(_gap=gap).sort_values(["_gap", "year"]).iloc[0]
    return best


def per_million(
    figures: pd.DataFrame,
    operations: pd.DataFrame,
    population: pd.DataFrame,
    *,
    operation_ids: list[str] | tuple[str, ...] = ("anom", "encrochat"),
    metric: str = "arrests",
    horizon: int | str = "first",
    level: float = 0.95,
) -> pd.DataFrame:
    """``metric`` per million inhabitants, per operation and country.

    For each operation in ``operation_ids``: every country with a national running total
    of ``metric`` (``jurisdiction`` an ISO 3166-1 code) and every country listed in the
    operation's ``countries``. ``horizon``: ``"first"`` (the first release) or months after
    the action day (the running total then; a series that stopped earlier is flagged
    ``short`` and its value is a lower bound). Columns: ``operation_id``, ``name``,
    ``country``, ``horizon``, ``value``, ``lower``, ``upper``, ``as_of`` (month-only dates read as the
    month's end), ``date`` (as stated), ``figure_id``,
    ``source_kind``, ``short``, ``population``, ``population_year``,
    ``population_source``, ``population_kind``, ``year_gap`` (population year minus the
    action-day year), ``rate``, ``rate_low``, ``rate_high`` (Garwood), ``bound_low``,
    ``bound_high`` (with the qualifier's bounds), per million, and ``reason`` (empty when
    rated). Doubtful and falling figures are left out (as in :func:`series`)."""
    require_columns(population, ["country", "year", "population", "source_id"], "population", "population_table(ds)")
    require_columns(operations, ["operation_id", "name", "countries", "takedown_date"], "operations")
    check_names([metric], known_metrics(figures), "metric")
    check_choice(horizon, ("first", 12, 36), "horizon")
    ops = operations.drop_duplicates("operation_id").set_index("operation_id")
    check_names(list(operation_ids), ops.index, "operation")
    j = figures["jurisdiction"].astype("string")
    national = j.str.fullmatch(r"[A-Z]{2}").fillna(False) & ~j.eq("EU").fillna(False)
    chosen = figures.loc[national & figures["operation_id"].isin(list(operation_ids))]
    if metric in set(chosen["metric"].astype(str)):
        points = effective_series(chosen, operations, metrics=[metric])
        points = points.loc[points["category"].isna()]
    else:
        points = chosen.iloc[0:0]
    hs = (1,) if horizon == "first" else (int(horizon),)
    at = (
        at_horizons(points, hs, keys=[*KEY, "unit_std"])
        if len(points)
        else pd.DataFrame(columns=["operation_id", "jurisdiction"])
    )
    kinds = figures.drop_duplicates("figure_id").set_index("figure_id")["source_kind"].astype("string")
    stated = stated_date(figures)
    pop = population.copy()
    pop["year"] = pd.to_numeric(pop["year"]).astype(int)
    rows = []
    for op in operation_ids:
        listed = [c for c in str(ops.loc[op, "countries"] or "").split(";") if c]
        have = at.loc[at["operation_id"] == op]
        countries = sorted(set(listed) | set(have["jurisdiction"].astype(str)))
        year = int(pd.Timestamp(ops.loc[op, "takedown_date"]).year)
        for country in countries:
            row = {
                "operation_id": op,
                "name": ops.loc[op, "name"],
                "country": country,
                "horizon": horizon_label(horizon),
            }
            got = have.loc[have["jurisdiction"].astype(str) == country]
            reason = ""
            if got.empty:
                reason = f"no national {metric.replace('_', ' ')} figure"
            else:
                g = got.iloc[0]
                if horizon == "first":
                    value, low, high, as_of, fid, short = (
                        g["first_value"],
                        g["first_lower"],
                        g["first_upper"],
                        g["first_as_of"],
                        g["first_id"],
                        False,
                    )
                else:
                    n = int(horizon)
                    value, low, high, as_of, fid, short = (
                        g[f"value_{n}m"],
                        g[f"lower_{n}m"],
                        g[f"upper_{n}m"],
                        g[f"as_of_{n}m"],
                        g[f"id_{n}m"],
                        bool(g[f"short_{n}m"]),
                    )
                    if pd.isna(value):
                        reason = f"no national {metric.replace('_', ' ')} figure by then"
                row.update(
                    date=stated.get(fid, pd.NA) if isinstance(fid, str) else pd.NA,
                    value=value,
                    lower=low,
                    upper=high,
                    as_of=as_of,
                    figure_id=fid,
                    source_kind=kinds.get(fid, pd.NA) if isinstance(fid, str) else pd.NA,
                    short=short,
                )
            p = _closest_year(pop, country, year)
            if p is None:
                reason = f"{reason}; no sourced population" if reason else "no sourced population"
            else:
                row.update(
                    population=float(p["population"]),
                    population_year=int(p["year"]),
                    population_source=p["source_id"],
                    population_kind=p.get("source_kind", pd.NA),
                    year_gap=int(p["year"]) - year,
                )
            row["reason"] = reason
            rows.append(row)
    cols = [
        "operation_id",
        "name",
        "country",
        "horizon",
        "value",
        "lower",
        "upper",
        "as_of",
        "date",
        "figure_id",
        "source_kind",
        "short",
        "population",
        "population_year",
        "population_source",
        "population_kind",
        "year_gap",
        "reason",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for col in ("value", "lower", "upper", "population"):
        out[col] = out[col].astype(float)
    rated = out["reason"].eq("")
    rates = rate_bounds(
        out["value"].where(rated),
        out["lower"].where(rated),
        out["upper"].where(rated),
        out["population"],
        out["population"],
        out["population"],
        per=1e6,
        level=level,
    )
    out = pd.concat([out.reset_index(drop=True), rates], axis=1)
    out["short"] = out["short"].astype("boolean")
    out["population_year"] = out["population_year"].astype("Int64")
    out["year_gap"] = out["year_gap"].astype("Int64")
    return out.sort_values(["operation_id", "rate", "country"], ascending=[True, False, True], ignore_index=True)


def per_million_plot(
    rated: pd.DataFrame, *, caption: str | None = None, xlabel: str = "arrests per million inhabitants"
):
    """One panel per operation: each rated country's rate per million (dot), its exact
    Poisson interval (thick line) and the wider interval its qualifier allows (thin line;
    an arrow where it is open). Linear axis from zero; a rate of zero sits on the axis."""
    import matplotlib.pyplot as plt

    from ..plots import finish_figure

    frame = rated.loc[rated["reason"].eq("") & rated["rate"].notna()]
    if frame.empty:
        raise ValueError("nothing to draw: no country is rated")
    ops = list(pd.unique(frame["operation_id"]))
    heights = [max(1, int((frame["operation_id"] == o).sum())) for o in ops]
    fig, axes = plt.subplots(
        len(ops),
        1,
        figsize=(9, 0.35 * sum(heights) + 1.1 * len(ops) + 0.4),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    finite = frame[["rate", "rate_high", "bound_high"]].to_numpy(float)
    top = np.nanmax(np.where(np.isfinite(finite), finite, np.nan)) * 1.15
    for ax, op in zip(axes[:, 0], ops, strict=True):
        sub = frame.loc[frame["operation_id"] == op].sort_values("rate")
        y = np.arange(len(sub))
        hi = sub["bound_high"].to_numpy(float)
        ax.hlines(y, sub["bound_low"], np.where(np.isfinite(hi), hi, top), color="C0", lw=1, alpha=0.6)
        for yy, start in zip(y[~np.isfinite(hi)], sub["rate_high"].to_numpy(float)[~np.isfinite(hi)], strict=True):
            ax.annotate("", xy=(top, yy), xytext=(start, yy), arrowprops={"arrowstyle": "->", "color": "C0"})
        ax.hlines(y, sub["rate_low"], sub["rate_high"], color="C0", lw=4, alpha=0.9)
        ax.plot(sub["rate"], y, "o", color="white", mec="C0", mew=1.5, ms=7, zorder=3)
        labels = sub["country"] + " (" + sub["population_year"].astype(str) + " population)"
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_xlim(0, top)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        ax.set_title(str(sub["name"].iloc[0]), fontsize=9, loc="left")
    axes[-1, 0].set_xlabel(xlabel)
    handles = [
        plt.Line2D([], [], color="C0", lw=4, label="exact Poisson 95% interval"),
        plt.Line2D([], [], color="C0", lw=1, label="with the qualifier's bounds ('more than', 'about')"),
    ]
    fig.legend(handles=handles, loc="upper right", frameon=False, fontsize=8)
    return finish_figure(fig, caption, top=0.95)
