"""Plots: each returns a Figure under Agg, with its caption and the promised scales."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sting_outcomes import plots
from sting_outcomes.analysis.growth import fit_series, saturating

CAPTION = "Source: synthetic test figures (data/figures.csv layout)."


@pytest.fixture(autouse=True)
def _close_figures():
    plots.set_theme()
    yield
    plt.close("all")


def caption_texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.texts]


def test_dot_plot_log_scale_markers_and_caption() -> None:
    df = pd.DataFrame(
        {
            "label": ["anom · arrests", "anom · arrests", "encrochat · arrests", "sky · arrests"],
            "value_std": [800.0, 1000.0, 6558.0, 0.0],  # the zero cannot sit on a log axis
            "lower": [800.0, 1000.0, 6558.0, 0.0],
            "upper": [800.0, np.inf, 6558.0, 0.0],
            "source_kind": ["primary", "secondary", "primary", "primary"],
        }
    )
    fig = plots.dot_plot(df, caption=CAPTION, xlabel="people arrested")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert CAPTION in caption_texts(fig)
    assert ax.get_xlabel() == "people arrested"
    fig.savefig(__import__("io").BytesIO(), format="png")


def test_tallies_plot_with_fits() -> None:
    t = np.array([0.0, 1.0, 3.0, 6.0, 12.0, 24.0])
    df = pd.DataFrame(
        {
            "operation_id": "op",
            "jurisdiction": "global",
            "metric": "arrests",
            "category": pd.array([pd.NA] * len(t), dtype="string"),
            "months_since_takedown": t,
            "value_std": saturating(t, 1000.0, 0.2) + np.array([800.0, 0, 10, -10, 5, -5]),
            "source_kind": ["primary", "primary", "secondary", "primary", "primary", "secondary"],
        }
    )
    fits = fit_series(df)
    fig = plots.tallies_plot(df, fits, caption=CAPTION)
    ax = fig.axes[0]
    assert len(ax.lines) >= 2  # fitted curve + the action-day line
    assert len(ax.collections) >= 2  # points + confidence band
    assert CAPTION in caption_texts(fig)
    assert isinstance(plots.tallies_plot(df), Figure)


def test_without_caption() -> None:
    df = pd.DataFrame({"label": ["a"], "value_std": [5.0], "source_kind": ["primary"]})
    fig = plots.dot_plot(df)
    assert caption_texts(fig) == []


@pytest.mark.parametrize("width", [4.0, 9.0, 12.0])
def test_a_caption_is_wrapped_inside_the_figure_and_below_the_axis_labels(width: float) -> None:
    words = "Source: 1,648 figures on 33 operations from 587 sources (WWWW mmmm); the latest figure at the horizon. "
    text = words * 6 + "\nSecond paragraph."
    fig, ax = plt.subplots(figsize=(width, 3))
    ax.set_xlabel("months after the action day")
    try:
        plots.finish_figure(fig, text)
        caption = fig.texts[-1]
        fig.canvas.draw()
        box = caption.get_window_extent()
        assert box.x1 <= fig.bbox.x1, f"the caption runs {box.x1 - fig.bbox.x1:.0f} px past the edge"
        assert box.y1 < ax.xaxis.label.get_window_extent().y0, "the caption runs into the axis label"
        assert fig.get_figheight() > 3  # the figure grew to make room
        lines = caption.get_text().split("\n")
        assert lines[-1] == "Second paragraph." and len(lines) >= 3
        assert box.width > 0.8 * fig.bbox.width  # and lines are not needlessly short
        assert " ".join(lines[:-1]).split() == (words * 6).split()  # no word lost or split
    finally:
        plt.close(fig)
