"""The justice funnel: arrests -> persons charged -> convictions -> persons sentenced.

Tallies of different stages are published at different times, and later stages keep
growing for years, so stages must be read at one common date or their ratios mean
nothing. For each (operation, jurisdiction):

* the *reference date* is, by default, the earliest of the stages' latest ``as_of``
  dates (so no stage is read after another stage's last update: when all stages come
  from one release, that release's date), moved later only if needed so that every
  stage reported at all has a snapshot on or before it. In symbols
  ``D = max(min_s last_s, max_s first_s)`` over the stages ``s`` present. Pass
  ``reference_date`` to impose one date on every group;
* each stage takes its latest snapshot on or before that date (primary sources first on
  the same date, then the lowest figure_id);
* ``ratio`` = stage value / value of the previous stage in the funnel (NaN when the
  previous stage is missing), e.g. persons_charged / arrests.

``sentence_years`` (in years) is reported alongside; its ``ratio`` is years per person
sentenced (sentence_years / persons_sentenced). Only figures without a category count.
Qualifiers are carried so that an ``at_least`` stage is visible as a lower bound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_names
from .snapshots import SCOPES, in_scope, known_metrics, pick_latest, require_figures

__all__ = ["STAGES", "funnel"]

STAGES = ("arrests", "persons_charged", "convictions", "persons_sentenced")
EXTRA = "sentence_years"
GROUP = ["operation_id", "jurisdiction"]


def funnel(
    figures: pd.DataFrame,
    *,
    reference_date: str | pd.Timestamp | None = None,
    stages: tuple[str, ...] = STAGES,
    prefer: str | None = "primary",
    scope: str | None = "total",
) -> pd.DataFrame:
    """Stage tallies aligned in time, per operation and jurisdiction.

    Parameters
    ----------
    figures:
        ``Dataset.normalized``.
    reference_date:
        One common date for every group; default: per group, ``max(min_s last_s,
        max_s first_s)`` (see module docstring).
    stages:
        Funnel stages in order; ``sentence_years`` is always added after them when present.
    scope:
        Which figures count (default running totals; see :func:`select.in_scope`).

    Returns a long frame, one row per (operation_id, jurisdiction, stage) that has a
    snapshot on or before the reference date: ``reference_date``, ``stage``,
    ``stage_order``, ``value_std``, ``unit_std``, ``qualifier``, ``as_of``, ``figure_id``,
    ``source_id``, ``source_kind`` and ``ratio``.
    """
    require_figures(figures, ["value_std", "unit_std", "qualifier"])
    stages = tuple(check_names(stages, known_metrics(figures), "stage metric"))
    check_choice(prefer, ("primary", "secondary", None), "prefer")
    check_choice(scope, (*SCOPES, None), "scope")
    frame = in_scope(figures, scope)
    order = {s: i for i, s in enumerate([*stages, EXTRA])}
    frame = frame.assign(stage=frame["metric"].astype("string"))
    frame = frame.loc[frame["stage"].isin(list(order)).fillna(False) & frame["category"].isna()]

    if reference_date is None:
        per_stage = frame.loc[frame["stage"] != EXTRA].groupby([*GROUP, "stage"])["as_of"].agg(["min", "max"])
        by_group = per_stage.groupby(level=GROUP).agg(last=("max", "min"), first=("min", "max"))
        refs = by_group.max(axis=1).rename("reference_date").reset_index()
        extra_only = frame.loc[~frame.set_index(GROUP).index.isin(refs.set_index(GROUP).index), GROUP].drop_duplicates()
        extra_refs = frame.loc[frame["stage"] == EXTRA].groupby(GROUP)["as_of"].max().rename("reference_date")
        refs = pd.concat([refs, extra_only.merge(extra_refs.reset_index(), on=GROUP)], ignore_index=True)
    else:
        refs = frame[GROUP].drop_duplicates().assign(reference_date=pd.Timestamp(reference_date))

    frame = frame.merge(refs, on=GROUP, how="inner")
    frame = frame.loc[frame["as_of"] <= frame["reference_date"]]
    picked = pick_latest(frame, [*GROUP, "stage"], prefer)
    picked = picked.assign(stage_order=picked["stage"].map(order).astype(int))
    picked = picked.sort_values([*GROUP, "stage_order"], ignore_index=True)

    prev_stage = {s: (stages[i - 1] if i > 0 else None) for i, s in enumerate(stages)}
    prev_stage[EXTRA] = "persons_sentenced"
    values = picked.set_index([*GROUP, "stage"])["value_std"]
    prev_key = pd.MultiIndex.from_arrays(
        [picked["operation_id"], picked["jurisdiction"], picked["stage"].map(prev_stage)]
    )
    prev_value = values.reindex(prev_key).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        picked["ratio"] = np.where(prev_value > 0, picked["value_std"].to_numpy() / prev_value, np.nan)
    cols = [
        *GROUP,
        "reference_date",
        "stage",
        "stage_order",
        "value_std",
        "unit_std",
        "qualifier",
        "as_of",
        "figure_id",
        "source_id",
        "source_kind",
        "ratio",
    ]
    return picked[cols]
