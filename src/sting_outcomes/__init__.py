"""sting-outcomes: sourced figures on what covert law-enforcement operations achieve.

>>> import sting_outcomes as so
>>> ds = so.load()              # validated, typed DataFrames
>>> so.latest(ds.normalized)    # every helper takes ds.normalized

Layout: ``data/`` (digest, validate, load, units), ``analysis/`` (snapshots, conflicts,
reconcile, rates, funnel, growth, models, coverage), ``plots``, ``tables`` and ``session`` (``start``)
for notebooks, ``site/`` (the report build), ``cli``.

Names are imported on first use (PEP 562), so that light commands such as an
up-to-date ``sting-outcomes build`` do not pay for importing pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "Dataset": "data.load",
    "load": "data.load",
    "data_version": "data.load",
    "DataValidationError": "data.problems",
    "Problem": "data.problems",
    "normalize": "data.units",
    "start": "session",
    "coverage": "analysis.coverage",
    "latest": "analysis.snapshots",
    "series": "analysis.snapshots",
    "in_scope": "analysis.snapshots",
    "doubtful": "analysis.snapshots",
    "at_horizons": "analysis.horizons",
    "horizon_label": "analysis.horizons",
    "conflicts": "analysis.conflicts",
    "secondary_repeats": "analysis.conflicts",
    "part_sums": "analysis.reconcile",
    "rates": "analysis.rates",
    "per_scale": "analysis.scale",
    "multiverse": "analysis.scale",
    "left_out_note": "analysis.scale",
    "describe_position": "analysis.scale",
    "garwood": "analysis.intervals",
    "rate_bounds": "analysis.intervals",
    "funnel": "analysis.funnel",
    "funnel_exclusions": "analysis.funnel",
    "funnel_table": "analysis.funnel",
    "ratio_summary": "analysis.funnel",
    "fit_saturating": "analysis.growth",
    "fit_series": "analysis.growth",
    "identified": "analysis.growth",
    "fit_arrests_glm": "analysis.models",
    "bootstrap": "analysis.models",
    "sensitivity": "analysis.models",
    "model_frame": "analysis.models",
    "leave_one_out": "analysis.models",
    "model_multiverse": "analysis.models",
    "format_p": "analysis.models",
    "describe_fit": "analysis.models",
    "describe_leave_one_out": "analysis.models",
    "revision_updates": "analysis.revisions",
    "revision_counts": "analysis.revisions",
    "revision_summary": "analysis.revisions",
    "revision_series": "analysis.revisions",
    "share_interval": "analysis.revisions",
    "capture_shares": "analysis.revisions",
    "capture_summary": "analysis.revisions",
    "revisions_plot": "analysis.revisions",
    "capture_plot": "analysis.revisions",
    "effective_date": "analysis.timing",
    "effective_series": "analysis.timing",
    "first_outcomes": "analysis.timing",
    "time_to_outcome": "analysis.timing",
    "survival": "analysis.timing",
    "conviction_rates": "analysis.timing",
    "cohort_status": "analysis.timing",
    "outcome_timeline_plot": "analysis.timing",
    "drug_seizures": "analysis.seizures",
    "money_seizures": "analysis.seizures",
    "constant_dollars": "analysis.seizures",
    "cpi_info": "analysis.seizures",
    "seizure_plot": "analysis.seizures",
    "money_plot": "analysis.seizures",
    "subnational": "analysis.seizures",
    "population_table": "analysis.population",
    "per_million": "analysis.population",
    "per_million_plot": "analysis.population",
    "Finding": "analysis.findings",
    "findings": "analysis.findings",
    "by_sources": "analysis.findings",
    "verify_finding": "analysis.findings",
    "caption": "tables",
    "table": "tables",
}
__all__ = sorted([*_EXPORTS, "plots"])


def __getattr__(name: str) -> Any:
    if name == "plots":
        value = importlib.import_module(".plots", __name__)
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sting_outcomes' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
