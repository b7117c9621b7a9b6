"""funnel(): stage ratios only inside one cohort (a release, or a window), with intervals;
funnel_plot(): points on a linear axis, one colour and marker per cohort.

Expected values are worked out by hand in the comments. Clopper-Pearson ends for k of n
at 95 %: lower = Beta(0.025; k, n - k + 1), upper = Beta(0.975; k + 1, n - k); e.g. 30 of
40 gives [0.5880, 0.8731].
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from shapes import METRICS, shaped
from sting_outcomes import plots
from sting_outcomes.analysis.funnel import (
    INTERVAL_BOUNDS,
    INTERVAL_NOT_PROPORTION,
    NO_PAIR,
    funnel,
    funnel_exclusions,
    funnel_table,
    ratio_summary,
)

SOURCES = pd.DataFrame(
    {
        "source_id": pd.array(["afp-2021", "hansard-2021", "afp-2024", "afp-2025", "nca-2022", "paper", "nz"]),
        "source_kind": pd.Categorical(["primary"] * 5 + ["secondary", "primary"]),
    }
)


def figures(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (figure_id, jurisdiction, metric, value, unit, qualifier, as_of, source_id, doubtful)."""
    cols = ["figure_id", "jurisdiction", "metric", "value", "unit", "qualifier", "as_of", "source_id", "doubtful"]
    frame = pd.DataFrame(rows, columns=cols)
    frame.insert(1, "operation_id", "op")
    frame["category"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["value_high"] = np.nan
    frame["scope"] = "total"
    frame["note"] = pd.array([pd.NA] * len(frame), dtype="string")
    frame["qualifier"] = pd.Categorical(frame["qualifier"])
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[s]")
    frame["as_of_precision"] = "day"
    frame["metric"] = pd.Categorical(frame["metric"], categories=list(METRICS["metric"]))
    frame["unit"] = frame["unit"].astype("category")
    return shaped(frame, SOURCES)


FIGS = figures(
    [
        # AU: arrests in 2021, charges in 2021 (a week later, another source) and 2024.
        ("au-01", "AU", "arrests", 224, "count", "exact", "2021-06-08", "afp-2021", False),
        ("au-02", "AU", "persons_charged", 268, "count", "exact", "2021-06-15", "hansard-2021", False),
        ("au-03", "AU", "persons_charged", 392, "count", "exact", "2024-06-01", "afp-2024", False),
        ("au-04", "AU", "persons_sentenced", 63, "count", "exact", "2024-06-01", "afp-2024", False),
        ("au-05", "AU", "sentence_years", 3684, "months", "exact", "2024-06-01", "afp-2024", False),  # 307 years
        # a later release whose arrest count falls below the 224 of 2021: left out
        ("au-06", "AU", "arrests", 200, "count", "exact", "2025-01-01", "afp-2025", False),
        ("au-07", "AU", "persons_charged", 400, "count", "exact", "2025-01-01", "afp-2025", False),
        # GB: one release with three stages and sentence years; a doubtful conviction count in it
        ("gb-01", "GB", "arrests", 2864, "count", "exact", "2022-06-08", "nca-2022", False),
        ("gb-02", "GB", "persons_charged", 1571, "count", "exact", "2022-06-08", "nca-2022", False),
        ("gb-00", "GB", "convictions", 999, "count", "exact", "2022-06-08", "nca-2022", True),
        ("gb-03", "GB", "convictions", 383, "count", "exact", "2022-06-08", "nca-2022", False),
        ("gb-04", "GB", "sentence_years", 1000, "years", "exact", "2022-06-08", "nca-2022", False),
        ("gb-05", "GB", "persons_charged", 1600, "count", "exact", "2022-06-08", "paper", False),  # alone
        # NZ: two stages, never in one release
        ("nz-01", "NZ", "arrests", 35, "count", "exact", "2021-06-08", "nz", False),
        ("nz-02", "NZ", "convictions", 10, "count", "exact", "2023-01-01", "nz", False),
    ]
)


def cohort(out: pd.DataFrame, label: str) -> pd.DataFrame:
    return out.loc[out["cohort"].eq(label)].set_index("stage")


def test_default_pairs_only_within_one_release() -> None:
    out = funnel(FIGS)
    cohorts = out.dropna(subset=["cohort"])
    assert sorted(cohorts["cohort"].unique()) == ["op · AU · 2024-06-01", "op · GB · 2022-06-08"]
    # every cohort is one source and one date
    assert cohorts.groupby("cohort")["source_id"].nunique().eq(1).all()
    assert cohorts.groupby("cohort")["as_of"].nunique().eq(1).all()
    # the 2021 arrests (224) never meet the 2024 charges (392): no 392 / 224 = 1.75
    au = out.loc[out["jurisdiction"].eq("AU")]
    assert not au["ratio_of"].eq("persons_charged ÷ arrests").any()
    assert not np.isclose(au["ratio"], 392 / 224).any()

    au = cohort(out, "op · AU · 2024-06-01")
    assert list(au.index) == ["persons_charged", "persons_sentenced", "sentence_years"]
    assert np.isnan(au.loc["persons_charged", "ratio"])
    # convictions are missing: sentenced is taken of charged, 63 / 392
    assert au.loc["persons_sentenced", "ratio"] == pytest.approx(63 / 392)
    assert au.loc["persons_sentenced", "ratio_of"] == "persons_sentenced ÷ persons_charged"
    assert au.loc["persons_sentenced", "interval_kind"].startswith("Clopper-Pearson 95%")
    assert au.loc["persons_sentenced", ["ratio_lower", "ratio_upper"]].tolist() == pytest.approx(
        [0.12576, 0.20089], abs=1e-5
    )
    # 3,684 months = 307 years over 63 people sentenced in the same release
    assert au.loc["sentence_years", "ratio"] == pytest.approx(307 / 63)
    assert au.loc["sentence_years", "ratio_of"] == "sentence_years ÷ persons_sentenced"

    gb = cohort(out, "op · GB · 2022-06-08")
    assert gb.loc["persons_charged", "ratio"] == pytest.approx(1571 / 2864)
    assert gb.loc["persons_charged", "ratio_of"] == "persons_charged ÷ arrests"
    assert gb.loc["persons_charged", "interval_kind"] == INTERVAL_BOUNDS
    assert gb.loc["persons_charged", ["ratio_lower", "ratio_upper"]].tolist() == pytest.approx([1571 / 2864] * 2)
    assert gb.loc["convictions", "ratio"] == pytest.approx(383 / 1571)
    assert gb.loc["convictions", ["ratio_lower", "ratio_upper"]].tolist() == pytest.approx([0.22274, 0.26581], abs=1e-5)
    # sentence years without persons sentenced in the release: no years per person
    assert np.isnan(gb.loc["sentence_years", "ratio"])
    assert gb.loc["sentence_years", "reason"] == "no persons_sentenced in this cohort"


def test_doubtful_and_falling_figures_are_left_out_and_listed() -> None:
    out = funnel(FIGS)
    assert "gb-00" not in set(out["figure_id"])  # doubtful 999 convictions
    assert cohort(out, "op · GB · 2022-06-08").loc["convictions", "figure_id"] == "gb-03"
    # the 2025 release loses its arrests (200 < 224 reported earlier): one stage, no cohort
    assert not out["cohort"].fillna("").str.contains("2025").any()
    excluded = funnel_exclusions(FIGS).set_index("figure_id")
    assert sorted(excluded.index) == ["au-06", "gb-00"]
    assert excluded.loc["gb-00", "reason"].startswith("doubtful")
    assert excluded.loc["au-06", "reason"] == "falls: below 224 reported earlier (au-01)"


def test_no_two_stages_in_one_release_gets_a_reason() -> None:
    out = funnel(FIGS)
    nz = out.loc[out["jurisdiction"].eq("NZ")].set_index("stage")
    assert list(nz.index) == ["arrests", "convictions"]
    assert nz["reason"].eq(NO_PAIR).all() and nz["ratio"].isna().all() and nz["cohort"].isna().all()
    assert nz["value_std"].tolist() == [35.0, 10.0]
    # GB and AU have a release with two stages: no reason rows for them
    assert out.loc[out["jurisdiction"].isin(["AU", "GB"]), "reason"].ne(NO_PAIR).all()


def test_window_pairs_figures_at_most_that_many_days_apart() -> None:
    # arrests 2021-06-08 and charges 2021-06-15 are 7 days apart
    assert not funnel(FIGS, window_days=6)["cohort"].fillna("").str.contains("2021-06-15").any()
    out = funnel(FIGS, window_days=7)
    au = cohort(out, "op · AU · 2021-06-08 to 2021-06-15")
    assert au["figure_id"].tolist() == ["au-01", "au-02"]
    assert au.loc["persons_charged", "ratio"] == pytest.approx(268 / 224)  # 1.196: can exceed 1
    assert au.loc["persons_charged", "interval_kind"] == INTERVAL_BOUNDS
    # the 2024 release is still its own cohort, never mixed with 2021
    assert cohort(out, "op · AU · 2024-06-01")["as_of"].nunique() == 1
    # NZ stages are 572 days apart
    assert (
        funnel(FIGS, window_days=571)
        .loc[lambda d: d["jurisdiction"].eq("NZ"), "reason"]
        .eq("no two stages within 571 days")
        .all()
    )
    nz = cohort(funnel(FIGS, window_days=572), "op · NZ · 2021-06-08 to 2023-01-01")
    assert nz.loc["convictions", "ratio"] == pytest.approx(10 / 35)
    assert nz.loc["convictions", "ratio_of"] == "convictions ÷ arrests"
    assert nz.loc["convictions", "interval_kind"] == INTERVAL_BOUNDS  # not a proportion: no sampling interval


def pair(charged: tuple[float, str], convicted: tuple[float, str]) -> pd.Series:
    rows = [
        ("x-1", "AU", "persons_charged", charged[0], "count", charged[1], "2022-01-01", "afp-2021", False),
        ("x-2", "AU", "convictions", convicted[0], "count", convicted[1], "2022-01-01", "afp-2021", False),
    ]
    return funnel(figures(rows)).set_index("stage").loc["convictions"]


def test_clopper_pearson_30_of_40() -> None:
    row = pair((40, "exact"), (30, "exact"))
    assert row["ratio"] == 0.75
    assert [row["ratio_lower"], row["ratio_upper"]] == pytest.approx([0.58804, 0.87309], abs=1e-5)
    assert row["interval_kind"] == "Clopper-Pearson 95%, widened by qualifier bounds"
    figs = figures(
        [
            ("x-1", "AU", "persons_charged", 40, "count", "exact", "2022-01-01", "afp-2021", False),
            ("x-2", "AU", "convictions", 30, "count", "exact", "2022-01-01", "afp-2021", False),
        ]
    )
    at_90 = funnel(figs, level=0.90).set_index("stage").loc["convictions"]
    assert [at_90["ratio_lower"], at_90["ratio_upper"]] == pytest.approx([0.61294, 0.85763], abs=1e-5)


def test_qualifier_bounds_widen_the_interval() -> None:
    # at least 30 convicted of 40: lowest is CP lower at (30, 40); highest open -> capped at 1
    row = pair((40, "exact"), (30, "at_least"))
    assert [row["ratio_lower"], row["ratio_upper"]] == pytest.approx([0.58804, 1.0], abs=1e-5)
    # 30 of at least 40 charged: the base may be any size, so the lowest share is 0
    row = pair((40, "at_least"), (30, "exact"))
    assert [row["ratio_lower"], row["ratio_upper"]] == pytest.approx([0.0, 0.87309], abs=1e-5)
    # 30 of about 40 (36..44): CP lower at (30, 44), CP upper at (30, 36)
    row = pair((40, "approx"), (30, "exact"))
    assert [row["ratio_lower"], row["ratio_upper"]] == pytest.approx([0.52422, 0.93628], abs=1e-5)
    # more convicted than charged in one release: not a proportion, qualifier bounds only
    row = pair((40, "exact"), (50, "exact"))
    assert row["ratio"] == 1.25 and row["interval_kind"] == INTERVAL_NOT_PROPORTION
    assert [row["ratio_lower"], row["ratio_upper"]] == [1.25, 1.25]


def test_bad_arguments_raise() -> None:
    with pytest.raises(TypeError, match="window_days"):
        funnel(FIGS, window_days=1.5)
    with pytest.raises(ValueError, match="window_days"):
        funnel(FIGS, window_days=-1)
    with pytest.raises(ValueError, match="level"):
        funnel(FIGS, level=1.0)
    with pytest.raises(ValueError, match="did you mean 'convictions'"):
        funnel(FIGS, stages=("arrests", "convictons"))


def test_summary_and_table_for_people() -> None:
    out = funnel(FIGS, window_days=7)
    summary = ratio_summary(out).set_index("ratio_of")
    assert list(summary.index) == [
        "persons_charged ÷ arrests",
        "convictions ÷ persons_charged",
        "persons_sentenced ÷ persons_charged",
        "sentence_years ÷ persons_sentenced",
    ]
    assert summary.loc["sentence_years ÷ persons_sentenced", "cohorts"] == 1  # GB has no persons sentenced
    charged = summary.loc["persons_charged ÷ arrests"]
    assert charged["cohorts"] == 2 and charged["operations"] == 1
    assert charged["lowest"] == pytest.approx(1571 / 2864) and charged["lowest_cohort"] == "op · GB · 2022-06-08"
    assert charged["highest"] == pytest.approx(268 / 224)
    assert charged["highest_cohort"] == "op · AU · 2021-06-08 to 2021-06-15"
    table = funnel_table(out.loc[out["cohort"].eq("op · GB · 2022-06-08")]).set_index("stage")
    assert table.loc["arrests", "value"] == "2,864" and table.loc["arrests", "unit"] == "people"
    assert table.loc["convictions", "ratio"] == "24% of charged"
    assert table.loc["convictions", "base"] == "convictions ÷ persons charged"
    assert table.loc["convictions", "interval"] == "22% to 27%"
    assert table.loc["persons charged", "interval"] == "none: exact counts"
    assert table.loc["sentence years", "unit"] == "years"
    years = funnel_table(out.loc[out["cohort"].eq("op · AU · 2024-06-01")]).set_index("stage")
    assert years.loc["sentence years", "ratio"] == "4.9 years per person sentenced"  # 307 / 63


@pytest.fixture
def _figures_closed():
    plots.set_theme()
    yield
    plt.close("all")


@pytest.mark.usefixtures("_figures_closed")
def test_funnel_plot_points_on_a_linear_axis_with_based_ratios() -> None:
    out = funnel(FIGS, window_days=7)
    fig = plots.funnel_plot(out, caption="Source: test figures.")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title() for ax in axes]
    assert titles == ["op · AU · 2021-06-08 to 2021-06-15", "op · AU · 2024-06-01", "op · GB · 2022-06-08"]
    for ax in axes:
        assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0
        assert not [p for p in ax.patches if isinstance(p, Rectangle)]  # no bars
    texts = [t.get_text() for ax in axes for t in ax.texts]
    assert any(t.startswith("55% of arrested") for t in texts)  # 1571 / 2864
    assert any(t.startswith("24% of charged\n95% CI 22%–27%") for t in texts)  # 383 / 1571
    assert any(t.startswith("16% of charged") for t in texts)  # 63 / 392
    # the window cohort's stages carry different dates: each point is dated
    assert any("2021-06-15" in t for t in texts) and any(t == "2021-06-08" for t in texts)
    # one distinct (colour, marker) per cohort, in a legend outside the panels
    legend = fig.legends[0]
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:3] == titles
    styles = {(tuple(h.get_color()), h.get_marker()) for h in legend.legend_handles[:3]}
    assert len(styles) == 3 and len({c for c, _ in styles}) == 3 and len({m for _, m in styles}) == 3
    fig.canvas.draw()
    right_of_panels = max(ax.get_position().x1 for ax in axes)
    assert legend.get_window_extent().transformed(fig.transFigure.inverted()).x0 >= right_of_panels
    assert "Source: test figures." in [t.get_text() for t in fig.texts]


@pytest.mark.usefixtures("_figures_closed")
def test_funnel_plot_marks_at_least_values_and_refuses_nothing() -> None:
    rows = [
        ("y-1", "GB", "persons_charged", 1867, "count", "exact", "2023-10-09", "nca-2022", False),
        ("y-2", "GB", "persons_sentenced", 1200, "count", "at_least", "2023-10-09", "nca-2022", False),
    ]
    fig = plots.funnel_plot(funnel(figures(rows)))
    ax = fig.axes[0]
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 1  # the open upper end of "at least 1,200"
    open_markers = [line for line in ax.lines if line.get_markerfacecolor() in ("white", (1.0, 1.0, 1.0, 1.0))]
    assert open_markers and list(open_markers[0].get_ydata()) == [1200.0]
    assert any(t.get_text().startswith("64% of charged\n95% CI 62%–100%") for t in ax.texts)
    with pytest.raises(ValueError, match="no cohort"):
        plots.funnel_plot(funnel(FIGS).loc[lambda d: d["jurisdiction"].eq("NZ")])


def test_real_data_ratios_come_from_one_release() -> None:
    """The notebook's statements rest on this: every default cohort is one release, and
    ANOM Australia's 2021 arrests are not set against later charges."""
    import sting_outcomes as so

    out = funnel(so.load().normalized)
    cohorts = out.dropna(subset=["cohort"])
    assert len(cohorts) and cohorts.groupby("cohort")["source_id"].nunique().eq(1).all()
    assert cohorts.groupby("cohort")["as_of"].nunique().eq(1).all()
    anom_au = out.loc[out["operation_id"].eq("anom") & out["jurisdiction"].eq("AU")]
    assert not anom_au["ratio_of"].eq("persons_charged ÷ arrests").any()
    props = out.loc[out["interval_kind"].fillna("").str.startswith("Clopper")]
    assert (props["ratio_lower"] <= props["ratio"]).all() and (props["ratio"] <= props["ratio_upper"]).all()
    assert props["ratio_upper"].le(1).all() and props["ratio_lower"].ge(0).all()
