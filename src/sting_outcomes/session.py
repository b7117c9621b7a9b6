"""The first cell of every notebook, as one call."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .data.load import Dataset, load


def start(data_dir: str | Path | None = None, *, max_rows: int = 80, width: int = 160) -> Dataset:
    """Set pandas' display options and the plot theme, load the dataset and say which.

    ``data_dir`` defaults as in :func:`sting_outcomes.load` (the build points it at the
    data it renders). Prints one line naming the dataset version and its size, and
    returns the :class:`~sting_outcomes.data.load.Dataset`; ``ds.normalized`` is the
    frame the analysis helpers take.
    """
    from . import plots

    pd.set_option("display.max_rows", max_rows)
    pd.set_option("display.width", width)
    plots.set_theme()
    ds = load(data_dir)
    print(
        f"dataset {ds.version}: {len(ds.figures):,} figures on {len(ds.operations)} operations "
        f"from {len(ds.sources):,} sources"
    )
    return ds
