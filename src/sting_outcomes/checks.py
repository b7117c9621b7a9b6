"""Argument checks shared by the public helpers.

A helper given a name it does not know (a metric, a scope, a column, a covariate) raises
``ValueError`` naming what it knows and, when one is close, what was probably meant;
it never returns an empty frame for a typo. A single string where a list is expected is
accepted as a list of one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import pandas as pd

__all__ = ["as_names", "check_choice", "check_names", "check_positive", "require_columns"]


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def as_names(value: str | Iterable[str] | None, what: str) -> list[str] | None:
    """``None`` stays ``None``; a string becomes a list of one; any other iterable of
    strings becomes a list. Anything else raises ``TypeError`` naming ``what``."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise TypeError(f"{what} must be a name or a list of names, got {type(value).__name__}") from None
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{what} must hold names (strings), got {bad[0]!r}")
    return names


def check_names(value: str | Iterable[str] | None, known: Iterable[str], what: str) -> list[str] | None:
    """``value`` as a list of names, each of which must be in ``known``.

    Raises ``ValueError`` listing the unknown names with a suggestion and the known ones.
    """
    names = as_names(value, what)
    if names is None:
        return None
    known = sorted({str(k) for k in known})
    unknown = [n for n in names if n not in known]
    if unknown:
        hint = _did_you_mean(unknown[0], known)
        shown = ", ".join(known[:60]) + (" …" if len(known) > 60 else "")
        raise ValueError(f"unknown {what}: {', '.join(map(repr, unknown))}{hint} (known: {shown})")
    return names


def check_choice(value: object, allowed: Iterable[object], what: str) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        hint = _did_you_mean(str(value), [str(a) for a in allowed if a is not None])
        raise ValueError(f"{what} must be one of {', '.join(map(repr, allowed))}, got {value!r}{hint}")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str, hint: str = "") -> None:
    """Raise ``ValueError`` naming the columns of ``columns`` that ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        tip = f"; {hint}" if hint else ""
        raise ValueError(f"{what} lacks column(s) {', '.join(map(repr, missing))}{tip}")


def check_positive(value: float, what: str, *, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0 (or >= 0)."""
    ok = isinstance(value, (int, float)) and value == value and value not in (float("inf"), float("-inf"))
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{what} must be a finite number {bound}, got {value!r}")
