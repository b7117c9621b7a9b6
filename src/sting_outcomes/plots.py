"""One seaborn theme and the project's recurring figures.

Every plotting function returns a matplotlib ``Figure`` (its axes are ``fig.axes``),
draws nothing to screen by itself and works under the non-interactive Agg backend. Each
accepts a ``caption`` placed below the plot: name where the numbers come from there
(e.g. "Source: data/figures.csv, primary releases of AFP and FBI; see source_id").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

__all__ = ["dot_plot", "funnel_plot", "rate_plot", "set_theme", "tallies_plot", "timeline_plot"]

SOURCE_MARKERS = {"primary": "o", "secondary": "X"}


def set_theme() -> None:
    """The project look: seaborn whitegrid, colourblind palette, compact fonts."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def hide_unseen_minor_ticks(ax: Axes) -> None:
    """Give ``ax``'s x axis no minor ticks when none of them would show: no label (a log
    axis spanning several decades labels the decades only), no tick mark and no grid
    line (the project theme draws neither for minor ticks).

    Such ticks are still created and laid out at every draw (``tight_layout``, the tight
    bounding box of ``savefig`` and the render itself), about sixty per log panel, so
    leaving them out draws the same picture for less work. Call it once the x limits
    and the tick parameters are final; a visible part of any minor tick keeps them all.
    """
    axis = ax.xaxis
    locs = axis.get_minor_locator()()
    if len(locs) == 0:
        return
    if any(axis.get_minor_formatter().format_ticks(locs)):
        return
    tick = axis.get_minor_ticks(1)[0]
    if any(part.get_visible() for part in (tick.tick1line, tick.tick2line, tick.gridline)):
        return
    axis.set_minor_locator(NullLocator())


CAPTION_SIZE = 8  # points
CAPTION_LEADING = 1.2  # line height, in multiples of the font size (matplotlib's default)


def caption_lines(width_in: float, caption: str, fontsize: float = CAPTION_SIZE) -> list[str]:
    """``caption`` broken into lines no wider than 97 % of ``width_in`` inches at
    ``fontsize`` points, words measured with the current font (paragraph breaks kept).

    Wrapping is done here, once, because matplotlib's own text wrapping re-measures every
    growing prefix of a line on each draw, which cost about 0.1 s per saved figure."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure, font = TextToPath(), FontProperties(size=fontsize)

    def width(text: str) -> float:
        return measure.get_text_width_height_descent(text, font, ismath=False)[0]

    room = width_in * 72 * 0.97
    space = width(" ")
    lines: list[str] = []
    for paragraph in caption.split("\n"):
        line, used = [], 0.0
        for word in paragraph.split():
            w = width(word)
            if line and used + space + w > room:
                lines.append(" ".join(line))
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(word)
        lines.append(" ".join(line))
    return lines


def caption_height(lines: list[str], fontsize: float = CAPTION_SIZE) -> float:
    """Inches that caption ``lines`` take, with a small margin above and below."""
    return (len(lines) * fontsize * CAPTION_LEADING + 10) / 72


def _write_caption(fig: Figure, lines: list[str]) -> None:
    """Caption ``lines`` in small grey type at the bottom left of ``fig`` (room for them
    left by the layout)."""
    y = 4 / 72 / fig.get_figheight()
    fig.text(0.01, y, "\n".join(lines), ha="left", va="bottom", fontsize=CAPTION_SIZE, color="0.3")


def finish_figure(fig: Figure, caption: str | None, *, top: float = 1.0) -> Figure:
    """Lay ``fig`` out (``tight_layout``, up to ``top`` as a fraction of its height) and put
    ``caption`` in small grey type under it. The figure grows by the caption's height, so
    the plot keeps its size and no caption runs into an axis label, however long."""
    if not caption:
        fig.tight_layout(rect=(0, 0, 1, top))
        return fig
    width, height = fig.get_size_inches()
    lines = caption_lines(width, caption)
    extra = caption_height(lines)
    total = height + extra
    fig.set_size_inches(width, total)
    fig.tight_layout(rect=(0, extra / total, 1, 1 - (1 - top) * height / total))
    _write_caption(fig, lines)
    return fig


def dot_plot(
    data: pd.DataFrame,
    *,
    x: str = "value_std",
    y: str = "label",
    hue: str | None = None,
    style: str = "source_kind",
    title: str | None = None,
    xlabel: str | None = None,
    caption: str | None = None,
    height: float | None = None,
) -> Figure:
    """Comparison dot plot on a log x-axis; marker shape by ``style`` (source kind:
    circle = primary, cross = secondary).

    ``data`` needs ``x`` and ``y`` columns (build ``label`` e.g. as "operation · metric").
    When ``lower``/``upper`` columns exist, each dot gets a line over its qualifier
    interval; an open upper end (``at_least``) is drawn as an arrow to the right.
    Non-positive values cannot sit on a log axis and are left out.
    """
    frame = data.loc[data[x].gt(0).fillna(False)].copy()
    frame[y] = frame[y].astype(str)
    if style in frame:
        frame[style] = frame[style].astype(str)
    height = height or max(2.5, 0.35 * frame[y].nunique() + 1.2)
    fig, ax = plt.subplots(figsize=(7.5, height))
    if {"lower", "upper"} <= set(frame):
        ypos = {label: i for i, label in enumerate(pd.unique(frame[y]))}
        finite = np.isfinite(frame["upper"])
        lo = frame["lower"].clip(lower=frame[x] / 1e6)
        ax.hlines(frame.loc[finite, y].map(ypos), lo[finite], frame.loc[finite, "upper"], color="0.6", lw=1.2, zorder=1)
        for _, row in frame.loc[~finite].iterrows():
            ax.annotate(
                "",
                xy=(row[x] * 2.0, ypos[row[y]]),
                xytext=(row[x], ypos[row[y]]),
                arrowprops={"arrowstyle": "->", "color": "0.5", "lw": 1.0},
                zorder=1,
            )
    markers = {k: SOURCE_MARKERS.get(k, "s") for k in frame[style].unique()} if style in frame else None
    sns.scatterplot(
        data=frame, x=x, y=y, hue=hue, style=style if style in frame else None, markers=markers, s=70, ax=ax, zorder=2
    )
    ax.set_xscale("log")
    span = pd.concat([frame[x], frame.get("lower", frame[x]), frame.get("upper", frame[x]) * 1.0]).to_numpy(float)
    span = span[np.isfinite(span) & (span > 0)]
    if len(span):
        ax.set_xlim(span.min() / 1.5, span.max() * 2.5)
    if ax.get_legend() is not None:
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    return finish_figure(fig, caption)


def tallies_plot(
    series: pd.DataFrame,
    fits: pd.DataFrame | None = None,
    *,
    t: str = "months_since_takedown",
    y: str = "value_std",
    label: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    caption: str | None = None,
    horizon: float = 1.5,
) -> Figure:
    """Tallies over time (points) and, when ``fits`` (from ``growth.fit_series``) is given,
    each fitted curve with the band of its ``predict()``, drawn from the first release
    out to ``horizon`` times the span of its points.

    Series are told apart by colour (one distinct colour per series; ``label`` names the
    column that labels them, default operation · jurisdiction · metric, plus category
    when present); markers show the source kind when ``source_kind`` exists. The y axis
    starts at zero (counts) and is cut at three times the largest point or curve value
    so that a wide band cannot flatten the data; the legend sits right of the axes, and
    the dashed line marks the action day (t = 0).
    """
    keys = ["operation_id", "jurisdiction", "metric", "category"]

    def key_text(frame: pd.DataFrame) -> pd.Series:
        cols = [c for c in keys if c in frame]
        return frame[cols].astype("string").fillna("").agg("|".join, axis=1) if cols else pd.Series("", frame.index)

    frame = series.copy()
    frame["_label"] = frame[label].astype(str) if label else _series_label(frame)
    labels = list(pd.unique(frame["_label"]))
    colors = sns.color_palette(n_colors=len(labels)) if len(labels) <= 10 else sns.color_palette("husl", len(labels))
    palette = dict(zip(labels, colors))
    label_of = dict(zip(key_text(frame), frame["_label"]))
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    style = "source_kind" if "source_kind" in frame else None
    if style:
        frame[style] = frame[style].astype(str)
    markers = {k: SOURCE_MARKERS.get(k, "s") for k in frame[style].unique()} if style else True
    sns.scatterplot(
        data=frame, x=t, y=y, hue="_label", style=style, markers=markers, palette=palette, s=60, ax=ax, zorder=3
    )
    top = float(np.nanmax(frame[y].to_numpy(dtype=float))) if len(frame) else 1.0
    level = None
    if fits is not None and len(fits):
        ok = fits.loc[fits["fit"].notna()]
        for fit_key, (_, row) in zip(key_text(ok), ok.iterrows()):
            fit = row["fit"]
            color = palette.get(label_of.get(fit_key, ""), "0.3")
            start, stop = float(fit.t[0]), float(fit.t[-1])
            grid = np.linspace(start, stop + (horizon - 1.0) * max(stop - start, 1e-9), 200)
            band = fit.predict(grid)
            ax.plot(band["t"], band["fit"], color=color, lw=1.5, zorder=2)
            ax.fill_between(band["t"], band["lower"], band["upper"], color=color, alpha=0.18, lw=0, zorder=1)
            top = max(top, float(np.nanmax(band["fit"])))
            level = fit.level
    ax.axvline(0, color="0.5", lw=0.8, ls="--", label="action day")
    ax.set_xlabel("months since the action day" if t == "months_since_takedown" else t)
    ax.set_ylabel(ylabel or y)
    handles, names = ax.get_legend_handles_labels()
    pretty = {"_label": "series", "source_kind": "source"}
    names = [pretty.get(n, n) for n in names]
    if level is not None:
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="0.5", alpha=0.3, edgecolor="0.3"))
        names.append(f"fitted curve, {level:.0%} band")
    ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8, title=None)
    ax.set_ylim(bottom=0)
    if ax.get_ylim()[1] > 3 * top > 0:
        ax.set_ylim(top=3 * top)
    if title:
        ax.set_title(title)
    return finish_figure(fig, caption)


def _series_label(frame: pd.DataFrame) -> pd.Series:
    """'operation · jurisdiction · metric[ · category]'."""
    base = (
        frame["operation_id"].astype(str)
        + " · "
        + frame["jurisdiction"].astype(str)
        + " · "
        + frame["metric"].astype(str)
    )
    cat = frame["category"].astype("string")
    return base.where(cat.isna(), base + " · " + cat.fillna(""))


def funnel_plot(
    funnel_df: pd.DataFrame,
    *,
    title: str | None = None,
    caption: str | None = None,
    label: str = "cohort",
    ncols: int = 3,
) -> Figure:
    """The cohorts of ``analysis.funnel.funnel``: one small panel per cohort, stages on
    the x-axis, people on a linear y-axis from zero, the stages a cohort reports joined
    by a line.

    Each cohort (``label``: "operation · jurisdiction · release date") has its own colour
    and marker, listed in a legend beside the panels and named in each panel's title.
    Every stage after the first is labelled with its ratio and the base it is taken of
    ("62% of charged") and, below, its interval (a Clopper-Pearson interval for a
    proportion, else the range the qualifiers allow). An ``at_least`` value is an open
    marker with an arrow up; an ``approx`` or ``range`` value has a bar over its bounds.
    When a cohort's stages carry different dates (a window), each point is dated.
    Rows without a cohort (``reason`` set), ``sentence_years`` (a different unit) and
    cohorts with fewer than two stages are left out; raises ``ValueError`` when nothing
    is left to draw.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    needed = [label, "stage", "stage_order", "value_std", "lower", "upper", "as_of", "ratio", "ratio_of"]
    missing = [c for c in needed if c not in funnel_df]
    if missing:
        raise ValueError(f"funnel_df lacks column(s) {', '.join(map(repr, missing))}; pass the frame funnel() returns")
    from .analysis.funnel import STAGE_WORDS as words

    def interval_text(lower: float, upper: float, kind: object) -> str:
        """'95% CI 13–20%' for a Clopper-Pearson interval, 'bounds 0–52%' for qualifier
        bounds, '' when the bounds are the point itself."""
        if not isinstance(kind, str) or not (np.isfinite(lower) or np.isfinite(upper)) or np.isclose(lower, upper):
            return ""
        high = f"{upper:.0%}" if np.isfinite(upper) else "∞"
        if kind.startswith("Clopper-Pearson"):
            return f"{kind.split()[1].rstrip(',')} CI {lower:.0%}–{high}"
        return f"bounds {lower:.0%}–{high}"

    frame = funnel_df.loc[funnel_df[label].notna() & funnel_df["stage"].astype(str).ne("sentence_years")].copy()
    frame["stage"] = frame["stage"].astype(str)
    frame["_label"] = frame[label].astype(str)
    frame = frame.loc[frame.groupby("_label")["stage"].transform("nunique") >= 2]
    if frame.empty:
        raise ValueError("no cohort with two stages to draw")
    order = frame.sort_values("stage_order")["stage"].drop_duplicates().tolist()
    pos = {stage: i for i, stage in enumerate(order)}
    cohorts = list(pd.unique(frame["_label"]))
    colors = sns.color_palette("colorblind" if len(cohorts) <= 10 else "husl", n_colors=max(len(cohorts), 1))
    markers = ["o", "s", "D", "^", "v", "P", "X", "<", ">", "h", "*", "p"]
    style = {c: (colors[i % len(colors)], markers[i % len(markers)]) for i, c in enumerate(cohorts)}

    ncols = max(1, min(ncols, len(cohorts)))
    nrows = -(-len(cohorts) // ncols)
    legend_in = 2.9
    width = 3.2 * ncols + legend_in
    lines = caption_lines(width, caption) if caption else []
    extra = caption_height(lines) if lines else 0.0
    height = 3.0 * nrows + 0.5 + extra + (0.35 if title else 0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for ax in axes.flat[len(cohorts) :]:
        ax.set_visible(False)
    for ax, cohort in zip(axes.flat, cohorts):
        color, marker = style[cohort]
        sub = frame.loc[frame["_label"] == cohort].sort_values("stage_order")
        x = sub["stage"].map(pos).to_numpy(float)
        y = sub["value_std"].to_numpy(float)
        lo = sub["lower"].fillna(sub["value_std"]).to_numpy(float)
        hi = sub["upper"].fillna(sub["value_std"]).to_numpy(float)
        finite_top = np.nanmax(np.where(np.isfinite(hi), hi, y))
        top = finite_top * 1.45 if finite_top > 0 else 1.0
        ax.plot(x, y, color=color, lw=1.4, zorder=2)
        is_open = ~np.isfinite(hi)
        ax.plot(x[~is_open], y[~is_open], ls="none", marker=marker, ms=8, color=color, zorder=3)
        ax.plot(x[is_open], y[is_open], ls="none", marker=marker, ms=8, mfc="white", mec=color, mew=1.6, zorder=3)
        for xi, yi in zip(x[is_open], y[is_open]):
            ax.annotate(
                "",
                xy=(xi, yi + 0.16 * top),
                xytext=(xi, yi),
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.4},
                zorder=2,
            )
        bar = np.isfinite(hi) & ((hi > y) | (lo < y))
        if bar.any():
            ax.errorbar(
                x[bar], y[bar], yerr=[y[bar] - lo[bar], hi[bar] - y[bar]], fmt="none", ecolor=color, capsize=4, lw=1.2
            )
        dated = sub["as_of"].nunique() > 1
        for row, xi, yi in zip(sub.itertuples(index=False), x, y):
            text = []
            if np.isfinite(row.ratio) and isinstance(row.ratio_of, str):
                base = row.ratio_of.split(" ÷ ")[-1]
                text.append(f"{row.ratio:.0%} of {words.get(base, base)}")
                text.append(interval_text(row.ratio_lower, row.ratio_upper, row.interval_kind))
            if dated:
                text.append(pd.Timestamp(row.as_of).strftime("%Y-%m-%d"))
            if text:
                ax.annotate(
                    "\n".join(t for t in text if t),
                    (xi, yi),
                    xytext=(7, 4),
                    textcoords="offset points",
                    fontsize=7.5,
                    va="bottom",
                    ha="left",
                    color="0.15",
                )
        ax.set_xlim(-0.4, len(order) - 0.2)
        ax.set_ylim(0, top)
        ax.set_xticks(range(len(order)), [words.get(s, s) for s in order], fontsize=8, rotation=30, ha="right")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="y", labelsize=8)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylabel("people", fontsize=8)
        ax.set_title(cohort, fontsize=8.5, fontweight="bold")
    handles = [Line2D([], [], color=style[c][0], marker=style[c][1], ms=7, lw=1.4, label=c) for c in cohorts]
    handles += [
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="none", ms=7, label="at least (open marker, arrow)"),
        Line2D([], [], color="0.3", marker="|", ls="none", ms=12, label="approx. or range (bar over bounds)"),
    ]
    right = 1 - legend_in / width
    bottom = extra / height
    fig.tight_layout(rect=(0, bottom, right, 0.96 if title else 1))
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(right + 0.01, 0.96 if title else 1),
        frameon=False,
        fontsize=8,
        title="cohort (operation · place · date)",
        title_fontsize=8,
    )
    if title:
        fig.suptitle(title, fontweight="bold")
    if lines:
        _write_caption(fig, lines)
    return fig


#: Approaches in which the police ran or read the service (drawn in the first colour).
COVERT_APPROACHES = ("police_run", "infiltrated")


def timeline_plot(operations: pd.DataFrame, *, caption: str | None = None) -> Figure:
    """One row per operation: the covert phase as a grey bar (``covert_start`` to
    ``takedown_date``, when a source gave the start) and the public action day as a dot,
    blue where police ran or read the service, orange otherwise."""
    ops = operations.sort_values("takedown_date").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(ops) + 1.2))
    for i, op in ops.iterrows():
        if pd.notna(op["covert_start"]):
            ax.plot([op["covert_start"], op["takedown_date"]], [i, i], color="0.65", lw=3, solid_capstyle="butt")
        covert = op["approach"] in COVERT_APPROACHES
        ax.plot(op["takedown_date"], i, "o", color="C0" if covert else "C1")
    ax.set_yticks(range(len(ops)), ops["name"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("covert phase (grey) and public action day (dot; blue: police ran or read the service)")
    return finish_figure(fig, caption)


def rate_plot(
    rated: pd.DataFrame,
    *,
    label: str = "name",
    facet: str = "definition",
    title: str | None = None,
    xlabel: str = "per 1,000 (log scale)",
    caption: str | None = None,
) -> Figure:
    """Rates per scale (from ``so.per_scale``), one panel per denominator definition so that
    no operation is ranked against another definition. Each operation: a dot at the rate,
    a thick line over its exact Poisson interval (``rate_low``-``rate_high``) and a thin
    line over the bounds its qualifiers allow (``bound_low``-``bound_high``); an open end is
    an arrow, a bound at zero runs to the panel's edge with an open circle."""
    frame = rated.loc[rated["rate"].gt(0).fillna(False)].copy()
    panels = list(pd.unique(frame[facet]))
    heights = [max(1, frame.loc[frame[facet] == p, label].nunique()) for p in panels]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(9, 0.42 * sum(heights) + 1.1 * len(panels) + 0.6),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    finite = frame[["rate", "rate_low", "rate_high", "bound_low", "bound_high"]].to_numpy(float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo, hi = (finite.min() / 3, finite.max() * 3) if len(finite) else (0.1, 10)
    colors = dict(zip(sorted(frame["approach"].astype(str).unique()), sns.color_palette(n_colors=8)))
    for ax, panel in zip(axes[:, 0], panels):
        sub = frame.loc[frame[facet] == panel].sort_values("rate")
        for i, row in enumerate(sub.itertuples()):
            color = colors.get(str(row.approach), "0.3")
            b_lo = row.bound_low if row.bound_low > 0 else lo
            b_hi = row.bound_high if np.isfinite(row.bound_high) else hi
            ax.hlines(i, b_lo, b_hi, color=color, lw=1, alpha=0.6)
            if not np.isfinite(row.bound_high):
                ax.annotate("", xy=(hi, i), xytext=(row.rate_high, i), arrowprops={"arrowstyle": "->", "color": color})
            if row.bound_low <= 0:
                ax.plot(lo, i, "o", mfc="white", mec=color, ms=5)
            ax.hlines(i, row.rate_low, row.rate_high, color=color, lw=4, alpha=0.9)
            ax.plot(row.rate, i, "o", color="white", mec=color, mew=1.5, ms=7, zorder=3)
            ax.annotate(
                f"{row.rate:,.3g}",
                (row.rate, i),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color="0.25",
            )
        ax.set_yticks(range(len(sub)), sub[label].astype(str), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        ax.set_title(f"per 1,000 {panel}", fontsize=9, loc="left")
        ax.set_xlabel("")
        hide_unseen_minor_ticks(ax)
    axes[-1, 0].set_xlabel(xlabel)
    handles = [plt.Line2D([], [], color=c, lw=4, label=a.replace("_", " ")) for a, c in colors.items()]
    handles += [
        plt.Line2D([], [], color="0.4", lw=4, label="exact Poisson 95% interval"),
        plt.Line2D([], [], color="0.4", lw=1, label="bounds from 'more than' / 'about'"),
    ]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.98), frameon=False, fontsize=8)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return finish_figure(fig, caption)
