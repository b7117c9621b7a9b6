"""The operation pages' SVG timeline, checked against coordinates worked out by hand."""

from __future__ import annotations

import math
import re
from xml.etree import ElementTree

import pandas as pd
import pytest

from sting_outcomes.site.charts import compact, date_ticks, timeline_svg, value_ticks

SVG = "{http://www.w3.org/2000/svg}"


def point(when: str, value: float, *, place="GB", metric="arrests", kind="primary", qualifier="exact", **kw) -> dict:
    upper = kw.pop("upper", math.inf if qualifier == "at_least" else value)
    return {
        "metric": metric,
        "unit_std": "count",
        "jurisdiction": place,
        "category": kw.pop("category", None),
        "source_kind": kind,
        "qualifier": qualifier,
        "as_of": pd.Timestamp(when),
        "value_std": float(value),
        "lower": float(kw.pop("lower", value)),
        "upper": float(upper),
    }


def draw(rows: list[dict], **kw) -> ElementTree.Element:
    return ElementTree.fromstring(timeline_svg(pd.DataFrame(rows), takedown=kw.pop("takedown", None), **kw))


def test_a_panel_puts_points_where_the_axes_say() -> None:
    # One panel, 800 px wide (62 px left margin, 715 px of plot); legend: one row of places
    # and two of marks, so the plot starts at 14 + 3 * 24 + 32 = 118 px and is 165 px high.
    # y runs from 0 to 1.25 x the largest value (200), so 100 -> 217 px and 200 -> 151 px.
    # x: the 181 days between the points are padded by 45 days each side (271 days), so
    # 2021-01-01 -> 62 + 45/271 * 715 = 180.7 px and 2021-07-01 -> 658.3 px.
    svg = draw([point("2021-01-01", 100), point("2021-07-01", 200, kind="secondary", qualifier="at_least")])
    assert float(svg.get("width")) == 800
    (line,) = svg.findall(f"{SVG}polyline")
    assert line.get("points") == "180.7,217 658.3,151"
    # the primary figure is a dot, the press figure a cross
    assert [(c.get("cx"), c.get("cy")) for c in svg.findall(f"{SVG}circle")][-1] == ("180.7", "217")
    crosses = [p for p in svg.findall(f"{SVG}path") if p.get("fill") == "none"]
    assert crosses[-1].get("d") == "M654.7 147.4L661.9 154.6M654.7 154.6L661.9 147.4"  # centred on (658.3, 151)
    # "at least" points up: a triangle at 200 + 10 % of the axis (225 -> 134.5 px)
    triangles = [p.get("d") for p in svg.findall(f"{SVG}path") if p.get("d", "").endswith("Z")]
    assert any(d.startswith("M658.3 131.4") for d in triangles), triangles
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "arrests (count)" in texts
    # one line with few points: each value is written at its point, besides the ticks 0, 100, 200
    assert texts.count("100") == 2 and texts.count("200") == 2 and texts.count("0") == 1


def test_a_range_is_a_bar_and_a_single_figure_goes_to_the_strip() -> None:
    svg = draw(
        [
            point("2021-01-01", 300, qualifier="range", lower=300, upper=400),
            point("2021-03-01", 350),
            point("2021-02-01", 5, metric="convictions", qualifier="at_least"),
        ]
    )
    # the bar spans 300..400 on an axis to 500: 118 + 165 * (1 - 0.6) = 184, and 151 px
    bars = [(ln.get("y1"), ln.get("y2")) for ln in svg.findall(f"{SVG}line") if ln.get("stroke-width") == "1.7"]
    assert ("184", "151") in bars
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "convictions (count)" in texts and "GB ≥5" in texts
    assert "metrics reported once (the value is written beside the dot)" in texts


def test_names_are_escaped_and_output_is_deterministic() -> None:
    rows = [point("2021-01-01", 1, place='<b>"&'), point("2022-01-01", 2, place='<b>"&')]
    text = timeline_svg(
        pd.DataFrame(rows), takedown=pd.Timestamp("2021-06-01"), covert_start=pd.Timestamp("2020-01-01")
    )
    assert text == timeline_svg(
        pd.DataFrame(rows), takedown=pd.Timestamp("2021-06-01"), covert_start=pd.Timestamp("2020-01-01")
    )
    svg = ElementTree.fromstring(text)
    assert '<b>"&' in [t.text for t in svg.iter(f"{SVG}text")]
    assert "<b>" not in text
    # the covert band starts at the left edge (62 px), not before it, and ends on the action day
    (band,) = [r for r in svg.findall(f"{SVG}rect") if r.get("fill") == "#ebebeb"]
    assert band.get("x") == "62"
    assert re.search(r'stroke-dasharray="5 3"', text)


def test_no_points_is_an_error() -> None:
    with pytest.raises(ValueError, match="no points"):
        timeline_svg(pd.DataFrame(columns=["as_of"]), takedown=None)


def test_ticks_and_labels() -> None:
    assert value_ticks(250) == [0, 100, 200]
    assert value_ticks(2.5) == [0, 1, 2]
    # nine months: a tick every second month, on the first of the month
    ticks, labels = date_ticks(pd.Timestamp("2020-11-17"), pd.Timestamp("2021-08-15"))
    assert labels == ["Jan 2021", "Mar 2021", "May 2021", "Jul 2021"]
    assert ticks[0] == pd.Timestamp("2021-01-01")
    assert [compact(v) for v in (1234, 1_234_567, 0.5, 12_000, math.inf)] == ["1,234", "1.23M", "0.5", "12k", "∞"]
