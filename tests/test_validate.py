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
    assert any("figures.csv:5: has 2 fields, the header has 15" in m for m in messages), messages
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


def _add_figures(data: Path, rows: list[dict[str, str]]) -> None:
    existing = read_csv(data / "figures.csv")
    base = {**existing[0], "note": ""}
    write_csv(data / "figures.csv", [*existing, *({**base, **r} for r in rows)], header=list(existing[0]))


def _problems(data: Path) -> list[str]:
    from sting_outcomes.data.validate import validate_dir

    return [str(p) for p in validate_dir(data)[1]]


def test_rule_11_a_falling_running_total_needs_a_note_naming_the_higher_figure(mini_data: Path) -> None:
    # op-one-0001 is 224 arrests in AU on 2021-06-08; a later, lower total must explain itself.
    later = {"figure_id": "op-one-0003", "source_id": "paper-2021-06", "as_of": "2021-06", "value": "200"}
    _add_figures(mini_data, [{**later, "as_of": "2021-06-30"}])
    sources = read_csv(mini_data / "sources.csv")
    sources[1]["published"] = "2021-07-01"
    write_csv(mini_data / "sources.csv", sources, header=list(sources[0]))
    problems = _problems(mini_data)
    assert any(
        p.startswith("data/figures.csv:5: note: running total falls: 200 on 2021-06-30 is below op-one-0001")
        or "figures.csv:5: note: running total falls: 200 on 2021-06-30 is below op-one-0001" in p
        for p in problems
    ), problems

    rows = read_csv(mini_data / "figures.csv")
    rows[-1]["note"] = "Lower than op-one-0001 (224): this count leaves out people released without charge."
    write_csv(mini_data / "figures.csv", rows, header=list(rows[0]))
    assert not [p for p in _problems(mini_data) if "running total falls" in p]

    rows[-1]["note"] = "Lower than an earlier figure."  # says why, but names no figure
    write_csv(mini_data / "figures.csv", rows, header=list(rows[0]))
    assert [p for p in _problems(mini_data) if "running total falls" in p]

    rows[-1]["scope"] = "part"  # a narrower scope is not a running total: no fall
    write_csv(mini_data / "figures.csv", rows, header=list(rows[0]))
    assert not [p for p in _problems(mini_data) if "running total falls" in p]


def test_rule_11_growth_same_day_and_stocks_are_not_falls(mini_data: Path) -> None:
    _add_figures(
        mini_data,
        [
            {
                "figure_id": "op-one-0003",
                "source_id": "paper-2021-06",
                "as_of": "2021-06-08",
                "value": "200",
            },  # same day
            {"figure_id": "op-one-0004", "source_id": "paper-2021-06", "as_of": "2021-06-20", "value": "300"},  # growth
            {
                "figure_id": "op-one-0005",
                "source_id": "paper-2021-06",
                "as_of": "2021-06-09",
                "value": "50",
                "metric": "pretrial_detentions",
            },
            {
                "figure_id": "op-one-0006",
                "source_id": "paper-2021-06",
                "as_of": "2021-06-21",
                "value": "40",
                "metric": "pretrial_detentions",
            },  # a stock may fall
        ],
    )
    assert not [p for p in _problems(mini_data) if "running total falls" in p]


@pytest.mark.parametrize(
    ("metric", "locator", "expected"),
    [
        ("users", "log-ins counted over three years", "use visits"),
        ("users", "people who visited the site", "use visits"),
        ("users", "members paying a monthly fee", "use paying_users"),
        ("devices", "handsets sold since 2018", "use devices_distributed"),
        ("devices", "phones distributed worldwide", "use devices_distributed"),
    ],
)
def test_rule_12_scale_rows_must_match_their_definition(mini_data: Path, metric, locator, expected) -> None:
    _add_figures(mini_data, [{"figure_id": "op-one-0003", "metric": metric, "value": "1000", "locator": locator}])
    problems = [p for p in _problems(mini_data) if "figures.csv:5: metric:" in p]
    assert problems and expected in problems[0], problems
    rows = read_csv(mini_data / "figures.csv")
    rows[-1]["note"] = "Rule 12: the release counts accounts; the log-ins are its other figure."
    write_csv(mini_data / "figures.csv", rows, header=list(rows[0]))
    assert not [p for p in _problems(mini_data) if "figures.csv:5: metric:" in p]


def test_rule_12_plain_account_and_handset_counts_pass(mini_data: Path) -> None:
    _add_figures(
        mini_data,
        [
            {"figure_id": "op-one-0003", "metric": "users", "value": "1000", "locator": "registered accounts"},
            {"figure_id": "op-one-0004", "metric": "devices", "value": "900", "locator": "handsets in use at shutdown"},
        ],
    )
    assert not [p for p in _problems(mini_data) if ": metric:" in p]


def test_doubtful_and_canonical_url_are_checked(mini_data: Path) -> None:
    set_cell(mini_data / "figures.csv", 0, "doubtful", "maybe")
    set_cell(mini_data / "sources.csv", 0, "canonical_url", "https://example.org/a")
    problems = _problems(mini_data)
    assert any("figures.csv:2: doubtful: 'maybe' is not true or false" in p for p in problems), problems
    assert any("sources.csv:2: canonical_url: repeats url" in p for p in problems), problems


@pytest.mark.parametrize(
    ("value_col", "bad", "expected"),
    [
        ("country", "QQ", "population.csv:2: country: 'QQ' is not an ISO 3166-1 alpha-2 country code"),
        ("year", "2021.5", "population.csv:2: year: '2021.5' is not a whole number"),
        ("year", "2999", "population.csv:2: year: 2999 is in the future"),
        ("population", "25700000.5", "population.csv:2: population: '25700000.5' is not a whole number"),
    ],
)
def test_population_rows_are_checked(mini_data: Path, value_col, bad, expected) -> None:
    set_cell(mini_data / "population.csv", 0, value_col, bad)
    assert any(expected in p for p in _problems(mini_data)), _problems(mini_data)


def test_one_population_per_country_and_year(mini_data: Path) -> None:
    rows = read_csv(mini_data / "population.csv")
    write_csv(mini_data / "population.csv", [*rows, dict(rows[0])], header=list(rows[0]))
    assert any("population.csv:3: second population for AU 2021 (also on line 2)" in p for p in _problems(mini_data))
    assert so.load(DATA_DIR_REAL).population is not None


DATA_DIR_REAL = Path(__file__).resolve().parents[1] / "data"
