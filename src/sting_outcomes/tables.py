"""Tables for people, and captions that say where their numbers come from (as Our
World in Data does).

``so.table(frame, caption)`` renders a DataFrame the same way in a notebook and on every
page of the report: human column labels (``as_of`` -> "As of", ``value_usd`` -> "USD at
the ECB rate of the as-of date"), counts as integers (224, not 224.0), a unit in the header
where the caller names one (``units={"cash_seized": "USD"}``), percentages for relative
differences, dates as ``YYYY-MM-DD``, long text wrapped by the page's CSS rather than cut
off, links where the caller names a URL column, and every value HTML-escaped. An empty
table raises ``ValueError``: a table that comes out empty fails the build.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping

import pandas as pd

from .checks import require_columns

#: Human labels of the dataset's own column names; other snake_case names get their
#: underscores replaced and a capital first letter.
LABELS = {
    "figure_id": "Figure",
    "operation_id": "Operation",
    "source_id": "Source",
    "jurisdiction": "Jurisdiction",
    "metric": "Metric",
    "category": "Category",
    "value": "Value",
    "value_high": "High end",
    "unit": "Unit",
    "qualifier": "Qualifier",
    "as_of": "As of",
    "as_of_precision": "Date precision",
    "scope": "Scope",
    "doubtful": "Doubtful",
    "locator": "Where in the source",
    "note": "Note",
    "source_kind": "Source kind",
    "publisher": "Publisher",
    "family": "Family",
    "value_std": "Standard value",
    "value_high_std": "Standard high end",
    "unit_std": "Standard unit",
    "value_usd": "USD (ECB rate, as-of date)",
    "value_eur": "EUR (ECB rate, as-of date)",
    "lower": "Lower bound",
    "upper": "Upper bound",
    "rel_diff": "Relative difference",
    "days_apart": "Days apart",
    "takedown_date": "Action day",
    "covert_start": "Covert phase from",
    "lead_agencies": "Lead agencies",
    "months_since_takedown": "Months since the action day",
    "n_points": "Points in series",
    "url": "Address",
    "title": "Title",
    "published": "Published",
}

#: Columns whose values are vocabulary codes (``at_least``): shown with spaces.
VOCABULARY_COLUMNS = {"metric", "qualifier", "target", "approach", "family", "source_kind", "scope", "category"}

#: Columns shown as percentages whatever ``float_format`` says.
PERCENT_COLUMNS = {"rel_diff"}

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
_YEARISH = re.compile(r"year|^id$|_id$", re.IGNORECASE)
LONG_TEXT = 48  # characters: a column with longer values gets the wrapping class
WIDE_COLUMNS = 8  # a table with more columns gets the "wide" class (smaller type)
SHORT_TOKEN = 24  # characters: a column of single words no longer than this is not wrapped
_DATE_TEXT = re.compile(r"\d{4}(-\d{2}){0,2}")
_SPACE = re.compile(r"\s")


def caption(figures: pd.DataFrame, operations: pd.DataFrame | None = None, note: str | None = None) -> str:
    """A one-line provenance caption for the figures behind a chart or table.

    Names the operations (by name when ``operations`` is given), counts the documents and
    how many are primary, and points to the data explorer, where each figure links to its
    document. ``note`` is appended as a further sentence (e.g. a comparability warning).
    """
    require_columns(
        figures,
        ["operation_id", "source_id", "source_kind"],
        "figures",
        "keep source_id and source_kind from Dataset.normalized",
    )
    used = figures.drop_duplicates("figure_id") if "figure_id" in figures else figures
    by_source = used.dropna(subset=["source_id"]).drop_duplicates("source_id")
    ids = pd.Index(by_source["source_id"])
    kinds = by_source["source_kind"].astype("string")
    ops = sorted(used["operation_id"].dropna().astype(str).unique())
    if operations is not None:
        names = operations.set_index("operation_id")["name"].astype(str)
        ops = [names.get(o, o) for o in ops]
    shown = ", ".join(ops[:8]) + (f" and {len(ops) - 8} more" if len(ops) > 8 else "")
    n_primary = int((kinds == "primary").sum())
    text = (
        f"Source: {len(used)} figure{'s' if len(used) != 1 else ''} on {shown}, from {len(ids)} "
        f"document{'s' if len(ids) != 1 else ''} ({n_primary} agency release{'s' if n_primary != 1 else ''}, "
        f"{len(ids) - n_primary} press or other); each is listed with its document in the data explorer."
    )
    return f"{text} {note}" if note else text


def label(name) -> str:
    """The header shown for a column or index name."""
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return ""
    text = str(name)
    if text in LABELS:
        return LABELS[text]
    if _SNAKE.match(text):
        text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


class Table:
    """A DataFrame shown with a provenance caption; renders as escaped HTML in notebooks
    and on the report's pages (the same markup, styled by the site's ``so-table`` rules)."""

    def __init__(
        self,
        frame: pd.DataFrame,
        caption_text: str,
        float_format: str | None = None,
        *,
        units: Mapping[str, str] | None = None,
        links: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"so.table expects a DataFrame, got {type(frame).__name__}")
        if frame.empty:
            raise ValueError(
                f"empty table (caption: {caption_text[:80]!r}): a table that comes out empty fails the build"
            )
        self.frame = frame
        self.caption = caption_text
        self.float_format = float_format
        self.units = dict(units or {})
        self.links = dict(links or {})
        self.labels = dict(labels or {})
        for column, url_column in self.links.items():
            require_columns(frame, [column, url_column], "frame", "links maps a shown column to its URL column")

    # -- formatting --------------------------------------------------------------------

    def header(self, name) -> str:
        text = self.labels.get(name) if isinstance(name, str) else None
        text = text if text is not None else label(name)
        unit = self.units.get(name) if isinstance(name, str) else None
        return f"{text} ({unit})" if unit else text

    def _formatter(self, name, column: pd.Series):
        """(function value -> text, css class) for one column."""
        key = name[-1] if isinstance(name, tuple) else name
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return (lambda v: "yes" if v else "no"), ""
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return (lambda v: v.strftime("%Y-%m-%d")), "date"
        if pd.api.types.is_numeric_dtype(dtype):
            if key in PERCENT_COLUMNS:
                return percent, "num"
            plain = isinstance(key, str) and bool(_YEARISH.search(key))
            return _number(self.float_format, plain), "num"
        # plain Python over the values: the tables are small, and pandas' string methods
        # cost more in call overhead than the work (a third of the operation pages' time)
        texts = [str(v) for v in column.dropna().tolist()]
        longest = max(map(len, texts), default=0)
        long_text = longest > LONG_TEXT
        vocabulary = key in VOCABULARY_COLUMNS

        def text(v) -> str:
            if isinstance(v, pd.Timestamp):
                return v.strftime("%Y-%m-%d")
            if isinstance(v, float):
                return _number(self.float_format)(v)
            s = str(v)
            return s.replace("_", " ") if vocabulary else s

        if long_text:
            css = "text"
        elif texts and all(_DATE_TEXT.fullmatch(t) for t in texts):
            css = "date"
        elif texts and not any(_SPACE.search(t) for t in texts) and longest <= SHORT_TOKEN:
            css = "token"  # identifiers and codes: kept on one line
        else:
            css = ""
        return text, css

    def _cell(self, value, fmt) -> str:
        if value is None or (not isinstance(value, str) and _isna(value)):
            return "–"
        return fmt(value)

    # -- rendering ---------------------------------------------------------------------

    def to_html(self) -> str:
        """The table and its caption as HTML; every value from the frame is escaped."""
        frame = self.frame
        hidden = set(self.links.values())
        positions = [j for j, c in enumerate(frame.columns) if c not in hidden]
        index = frame.index
        show_index = (
            index.nlevels > 1 or any(n is not None for n in index.names) or not (pd.api.types.is_integer_dtype(index))
        )
        formats = [self._formatter(frame.columns[j], frame.iloc[:, j]) for j in positions]
        columns = []
        for j, (fmt, css) in zip(positions, formats):
            name = frame.columns[j]
            texts = [html.escape(self._cell(v, fmt)) for v in frame.iloc[:, j].tolist()]
            if name in self.links:
                urls = frame[self.links[name]].tolist()
                texts = [
                    f'<a href="{html.escape(u, quote=True)}" rel="noopener noreferrer">{t}</a>' if _safe_url(u) else t
                    for t, u in zip(texts, urls)
                ]
            open_tag = f'<td class="{css}">' if css else "<td>"
            columns.append([f"{open_tag}{t}</td>" for t in texts])
        if show_index:
            keys = [k if isinstance(k, tuple) else (k,) for k in index]
            heads = ["".join(f"<th>{html.escape(self._index_text(k))}</th>" for k in key) for key in keys]
        else:
            heads = [""] * len(frame)
        numeric = {j for j, (_, css) in zip(positions, formats) if css == "num"}
        width = len(positions) + (index.nlevels if show_index else 0)
        css = "so-table wide" if width > WIDE_COLUMNS else "so-table"
        parts = [f'<div class="so-table-wrap"><table class="{css}">', "<thead>"]
        parts.extend(self._header_rows(positions, numeric, index if show_index else None))
        parts.append("</thead>\n<tbody>")
        for i in range(len(frame)):
            parts.append("<tr>" + heads[i] + "".join(col[i] for col in columns) + "</tr>")
        parts.append("</tbody></table></div>")
        parts.append(f'<p class="caption">{html.escape(self.caption)}</p>')
        return "\n".join(parts)

    def _index_text(self, value) -> str:
        if value is None or (not isinstance(value, str) and _isna(value)):
            return "–"
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, float) and value.is_integer():
            return f"{value:.0f}"
        return str(value)

    def _header_rows(self, positions: list[int], numeric: set[int], index: pd.Index | None) -> list[str]:
        columns = self.frame.columns
        multi = isinstance(columns, pd.MultiIndex)
        levels = columns.nlevels
        rows = []
        for level in range(levels):
            last = level == levels - 1
            cells = []
            if index is not None:
                names = index.names if last else [None] * index.nlevels
                cells.extend(f"<th>{html.escape(label(n))}</th>" for n in names)
            k = 0
            while k < len(positions):
                name = columns[positions[k]]
                span = 1
                if not last:
                    while k + span < len(positions) and columns[positions[k + span]][: level + 1] == name[: level + 1]:
                        span += 1
                text = self.header(name[level] if multi else name) if last else label(name[level])
                css = ' class="num"' if last and positions[k] in numeric else ""
                colspan = f' colspan="{span}"' if span > 1 else ""
                cells.append(f"<th{css}{colspan}>{_breakable(text)}</th>")
                k += span
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return rows

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"{self.frame.to_string()}\n{self.caption}"


_RELATIVE = re.compile(r"^[A-Za-z0-9._/#%?=&-]+$")


def _safe_url(url) -> bool:
    """An http(s) address or a relative one (no scheme): never ``javascript:`` and the like."""
    if not isinstance(url, str) or not url:
        return False
    return url.lower().startswith(("http://", "https://")) or (":" not in url and bool(_RELATIVE.match(url)))


_BREAK_AFTER = re.compile(r"([\[\]._/=])(?=\S)")


def _breakable(text: str) -> str:
    """Escaped header text with line-break opportunities after brackets, dots and the like,
    so that a long token (``Target[T.encrypted_phone_network]``) can wrap while ordinary
    words are never broken in the middle."""
    return _BREAK_AFTER.sub(r"\1<wbr>", html.escape(text))


def _isna(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(float_format: str | None, plain: bool = False):
    """Whole numbers as integers (with thousands separators unless ``plain``), others with
    ``float_format`` or, by default, as many decimals as their size needs."""

    def fmt(v) -> str:
        v = float(v)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v.is_integer():
            return f"{v:.0f}" if plain else f"{v:,.0f}"
        if float_format:
            return float_format.format(v)
        return auto_number(v)

    return fmt


def auto_number(v: float) -> str:
    """12345.6 -> '12,346'; 12.345 -> '12.35'; 1.5 -> '1.5'; 0.01234 -> '0.0123'."""
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def percent(v) -> str:
    """0.123 -> '12%'; 0.026 -> '2.6%' (one decimal below 10 %)."""
    v = float(v)
    return f"{v:.0%}" if abs(v) >= 0.1 or v == 0 else f"{v:.1%}"


def table(
    frame: pd.DataFrame,
    caption_text: str,
    float_format: str | None = None,
    *,
    units: Mapping[str, str] | None = None,
    links: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Table:
    """Wrap ``frame`` so that a notebook (or a report page) shows it with its caption.

    ``float_format`` formats columns of non-integral numbers (default: decimals chosen
    from each column's size); columns of whole numbers always show as integers.
    ``units`` adds a unit to a column's header (``{"cash_seized": "USD"}``), ``links``
    turns a column into links to the addresses in another column (``{"title": "url"}``;
    the address column is not shown), ``labels`` overrides headers. Frame and caption
    are HTML-escaped. An empty frame raises ``ValueError``.
    """
    return Table(frame, caption_text, float_format, units=units, links=links, labels=labels)
