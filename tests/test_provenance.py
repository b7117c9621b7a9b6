from pathlib import Path

import pytest

import sting_outcomes as so
from sting_outcomes.tables import caption


def test_caption_counts_documents_and_primary(mini_data: Path) -> None:
    ds = so.load(mini_data)
    text = caption(ds.figures, ds.operations)
    assert text.startswith("Source: 3 figures on Operation One, Operation Two, from 2 documents")
    assert "(1 agency release, 1 press or other)" in text


def test_caption_of_a_subset_and_note(mini_data: Path) -> None:
    ds = so.load(mini_data)
    one = ds.figures[ds.figures["figure_id"] == "op-two-0001"]
    text = caption(one, note="Not comparable across countries.")
    assert text.startswith("Source: 1 figure on op-two, from 1 document (0 agency releases, 1 press or other)")
    assert text.endswith("Not comparable across countries.")


def test_table_escapes_frame_and_caption() -> None:
    import pandas as pd

    from sting_outcomes.tables import table

    shown = table(pd.DataFrame({"title": ["<script>x</script>"]}), "Source: <b>1</b> document")._repr_html_()
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "Source: &lt;b&gt;1&lt;/b&gt; document" in shown


def _with_repeat(mini_data: Path, **changes: str) -> so.Dataset:
    """mini_data plus a press row restating the agency's 224 arrests (op-one-0001)."""
    from conftest import read_csv, write_csv

    rows = read_csv(mini_data / "figures.csv")
    repeat = {**rows[0], "figure_id": "op-one-0003", "source_id": "paper-2021-06", "as_of": "2021-06-20", **changes}
    write_csv(mini_data / "figures.csv", [*rows, repeat])
    return so.load(mini_data)


def test_secondary_restating_a_primary_figure_is_found(mini_data: Path) -> None:
    ds = _with_repeat(mini_data)
    found = so.secondary_repeats(ds.figures)
    assert found[["secondary_id", "primary_id", "days_apart"]].values.tolist() == [["op-one-0003", "op-one-0001", 12]]


def test_month_only_date_counts_from_the_first(mini_data: Path) -> None:
    ds = _with_repeat(mini_data, as_of="2021-06")
    assert so.secondary_repeats(ds.figures)["days_apart"].tolist() == [7]


@pytest.mark.parametrize(
    "change", [{"as_of": "2021-06-23"}, {"qualifier": "at_least"}, {"value": "225"}, {"jurisdiction": "AU-NSW"}]
)
def test_later_snapshot_or_other_qualifier_is_not_a_repeat(mini_data: Path, change: dict[str, str]) -> None:
    ds = _with_repeat(mini_data, **change)
    assert so.secondary_repeats(ds.figures).empty
