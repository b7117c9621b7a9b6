"""``conflicts.html``: every pair of sources that ``so.conflicts()`` finds disagreeing."""

from __future__ import annotations

import pandas as pd

from ..tables import caption, table
from .operation_pages import conflict_cards, esc


def conflicts_body(
    pairs: pd.DataFrame, normalized: pd.DataFrame, sources: pd.DataFrame, operations: pd.DataFrame
) -> str:
    """Body of ``conflicts.html``: a summary per operation, then one card per pair."""
    names = dict(zip(operations["operation_id"].astype(str), operations["name"].astype(str)))
    intro = (
        "<h1>Where sources disagree</h1>\n<p>Two figures disagree when they come from different documents, are "
        "about the same operation, place, metric and category, are dated at most 31 days apart, and the ranges "
        "their qualifiers allow (exact, at least, at most, about ±10 %, a range) are more than 2 % apart, "
        "measured against the larger value (how far \u201capart\u201d each pair is), after conversion to "
        "standard units (money in USD at the ECB rate "
        "of each figure's date). Only running totals are compared; a part never conflicts with a total. Each "
        "pair shows both figures as the sources give them, their documents and the curators' notes, which say "
        "which figure the analyses prefer and why.</p>"
    )
    if pairs.empty:
        return intro + "\n<p>No two documents disagree.</p>"
    ordered = pairs.assign(_name=pairs["operation_id"].astype(str).map(names)).sort_values(
        ["_name", "rel_diff", "figure_id_a", "figure_id_b"], ascending=[True, False, True, True], kind="stable"
    )
    summary = (
        ordered.groupby("operation_id", sort=False)
        .agg(
            pairs=("rel_diff", "size"),
            largest=("rel_diff", "max"),
            metrics=("metric", lambda m: ", ".join(sorted({str(x).replace("_", " ") for x in m}))),
        )
        .reset_index()
    )
    frame = pd.DataFrame(
        {
            "Operation": summary["operation_id"].astype(str).map(names),
            "url": [f"#op-{o}" for o in summary["operation_id"].astype(str)],
            "Pairs": summary["pairs"].astype(int),
            "rel_diff": summary["largest"].astype(float),
            "Metrics": summary["metrics"],
        }
    )
    used = normalized[normalized["figure_id"].isin(set(pairs["figure_id_a"]) | set(pairs["figure_id_b"]))]
    parts = [
        intro,
        f"<p>{len(pairs)} pairs over {pairs['operation_id'].nunique()} operations.</p>",
        table(
            frame,
            caption(used, operations),
            links={"Operation": "url"},
            labels={"rel_diff": "Largest relative difference"},
        ).to_html(),
    ]
    for oid, group in ordered.groupby("operation_id", sort=False):
        oid = str(oid)
        parts.append(
            f'<h2 id="op-{esc(oid)}">{esc(names.get(oid, oid))} <span class="muted">({len(group)} '
            f"pair{'s' if len(group) != 1 else ''}, largest first)</span></h2>"
        )
        parts.append(conflict_cards(group, normalized, sources, names, ""))
    return "\n".join(parts)
