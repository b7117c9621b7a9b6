"""What the data show, as sentences that are computed and re-checked.

Each *headline* computes a few numbers from the data and writes one sentence from them.
The sentence also makes a claim in fixed words ("most revisions raise the tally",
"fewer than a third of those charged had been convicted"); ``holds`` re-checks that claim
on the numbers, interval included. When the data change so that the words are no longer
true, ``holds`` turns false (and :func:`verify_finding` tells that a sentence written earlier no
longer matches the data), so a page can never keep showing a stale claim.

:func:`findings` returns the findings for the index page; :func:`by_sources` recomputes
every headline from agency releases and official documents only (``source_kind ==
"primary"``) beside all sources, and says where a result exists only thanks to press
figures. The notebooks 07-09 show the same numbers with their tables and charts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .population import per_million, population_table
from .revisions import capture_shares, revision_counts, revision_updates, share_interval
from .seizures import constant_dollars, cpi_info, money_seizures
from .timing import conviction_rates, survival, time_to_outcome

__all__ = ["HEADLINES", "Finding", "Inputs", "by_sources", "findings", "verify_finding"]

#: Metrics read for the "what did the first release capture" headline.
CAPTURE_METRIC = "arrests"
CAPTURE_HORIZON = 36


@dataclass(frozen=True)
class Finding:
    """One sentence for the index page.

    ``text``: the sentence, every number in it computed; ``notebook``: the page and
    section that shows the numbers (``"07_revisions.html#Revisions"``); ``holds``: the
    sentence's claim re-checked on the numbers; ``key``: which headline; ``values``: the
    numbers the sentence states."""

    text: str
    notebook: str
    holds: bool
    key: str = ""
    values: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Inputs:
    """What the headlines read: ``figures`` (``Dataset.normalized`` or a subset),
    ``operations``, ``running`` (the running-tally metrics) and ``population``."""

    figures: pd.DataFrame
    operations: pd.DataFrame
    running: tuple[str, ...]
    population: pd.DataFrame

    @classmethod
    def from_dataset(cls, ds) -> Inputs:
        metrics = ds.metrics
        running = tuple(metrics.loc[metrics["tally"].astype(str).eq("running"), "metric"].astype(str))
        return cls(ds.normalized, ds.operations, running, population_table(ds))

    def primary_only(self) -> Inputs:
        keep = self.figures["source_kind"].astype("string").eq("primary").fillna(False)
        pop = self.population
        if "source_kind" in pop:
            pop = pop.loc[pop["source_kind"].astype("string").eq("primary").fillna(False)]
        return replace(self, figures=self.figures.loc[keep], population=pop)


@dataclass(frozen=True)
class Headline:
    key: str
    title: str
    notebook: str
    compute: Callable[[Inputs], dict | None]
    sentence: Callable[[dict], str]
    claim: Callable[[dict], bool]


def _pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.0%}"


def _months(x: float) -> str:
    return "open" if not np.isfinite(x) else f"{x:.0f} months"


# -- revisions --------------------------------------------------------------------------
def _revisions(inputs: Inputs) -> dict | None:
    reported = set(inputs.figures["metric"].astype(str))
    present = [m for m in inputs.running if m in reported]
    if not present:
        return None
    u = revision_updates(inputs.figures, inputs.operations, metrics=present)
    if u.empty:
        return None
    c = revision_counts(u)
    if c["changed"] == 0:
        return None
    share, low, high = share_interval(c["up"], c["changed"])
    return {**c, "share_up": share, "share_low": low, "share_high": high}


def _revisions_text(v: dict) -> str:
    return (
        f"Most revisions raise the tally: of {v['later']} later updates to {v['series']} running totals, "
        f"{v['changed']} changed the number, {v['up']} upward and {v['down']} downward "
        f"({_pct(v['share_up'])} upward, 95% interval {_pct(v['share_low'])}–{_pct(v['share_high'])})."
    )


def _revisions_claim(v: dict) -> bool:
    return bool(v["share_low"] > 0.5)


# -- capture ----------------------------------------------------------------------------
def _capture(inputs: Inputs) -> dict | None:
    if CAPTURE_METRIC not in set(inputs.figures["metric"].astype(str)):
        return None
    u = revision_updates(inputs.figures, inputs.operations, metrics=[CAPTURE_METRIC])
    if u.empty:
        return None
    c = capture_shares(u, (CAPTURE_HORIZON,))
    ok = c.loc[c["status"] == "covered"] if len(c) else c
    if ok.empty:
        return None
    return {
        "n": len(ok),
        "short": int((c["status"] == "stops short").sum()),
        "median": float(ok["share"].median()),
        "median_low": float(ok["share_low"].median()),
        "median_high": float(ok["share_high"].median()),
        "min": float(ok["share"].min()),
        "max": float(ok["share"].max()),
    }


def _capture_text(v: dict) -> str:
    return (
        f"The launch figure undercounts: in the {v['n']} arrest series first reported within a month of the action "
        f"day that run past +{CAPTURE_HORIZON} months, the first release held a median {_pct(v['median'])} of the "
        f"count three years on (bounds {_pct(v['median_low'])}–{_pct(v['median_high'])}; from {_pct(v['min'])} to "
        f"{_pct(v['max'])}); {v['short']} more series stop short of the horizon."
    )


def _capture_claim(v: dict) -> bool:
    return bool(v["median_high"] < 1)


# -- time to outcome --------------------------------------------------------------------
def _time(inputs: Inputs) -> dict | None:
    table = time_to_outcome(inputs.figures, inputs.operations, by="operation")
    if table.empty:
        return None
    s = survival(table)
    return {
        "n": s["n"],
        "events": s["events"],
        "censored": s["censored"],
        "censor_date": pd.Timestamp(table["censor_date"].iloc[0]).strftime("%Y-%m-%d"),
        "median": s["median"],
        "median_low": s["median_low"],
        "median_high": s["median_high"],
    }


def _time_text(v: dict) -> str:
    median = (
        f"the Kaplan–Meier median time from the action day to a first such figure is {_months(v['median'])} "
        f"(95% interval {_months(v['median_low'])} to {_months(v['median_high'])})"
        if np.isfinite(v["median"])
        else "fewer than half have one at any time observed, so the Kaplan–Meier median is not reached"
    )
    return (
        f"Most operations have no published conviction or sentence figure yet: {v['events']} of {v['n']} do, and the "
        f"other {v['censored']} are censored at {v['censor_date']} (not published by then, not zero); {median}."
    )


def _time_claim(v: dict) -> bool:
    return bool(v["events"] < v["n"] / 2)


# -- conviction rates from one cohort ---------------------------------------------------
def _cohort(inputs: Inputs) -> dict | None:
    rates = conviction_rates(inputs.figures)
    rates = rates.loc[rates["rate_high"].notna()] if len(rates) else rates
    if rates.empty:
        return None
    names = inputs.operations.drop_duplicates("operation_id").set_index("operation_id")["name"].astype(str)
    first = rates.sort_values(["rate", "operation_id"]).iloc[-1]
    return {
        "k": len(rates),
        "pairs": int(rates[["operation_id", "jurisdiction"]].drop_duplicates().shape[0]),
        "name": names.get(first["operation_id"], first["operation_id"]),
        "place": first["jurisdiction"],
        "convicted": float(first["convicted"]),
        "charged": float(first["charged"]),
        "date": pd.Timestamp(first["convicted_as_of"]).strftime("%Y-%m-%d"),
        "rate": float(first["rate"]),
        "rate_low": float(first["rate_low"]),
        "rate_high": float(first["rate_high"]),
        "max_high": float(rates["rate_high"].max()),
    }


def _cohort_text(v: dict) -> str:
    which = "the highest" if v["k"] > 1 else "the only one"
    return (
        f"Fewer than a third of the people charged had been convicted in every cohort read from one release "
        f"({v['k']} such release{'s' if v['k'] != 1 else ''}, for {v['pairs']} operation and "
        f"place{'s' if v['pairs'] != 1 else ''}); {which}: {v['name']} in {country_name(v['place'])}, "
        f"{v['convicted']:,.0f} of {v['charged']:,.0f} charged convicted by {v['date']} "
        f"({_pct(v['rate'])}, 95% interval {_pct(v['rate_low'])}–{_pct(v['rate_high'])})."
    )


def _cohort_claim(v: dict) -> bool:
    return bool(v["max_high"] < 1 / 3)


# -- per head ---------------------------------------------------------------------------
def _per_head(inputs: Inputs) -> dict | None:
    if inputs.population.empty or "anom" not in set(inputs.operations["operation_id"]):
        return None
    rated = per_million(inputs.figures, inputs.operations, inputs.population, operation_ids=("anom",))
    rated = rated.loc[rated["reason"].eq("")]
    au = rated.loc[rated["country"] == "AU"]
    if rated.empty or au.empty:
        return None
    top = rated.sort_values(["rate", "country"], ascending=[False, True]).iloc[0]
    au = au.iloc[0]
    return {
        "n": len(rated),
        "top": top["country"],
        "rate": float(top["rate"]),
        "low": float(top["bound_low"]),
        "high": float(top["bound_high"]),
        "year": int(top["population_year"]),
        "au": float(au["rate"]),
        "au_low": float(au["bound_low"]),
        "au_high": float(au["bound_high"]),
        "au_year": int(au["population_year"]),
    }


def country_name(code: str) -> str:
    """A country's common name from its ISO 3166-1 alpha-2 code (the code when unknown)."""
    import pycountry

    country = pycountry.countries.get(alpha_2=str(code))
    if country is None:
        return str(code)
    name = getattr(country, "common_name", None) or country.name
    return f"the {name}" if name.startswith(("United", "Netherlands")) else name


def _num(x: float) -> str:
    return "no upper bound" if not np.isfinite(x) else f"{x:.1f}"


def _per_head_text(v: dict) -> str:
    return (
        f"Per head, ANOM's first-release arrests were higher in {country_name(v['top'])} than in Australia: "
        f"{_num(v['rate'])} per million inhabitants (bounds {_num(v['low'])} to {_num(v['high'])}; "
        f"{v['year']} population) against "
        f"{_num(v['au'])} ({_num(v['au_low'])} to {_num(v['au_high'])}; {v['au_year']}), among {v['n']} countries "
        f"with a national count."
    )


def _per_head_claim(v: dict) -> bool:
    return bool(v["top"] != "AU" and v["low"] > v["au_high"])


# -- money ------------------------------------------------------------------------------
def _money(inputs: Inputs) -> dict | None:
    m = money_seizures(inputs.figures, inputs.operations)
    if m.empty:
        return None
    coins = m["first_eur"].isna() & m["unit_std"].astype(str).ne("USD")
    cash = m.loc[m["kind"].eq("cash")]
    crypto_valued = m.loc[m["kind"].eq("cryptocurrency") & ~coins]
    crypto_any = m.loc[m["kind"].eq("cryptocurrency")]
    if cash.empty:
        return None
    const = constant_dollars(cash["first_value"], cash["first_as_of"].dt.year)
    cash = cash.assign(const=const["value_const"].to_numpy())
    names = inputs.operations.drop_duplicates("operation_id").set_index("operation_id")["name"].astype(str)
    top = cash.sort_values(["const", "operation_id"], ascending=[False, True]).iloc[0]
    return {
        "n_cash": int(cash["operation_id"].nunique()),
        "n_crypto": int(crypto_valued["operation_id"].nunique()),
        "n_crypto_any": int(crypto_any["operation_id"].nunique()),
        "top": names.get(top["operation_id"], top["operation_id"]),
        "place": "worldwide" if top["jurisdiction"] == "global" else top["jurisdiction"],
        "reported": top["first_reported"],
        "date": top["first_date"],
        "const": float(top["const"]),
        "base": cpi_info()["base_year"],
    }


def _money_text(v: dict) -> str:
    return (
        f"Cash is reported more often than cryptocurrency: {v['n_cash']} operations give a cash figure, "
        f"{v['n_crypto_any']} a cryptocurrency figure ({v['n_crypto']} valued in a currency); the largest "
        f"first-release cash figure is {v['top']} ({v['place']}), {v['reported']} on {v['date']}, about "
        f"{v['const'] / 1e6:,.0f} million {v['base']} US dollars (CPI-U)."
    )


def _money_claim(v: dict) -> bool:
    return bool(v["n_cash"] > v["n_crypto_any"])


HEADLINES: tuple[Headline, ...] = (
    Headline(
        "revisions",
        "How revisions go",
        "07_revisions.html#Revisions",
        _revisions,
        _revisions_text,
        _revisions_claim,
    ),
    Headline(
        "capture",
        "What the first release captured",
        "07_revisions.html#Capture",
        _capture,
        _capture_text,
        _capture_claim,
    ),
    Headline(
        "time",
        "Time to a first conviction figure",
        "08_time_to_outcome.html#Timeline",
        _time,
        _time_text,
        _time_claim,
    ),
    Headline(
        "cohort",
        "Convicted ÷ charged from one release",
        "08_time_to_outcome.html#Conviction-rates",
        _cohort,
        _cohort_text,
        _cohort_claim,
    ),
    Headline(
        "per_head",
        "ANOM arrests per head",
        "08_time_to_outcome.html#Per-head",
        _per_head,
        _per_head_text,
        _per_head_claim,
    ),
    Headline("money", "Cash against cryptocurrency", "09_seizures.html#Money", _money, _money_text, _money_claim),
)


def _finding(headline: Headline, inputs: Inputs) -> Finding:
    values = headline.compute(inputs)
    if values is None:
        return Finding(
            f"{headline.title}: the data give no figure to compute this from.",
            headline.notebook,
            False,
            headline.key,
            {},
        )
    return Finding(headline.sentence(values), headline.notebook, headline.claim(values), headline.key, values)


def by_sources(ds_or_inputs, notebook: str | None = None) -> pd.DataFrame:
    """Every headline computed from all sources and from primary sources only, side by
    side: ``key``, ``headline``, ``notebook``, ``all_sources`` and ``primary_only`` (the
    sentence, or why it cannot be computed), ``holds_all``, ``holds_primary`` and
    ``press_only`` (the claim holds only with press figures included). ``notebook``
    (e.g. ``"08_"``) keeps only the headlines of the pages whose name starts with it,
    and computes only those."""
    inputs = ds_or_inputs if isinstance(ds_or_inputs, Inputs) else Inputs.from_dataset(ds_or_inputs)
    primary = inputs.primary_only()
    rows = []
    for h in HEADLINES:
        if notebook is not None and not h.notebook.startswith(notebook):
            continue
        a, p = _finding(h, inputs), _finding(h, primary)
        rows.append(
            {
                "key": h.key,
                "headline": h.title,
                "notebook": h.notebook,
                "all_sources": a.text,
                "primary_only": p.text,
                "holds_all": a.holds,
                "holds_primary": p.holds,
                "press_only": bool(a.holds and not p.holds),
            }
        )
    return pd.DataFrame(rows)


def findings(ds) -> list[Finding]:
    """The findings for the index page, one per headline plus one on which sources carry
    them. ``ds`` is a :class:`~sting_outcomes.data.load.Dataset` (or anything with
    ``normalized``, ``operations``, ``metrics``, ``sources`` and ``population`` or
    ``data_dir``)."""
    inputs = Inputs.from_dataset(ds)
    table = by_sources(inputs)
    out = [_finding(h, inputs) for h in HEADLINES]
    out.append(_sources_finding(table))
    return out


def _sources_finding(table: pd.DataFrame) -> Finding:
    held = table.loc[table["holds_all"]]
    both = held.loc[held["holds_primary"]]
    press = held.loc[held["press_only"], "headline"].str.lower().tolist()
    values = {"n": len(held), "both": len(both), "press": press}
    rest = (
        f"only {'; '.join(press)} {'rests' if len(press) == 1 else 'rest'} on press figures"
        if press
        else "none rests on press figures alone"
    )
    text = (
        f"Most headline results stand on agency releases alone: recomputed from primary sources only, {len(both)} "
        f"of the {len(held)} that hold still hold; {rest}."
    )
    return Finding(text, "07_revisions.html#Sources", bool(len(held) and len(both) > len(held) / 2), "sources", values)


def verify_finding(finding: Finding, ds) -> bool:
    """Re-check a finding written earlier against ``ds``: true only when the headline,
    recomputed, gives the same sentence and its claim still holds."""
    current = {f.key: f for f in findings(ds)}
    now = current.get(finding.key)
    return bool(now is not None and now.holds and now.text == finding.text)
