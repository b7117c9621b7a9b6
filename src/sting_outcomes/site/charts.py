"""Charts for the operation pages: inline SVG written directly, one chart per operation.

The operation pages carry 33 small-multiple charts of some 200 panels. Drawn with
matplotlib they cost about 7.5 CPU-seconds per build (figure construction and Agg text
rendering), a third of a cold build on two cores; as SVG text they cost a few hundredths
of a second, stay sharp at any zoom, and their labels can be searched and read by screen
readers. The vocabulary is small (lines, markers, bars, arrows, text), so the chart is
written element by element here rather than through a plotting library.

Coordinates are CSS pixels. Output is deterministic: numbers are written with one decimal,
every element in a fixed order, and nothing depends on matplotlib's settings or the clock,
so two builds give the same bytes.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Marker per source kind: filled circle for the agency's own release, a cross for press.
SOURCE_MARKERS = {"primary": "o", "secondary": "X"}
SOURCE_LABELS = {"primary": "agency release (primary)", "secondary": "press or other (secondary)"}

#: Distinct colours, none too pale on white, for up to 24 places: Okabe-Ito, most of Tol's
#: muted set, then more.
COLOURS = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#332288",
    "#44AA99", "#117733", "#999933", "#CC6677", "#882255", "#AA4499", "#661100", "#6699CC",
    "#888888", "#A6761D", "#7B68EE", "#2F4F4F", "#E7298A", "#66A61E", "#5D3A9B", "#B8860B",
]  # fmt: skip
#: Stroke dash patterns (px) after the colours run out, and for categories of one place.
DASHES = ["", "5.5 2.4", "1.5 2.5", "6 2.4 1.5 2.4"]

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
TICK_PX = 11.0  # tick labels and legend text
TITLE_PX = 12.5
LABEL_PX = 10.5  # values written at the points
CHAR_EM = 0.6  # average advance of a character of FONT, in ems (for layout estimates only)
AXIS = "#888888"
GRID = "#e3e6e8"
COVERT = "#ebebeb"
ACTION = "#595959"

PANEL_W = 360  # each panel at least this wide
PANEL_H = 250
MIN_W = 800
PLOT_H = 165
STRIP_ROW = 26
STRIP_LABEL = 260


def compact(v: float) -> str:
    """1234 -> '1,234'; 1_234_567 -> '1.2M'; 0.5 -> '0.5'."""
    if v is None or not math.isfinite(v):
        return "∞" if v == math.inf else "–"
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}B"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.3g}"


def place_colours(places: list[str]) -> dict[str, str]:
    """One distinct colour per place ('global' first); beyond 24 places colours repeat with
    another dash pattern."""
    ordered = sorted(places, key=lambda p: (p != "global", p))
    return {p: COLOURS[i % len(COLOURS)] for i, p in enumerate(ordered)}


def date_ticks(start: pd.Timestamp, stop: pd.Timestamp) -> tuple[list[pd.Timestamp], list[str]]:
    """At most five ticks on whole years (long spans) or months, labelled 2021 or Jun 2021."""
    years = (stop - start) / pd.Timedelta(days=365.25)
    if years > 3:
        step = next(s for s in (1, 2, 5, 10, 20) if years / s <= 5)
        first = start.year + 1
        first += (-first) % step
        ticks = [pd.Timestamp(year=y, month=1, day=1) for y in range(first, stop.year + 1, step)]
        return ticks, [f"{t.year}" for t in ticks]
    months = years * 12
    step = next(s for s in (1, 2, 3, 6, 12) if months / s <= 4.5)
    t = pd.Timestamp(year=start.year, month=start.month, day=1) + pd.DateOffset(months=1)
    while (t.month - 1) % step:
        t += pd.DateOffset(months=1)
    ticks = []
    while t <= stop:
        ticks.append(t)
        t += pd.DateOffset(months=step)
    return ticks, [t.strftime("%b %Y") for t in ticks]


def value_ticks(top: float) -> list[float]:
    """0 and two to four round steps up to ``top``."""
    raw = top / 3.5
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if top >= 3 and step < 1:
        step = 1
    return [i * step for i in range(int(top / step) + 1)]


def text_width(text: str, size: float = TICK_PX) -> float:
    """Estimated width in px of ``text`` set in :data:`FONT` at ``size`` px."""
    return len(text) * size * CHAR_EM


# -- SVG elements ---------------------------------------------------------------------------


def _n(x: float) -> str:
    """A coordinate with at most one decimal, no trailing zero, never '-0'."""
    s = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class Svg:
    """An SVG drawing assembled element by element (coordinates in px)."""

    width: float
    height: float
    parts: list[str] = field(default_factory=list)

    def line(self, x1, y1, x2, y2, colour: str, width: float = 1.0, dash: str = "") -> None:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{colour}" '
            f'stroke-width="{_n(width)}"{d}/>'
        )

    def polyline(self, xs, ys, colour: str, width: float, dash: str = "") -> None:
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in zip(xs, ys))
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{_n(width)}" '
            f'stroke-linejoin="round"{d}/>'
        )

    def rect(self, x, y, w, h, fill: str = "none", stroke: str = "", width: float = 1.0) -> None:
        s = f' stroke="{stroke}" stroke-width="{_n(width)}"' if stroke else ""
        self.parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"{s}/>')

    def marker(self, kind: str, x: float, y: float, colour: str, size: float = 8.4) -> None:
        """'o' filled circle with a white rim, 'X' a bold cross, '^'/'v' a triangle, '_' a cap."""
        r = size / 2
        if kind == "o":
            self.parts.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{colour}" stroke="white" stroke-width="0.8"/>'
            )
        elif kind == "X":
            a = r * 0.8
            self.parts.append(
                f'<path d="M{_n(x - a)} {_n(y - a)}L{_n(x + a)} {_n(y + a)}M{_n(x - a)} {_n(y + a)}'
                f'L{_n(x + a)} {_n(y - a)}" stroke="{colour}" stroke-width="2.4" fill="none"/>'
            )
        elif kind in ("^", "v"):
            s = -1 if kind == "^" else 1
            self.parts.append(
                f'<path d="M{_n(x)} {_n(y + s * r)}L{_n(x - r)} {_n(y - s * r * 0.7)}'
                f'L{_n(x + r)} {_n(y - s * r * 0.7)}Z" fill="{colour}"/>'
            )
        elif kind == "_":
            self.line(x - r, y, x + r, y, colour, 1.7)

    def text(
        self,
        x,
        y,
        text: str,
        *,
        size: float = TICK_PX,
        anchor: str = "start",
        colour: str = "#222222",
        bold: bool = False,
        baseline: str = "",
    ) -> None:
        attrs = f' text-anchor="{anchor}"' if anchor != "start" else ""
        attrs += ' font-weight="bold"' if bold else ""
        attrs += f' dominant-baseline="{baseline}"' if baseline else ""
        attrs += f' fill="{colour}"' if colour != "#222222" else ""
        size_attr = f' font-size="{_n(size)}"' if size != TICK_PX else ""
        self.parts.append(f'<text x="{_n(x)}" y="{_n(y)}"{size_attr}{attrs}>{_esc(text)}</text>')

    def render(self, title: str) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(self.width)} {_n(self.height)}" '
            f'width="{_n(self.width)}" height="{_n(self.height)}" role="img" font-family="{FONT}" '
            f'font-size="{_n(TICK_PX)}" fill="#222222"><title>{_esc(title)}</title>'
            f'<rect width="100%" height="100%" fill="white"/>' + "".join(self.parts) + "</svg>"
        )


@dataclass(frozen=True)
class Axes:
    """A plotting area: ``box`` = (left, top, width, height) in px; x in days since
    ``start``, y from 0 to ``top``."""

    left: float
    top: float
    width: float
    height: float
    xlim: tuple[pd.Timestamp, pd.Timestamp]
    ytop: float = 1.0

    def x(self, when) -> float:
        span = (self.xlim[1] - self.xlim[0]) / pd.Timedelta(days=1)
        return self.left + (pd.Timestamp(when) - self.xlim[0]) / pd.Timedelta(days=1) / span * self.width

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - value / self.ytop)


def _background(svg: Svg, ax: Axes, ticks, takedown, covert_start, values: list[float] | None) -> None:
    """Grid, covert band, action day and frame of one plotting area (drawn before the data)."""
    left, right, top, bottom = ax.left, ax.left + ax.width, ax.top, ax.top + ax.height
    if covert_start is not None and pd.notna(covert_start) and takedown is not None and pd.notna(takedown):
        x0, x1 = max(ax.x(covert_start), left), min(ax.x(takedown), right)
        if x1 > x0:
            svg.rect(x0, top, x1 - x0, ax.height, fill=COVERT)
    for when, label in zip(*ticks):
        x = ax.x(when)
        svg.line(x, top, x, bottom, GRID, 1.0)
        svg.line(x, bottom, x, bottom + 4, AXIS, 0.8)
        svg.text(x, bottom + 16, label, anchor="middle")
    for v in values or []:
        y = ax.y(v)
        svg.line(left, y, right, y, GRID, 1.0)
        svg.line(left - 4, y, left, y, AXIS, 0.8)
        svg.text(left - 7, y + 4, compact(v), anchor="end")
    if takedown is not None and pd.notna(takedown) and left <= ax.x(takedown) <= right:
        svg.line(ax.x(takedown), top, ax.x(takedown), bottom, ACTION, 1.3, "5 3")


def _frame(svg: Svg, ax: Axes) -> None:
    svg.rect(ax.left, ax.top, ax.width, ax.height, stroke=AXIS, width=1.0)


# -- the chart ------------------------------------------------------------------------------


def timeline_svg(
    points: pd.DataFrame,
    *,
    takedown: pd.Timestamp | None,
    covert_start: pd.Timestamp | None = None,
    metric_order: list[str] | None = None,
    title: str = "Running totals over time",
) -> str:
    """Every running total of one operation over time, as an inline SVG element.

    ``points`` is ``so.series(...)`` for one operation (standard units). A metric with two
    or more points gets a panel: one line per place (and category), colour by place,
    marker by source kind, an arrow up for "at least" (down for "at most"), a bar for a
    range or "about" (±10 %), the y axis from zero, dates on the x axis, the covert phase
    shaded and the action day dashed; values are written next to the points when a panel
    has few, else at the end of each line. Metrics reported once share a last strip on
    the same time axis: a dot at the date with the value written beside it (≥ at least,
    ≤ at most, ≈ about). ``title`` is the SVG's accessible name.
    """
    if points.empty:
        raise ValueError("timeline_svg: no points to draw")
    frame = points.copy()
    for col in ("metric", "unit_std", "jurisdiction", "source_kind", "qualifier"):
        frame[col] = frame[col].astype(str)
    frame["category"] = frame["category"].astype("string").fillna("")
    order = {m: i for i, m in enumerate(metric_order or [])}
    groups = frame.groupby(["metric", "unit_std"], sort=False).groups
    keys = sorted(groups, key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    panels = [k for k in keys if len(groups[k]) > 1]
    singles = [k for k in keys if len(groups[k]) == 1]
    colours = place_colours(sorted(frame["jurisdiction"].unique()))

    ncols = 1 if len(panels) <= 1 else 2 if len(panels) <= 4 else 3
    nrows = math.ceil(len(panels) / ncols)
    width = max(ncols * PANEL_W, MIN_W)
    legend = _legend_layout(_legend_items(colours, takedown, covert_start), width)
    legend_h = 14 + 24 * (legend[-1][4] + 1)
    strip_h = (75 + STRIP_ROW * len(singles)) if singles else 0
    height = legend_h + nrows * PANEL_H + strip_h

    start, stop = frame["as_of"].min(), frame["as_of"].max()
    if takedown is not None and pd.notna(takedown):
        start, stop = min(start, takedown), max(stop, takedown)
    # the covert phase is shaded where it falls in this range, but does not widen it: a long
    # covert phase would squeeze every reported figure into the last sliver of the axis
    pad = max((stop - start) * 0.06, pd.Timedelta(days=45))
    xlim = (start - pad, stop + pad)
    ticks = date_ticks(*xlim)

    svg = Svg(width, height)
    _draw_legend(svg, legend)
    cell = width / ncols if panels else width
    for i, (metric, unit) in enumerate(panels):
        row, col = divmod(i, ncols)
        box = (col * cell + 62, legend_h + row * PANEL_H + 32, cell - 85, PLOT_H)
        _panel(svg, box, frame.loc[groups[(metric, unit)]], colours, xlim, ticks, takedown, covert_start)
        svg.text(box[0], box[1] - 6, f"{metric.replace('_', ' ')} ({unit})", size=TITLE_PX, bold=True)
    if singles:
        top = legend_h + nrows * PANEL_H + 32
        ax = Axes(STRIP_LABEL, top, width - STRIP_LABEL - 25, STRIP_ROW * len(singles), xlim)
        svg.text(15, top - 8, "metrics reported once (the value is written beside the dot)", size=TITLE_PX, bold=True)
        _strip(svg, ax, [frame.loc[groups[k]].iloc[0] for k in singles], colours, ticks, takedown, covert_start)
    return svg.render(title)


# -- legend ---------------------------------------------------------------------------------


def _legend_items(colours: dict[str, str], takedown, covert_start) -> list[list[tuple[str, str, str]]]:
    """Two groups of (symbol, colour, label): the places, then what the marks mean."""
    places = [("place", c, p) for p, c in colours.items()]
    marks = [("o", "#4d4d4d", SOURCE_LABELS["primary"]), ("X", "#4d4d4d", SOURCE_LABELS["secondary"])]
    marks.append(("^", "#4d4d4d", "arrow: at least (or at most)"))
    marks.append(("bar", "#4d4d4d", "bar: range or about (±10%)"))
    if takedown is not None and pd.notna(takedown):
        marks.append(("action", ACTION, "action day"))
    if covert_start is not None and pd.notna(covert_start):
        marks.append(("covert", "#d9d9d9", "covert phase"))
    return [places, marks]


def _item_width(label: str) -> float:
    return 30 + text_width(label) + 14


def _legend_layout(groups, width: float) -> list[tuple[str, str, str, float, int]]:
    """(symbol, colour, label, x, row) of every legend item: items flow left to right and
    wrap at the chart's width; each group starts on a new row."""
    placed, row = [], -1
    for items in groups:
        x = width  # forces a new row
        for symbol, colour, label in items:
            w = _item_width(label)
            if x + w > width - 10:
                row, x = row + 1, 10
            placed.append((symbol, colour, label, x, row))
            x += w
    return placed


def _draw_legend(svg: Svg, placed) -> None:
    for symbol, colour, label, x, row in placed:
        y = 18 + 24 * row
        _legend_symbol(svg, symbol, x, y, colour)
        svg.text(x + 28, y + 4, label)


def _legend_symbol(svg: Svg, symbol: str, x: float, y: float, colour: str) -> None:
    if symbol == "place":
        svg.line(x, y, x + 22, y, colour, 2.0)
        svg.marker("o", x + 11, y, colour, 7)
    elif symbol in ("o", "X"):
        svg.marker(symbol, x + 11, y, colour)
    elif symbol == "^":
        svg.line(x + 11, y + 6, x + 11, y - 2, colour, 1.5)
        svg.marker("^", x + 11, y - 3, colour, 6.5)
    elif symbol == "bar":
        svg.line(x + 11, y - 7, x + 11, y + 7, colour, 2.0)
    elif symbol == "action":
        svg.line(x, y, x + 22, y, colour, 1.3, "5 3")
    elif symbol == "covert":
        svg.line(x, y, x + 22, y, colour, 8.0)


# -- panels ---------------------------------------------------------------------------------


def _panel(svg: Svg, box, frame: pd.DataFrame, colours, xlim, ticks, takedown, covert_start) -> None:
    series = list(frame.groupby(["jurisdiction", "category"], sort=True))
    categories = sorted(frame["category"].unique())
    places = list(colours)
    few = len(frame) <= 8
    ymax = 0.0
    for _, pts in series:
        y = pts["value_std"].to_numpy(dtype=float)
        upper = pts["upper"].to_numpy(dtype=float)
        ymax = max(ymax, float(np.nanmax(y)), float(np.max(np.where(np.isfinite(upper), upper, 0.0))))
    top = ymax * 1.25 if ymax > 0 else 1.0
    ax = Axes(*box, xlim=xlim, ytop=top)
    _background(svg, ax, ticks, takedown, covert_start, value_ticks(top))
    arrow = top * 0.1
    labels = []
    for (place, category), pts in series:
        pts = pts.sort_values("as_of")
        colour = colours[place]
        dash = DASHES[(categories.index(category) + places.index(place) // len(COLOURS)) % len(DASHES)]
        when = list(pts["as_of"])
        xs = [ax.x(t) for t in when]
        y = pts["value_std"].to_numpy(dtype=float)
        ys = [ax.y(v) for v in y]
        if len(pts) > 1:
            svg.polyline(xs, ys, colour, 1.8, dash)
        upper = pts["upper"].to_numpy(dtype=float)
        lower = pts["lower"].to_numpy(dtype=float)
        qualifier = pts["qualifier"].to_numpy()
        for k, x in enumerate(xs):
            if np.isfinite(upper[k]) and upper[k] > lower[k]:  # a range, or ±10 % for "about"
                svg.line(x, ax.y(lower[k]), x, ax.y(upper[k]), colour, 1.7)
                svg.marker("_", x, ax.y(lower[k]), colour)
                svg.marker("_", x, ax.y(upper[k]), colour)
            if not np.isfinite(upper[k]):  # at least: open upwards
                svg.line(x, ys[k], x, ax.y(y[k] + arrow), colour, 1.5)
                svg.marker("^", x, ax.y(y[k] + arrow), colour, 6.2)
            elif qualifier[k] == "at_most" and lower[k] <= 0:
                low = max(y[k] - arrow, 0.0)
                svg.line(x, ys[k], x, ax.y(low), colour, 1.5)
                svg.marker("v", x, ax.y(low), colour, 6.2)
        kinds = pts["source_kind"].to_numpy()
        for kind in ("secondary", "primary"):  # the agency's marker on top
            for k in np.flatnonzero(kinds == kind):
                svg.marker(SOURCE_MARKERS[kind], xs[k], ys[k], colour, 8.4 if kind == "primary" else 9.0)
        tag = place + (f" · {category.replace('_', ' ')}" if category else "")
        last = len(pts) - 1
        for k, (t, value) in enumerate(zip(when, y)):
            if not few and k != last:
                continue
            text = compact(value)
            if k == last and (not few or len(series) > 1):
                text = f"{tag}: {text}"
            labels.append((value, t, text, colour))
    _place_labels(svg, ax, labels)
    _frame(svg, ax)


def _place_labels(svg: Svg, ax: Axes, labels: list) -> None:
    """Write the labels largest value first, skipping any that would overlap one already
    written (estimated from the text length), so a crowded action day stays legible."""
    placed: list[tuple[float, float, float, float]] = []
    for value, when, text, colour in sorted(labels, key=lambda t: (-t[0], str(t[1]), t[2])):
        x, y = ax.x(when) + 4, ax.y(value) - 4
        w, h = text_width(text, LABEL_PX), LABEL_PX + 1
        box = (x, y - h, x + w, y)
        if box[2] > ax.left + ax.width:  # no room on the right: write it to the left of the point
            box = (x - 8 - w, y - h, x - 8, y)
        if box[0] < ax.left or any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in placed):
            continue
        placed.append(box)
        svg.text(box[0], box[3] - 2, text, size=LABEL_PX, colour=colour)


def _strip(svg: Svg, ax: Axes, rows: list, colours, ticks, takedown, covert_start) -> None:
    """One row per metric reported once: a dot at its date, the value beside it."""
    n = len(rows)
    row_y = [ax.top + (i + 0.5) * STRIP_ROW for i in range(n)]
    _background(svg, ax, ticks, takedown, covert_start, None)
    for y in row_y:
        svg.line(ax.left, y, ax.left + ax.width, y, GRID, 1.0)
    for y, r in zip(row_y, rows):
        colour = colours[r["jurisdiction"]]
        kind = r["source_kind"] if r["source_kind"] in SOURCE_MARKERS else "secondary"
        x = ax.x(r["as_of"])
        svg.marker(SOURCE_MARKERS[kind], x, y, colour)
        sign = {"at_least": "≥", "at_most": "≤", "approx": "≈"}.get(r["qualifier"], "")
        value = compact(float(r["value_std"]))
        if r["qualifier"] == "range" and math.isfinite(float(r["upper"])):
            value = f"{compact(float(r['lower']))}–{compact(float(r['upper']))}"
        text = f"{r['jurisdiction']} {sign}{value}"
        if x + 9 + text_width(text) <= ax.left + ax.width:
            svg.text(x + 9, y + 4, text, colour=colour)
        else:
            svg.text(x - 9, y + 4, text, colour=colour, anchor="end")
        cat = f" · {r['category'].replace('_', ' ')}" if r["category"] else ""
        svg.text(ax.left - 8, y + 4, f"{r['metric'].replace('_', ' ')}{cat} ({r['unit_std']})", anchor="end")
    _frame(svg, ax)
