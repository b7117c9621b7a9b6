"""Validation of the data directory against the data contract.

The column lists, required values, uniqueness, enums, patterns, minimums and foreign
keys are read from ``datapackage.json`` (one source of truth, also checked by
``frictionless validate``); the rules a table schema cannot express (a unit that fits
its metric, ISO codes, dates in a sane window, ranges, duplicates) are written here.
Every problem is collected; nothing stops at the first.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pycountry

from ..paths import DATAPACKAGE_NAME, display_path
from .problems import Problem

EARLIEST_DATE = dt.date(1990, 1, 1)
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
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


@dataclass
class Table:
    """A CSV file as read: its header and its records with the line each starts on."""

    name: str
    path: Path
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return display_path(self.path)


def parse_partial_date(text: str) -> tuple[dt.date, str] | None:
    """Parse ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` into (first day covered, precision).

    Precision is ``"day"``, ``"month"`` or ``"year"``; a partial date maps to the first
    day of its month or year. Which columns may hold which precision is the table
    schema's business (its patterns). Returns ``None`` for anything else or an
    impossible day.
    """
    m = _DATE_RE.match(text)
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    precision = "day" if m[3] else "month" if m[2] else "year"
    try:
        return dt.date(year, month, day), precision
    except ValueError:
        return None


def read_table(name: str, path: Path, problems: list[Problem]) -> Table:
    """Read one CSV into a :class:`Table`, recording unreadable files as problems."""
    table = Table(name, path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(display_path(path), None, None, "file is missing"))
        return table
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problems.append(Problem(display_path(path), line, None, f"not valid UTF-8 ({exc.reason})"))
        return table
    if text.startswith("\ufeff"):
        problems.append(Problem(display_path(path), 1, None, "starts with a byte-order mark; save as plain UTF-8"))
        text = text[1:]
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        table.header = next(reader, [])
        start = reader.line_num + 1
        for record in reader:
            if not any(cell.strip() for cell in record):
                problems.append(Problem(table.shown, start, None, "blank line"))
            elif len(record) != len(table.header):
                problems.append(
                    Problem(table.shown, start, None, f"has {len(record)} fields, the header has {len(table.header)}")
                )
            else:
                table.rows.append((start, dict(zip(table.header, record))))
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.append(Problem(table.shown, reader.line_num, None, f"cannot be parsed as CSV ({exc})"))
    return table


class Validator:
    """Checks a data directory; :meth:`run` returns the tables and every problem found."""

    def __init__(self, data_dir: Path, today: dt.date | None = None):
        self.data_dir = Path(data_dir)
        self.today = today or dt.date.today()
        self.problems: list[Problem] = []
        self.tables: dict[str, Table] = {}
        self.schemas: dict[str, dict] = {}

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
        package_path = self.data_dir / DATAPACKAGE_NAME
        try:
            package = json.loads(package_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}, [Problem(display_path(package_path), None, None, "file is missing")]
        except json.JSONDecodeError as exc:
            return {}, [Problem(display_path(package_path), exc.lineno, None, f"not valid JSON ({exc.msg})")]
        for resource in package["resources"]:
            name = resource["name"]
            self.schemas[name] = resource["schema"]
            self.tables[name] = read_table(name, self.data_dir / resource["path"], self.problems)
        for name, schema in self.schemas.items():
            self.check_schema(self.tables[name], schema)
        for name, schema in self.schemas.items():
            self.check_foreign_keys(self.tables[name], schema)
        self.check_vocabularies()
        self.check_operations()
        self.check_sources()
        self.check_figures()
        self.check_running_totals()
        self.check_scale_definitions()
        return self.tables, self.problems

    # -- generic, schema-driven rules ---------------------------------------------
    def check_schema(self, table: Table, schema: dict) -> None:
        if not table.header and not table.rows:
            return  # missing or unreadable: already reported
        fields = {f["name"]: f for f in schema["fields"]}
        missing = [name for name in fields if name not in table.header]
        if missing:
            self.add(table, 1, None, f"required column(s) missing: {', '.join(missing)}")
        for col in table.header:
            if col not in fields:
                self.add(table, 1, col, f"unknown column (expected: {', '.join(fields)})")
        if len(set(table.header)) != len(table.header):
            self.add(table, 1, None, "a column name appears twice")
        for name, spec in fields.items():
            if name in table.header:
                self.check_field(table, name, spec)

    def check_field(self, table: Table, name: str, spec: dict) -> None:
        cons = spec.get("constraints", {})
        seen: dict[str, int] = {}
        pattern = re.compile(cons["pattern"]) if "pattern" in cons else None
        for line, row in table.rows:
            value = row[name]
            if value == "":
                if cons.get("required"):
                    self.add(table, line, name, "is empty but required")
                continue
            if value != value.strip():
                self.add(table, line, name, f"{value!r} has spaces at its start or end")
                continue
            if cons.get("unique"):
                if value in seen:
                    self.add(table, line, name, f"{value!r} is not unique (also on line {seen[value]})")
                else:
                    seen[value] = line
            if "enum" in cons and value not in cons["enum"]:
                self.add(table, line, name, f"{value!r} is not allowed (allowed: {', '.join(cons['enum'])})")
            if pattern and not pattern.match(value):
                words = _PATTERN_WORDS.get(cons["pattern"], f"the pattern {cons['pattern']}")
                self.add(table, line, name, f"{value!r} is not {words}")
            if spec["type"] == "boolean" and value not in ("true", "false"):
                self.add(table, line, name, f"{value!r} is not true or false")
            if spec["type"] == "number":
                try:
                    number = float(value)
                except ValueError:
                    self.add(table, line, name, f"{value!r} is not a number")
                    continue
                if number != number or number in (float("inf"), float("-inf")):
                    self.add(table, line, name, f"{value!r} is not a finite number")
                elif "minimum" in cons and number < cons["minimum"]:
                    self.add(table, line, name, f"{value} is below the minimum {cons['minimum']}")

    def check_foreign_keys(self, table: Table, schema: dict) -> None:
        for fk in schema.get("foreignKeys", []):
            (col,) = fk["fields"]
            ref_name = fk["reference"]["resource"]
            (ref_col,) = fk["reference"]["fields"]
            if col not in table.header or ref_name not in self.tables:
                continue
            ref_table = self.tables[ref_name]
            known = sorted({v for _, v in self.column(ref_name, ref_col)})
            known_set = set(known)
            for line, value in self.column(table.name, col):
                if value not in known_set:
                    listing = f"known: {', '.join(known)}" if len(known) <= 40 else f"see {ref_table.shown}"
                    noun = ref_col.removesuffix("_id").replace("_", " ")
                    self.add(table, line, col, f"{value!r} is not a known {noun} ({listing})")

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
            if _DATE_RE.match(value):  # right shape, impossible day: the pattern check let it through
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
            try:
                value = float(row.get("value", ""))
            except ValueError:
                continue
            if parsed is None or value != value:
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
            try:
                if float(high) < float(row.get("value", "")):
                    self.add(table, line, "value_high", f"{high} is below value {row['value']}")
            except ValueError:
                pass  # reported by the number check


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


def validate_dir(data_dir: Path, today: dt.date | None = None) -> tuple[dict[str, Table], list[Problem]]:
    """Validate a data directory; returns its tables as read and every problem found."""
    return Validator(data_dir, today).run()
