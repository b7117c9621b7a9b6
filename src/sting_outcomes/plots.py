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
from matplotlib.figure import Figure

__all__ = ["dot_plot", "funnel_plot", "set_theme", "tallies_plot", "timeline_plot"]

SOURCE_MARKERS = {"primary": "o", "secondary": "X"}


def set_theme() -> None:
    """The project look: seaborn whitegrid, colourblind palette, compact fonts."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def _caption(fig: Figure, caption: str | None) -> Figure:
    """Lay out the figure and put ``caption`` in small type under it."""
    if caption:
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        fig.text(0.01, 0.01, caption, ha="left", va="bottom", fontsize=8, color="0.3", wrap=True)
    else:
        fig.tight_layout()
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
    return _caption(fig, caption)


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
    each fitted saturating curve with its confidence band, drawn out to ``horizon`` times
    the last observed t.

    Series are told apart by ``label`` (default: operation · jurisdiction · metric, plus
    category when present); markers show the source kind when ``source_kind`` exists.
    """
    frame = series.copy()
    frame["_label"] = frame[label].astype(str) if label else _series_label(frame)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    style = "source_kind" if "source_kind" in frame else None
    if style:
        frame[style] = frame[style].astype(str)
    palette = dict(zip(pd.unique(frame["_label"]), sns.color_palette(n_colors=frame["_label"].nunique())))
    sns.scatterplot(data=frame, x=t, y=y, hue="_label", style=style, palette=palette, s=60, ax=ax, zorder=3)
    if fits is not None and len(fits):
        ok = fits.loc[fits["fit"].notna()].copy()
        ok["_label"] = ok[label].astype(str) if label and label in ok else _series_label(ok)
        for _, row in ok.iterrows():
            fit = row["fit"]
            grid = np.linspace(0, max(float(np.max(fit.t)) * horizon, 1e-9), 200)
            band = fit.predict(grid)
            color = palette.get(row["_label"], "0.3")
            ax.plot(band["t"], band["fit"], color=color, lw=1.5, zorder=2)
            ax.fill_between(band["t"], band["lower"], band["upper"], color=color, alpha=0.18, lw=0, zorder=1)
    ax.axvline(0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("months since the action day" if t == "months_since_takedown" else t)
    ax.set_ylabel(ylabel or y)
    ax.legend(fontsize=8, title=None)
    if title:
        ax.set_title(title)
    return _caption(fig, caption)


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
    log: bool = False,
    title: str | None = None,
    caption: str | None = None,
) -> Figure:
    """Bars per funnel stage (from ``justice.funnel``), one colour per operation ·
    jurisdiction, with the ratio to the previous stage written above each bar.
    ``sentence_years`` is left out (different unit)."""
    frame = funnel_df.loc[funnel_df["stage"].astype(str) != "sentence_years"].copy()
    frame["group"] = frame["operation_id"].astype(str) + " · " + frame["jurisdiction"].astype(str)
    order = frame.sort_values("stage_order")["stage"].astype(str).drop_duplicates().tolist()
    frame["stage"] = frame["stage"].astype(str)
    groups = list(pd.unique(frame["group"]))
    colors = sns.color_palette(n_colors=max(len(groups), 1))
    width = 0.8 / max(len(groups), 1)
    pos = {stage: i for i, stage in enumerate(order)}
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for j, (group, color) in enumerate(zip(groups, colors)):
        sub = frame.loc[frame["group"] == group]
        x = sub["stage"].map(pos).to_numpy(dtype=float) - 0.4 + width * (j + 0.5)
        bars = ax.bar(x, sub["value_std"].to_numpy(dtype=float), width=width * 0.95, color=color, label=group)
        labels = [f"{r:.0%}" if np.isfinite(r) else "" for r in sub["ratio"].to_numpy(dtype=float)]
        ax.bar_label(bars, labels=labels, fontsize=8, padding=2)
    ax.set_xticks(range(len(order)), order)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("")
    ax.set_ylabel("people")
    ax.legend(fontsize=8, title=None)
    if title:
        ax.set_title(title)
    return _caption(fig, caption)


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
    return _caption(fig, caption)
