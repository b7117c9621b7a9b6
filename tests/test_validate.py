"""Each validation rule has a fixture that breaks it, and the error names file, line and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import sting_outcomes as so
from conftest import read_csv, set_cell, write_csv

# (file, data row, column, new value, expected line, expected column, expected words)
CELL_BREAKS = [
    ("figures.csv", 0, "figure_id", "op-one-0002", 3, "figure_id", "is not unique (also on line 2)"),
    ("operations.csv", 0, "operation_id", "Op One", 2, "operation_id", "is not a slug"),
    ("sources.csv", 0, "source_id", "agency_a", 2, "source_id", "is not a slug"),
    ("figures.csv", 0, "figure_id", "op-one-1", 2, "figure_id", "is not <operation_id>-NNNN"),
    ("figures.csv", 0, "source_id", "nowhere-2021", 2, "source_id", "'nowhere-2021' is not a known source"),
    ("figures.csv", 0, "operation_id", "op-nine", 2, "operation_id", "'op-nine' is not a known operation"),
    ("operations.csv", 1, "target", "website", 3, "target", "'website' is not allowed"),
    ("operations.csv", 1, "approach", "undercover", 3, "approach", "'undercover' is not allowed"),
    ("sources.csv", 1, "source_kind", "tertiary", 3, "source_kind", "'tertiary' is not allowed"),
    ("figures.csv", 0, "qualifier", "more_than", 2, "qualifier", "'more_than' is not allowed"),
    ("figures.csv", 0, "metric", "arrested", 2, "metric", "'arrested' is not a known metric"),
    ("figures.csv", 1, "unit", "tonnes", 3, "unit", "'tonnes' is not a known unit (known: "),
    ("figures.csv", 0, "unit", "kg", 2, "unit", "'kg' is a mass unit; arrests takes a count unit"),
    ("figures.csv", 0, "value", "many", 2, "value", "'many' is not a number"),
    ("figures.csv", 0, "value", "-5", 2, "value", "-5 is below the minimum 0"),
    ("figures.csv", 0, "value", "", 2, "value", "is empty but required"),
    ("figures.csv", 0, "value_high", "300", 2, "value_high", "is set, but qualifier is 'exact', not range"),
    ("figures.csv", 2, "value_high", "", 4, "value_high", "is empty, but qualifier is range"),
    ("figures.csv", 2, "value_high", "5", 4, "value_high", "5 is below value 10"),
    ("figures.csv", 0, "as_of", "8 June 2021", 2, "as_of", "is not a date as YYYY-MM-DD or YYYY-MM"),
    ("figures.csv", 0, "as_of", "2021-02-30", 2, "as_of", "'2021-02-30' is not a real date"),
    ("figures.csv", 0, "as_of", "1989-12-31", 2, "as_of", "is before 1990"),
    ("operations.csv", 0, "takedown_date", "2999-01-01", 2, "takedown_date", "is in the future"),
    ("sources.csv", 0, "published", "2999-01", 2, "published", "is in the future"),
    ("figures.csv", 0, "as_of", "2021-07-01", 2, "as_of", "is after its source was published (2021-06-08)"),
    ("operations.csv", 0, "covert_start", "2022-01", 2, "covert_start", "is after the takedown date"),
    ("figures.csv", 0, "jurisdiction", "XX", 2, "jurisdiction", "'XX' is not 'global', an ISO 3166-1 alpha-2"),
    ("figures.csv", 0, "jurisdiction", "AU-XYZ", 2, "jurisdiction", "checked as ISO 3166-2 subdivision code"),
    ("figures.csv", 0, "jurisdiction", "Global", 2, "jurisdiction", "does not match|is not"),
    ("operations.csv", 0, "countries", "AU;XK;QQ", 2, "countries", "'QQ' is not an ISO 3166-1 alpha-2"),
    ("sources.csv", 0, "url", "www.example.org/a", 2, "url", "is not an absolute http(s) URL"),
    ("sources.csv", 0, "url", "ftp://example.org/a", 2, "url", "is not an absolute http(s) URL"),
    ("sources.csv", 0, "language", "zz", 2, "language", "'zz' is not an ISO 639-1 language code"),
    ("figures.csv", 0, "locator", "", 2, "locator", "is empty but required"),
    ("figures.csv", 0, "category", "cocaine", 2, "category", "'cocaine' given, but arrests takes no category"),
    ("figures.csv", 1, "category", "crystal", 3, "category", "'crystal' is not a known category"),
    ("figures.csv", 0, "note", " padded", 2, "note", "has spaces at its start or end"),
    ("units.csv", 8, "unit", "AUX", 10, "unit", "'AUX' is not an ISO 4217 currency code"),
    ("figures.csv", 0, "scope", "some", 2, "scope", "'some' is not allowed (allowed: total, part)"),
    ("figures.csv", 0, "scope", "", 2, "scope", "is empty but required"),
    ("figures.csv", 2, "unit", "BTC", -1, "", ""),  # a coin amount fits a money metric
    ("figures.csv", 0, "jurisdiction", "EU", -1, "", ""),  # the reserved code for European totals
    ("figures.csv", 0, "jurisdiction", "GB-LND", -1, "", ""),  # an ISO 3166-2 subdivision
    ("operations.csv", 0, "covert_start", "2018", -1, "", ""),  # year-only start dates are allowed
    ("figures.csv", 0, "as_of", "2021", 2, "as_of", "is not a date as YYYY-MM-DD or YYYY-MM"),
    ("figures.csv", 1, "unit", "BTC", 3, "unit", "'BTC' is a crypto unit; drugs_seized takes a mass unit"),
]


def problems_of(data_dir: Path) -> list[so.Problem]:
    with pytest.raises(so.DataValidationError) as info:
        so.load(data_dir)
    return info.value.problems


def test_fixture_is_valid(mini_data: Path) -> None:
    ds = so.load(mini_data)
    assert len(ds.figures) == 3 and len(ds.operations) == 2 and len(ds.sources) == 2


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "line", "col", "words"),
    CELL_BREAKS,
    ids=[f"{c[0]}:{c[2]}={c[3]!r}" for c in CELL_BREAKS],
)
def test_each_rule_names_file_line_column(mini_data, file, row, column, value, line, col, words) -> None:
    set_cell(mini_data / file, row, column, value)
    if line == -1:  # a case that must stay valid
        so.load(mini_data)
        return
    problems = problems_of(mini_data)
    hits = [p for p in problems if p.file.endswith(file) and p.line == line and p.column == col]
    assert hits, f"no problem at {file}:{line}: {col}; got {[str(p) for p in problems]}"
    assert any(any(w in p.message for w in words.split("|")) for p in hits), [str(p) for p in hits]


def test_missing_and_unknown_columns(mini_data: Path) -> None:
    rows = read_csv(mini_data / "figures.csv")
    for r in rows:
        del r["locator"]
        r["colour"] = "red"
    write_csv(mini_data / "figures.csv", rows)
    messages = [str(p) for p in problems_of(mini_data)]
    assert any(m.endswith("figures.csv:1: required column(s) missing: locator") for m in messages), messages
    assert any("figures.csv:1: colour: unknown column" in m for m in messages), messages


def test_duplicate_figures_are_reported(mini_data: Path) -> None:
    rows = read_csv(mini_data / "figures.csv")
    twin = dict(rows[0], figure_id="op-one-0009", value="225")
    write_csv(mini_data / "figures.csv", [*rows, twin])
    messages = [str(p) for p in problems_of(mini_data)]
    assert any("figures.csv:5: duplicate figure" in m and "as line 2" in m for m in messages), messages


def test_two_parts_of_one_release_are_not_duplicates(mini_data: Path) -> None:
    rows = read_csv(mini_data / "figures.csv")
    a = dict(rows[0], figure_id="op-one-0008", value="20", scope="part")
    b = dict(rows[0], figure_id="op-one-0009", value="7", scope="part")
    write_csv(mini_data / "figures.csv", [*rows, a, b])
    so.load(mini_data)


def test_ragged_row_and_missing_file(mini_data: Path) -> None:
    with (mini_data / "figures.csv").open("a", encoding="utf-8") as f:
        f.write("op-one-0003,op-one\n")
    (mini_data / "categories.csv").unlink()
    messages = [str(p) for p in problems_of(mini_data)]
    assert any("figures.csv:5: has 2 fields, the header has 14" in m for m in messages), messages
    assert any(m.endswith("categories.csv: file is missing") for m in messages), messages


def test_every_problem_is_collected_not_just_the_first(mini_data: Path) -> None:
    set_cell(mini_data / "figures.csv", 0, "value", "-1")
    set_cell(mini_data / "figures.csv", 1, "unit", "tonnes")
    set_cell(mini_data / "sources.csv", 1, "url", "example.org")
    problems = problems_of(mini_data)
    assert {(Path(p.file).name, p.line, p.column) for p in problems} >= {
        ("figures.csv", 2, "value"),
        ("figures.csv", 3, "unit"),
        ("sources.csv", 3, "url"),
    }
    assert str(problems[0]).count(":") >= 3


def test_error_message_lists_each_problem_on_its_own_line(mini_data: Path) -> None:
    set_cell(mini_data / "figures.csv", 0, "value", "-1")
    set_cell(mini_data / "figures.csv", 1, "unit", "tonnes")
    with pytest.raises(so.DataValidationError) as info:
        so.load(mini_data)
    lines = str(info.value).splitlines()
    assert lines[0] == "2 problems in the data:"
    assert lines[1].endswith("figures.csv:2: value: -1 is below the minimum 0")
    assert "figures.csv:3: unit: 'tonnes' is not a known unit" in lines[2]


def test_today_is_the_future_boundary(mini_data: Path) -> None:
    from sting_outcomes.data.validate import validate_dir

    _, problems = validate_dir(mini_data, today=dt.date(2021, 6, 7))
    assert any(p.column == "as_of" and "in the future" in p.message for p in problems)
    _, problems = validate_dir(mini_data, today=dt.date(2021, 6, 30))
    assert problems == []


def test_loaded_frames_are_typed(mini_data: Path) -> None:
    ds = so.load(mini_data)
    f = ds.figures
    assert str(f["value"].dtype) == "float64" and str(f["value_high"].dtype) == "float64"
    assert f["as_of"].dtype.kind == "M"
    assert list(f["as_of_precision"]) == ["day", "day", "month"]
    assert f.loc[2, "as_of"] == dt.datetime(2021, 6, 1)
    for col in ("metric", "unit", "qualifier"):
        assert isinstance(f[col].dtype, __import__("pandas").CategoricalDtype), col
    assert f["category"].isna().tolist() == [True, False, True]
    assert set(ds.operations["target"].cat.categories) >= {"encrypted_phone_network", "csam_site"}
    assert ds.operations["covert_start"].isna().tolist() == [False, True]
    assert ds.operation_countries.to_dict("list") == {
        "operation_id": ["op-one", "op-one", "op-two"],
        "country": ["AU", "US", "DE"],
    }


def test_version_changes_with_the_data(mini_data: Path) -> None:
    before = so.data_version(mini_data)
    assert so.data_version(mini_data) == before
    set_cell(mini_data / "figures.csv", 0, "note", "changed")
    assert so.data_version(mini_data) != before
