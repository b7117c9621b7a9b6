"""sting-outcomes: sourced figures on what covert law-enforcement operations achieve.

>>> import sting_outcomes as so
>>> ds = so.load()            # validated, typed DataFrames
>>> ds.figures.head()

Names are imported on first use (PEP 562), so that light commands such as an
up-to-date ``sting-outcomes build`` do not pay for importing pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "Dataset": "data",
    "load": "data",
    "data_version": "data",
    "DataValidationError": "problems",
    "Problem": "problems",
    "coverage": "summary",
    "normalize": "conversion",
    "latest": "select",
    "conflicts": "select",
    "series": "select",
    "in_scope": "select",
    "fit_saturating": "growth",
    "fit_series": "growth",
    "rates": "per_scale",
    "funnel": "justice",
    "fit_arrests_glm": "models",
    "bootstrap": "models",
    "sensitivity": "models",
    "model_frame": "models",
    "part_sums": "reconcile",
    "caption": "provenance",
    "table": "provenance",
    "secondary_repeats": "provenance",
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
