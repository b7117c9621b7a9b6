"""Charts for the operation pages, drawn with matplotlib's object API (no pyplot state).

Every chart is a PNG returned as bytes and embedded as a data URI. Output is
deterministic: fixed style settings (independent of the notebook theme and of any
matplotlibrc), the bundled DejaVu font, and no ``Software`` or date entry in the PNG's
metadata, so two builds give the same bytes.
"""

from __future__ import annotations

import base64
import io
import math
from contextlib import contextmanager

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

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
LINESTYLES = ["-", "--", ":", "-."]

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "axes.edgecolor": "#888888",
    "axes.linewidth": 0.8,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e6e8",
    "grid.linewidth": 0.7,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "svg.hashsalt": "sting-outcomes",
    "path.simplify": True,
}
DPI = 100
PANEL_WIDTH_IN = 3.6  # each panel at least 360 px wide
PANEL_HEIGHT_IN = 2.5
PLACES_PER_ROW = 10
LEGEND_ROW_IN = 0.24
STRIP_ROW_IN = 0.26
STRIP_LABEL_IN = 2.6


@contextmanager
def _style():
    """Matplotlib's defaults plus :data:`STYLE`, whatever theme the process has set; the
    previous settings come back afterwards."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        yield


def draw_timelines(jobs: dict[str, dict]) -> dict[str, bytes]:
    """:func:`timeline_png` for many charts (name -> keyword arguments), one after another.

    (Drawing in forked worker processes saved little on a busy two-core machine and would
    fork the build while its kernel server runs, so the charts are drawn in this process.)"""
    return {name: timeline_png(**job) for name, job in jobs.items()}


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


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


def _save(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def place_colours(places: list[str]) -> dict[str, str]:
    """One distinct colour per place ('global' first); beyond 24 places colours repeat with
    another line style."""
    ordered = sorted(places, key=lambda p: (p != "global", p))
    return {p: COLOURS[i % len(COLOURS)] for i, p in enumerate(ordered)}


def timeline_png(
    points: pd.DataFrame,
    *,
    takedown: pd.Timestamp | None,
    covert_start: pd.Timestamp | None = None,
    metric_order: list[str] | None = None,
) -> bytes:
    """Every running total of one operation over time.

    ``points`` is ``so.series(...)`` for one operation (standard units). A metric with two
    or more points gets a panel: one line per place (and category), colour by place,
    marker by source kind, an arrow up for "at least" (down for "at most"), a bar for a
    range or "about" (±10 %), the y axis from zero, dates on the x axis, the covert phase
    shaded and the action day dashed; values are written next to the points when a panel
    has few, else at the end of each line. Metrics reported once share a last strip on
    the same time axis: a dot at the date with the value written beside it (≥ at least,
    ≤ at most, ≈ about).
    """
    if points.empty:
        raise ValueError("timeline_png: no points to draw")
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
    width = max(ncols * PANEL_WIDTH_IN, 8.0)
    place_rows = math.ceil(len(colours) / PLACES_PER_ROW)
    mark_rows = 1 if width >= 10 else 2
    legend_in = 0.3 + LEGEND_ROW_IN * (place_rows + mark_rows)
    strip_in = (0.75 + STRIP_ROW_IN * len(singles)) if singles else 0.0
    height = legend_in + nrows * PANEL_HEIGHT_IN + strip_in

    start, stop = frame["as_of"].min(), frame["as_of"].max()
    if takedown is not None and pd.notna(takedown):
        start, stop = min(start, takedown), max(stop, takedown)
    # the covert phase is shaded where it falls in this range, but does not widen it: a long
    # covert phase would squeeze every reported figure into the last sliver of the axis
    pad = max((stop - start) * 0.06, pd.Timedelta(days=45))
    xlim = (start - pad, stop + pad)
    ticks = date_ticks(*xlim)

    def box(left_in: float, top_in: float, w_in: float, h_in: float) -> list[float]:
        return [left_in / width, 1 - (top_in + h_in) / height, w_in / width, h_in / height]

    with _style():
        fig = Figure(figsize=(width, height), dpi=DPI)
        cell = width / ncols if panels else width
        for i, (metric, unit) in enumerate(panels):
            row, col = divmod(i, ncols)
            ax = fig.add_axes(box(col * cell + 0.62, legend_in + row * PANEL_HEIGHT_IN + 0.32, cell - 0.85, 1.65))
            pts = frame.loc[groups[(metric, unit)]]
            _panel(ax, pts, colours, xlim, ticks, takedown, covert_start)
            # a plain text, not set_title: titles are re-positioned on every draw, which is slow
            ax.text(
                0,
                1.04,
                f"{metric.replace('_', ' ')} ({unit})",
                transform=ax.transAxes,
                fontsize=9.5,
                fontweight="bold",
                va="bottom",
                ha="left",
            )
        if singles:
            top_in = legend_in + nrows * PANEL_HEIGHT_IN + 0.32
            ax = fig.add_axes(box(STRIP_LABEL_IN, top_in, width - STRIP_LABEL_IN - 0.25, STRIP_ROW_IN * len(singles)))
            _strip(ax, [frame.loc[groups[k]].iloc[0] for k in singles], colours, xlim, ticks, takedown, covert_start)
            ax.text(
                -(STRIP_LABEL_IN - 0.15) / (width - STRIP_LABEL_IN - 0.25),
                1.0 + 0.1 / (STRIP_ROW_IN * len(singles)),
                "metrics reported once (the value is written beside the dot)",
                transform=ax.transAxes,
                fontsize=9.5,
                fontweight="bold",
                va="bottom",
                ha="left",
            )
        places = [Line2D([], [], color=c, marker="o", lw=1.5, ms=5, label=p) for p, c in colours.items()]
        marks = [
            Line2D([], [], color="0.3", marker=SOURCE_MARKERS[k], lw=0, ms=6, label=SOURCE_LABELS[k])
            for k in ("primary", "secondary")
        ]
        marks.append(Line2D([], [], color="0.3", marker="^", lw=0, ms=5, label="arrow: at least (or at most)"))
        marks.append(Line2D([], [], color="0.3", marker="|", lw=0, ms=10, mew=1.5, label="bar: range or about (±10%)"))
        if takedown is not None and pd.notna(takedown):
            marks.append(Line2D([], [], color="0.35", ls="--", lw=1, label="action day"))
        if covert_start is not None and pd.notna(covert_start):
            marks.append(Line2D([], [], color="0.85", lw=6, label="covert phase"))
        fig.legend(
            handles=places,
            loc="upper left",
            bbox_to_anchor=(0.01, 1 - 0.1 / height),
            ncol=PLACES_PER_ROW,
            handlelength=1.6,
            columnspacing=1.0,
            borderaxespad=0,
        )
        fig.legend(
            handles=marks,
            loc="upper left",
            ncol=6 if mark_rows == 1 else 3,
            handlelength=1.8,
            columnspacing=1.2,
            borderaxespad=0,
            bbox_to_anchor=(0.01, 1 - (0.12 + LEGEND_ROW_IN * place_rows) / height),
        )
        return _save(fig)


def _decorate(ax, xlim, ticks, takedown, covert_start) -> None:
    if covert_start is not None and pd.notna(covert_start) and takedown is not None and pd.notna(takedown):
        ax.axvspan(covert_start, takedown, color="0.92", zorder=0, lw=0)
    if takedown is not None and pd.notna(takedown):
        ax.axvline(takedown, color="0.35", ls="--", lw=1, zorder=1)
    ax.set_xlim(*xlim)
    ax.set_xticks(*ticks)


def _strip(ax, rows: list, colours: dict[str, str], xlim, ticks, takedown, covert_start) -> None:
    """One row per metric reported once: a dot at its date, the value beside it."""
    n = len(rows)
    span = (xlim[1] - xlim[0]) / pd.Timedelta(days=1)
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    for i, r in enumerate(rows):
        y = n - 1 - i
        colour = colours[r["jurisdiction"]]
        kind = r["source_kind"] if r["source_kind"] in SOURCE_MARKERS else "secondary"
        ax.plot(
            [r["as_of"]],
            [y],
            ls="none",
            marker=SOURCE_MARKERS[kind],
            ms=6,
            color=colour,
            mec="white" if kind == "primary" else colour,
            mew=0.6,
            zorder=4,
        )
        sign = {"at_least": "≥", "at_most": "≤", "approx": "≈"}.get(r["qualifier"], "")
        value = compact(float(r["value_std"]))
        if r["qualifier"] == "range" and math.isfinite(float(r["upper"])):
            value = f"{compact(float(r['lower']))}–{compact(float(r['upper']))}"
        text = f"{r['jurisdiction']} {sign}{value}"
        frac = (r["as_of"] - xlim[0]) / pd.Timedelta(days=1) / span
        right = frac + (len(text) * 0.075 + 0.15) / width_in <= 1
        ax.annotate(
            text,
            (r["as_of"], y),
            xytext=(7 if right else -7, 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=8,
            color=colour,
            zorder=5,
        )
        cat = f" · {r['category'].replace('_', ' ')}" if r["category"] else ""
        ax.text(
            -0.01,
            y,
            f"{r['metric'].replace('_', ' ')}{cat} ({r['unit_std']})",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=8,
        )
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(range(n), [""] * n)
    ax.tick_params(axis="y", length=0)
    _decorate(ax, xlim, ticks, takedown, covert_start)


def _panel(ax, frame: pd.DataFrame, colours: dict[str, str], xlim, ticks, takedown, covert_start) -> None:
    series = list(frame.groupby(["jurisdiction", "category"], sort=True))
    categories = sorted(frame["category"].unique())
    places = list(colours)
    few = len(frame) <= 8
    ymax = 0.0
    arrows = []
    labels = []
    for (place, category), pts in series:
        pts = pts.sort_values("as_of")
        colour = colours[place]
        style = LINESTYLES[(categories.index(category) + places.index(place) // len(COLOURS)) % len(LINESTYLES)]
        y = pts["value_std"].to_numpy(dtype=float)
        if len(pts) > 1:
            ax.plot(pts["as_of"].to_numpy(), y, color=colour, lw=1.3, ls=style, zorder=2)
        kinds = pts["source_kind"].to_numpy()
        for kind in ("primary", "secondary"):
            mask = kinds == kind
            if mask.any():
                ax.plot(
                    pts["as_of"].to_numpy()[mask],
                    y[mask],
                    ls="none",
                    color=colour,
                    marker=SOURCE_MARKERS[kind],
                    ms=6 if kind == "primary" else 6.5,
                    mec="white" if kind == "primary" else colour,
                    mew=0.6,
                    zorder=4,
                )
        upper = pts["upper"].to_numpy(dtype=float)
        lower = pts["lower"].to_numpy(dtype=float)
        ymax = max(ymax, float(np.nanmax(y)), float(np.max(np.where(np.isfinite(upper), upper, 0.0))))
        bars = np.isfinite(upper) & (upper > lower)
        if bars.any():
            when = pts["as_of"].to_numpy()[bars]
            ax.vlines(when, lower[bars], upper[bars], color=colour, lw=1.2, zorder=3)
            ax.plot(
                np.concatenate([when, when]),
                np.concatenate([lower[bars], upper[bars]]),
                ls="none",
                marker="_",
                ms=6,
                mew=1.2,
                color=colour,
                zorder=3,
            )
        open_up = ~np.isfinite(upper)
        open_down = (pts["qualifier"].to_numpy() == "at_most") & (lower <= 0)
        arrows.append((colour, pts["as_of"].to_numpy(), y, open_up, open_down))
        tag = place + (f" · {category.replace('_', ' ')}" if category else "")
        last = len(pts) - 1
        for k, (when, value) in enumerate(zip(pts["as_of"], y)):
            if not few and k != last:
                continue
            text = compact(value)
            if k == last and (not few or len(series) > 1):
                text = f"{tag}: {text}"
            labels.append((value, when, text, colour))
    top = ymax * 1.25 if ymax > 0 else 1.0
    ax.set_ylim(0, top)
    arrow = top * 0.1
    for colour, when, y, up, down in arrows:
        if up.any():
            ax.vlines(when[up], y[up], y[up] + arrow, color=colour, lw=1.1, zorder=3)
            ax.plot(when[up], y[up] + arrow, ls="none", marker="^", ms=4.5, color=colour, zorder=3)
        if down.any():
            ax.vlines(when[down], np.maximum(y[down] - arrow, 0), y[down], color=colour, lw=1.1, zorder=3)
            ax.plot(when[down], np.maximum(y[down] - arrow, 0), ls="none", marker="v", ms=4.5, color=colour, zorder=3)
    _place_labels(ax, labels, xlim, top)
    _decorate(ax, xlim, ticks, takedown, covert_start)
    values = value_ticks(top)
    ax.set_yticks(values, [compact(t) for t in values])
    ax.set_ylim(0, top)


def date_ticks(start: pd.Timestamp, stop: pd.Timestamp) -> tuple[list, list[str]]:
    """At most five ticks on whole years (long spans) or months, labelled 2021 or Jun 2021."""
    years = (stop - start) / pd.Timedelta(days=365.25)
    if years > 3:
        step = next(s for s in (1, 2, 5, 10, 20) if years / s <= 5)
        first = start.year + 1
        first += (-first) % step
        ticks = [pd.Timestamp(year=y, month=1, day=1) for y in range(first, stop.year + 1, step)]
        return [mdates.date2num(t) for t in ticks], [f"{t.year}" for t in ticks]
    months = years * 12
    step = next(s for s in (1, 2, 3, 6, 12) if months / s <= 4.5)
    t = pd.Timestamp(year=start.year, month=start.month, day=1) + pd.DateOffset(months=1)
    while (t.month - 1) % step:
        t += pd.DateOffset(months=1)
    ticks = []
    while t <= stop:
        ticks.append(t)
        t += pd.DateOffset(months=step)
    return [mdates.date2num(t) for t in ticks], [t.strftime("%b %Y") for t in ticks]


def value_ticks(top: float) -> list[float]:
    """0 and two to four round steps up to ``top``."""
    raw = top / 3.5
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if top >= 3 and step < 1:
        step = 1
    return [i * step for i in range(int(top / step) + 1)]


def _place_labels(ax, labels: list, xlim, top: float) -> None:
    """Write the labels largest value first, skipping any that would overlap one already
    written (estimated from the text length), so a crowded action day stays legible."""
    span = (xlim[1] - xlim[0]) / pd.Timedelta(days=1)
    placed: list[tuple[float, float, float, float]] = []
    for value, when, text, colour in sorted(labels, key=lambda t: (-t[0], str(t[1]), t[2])):
        x0 = (when - xlim[0]) / pd.Timedelta(days=1) / span + 0.012
        y0 = value / top + 0.025
        box = (x0, y0, x0 + 0.0155 * len(text), y0 + 0.07)
        if box[2] > 1.0:  # no room on the right: write it to the left of the point
            box = (x0 - 0.024 - 0.0155 * len(text), y0, x0 - 0.024, y0 + 0.07)
        if box[0] < 0 or any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in placed):
            continue
        placed.append(box)
        ax.text(box[0], box[1], text, transform=ax.transAxes, fontsize=7.5, color=colour, zorder=5)
