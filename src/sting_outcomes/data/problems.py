"""The error type that data validation raises, and the problem records it carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the data, located as precisely as possible.

    ``line`` is the 1-based line of the CSV file where the offending record starts
    (the header is line 1); it is ``None`` for problems with a whole file.
    ``column`` is the column name, or ``None`` when the problem is not about one column.
    """

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class DataValidationError(ValueError):
    """Raised by :func:`sting_outcomes.load` when the data break the contract.

    ``problems`` lists every problem found (validation does not stop at the first);
    the message shows one per line as ``file:line: column: what is wrong``.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=_sort_key)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the data:"
        super().__init__("\n".join([header, *(str(p) for p in self.problems)]))


def _sort_key(p: Problem) -> tuple:
    return (p.file, p.line or 0, p.column or "", p.message)
