"""Validation of the data directory against the data contract.

The column lists, required values, uniqueness, enums, patterns, minimums and foreign
keys are read from ``datapackage.json`` (one source of truth, also checked by
``frictionless validate``); the rules a table schema cannot express (a unit that fits
its metric, ISO codes, dates in a sane window, ranges, duplicates) are written here.
Every problem is collected; nothing stops at the first, and nothing in the data can make
validation raise anything but a listed problem.

Files are read once, safely, by :func:`sting_outcomes.data.digest.read_snapshot` (resource
paths contained in the data folder, regular files only, at most ``MAX_FILE_BYTES``); this
module only parses the bytes it got. Rules about the text itself, stricter than
Frictionless where Frictionless is lax:

* **Numbers** are plain decimals: ASCII digits ``0-9``, optionally ``-`` in front (then the
  minimum check speaks) and a ``.`` followed by more digits. No exponent (``1e5``), no
  ``+``, no separators (``1_000``, ``1,000``), no other digits (``١٢٣``, ``１２３``), no
  ``inf``/``nan``; at most :data:`MAX_NUMBER` in size, so no figure can overflow to
  infinity when converted. ``-0`` is allowed and loaded as ``0`` (see
  :func:`sting_outcomes.data.load.load`).
* **Dates** and every schema ``pattern`` are matched with ASCII semantics (``\\d`` is
  ``0-9`` only) against the whole cell.
* **No control characters** in any cell or column name: C0 controls (NUL, tab, line feed,
  carriage return inside a quoted cell, vertical tab, form feed, …), DEL, C1 controls (NEL
  U+0085, …), the Unicode line and paragraph separators U+2028/U+2029 and the bidirectional
  embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069). Cells are
  single-line text; a record never spans two lines.
* **Tables are not empty**: a 0-byte file, a file without a header line, or a header with
  no data rows is a problem naming the file.
* **datapackage.json** must be a JSON object whose ``resources`` include each table the
  code reads (:data:`REQUIRED_FIELDS`) with a well-formed schema; a malformed package is a
  list of problems ``datapackage.json: resources[i]…: …``, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pycountry

from .digest import Snapshot, read_snapshot, shown_path
from .problems import Problem

EARLIEST_DATE = dt.date(1990, 1, 1)
_DATE_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
#: A number as the data may write it: ASCII digits, an optional leading minus and decimals.
_NUMBER_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
#: Largest magnitude of any number in the data (1e15: far above any reported figure, and
#: far enough below the float limit that no unit factor or exchange rate overflows it).
MAX_NUMBER = 1e15
#: Characters no cell may hold (see the module docstring).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CHAR_NAMES = {
    "\x00": "NUL",
    "\t": "a tab",
    "\n": "a line feed",
    "\r": "a carriage return",
    "\x0b": "a vertical tab",
    "\x0c": "a form feed",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\x85": "NEL (next line)",
}

#: Jurisdiction codes allowed beside ISO 3166: the world, and "EU", ISO 3166-1's exceptionally
#: reserved code, for European totals that a source reports as "Europe" or "the EU".
REGION_CODES = {"global", "EU"}
#: Unit kinds a metric of a given unit kind also accepts: money metrics take amounts of a
#: cryptocurrency too, since sources report seized or forfeited coins either way.
ALSO_ACCEPTS = {"money": {"crypto"}}
_PATTERN_WORDS = {
    r"^[a-z0-9]+(-[a-z0-9]+)*$": "a slug (lowercase letters and digits joined by single hyphens)",
    r"^\d{4}-\d{2}(-\d{2})?$": "a date as YYYY-MM-DD or YYYY-MM",
    r"^\d{4}(-\d{2}(-\d{2})?)?$": "a date as YYYY-MM-DD, YYYY-MM or YYYY",
    r"^[a-z0-9]+(-[a-z0-9]+)*-\d{4}$": "<operation_id>-NNNN",
    r"^[A-Z]{2}(;[A-Z]{2})*$": "ISO 3166-1 alpha-2 codes separated by ';'",
    r"^https?://\S+$": "an absolute http(s) URL",
    r"^[a-z]{2}$": "an ISO 639-1 language code",
}
#: ``tally`` of a metric that is a level at a date (it may fall), not a running total (rule 11).
LEVEL = "level"
#: Words that betray another scale definition in a ``users`` or ``devices`` row (rule 12),
#: with the metric the row probably belongs to.
SCALE_WORDS = {
    "users": [
        (re.compile(r"\blog-?ins?\b|\bvisit(?:s|ors?|ed|ing)?\b", re.I), "visits"),
        (re.compile(r"\bpaying\b|\bsubscribers?\b|\bpaid\b", re.I), "paying_users"),
    ],
    "devices": [
        (re.compile(r"\bsold\b|\bdistributed\b|\bsupplied\b|\bdelivered\b", re.I), "devices_distributed"),
        (re.compile(r"\bvisit(?:s|ors?|ed|ing)?\b|\blog-?ins?\b", re.I), "visits"),
    ],
}
#: A note that explains why a users/devices row fits its strict definition despite such words.
RULE12_MARK = re.compile(r"\brule 12\b", re.I)
_FIGURE_ID = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)*-\d{4}\b")
#: Key of a figure; two rows of one source with the same key are duplicates.
#: Only running totals are checked: one release can report several parts (two sub-operations).
DUPLICATE_KEY = ("operation_id", "source_id", "jurisdiction", "metric", "category", "unit", "as_of")


#: The tables the code reads and, for each, the fields (and their types) it relies on.
#: ``datapackage.json`` may add fields; it may not drop or retype these.
REQUIRED_FIELDS: dict[str, dict[str, str]] = {
    "operations": dict.fromkeys(
        (
            "operation_id",
            "name",
            "aliases",
            "target",
            "approach",
            "lead_agencies",
            "countries",
            "covert_start",
            "takedown_date",
            "summary",
        ),
        "string",
    ),
    "sources": dict.fromkeys(
        (
            "source_id",
            "url",
            "title",
            "publisher",
            "source_kind",
            "published",
            "language",
            "via",
            "canonical_url",
        ),
        "string",
    ),
    "figures": {
        **dict.fromkeys(("figure_id", "operation_id", "source_id", "jurisdiction", "metric", "category"), "string"),
        "value": "number",
        "value_high": "number",
        **dict.fromkeys(("unit", "qualifier", "as_of", "scope"), "string"),
        "doubtful": "boolean",
        **dict.fromkeys(("locator", "note"), "string"),
    },
    "metrics": dict.fromkeys(("metric", "family", "unit_kind", "category_kind", "tally", "description"), "string"),
    "units": {
        "unit": "string",
        "kind": "string",
        "standard_unit": "string",
        "factor": "number",
        "description": "string",
    },
    "categories": dict.fromkeys(("category", "applies_to", "description"), "string"),
}
#: Field types the validator and loader understand.
FIELD_TYPES = ("string", "number", "boolean")
#: Constraint keys the validator enforces, with the JSON type each must have.
CONSTRAINTS = {"required": bool, "unique": bool, "enum": list, "pattern": str, "minimum": (int, float)}
_RESOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass
class Table:
    """A CSV file as read: its header and its records with the line each starts on."""

    name: str
    path: Path
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    #: How the file is named in messages (defaults to the path as shown).
    display: str = ""

    @property
    def shown(self) -> str:
        return self.display or shown_path(self.path)


def parse_partial_date(text: str) -> tuple[dt.date, str] | None:
    """Parse ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (ASCII digits) into (first day
    covered, precision).

    Precision is ``"day"``, ``"month"`` or ``"year"``; a partial date maps to the first
    day of its month or year. Which columns may hold which precision is the table
    schema's business (its patterns). Returns ``None`` for anything else or an
    impossible day.
    """
    m = _DATE_RE.fullmatch(text)
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    precision = "day" if m[3] else "month" if m[2] else "year"
    try:
        return dt.date(year, month, day), precision
    except ValueError:
        return None


def parse_number(text: str) -> float | None:
    """A cell as a float if it is a plain decimal (see the module docstring) within
    :data:`MAX_NUMBER`, else ``None``. ``-0`` gives ``0.0``."""
    if not _NUMBER_RE.fullmatch(text):
        return None
    number = float(text) + 0.0
    return number if math.isfinite(number) and abs(number) <= MAX_NUMBER else None


def _q(value: str, limit: int = 80) -> str:
    """``repr`` of a cell for a message, shortened (a cell may be very long)."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _s(value: str, limit: int = 40) -> str:
    """A (validated, printable) cell for a message, shortened."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _char_name(ch: str) -> str:
    if ch in _CHAR_NAMES:
        return _CHAR_NAMES[ch]
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'a control character')})"


def _breaks(text: str) -> int:
    """Line breaks in ``text`` as the CSV reader counts lines (``\\r\\n``, ``\\r``, ``\\n``)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def forbidden_character(cell: str) -> str | None:
    """Why ``cell`` is refused for a control character (see the module docstring), or None."""
    m = _FORBIDDEN.search(cell)
    if m is None:
        return None
    return (
        f"contains {_char_name(m[0])} at character {m.start() + 1}; "
        "cells hold single-line text without control characters"
    )


def parse_table(name: str, path: Path, raw: bytes, problems: list[Problem], shown: str | None = None) -> Table:
    """Parse one CSV file's bytes into a :class:`Table`, recording every problem.

    A record that is blank or has the wrong number of fields is reported and left out;
    a cell with a control character is reported (with its line and column) and kept, so
    that its other problems are listed too.
    """
    table = Table(name, path, display=shown or shown_path(path))
    where = table.shown
    if not raw:
        problems.append(Problem(where, None, None, "file is empty (0 bytes); expected a header line and data rows"))
        return table
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(where, line, None, f"not valid UTF-8 ({exc.reason})"))
        return table
    if text.startswith("\ufeff"):
        problems.append(Problem(where, 1, None, "starts with a byte-order mark; save as plain UTF-8"))
        text = text[1:]
    # newline="" splits lines only at \r\n, \r and \n (never at U+2028, NEL or \v, which
    # str.splitlines would), so line numbers are the ones an editor shows.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = 0
    try:
        header = next(reader, None)
        if not header:
            problems.append(Problem(where, 1, None, "line 1 is blank; expected the header line"))
            return table
        table.header = header
        for col in header:
            reason = forbidden_character(col)
            if reason:
                problems.append(Problem(where, 1, None, f"column name {_q(col)} {reason}"))
        start = reader.line_num + 1
        for record in reader:
            records += 1
            _check_characters(table, start, record, problems)
            if not any(cell.strip() for cell in record):
                problems.append(Problem(where, start, None, "blank line"))
            elif len(record) != len(header):
                problems.append(Problem(where, start, None, f"has {len(record)} fields, the header has {len(header)}"))
            else:
                table.rows.append((start, dict(zip(header, record))))
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.append(Problem(where, reader.line_num, None, f"cannot be parsed as CSV ({exc})"))
        return table
    if records == 0:
        problems.append(Problem(where, None, None, "has a header line but no data rows"))
    return table


def _check_characters(table: Table, start: int, record: list[str], problems: list[Problem]) -> None:
    line = start
    for i, cell in enumerate(record):
        reason = forbidden_character(cell)
        if reason:
            m = _FORBIDDEN.search(cell)
            column = table.header[i] if i < len(table.header) and table.header[i].isprintable() else None
            at = line + _breaks(cell[: m.start()])
            problems.append(Problem(table.shown, at, column, reason if column else f"field {i + 1} {reason}"))
        line += _breaks(cell)


class Validator:
    """Checks a data directory; :meth:`run` returns the tables and every problem found.

    After :meth:`run`, :attr:`snapshot` holds the bytes that were validated (and that
    :func:`sting_outcomes.data.load.load` turns into frames and hashes into the version)
    and :attr:`schemas` each table's schema from ``datapackage.json``.
    """

    def __init__(self, data_dir: Path, today: dt.date | None = None):
        self.data_dir = Path(data_dir)
        self.today = today or dt.date.today()
        self.problems: list[Problem] = []
        self.tables: dict[str, Table] = {}
        self.schemas: dict[str, dict] = {}
        self.snapshot: Snapshot | None = None

    # -- helpers -------------------------------------------------------------------
    def add(self, table: Table, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(table.shown, line, column, message))

    def column(self, name: str, col: str) -> list[tuple[int, str]]:
        """(line, value) of one column over a table's rows, skipping empty cells."""
        table = self.tables[name]
        if col not in table.header:
            return []
        return [(line, row[col]) for line, row in table.rows if row[col] != ""]

    # -- run -----------------------------------------------------------------------
    def run(self) -> tuple[dict[str, Table], list[Problem]]:
        snap = self.snapshot = read_snapshot(self.data_dir)
        self.problems.extend(snap.problems)
        if snap.package is None:
            return {}, self.problems
        package_ok = self.check_package(snap)
        for _, resource, rel in snap.resources:
            name = resource.get("name")
            if isinstance(name, str) and name in self.schemas and rel in snap.files:
                self.tables[name] = parse_table(
                    name, snap.data_dir / rel, snap.files[rel], self.problems, shown=snap.shown(rel)
                )
        for name, table in self.tables.items():
            self.check_schema(table, self.schemas[name])
        for name, table in self.tables.items():
            self.check_foreign_keys(table, self.schemas[name])
        if package_ok and self.columns_complete():
            self.check_vocabularies()
            self.check_operations()
            self.check_sources()
            self.check_figures()
            self.check_running_totals()
            self.check_scale_definitions()
            self.check_population()
        return self.tables, self.problems

    def columns_complete(self) -> bool:
        """True when every table the rules read is present with every column they use
        (else the cross-table rules wait until the files are whole)."""
        return all(
            name in self.tables and set(fields) <= set(self.tables[name].header)
            for name, fields in REQUIRED_FIELDS.items()
        )

    # -- datapackage.json ----------------------------------------------------------
    def check_package(self, snap: Snapshot) -> bool:
        """Check each resource's name and schema; record the usable schemas in
        :attr:`schemas`. Returns True when the package itself has no problem (a file it
        names may still be missing or refused: that is the snapshot's problem)."""
        shown = snap.package_shown
        found: list[Problem] = []

        def bad(where: str, message: str) -> None:
            found.append(Problem(shown, None, where, message))

        seen: dict[str, int] = {}
        for i, resource, _ in snap.resources:
            where = f"resources[{i}]"
            name = resource.get("name")
            if not isinstance(name, str) or not _RESOURCE_NAME.fullmatch(name):
                bad(f"{where}.name", f"{_q(str(name))} is not a resource name (lowercase letters, digits and '_')")
                continue
            if name in seen:
                bad(f"{where}.name", f"{name!r} is not unique (also resources[{seen[name]}])")
                continue
            seen[name] = i
            before = len(found)
            schema = resource.get("schema")
            if not isinstance(schema, dict):
                bad(f"{where}.schema", "is missing" if schema is None else "must be a JSON object")
                continue
            fields = schema.get("fields")
            if not isinstance(fields, list) or not fields:
                bad(f"{where}.schema.fields", "is missing" if fields is None else "must be a non-empty list")
                continue
            names: set[str] = set()
            for j, spec in enumerate(fields):
                self._check_field_spec(f"{where}.schema.fields[{j}]", spec, names, bad)
            required = REQUIRED_FIELDS.get(name, {})
            types = {
                f.get("name"): f.get("type") for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str)
            }
            for col, kind in required.items():
                if types.get(col) != kind:
                    bad(f"{where}.schema.fields", f"needs a field {col!r} of type {kind} (the code reads it)")
            if len(found) == before:
                self.schemas[name] = schema
        for name in REQUIRED_FIELDS:
            if name not in seen:
                bad("resources", f"no resource named {name!r} (needed: {', '.join(REQUIRED_FIELDS)})")
        for name, schema in list(self.schemas.items()):
            keys = schema.get("foreignKeys", [])
            if not isinstance(keys, list):
                bad(f"resources[{seen[name]}].schema.foreignKeys", "must be a list")
                self.schemas[name] = {**schema, "foreignKeys": []}
                continue
            for k, fk in enumerate(keys):
                reason = _foreign_key_problem(fk, schema, self.schemas)
                if reason:
                    bad(f"resources[{seen[name]}].schema.foreignKeys[{k}]", reason)
                    self.schemas[name] = {**schema, "foreignKeys": []}
        self.problems.extend(found)
        return not found

    @staticmethod
    def _check_field_spec(where: str, spec: object, names: set[str], bad) -> None:
        if not isinstance(spec, dict):
            bad(where, "must be a JSON object")
            return
        name = spec.get("name")
        if not isinstance(name, str) or not name or forbidden_character(name):
            bad(f"{where}.name", "must be a non-empty name without control characters")
        elif name in names:
            bad(f"{where}.name", f"{name!r} is not unique")
        else:
            names.add(name)
        if spec.get("type") not in FIELD_TYPES:
            bad(f"{where}.type", f"{_q(str(spec.get('type')))} is not supported (supported: {', '.join(FIELD_TYPES)})")
        cons = spec.get("constraints", {})
        if not isinstance(cons, dict):
            bad(f"{where}.constraints", "must be a JSON object")
            return
        for key, value in cons.items():
            kind = CONSTRAINTS.get(key)
            if kind is None:
                bad(f"{where}.constraints.{key}", f"is not enforced by the validator (known: {', '.join(CONSTRAINTS)})")
            elif not isinstance(value, kind) or (key == "minimum" and isinstance(value, bool)):
                bad(f"{where}.constraints.{key}", f"has the wrong JSON type ({type(value).__name__})")
            elif key == "minimum" and not math.isfinite(value):
                bad(f"{where}.constraints.{key}", "must be a finite number")
            elif key == "enum" and not all(isinstance(v, str) for v in value):
                bad(f"{where}.constraints.enum", "must list text values")
            elif key == "pattern":
                try:
                    re.compile(value, re.ASCII)
                except re.error as exc:
                    bad(f"{where}.constraints.pattern", f"is not a valid regular expression ({exc})")

    # -- generic, schema-driven rules ---------------------------------------------
    def check_schema(self, table: Table, schema: dict) -> None:
        if not table.header:
            return  # empty or unreadable: already reported
        fields = {f["name"]: f for f in schema["fields"]}
        missing = [name for name in fields if name not in table.header]
        if missing:
            self.add(table, 1, None, f"required column(s) missing: {', '.join(missing)}")
        for col in table.header:
            if col not in fields:
                if col.isprintable():
                    self.add(table, 1, col, f"unknown column (expected: {', '.join(fields)})")
                else:
                    self.add(table, 1, None, f"unknown column {_q(col)} (expected: {', '.join(fields)})")
        if len(set(table.header)) != len(table.header):
            self.add(table, 1, None, "a column name appears twice")
        for name, spec in fields.items():
            if name in table.header:
                self.check_field(table, name, spec)

    def check_field(self, table: Table, name: str, spec: dict) -> None:
        cons = spec.get("constraints", {})
        seen: dict[str, int] = {}
        # Patterns are anchored at both ends and ASCII-only (\d is 0-9), as in Frictionless.
        pattern = re.compile(cons["pattern"], re.ASCII) if "pattern" in cons else None
        for line, row in table.rows:
            value = row[name]
            if value == "":
                if cons.get("required"):
                    self.add(table, line, name, "is empty but required")
                continue
            if value != value.strip():
                self.add(table, line, name, f"{_q(value)} has spaces at its start or end")
                continue
            if cons.get("unique"):
                if value in seen:
                    self.add(table, line, name, f"{_q(value)} is not unique (also on line {seen[value]})")
                else:
                    seen[value] = line
            if "enum" in cons and value not in cons["enum"]:
                self.add(table, line, name, f"{_q(value)} is not allowed (allowed: {', '.join(cons['enum'])})")
            if pattern and not pattern.fullmatch(value):
                words = _PATTERN_WORDS.get(cons["pattern"], f"the pattern {cons['pattern']}")
                self.add(table, line, name, f"{_q(value)} is not {words}")
            if spec["type"] == "boolean" and value not in ("true", "false"):
                self.add(table, line, name, f"{_q(value)} is not true or false")
            if spec["type"] == "number":
                self.check_number(table, line, name, value, cons)

    def check_number(self, table: Table, line: int, name: str, value: str, cons: dict) -> None:
        if not _NUMBER_RE.fullmatch(value):
            self.add(
                table,
                line,
                name,
                f"{_q(value)} is not a number (write a plain decimal: ASCII digits 0-9 and an optional "
                "'.' with decimals; no exponent, sign '+', separators or other digits)",
            )
            return
        number = float(value)
        if not math.isfinite(number) or abs(number) > MAX_NUMBER:
            self.add(table, line, name, f"{_s(value)} is above the ceiling of 1e15 (MAX_NUMBER) for any number")
        elif "minimum" in cons and number < cons["minimum"]:
            self.add(table, line, name, f"{_s(value)} is below the minimum {cons['minimum']}")

    def check_foreign_keys(self, table: Table, schema: dict) -> None:
        for fk in schema.get("foreignKeys", []):
            (col,) = _as_list(fk["fields"])
            ref_name = fk["reference"]["resource"]
            (ref_col,) = _as_list(fk["reference"]["fields"])
            if col not in table.header or ref_name not in self.tables:
                continue
            ref_table = self.tables[ref_name]
            if not ref_table.rows:
                continue  # an empty or unreadable table is reported once, not at every reference
            known = sorted({v for _, v in self.column(ref_name, ref_col)})
            known_set = set(known)
            for line, value in self.column(table.name, col):
                if value not in known_set:
                    listing = f"known: {', '.join(known)}" if len(known) <= 40 else f"see {ref_table.shown}"
                    noun = ref_col.removesuffix("_id").replace("_", " ")
                    self.add(table, line, col, f"{_q(value)} is not a known {noun} ({listing})")

    # -- vocabularies --------------------------------------------------------------
    def check_vocabularies(self) -> None:
        units = self.tables["units"]
        for line, row in units.rows:
            if row.get("kind") == "money" and pycountry.currencies.get(alpha_3=row["unit"]) is None:
                self.add(units, line, "unit", f"{row['unit']!r} is not an ISO 4217 currency code")
            if row.get("kind") != "money" and row.get("factor", "") == "":
                self.add(units, line, "factor", "is empty; only currencies may leave it empty")

    # -- table-specific rules ------------------------------------------------------
    def check_date(self, table: Table, line: int, col: str, value: str) -> dt.date | None:
        parsed = parse_partial_date(value)
        if parsed is None:
            if _DATE_RE.fullmatch(value):  # right shape, impossible day: the pattern check let it through
                self.add(table, line, col, f"{value!r} is not a real date")
            return None
        day, _ = parsed
        if day > self.today:
            self.add(table, line, col, f"{value} is in the future")
        elif day < EARLIEST_DATE:
            self.add(table, line, col, f"{value} is before {EARLIEST_DATE.year}, outside the dataset's scope")
        return day

    def check_operations(self) -> None:
        ops = self.tables["operations"]
        for line, row in ops.rows:
            for code in filter(None, row.get("countries", "").split(";")):
                if len(code) == 2 and pycountry.countries.get(alpha_2=code) is None:
                    self.add(ops, line, "countries", f"{code!r} is not an ISO 3166-1 alpha-2 country code")
            start = self.check_date(ops, line, "covert_start", row["covert_start"]) if row.get("covert_start") else None
            end = (
                self.check_date(ops, line, "takedown_date", row["takedown_date"]) if row.get("takedown_date") else None
            )
            if start and end and start > end:
                self.add(
                    ops,
                    line,
                    "covert_start",
                    f"{row['covert_start']} is after the takedown date {row['takedown_date']}",
                )

    def check_sources(self) -> None:
        src = self.tables["sources"]
        for line, row in src.rows:
            url = row.get("url", "")
            if url:
                parts = urlparse(url)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    self.add(src, line, "url", f"{url!r} is not an absolute http(s) URL")
            lang = row.get("language", "")
            if len(lang) == 2 and lang.islower() and pycountry.languages.get(alpha_2=lang) is None:
                self.add(src, line, "language", f"{lang!r} is not an ISO 639-1 language code")
            if row.get("published"):
                self.check_date(src, line, "published", row["published"])
            canonical = row.get("canonical_url", "")
            if canonical and canonical == url:
                self.add(src, line, "canonical_url", "repeats url; leave it empty when url is the agency's own page")

    def check_figures(self) -> None:
        figs = self.tables["figures"]
        metric_kind = {r["metric"]: r for _, r in self.tables["metrics"].rows}
        unit_kind = {r["unit"]: r["kind"] for _, r in self.tables["units"].rows}
        published = {
            r["source_id"]: parse_partial_date(r["published"])
            for _, r in self.tables["sources"].rows
            if parse_partial_date(r.get("published", ""))
        }
        first_seen: dict[tuple, int] = {}
        for line, row in figs.rows:
            self.check_jurisdiction(figs, line, row.get("jurisdiction", ""))
            metric = metric_kind.get(row.get("metric", ""))
            unit = row.get("unit", "")
            accepted = {metric["unit_kind"], *ALSO_ACCEPTS.get(metric["unit_kind"], ())} if metric else set()
            if metric and unit in unit_kind and unit_kind[unit] not in accepted:
                self.add(
                    figs,
                    line,
                    "unit",
                    f"{unit!r} is a {unit_kind[unit]} unit; {row['metric']} takes a {metric['unit_kind']} unit",
                )
            if metric and row.get("category") and metric["category_kind"] == "":
                self.add(figs, line, "category", f"{row['category']!r} given, but {row['metric']} takes no category")
            self.check_range(figs, line, row)
            as_of = self.check_date(figs, line, "as_of", row["as_of"]) if row.get("as_of") else None
            pub = published.get(row.get("source_id", ""))
            if as_of and pub and _later_than(parse_partial_date(row["as_of"]), pub):
                self.add(
                    figs, line, "as_of", f"{row['as_of']} is after its source was published ({pub[0].isoformat()})"
                )
            key = tuple(row.get(k, "") for k in DUPLICATE_KEY)
            if row.get("scope") == "total" and key in first_seen:
                self.add(
                    figs,
                    line,
                    None,
                    "duplicate figure: same operation, source, jurisdiction, metric, category, unit and as_of "
                    f"as line {first_seen[key]}",
                )
            elif row.get("scope") == "total":
                first_seen[key] = line

    def check_population(self) -> None:
        """``population.csv``, when present: an ISO country code, a whole-number year not
        in the future, a whole-number population, and one row per (country, year)."""
        table = self.tables.get("population")
        if table is None or not {"country", "year", "population"} <= set(table.header):
            return
        seen: dict[tuple[str, str], int] = {}
        for line, row in table.rows:
            code = row["country"]
            if len(code) == 2 and code.isascii() and code.isupper() and pycountry.countries.get(alpha_2=code) is None:
                self.add(table, line, "country", f"{code!r} is not an ISO 3166-1 alpha-2 country code")
            for col in ("year", "population"):
                if row[col] and _NUMBER_RE.fullmatch(row[col]) and not row[col].isdigit():
                    self.add(table, line, col, f"{row[col]!r} is not a whole number")
            if row["year"].isdigit() and int(row["year"]) > self.today.year:
                self.add(table, line, "year", f"{row['year']} is in the future")
            key = (code, row["year"])
            if key in seen:
                self.add(table, line, None, f"second population for {code} {row['year']} (also on line {seen[key]})")
            else:
                seen[key] = line

    def check_running_totals(self) -> None:
        """Rule 11: a running total never falls. Within one series (operation, jurisdiction,
        metric, category, unit; ``scope=total``; metrics whose ``tally`` is not ``level``), a
        value below one reported at an earlier date must carry a note that names an earlier,
        higher figure (its ``figure_id``) and so explains the fall."""
        figs = self.tables["figures"]
        levels = {r["metric"] for _, r in self.tables["metrics"].rows if r.get("tally") == LEVEL}
        series: dict[tuple, list[tuple[dt.date, float, int, dict]]] = {}
        for line, row in figs.rows:
            if row.get("scope") != "total" or row.get("metric") in levels:
                continue
            parsed = parse_partial_date(row.get("as_of", ""))
            value = parse_number(row.get("value", ""))
            if parsed is None or value is None:
                continue
            key = tuple(row.get(k, "") for k in ("operation_id", "jurisdiction", "metric", "category", "unit"))
            series.setdefault(key, []).append((parsed[0], value, line, row))
        for points in series.values():
            for day, value, line, row in points:
                higher = [(d, v, r) for d, v, _, r in points if d < day and v > value]
                if not higher:
                    continue
                cited = set(_FIGURE_ID.findall(row.get("note", "")))
                if cited & {r["figure_id"] for _, _, r in higher}:
                    continue
                top = max(higher, key=lambda h: (h[1], h[0]))
                self.add(
                    figs,
                    line,
                    "note",
                    f"running total falls: {row['value']} on {row['as_of']} is below {top[2]['figure_id']} "
                    f"({top[2]['value']} on {top[2]['as_of']}); name that figure in the note and say why "
                    "(narrower scope, new definition, error), or set scope to part (rule 11)",
                )

    def check_scale_definitions(self) -> None:
        """Rule 12: ``users`` are registered accounts and ``devices`` handsets active at the
        takedown. A row of either whose locator or note speaks of log-ins, visits, paying
        subscribers or devices sold or distributed belongs to another metric, unless its note
        says why it fits after all (with the words "rule 12")."""
        figs = self.tables["figures"]
        for line, row in figs.rows:
            checks = SCALE_WORDS.get(row.get("metric", ""))
            if not checks or RULE12_MARK.search(row.get("note", "")):
                continue
            text = f"{row.get('locator', '')} {row.get('note', '')}"
            for pattern, metric in checks:
                found = pattern.search(text)
                if found:
                    self.add(
                        figs,
                        line,
                        "metric",
                        f"{row['metric']} counts only {_DEFINITION[row['metric']]}, but the row speaks of "
                        f"{found.group(0)!r}: use {metric}, or say in the note why it fits ('rule 12: …')",
                    )
                    break

    def check_jurisdiction(self, table: Table, line: int, code: str) -> None:
        if code == "" or code in REGION_CODES:
            return
        if "-" in code:
            known = pycountry.subdivisions.get(code=code) is not None
            what = "ISO 3166-2 subdivision code"
        else:
            known = pycountry.countries.get(alpha_2=code) is not None
            what = "ISO 3166-1 alpha-2 country code"
        if not known:
            self.add(
                table,
                line,
                "jurisdiction",
                f"{code!r} is not 'global', an ISO 3166-1 alpha-2 or an ISO 3166-2 code (checked as {what})",
            )

    def check_range(self, table: Table, line: int, row: dict[str, str]) -> None:
        high, qualifier = row.get("value_high", ""), row.get("qualifier", "")
        if qualifier == "range" and high == "":
            self.add(table, line, "value_high", "is empty, but qualifier is range")
        elif high != "" and qualifier != "range":
            self.add(table, line, "value_high", f"is set, but qualifier is {qualifier!r}, not range")
        elif high != "":
            low, top = parse_number(row.get("value", "")), parse_number(high)
            if low is not None and top is not None and top < low:  # else reported by the number check
                self.add(table, line, "value_high", f"{_s(high)} is below value {_s(row['value'])}")


_DEFINITION = {"users": "registered accounts", "devices": "handsets active at the takedown"}


def _later_than(a: tuple[dt.date, str] | None, b: tuple[dt.date, str]) -> bool:
    """True when partial date ``a`` certainly lies after partial date ``b``."""
    if a is None:
        return False
    (da, pa), (db, pb) = a, b
    if "year" in (pa, pb):
        return da.year > db.year
    if "month" in (pa, pb):
        return (da.year, da.month) > (db.year, db.month)
    return da > db


def _as_list(value: object) -> list:
    """A JSON value that may be one item or a list of them, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _foreign_key_problem(fk: object, schema: dict, schemas: dict[str, dict]) -> str | None:
    """Why a ``foreignKeys`` entry cannot be checked, or None. The validator supports
    single-field keys onto a declared field of a resource in the package."""
    if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
        return "must be an object with 'fields' and 'reference'"
    fields, ref = _as_list(fk.get("fields")), fk["reference"]
    ref_fields = _as_list(ref.get("fields"))
    if len(fields) != 1 or len(ref_fields) != 1 or not all(isinstance(f, str) for f in [*fields, *ref_fields]):
        return "only single-field foreign keys are supported"
    if fields[0] not in {f.get("name") for f in schema["fields"]}:
        return f"{fields[0]!r} is not a field of this resource"
    target = schemas.get(ref.get("resource")) if isinstance(ref.get("resource"), str) else None
    if target is None:
        return f"reference.resource {_q(str(ref.get('resource')))} is not a well-formed resource of the package"
    if ref_fields[0] not in {f.get("name") for f in target["fields"]}:
        return f"reference.fields: {ref_fields[0]!r} is not a field of {ref['resource']!r}"
    return None


def validate_dir(data_dir: Path, today: dt.date | None = None) -> tuple[dict[str, Table], list[Problem]]:
    """Validate a data directory; returns its tables as read and every problem found."""
    return Validator(data_dir, today).run()
