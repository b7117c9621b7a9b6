"""funnel(): stages aligned at a common reference date, ratios to the previous stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shapes import shaped
from sting_outcomes.analysis.funnel import funnel

SOURCES = pd.DataFrame(
    {
        "source_id": pd.array(["agency", "paper"], dtype="string"),
        "source_kind": pd.Categorical(["primary", "secondary"]),
    }
)


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (jurisdiction, metric, value, unit, as_of, source_id)."""
    frame = pd.DataFrame(rows, columns=["jurisdiction", "metric", "value", "unit", "as_of", "source_id"])
    frame.insert(0, "operation_id", "op")
    frame.insert(0, "figure_id", [f"f{i:02d}" for i in range(len(frame))])
    frame["category"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["value_high"] = np.nan
    frame["qualifier"] = pd.Categorical(["exact"] * len(frame))
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[s]")
    frame["as_of_precision"] = "day"
    frame["metric"] = frame["metric"].astype("category")
    frame["unit"] = frame["unit"].astype("category")
    return frame


FIGS = shaped(
    figures(
        [
            ("AU", "arrests", 224, "count", "2021-06-08", "agency"),
            ("AU", "arrests", 300, "count", "2022-06-08", "agency"),
            ("AU", "persons_charged", 250, "count", "2022-06-08", "agency"),
            ("AU", "persons_charged", 260, "count", "2022-06-08", "paper"),  # same day, loses to primary
            ("AU", "convictions", 100, "count", "2022-06-08", "agency"),
            ("AU", "arrests", 400, "count", "2023-06-08", "agency"),  # later than other stages: not used
            ("AU", "persons_sentenced", 80, "count", "2022-06-08", "agency"),
            ("AU", "sentence_years", 960, "months", "2022-06-08", "agency"),  # 80 years
            ("NZ", "arrests", 35, "count", "2021-06-08", "agency"),
            ("NZ", "convictions", 10, "count", "2023-01-01", "agency"),
        ]
    ),
    SOURCES,
)


def test_default_reference_aligns_stages() -> None:
    out = funnel(FIGS)
    au = out.loc[out["jurisdiction"].eq("AU")].set_index("stage")
    assert (au["reference_date"] == pd.Timestamp("2022-06-08")).all()
    assert au["value_std"].to_dict() == {
        "arrests": 300.0,
        "persons_charged": 250.0,
        "convictions": 100.0,
        "persons_sentenced": 80.0,
        "sentence_years": 80.0,
    }
    assert np.isnan(au.loc["arrests", "ratio"])
    assert au.loc["persons_charged", "ratio"] == pytest.approx(250 / 300)
    assert au.loc["convictions", "ratio"] == pytest.approx(100 / 250)
    assert au.loc["persons_sentenced", "ratio"] == pytest.approx(80 / 100)
    assert au.loc["sentence_years", "ratio"] == pytest.approx(1.0)  # years per person sentenced
    assert au.loc["persons_charged", "source_id"] == "agency"
    assert au["stage_order"].is_monotonic_increasing


def test_missing_previous_stage_gives_nan_ratio_and_all_stages_present() -> None:
    out = funnel(FIGS)
    nz = out.loc[out["jurisdiction"].eq("NZ")].set_index("stage")
    # arrests last reported 2021-06-08, convictions first on 2023-01-01: the reference
    # moves to 2023-01-01 so both stages appear.
    assert (nz["reference_date"] == pd.Timestamp("2023-01-01")).all()
    assert list(nz.index) == ["arrests", "convictions"]
    assert np.isnan(nz.loc["convictions", "ratio"])  # persons_charged missing


def test_explicit_reference_date() -> None:
    out = funnel(FIGS, reference_date="2021-12-31")
    au = out.loc[out["jurisdiction"].eq("AU")].set_index("stage")
    assert list(au.index) == ["arrests"] and au.loc["arrests", "value_std"] == 224.0
    later = funnel(FIGS, reference_date="2024-01-01").set_index(["jurisdiction", "stage"])
    assert later.loc[("AU", "arrests"), "value_std"] == 400.0
    assert later.loc[("AU", "persons_charged"), "ratio"] == pytest.approx(250 / 400)
