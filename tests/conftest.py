"""Shared fixtures: a small synthetic data directory that tests break one rule at a time.

The synthetic rows use example.org addresses and invented values: they exercise the
validator and never stand for real figures. The vocabularies and datapackage.json are
copied from the project's real data/ so the fixture follows the same contract.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from sting_outcomes.paths import DATA_DIR

VOCABULARY_FILES = ("datapackage.json", "metrics.csv", "units.csv", "categories.csv")

OPERATIONS = [
    {
        "operation_id": "op-one",
        "name": "Operation One",
        "aliases": "First;Uno",
        "target": "encrypted_phone_network",
        "approach": "police_run",
        "lead_agencies": "Agency A",
        "countries": "AU;US",
        "covert_start": "2018-10",
        "takedown_date": "2021-06-08",
        "summary": "A synthetic operation for tests.",
    },
    {
        "operation_id": "op-two",
        "name": "Operation Two",
        "aliases": "",
        "target": "darknet_market",
        "approach": "sweep",
        "lead_agencies": "Agency B",
        "countries": "DE",
        "covert_start": "",
        "takedown_date": "2020-09-22",
        "summary": "Another synthetic operation.",
    },
]
SOURCES = [
    {
        "source_id": "agency-a-2021-06-08",
        "url": "https://example.org/a",
        "title": "Release A",
        "publisher": "Agency A",
        "source_kind": "primary",
        "published": "2021-06-08",
        "language": "en",
        "via": "",
        "canonical_url": "",
    },
    {
        "source_id": "paper-2021-06",
        "url": "https://example.org/b",
        "title": "Story B",
        "publisher": "Paper B",
        "source_kind": "secondary",
        "published": "2021-06",
        "language": "de",
        "via": "",
        "canonical_url": "",
    },
]
FIGURES = [
    {
        "figure_id": "op-one-0001",
        "operation_id": "op-one",
        "source_id": "agency-a-2021-06-08",
        "jurisdiction": "AU",
        "metric": "arrests",
        "category": "",
        "value": "224",
        "value_high": "",
        "unit": "count",
        "qualifier": "exact",
        "as_of": "2021-06-08",
        "scope": "total",
        "doubtful": "false",
        "locator": "first paragraph",
        "note": "",
    },
    {
        "figure_id": "op-one-0002",
        "operation_id": "op-one",
        "source_id": "agency-a-2021-06-08",
        "jurisdiction": "AU-NSW",
        "metric": "drugs_seized",
        "category": "cocaine",
        "value": "3.7",
        "value_high": "",
        "unit": "tonne",
        "qualifier": "at_least",
        "as_of": "2021-06-08",
        "scope": "part",
        "doubtful": "false",
        "locator": "table",
        "note": "",
    },
    {
        "figure_id": "op-two-0001",
        "operation_id": "op-two",
        "source_id": "paper-2021-06",
        "jurisdiction": "global",
        "metric": "cash_seized",
        "category": "",
        "value": "10",
        "value_high": "20",
        "unit": "EUR",
        "qualifier": "range",
        "as_of": "2021-06",
        "scope": "total",
        "doubtful": "false",
        "locator": "second paragraph",
        "note": "synthetic",
    },
]
POPULATION = [
    {
        "country": "AU",
        "year": "2021",
        "population": "25700000",
        "source_id": "agency-a-2021-06-08",
        "locator": "first table",
        "note": "",
    },
]
TABLES = {"operations.csv": OPERATIONS, "sources.csv": SOURCES, "figures.csv": FIGURES, "population.csv": POPULATION}


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` counts data rows from 0 (so it sits on file line row + 2)."""
    rows = read_csv(path)
    rows[row][column] = value
    write_csv(path, rows, header=list(rows[0]))


@pytest.fixture
def mini_data(tmp_path: Path) -> Path:
    """A valid synthetic data directory in a temporary folder."""
    out = tmp_path / "data"
    out.mkdir()
    for name in VOCABULARY_FILES:
        shutil.copy(DATA_DIR / name, out / name)
    for name, rows in TABLES.items():
        write_csv(out / name, [dict(r) for r in rows])
    return out


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of the project's real data directory."""
    out = tmp_path / "data"
    shutil.copytree(DATA_DIR, out)
    return out
