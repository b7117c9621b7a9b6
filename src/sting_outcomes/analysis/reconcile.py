"""Totals against their parts, within one release.

A release often gives a total and its parts: a national count and state counts, a
worldwide count and country counts, "tonnes of drugs" and tonnes per substance. Parts
may not cover the whole (a release names some states only), so the check is that the
parts never add up to more than the total. A part-sum above the total is a real
disagreement that the total's note must explain (with the words "do not add up").

Values are compared in standard units from :attr:`Dataset.normalized`: mass in kg and
money in USD at the figure's date, so a total in EUR and a part in GBP are compared in
one currency (crypto amounts stay in their coin and are compared only with each other).
"""

from __future__ import annotations

import pandas as pd

from ..data.load import Dataset

#: Words a total's note must contain when its parts exceed it.
EXPLAINED = ("do not add up", "does not add up")
#: Relative slack for rounding in the source, and for approximate totals.
TOLERANCE = {"exact": 0.005, "at_least": 0.005, "approx": 0.10, "at_most": 0.005, "range": 0.005}


def _with_std(ds: Dataset) -> pd.DataFrame:
    """Running totals in standard units (money in USD), as ``std_value`` / ``std_unit``."""
    n = ds.normalized
    f = n.loc[n["scope"] == "total"].copy()
    f["std_unit"] = f["unit_std"].astype("string")
    f["std_value"] = f["value_std"]
    f["category"] = f["category"].fillna("")
    f["note"] = f["note"].fillna("")
    return f


def _parent(code: str) -> str | None:
    if code == "global":
        return None
    return code.split("-")[0] if "-" in code else "global"


def part_sums(ds: Dataset) -> pd.DataFrame:
    """One row per (total, its parts in the same release): geography and substances.

    Columns: ``kind`` (``geography`` or ``substance``), ``total_id``, ``part_ids``,
    ``total`` and ``parts_sum`` in the standard unit, ``qualifier`` of the total,
    ``explained`` (the total's note says why they do not add up) and ``ok``.
    """
    f = _with_std(ds)
    base = ["operation_id", "source_id", "as_of", "metric", "std_unit"]
    out = []
    # geography: a jurisdiction's total against its direct children, same category
    f["parent"] = f["jurisdiction"].map(_parent)
    for _, group in f.groupby([*base, "category"], observed=True, dropna=False):
        by_j = group.set_index("jurisdiction")
        for parent, kids in group.groupby("parent", dropna=True):
            if parent not in by_j.index:
                continue
            total = by_j.loc[[parent]].iloc[0]
            out.append(_row("geography", total, kids))
    # substances: empty-category total against its substance rows, same jurisdiction
    drugs = f[f["metric"].astype(str).isin(ds.metrics.loc[ds.metrics["category_kind"] == "substance", "metric"])]
    for _, group in drugs.groupby([*base, "jurisdiction"], observed=True, dropna=False):
        totals, parts = group[group["category"] == ""], group[group["category"] != ""]
        if len(totals) == 1 and len(parts) >= 1:
            out.append(_row("substance", totals.iloc[0], parts))
    return pd.DataFrame(
        out, columns=["kind", "total_id", "part_ids", "total", "parts_sum", "qualifier", "explained", "ok"]
    )


def _row(kind: str, total: pd.Series, parts: pd.DataFrame) -> dict:
    parts_sum = float(parts["std_value"].sum())
    slack = TOLERANCE.get(str(total["qualifier"]), 0.005)
    explained = any(w in total["note"].lower() for w in EXPLAINED)
    within = parts_sum <= float(total["std_value"]) * (1 + slack)
    return {
        "kind": kind,
        "total_id": total["figure_id"],
        "part_ids": ";".join(sorted(parts["figure_id"])),
        "total": float(total["std_value"]),
        "parts_sum": parts_sum,
        "qualifier": str(total["qualifier"]),
        "explained": explained,
        "ok": bool(within or explained),
    }
