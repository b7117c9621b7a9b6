"""Findings are computed sentences whose claims are re-checked: on the real data they hold,
and when the data change so that a sentence is no longer true, its check fails."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import sting_outcomes as so
from shapes import METRICS, figure_rows
from sting_outcomes.paths import PROJECT_ROOT

OPERATIONS = pd.DataFrame(
    {
        "operation_id": ["op"],
        "name": ["Operation Test"],
        "countries": ["GB"],
        "takedown_date": pd.to_datetime(["2020-01-01"]),
    }
)
SOURCES = pd.DataFrame({"source_id": ["src"], "source_kind": ["primary"], "publisher": ["Agency"]})


def dataset(rows: list[tuple]) -> SimpleNamespace:
    """A dataset-like object from rows (figure_id, jurisdiction, metric, value, as_of, source_id)."""
    return SimpleNamespace(
        normalized=figure_rows(
            rows,
            ["figure_id", "jurisdiction", "metric", "value", "as_of", "source_id"],
            metric_categories=METRICS["metric"].tolist(),
        ),
        operations=OPERATIONS,
        metrics=METRICS,
        sources=SOURCES,
        population=pd.DataFrame(columns=["country", "year", "population", "source_id", "locator", "note"]),
    )


def rising(n_down: int = 0) -> list[tuple]:
    """Twelve arrest series revised once each: upward, except the last ``n_down``."""
    rows = []
    for i in range(12):
        place = f"GB-X{i:02d}" if i else "GB"
        later = 5 if i >= 12 - n_down else 20
        rows += [
            (f"a{i}-1", place, "arrests", 10, "2020-01-01", "src"),
            (f"a{i}-2", place, "arrests", later, "2020-06-01", "src"),
        ]
    return rows


COHORT = [
    ("c1", "GB", "persons_charged", 100, "2022-06-08", "src"),
    ("v1", "GB", "convictions", 20, "2022-06-08", "src"),
]


def by_key(ds) -> dict[str, so.Finding]:
    return {f.key: f for f in so.findings(ds)}


def test_real_findings_hold_and_point_to_sections() -> None:
    found = so.findings(so.load())
    assert len(found) >= 6
    for f in found:
        assert f.holds, f.text
        assert re.search(r"\d", f.text), f.text
        page, anchor = f.notebook.split("#")
        nb = json.loads((PROJECT_ROOT / "notebooks" / page.replace(".html", ".ipynb")).read_text(encoding="utf-8"))
        headings = {
            line.lstrip("#").strip().replace(" ", "-")
            for cell in nb["cells"]
            if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines()
            if line.startswith("#")
        }
        assert anchor in headings, (f.notebook, sorted(headings))


def test_revision_claim_fails_when_revisions_turn_down() -> None:
    before = by_key(dataset(rising() + COHORT))["revisions"]
    assert before.holds and "Most revisions raise the tally" in before.text
    assert before.values["up"] == 12 and before.values["down"] == 0
    after_ds = dataset(rising(n_down=8) + COHORT)
    after = by_key(after_ds)["revisions"]
    # the same words ("most revisions raise the tally") are no longer true: 4 up, 8 down
    assert after.values["up"] == 4 and after.values["down"] == 8
    assert not after.holds
    assert not so.verify_finding(before, after_ds)
    assert so.verify_finding(before, dataset(rising() + COHORT))


def test_cohort_claim_fails_when_more_than_a_third_are_convicted() -> None:
    before = by_key(dataset(rising() + COHORT))["cohort"]
    assert before.holds and "20 of 100" in before.text and "Fewer than a third" in before.text
    changed = [(*r[:3], 45, *r[4:]) if r[0] == "v1" else r for r in COHORT]
    after_ds = dataset(rising() + changed)
    after = by_key(after_ds)["cohort"]
    assert "45 of 100" in after.text and not after.holds
    assert not so.verify_finding(before, after_ds)


def test_a_headline_without_data_says_so_and_does_not_hold() -> None:
    found = by_key(dataset(rising()))
    assert not found["cohort"].holds and "no figure" in found["cohort"].text
    assert not found["per_head"].holds  # no ANOM, no population here


def test_by_sources_marks_press_only_results() -> None:
    ds = dataset(rising() + COHORT)
    ds.sources = pd.DataFrame({"source_id": ["src", "press"], "source_kind": ["primary", "secondary"]})
    frame = ds.normalized
    press = frame["figure_id"].isin(["c1", "v1"])
    frame.loc[press, "source_id"] = "press"
    frame["source_kind"] = pd.Categorical(np.where(press, "secondary", "primary"), categories=["primary", "secondary"])
    table = so.by_sources(ds).set_index("key")
    assert table.loc["cohort", "holds_all"] and not table.loc["cohort", "holds_primary"]
    assert table.loc["cohort", "press_only"] and not table.loc["revisions", "press_only"]
    sources_finding = by_key(ds)["sources"]
    assert "convicted ÷ charged from one release" in sources_finding.text
    mine = so.by_sources(ds, notebook="08_")
    assert set(mine["notebook"].str[:3]) == {"08_"} and len(mine) == table["notebook"].str.startswith("08_").sum()
    pd.testing.assert_frame_equal(
        mine.reset_index(drop=True),
        table.reset_index().loc[lambda t: t["notebook"].str.startswith("08_")].reset_index(drop=True),
    )


@pytest.mark.parametrize("key", ["revisions", "cohort"])
def test_findings_are_frozen_records(key: str) -> None:
    f = by_key(dataset(rising() + COHORT))[key]
    with pytest.raises(AttributeError):
        f.holds = False  # type: ignore[misc]
