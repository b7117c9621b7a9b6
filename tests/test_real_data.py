"""The project's real data/ passes our validator and frictionless."""

from __future__ import annotations

import frictionless

import sting_outcomes as so
from sting_outcomes.paths import DATA_DIR


def test_real_data_loads() -> None:
    ds = so.load()
    assert ds.data_dir == DATA_DIR.resolve()
    assert len(ds.figures) > 0 and len(ds.sources) > 0 and len(ds.operations) > 0


def test_real_data_passes_frictionless() -> None:
    report = frictionless.validate(str(DATA_DIR / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_frictionless_sees_the_same_breaks(data_copy) -> None:
    """The datapackage.json constraints are live: frictionless rejects a negative value too."""
    from conftest import read_csv, write_csv

    rows = read_csv(data_copy / "figures.csv")
    rows[0]["value"] = "-1"
    write_csv(data_copy / "figures.csv", rows)
    report = frictionless.validate(str(data_copy / "datapackage.json"))
    assert not report.valid


def test_every_detected_conflict_is_explained_in_a_note() -> None:
    """so.conflicts() pairs are kept on purpose; at least one side must say why they differ."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = so.load()
        pairs = so.conflicts(ds.normalized)
    assert len(pairs) > 0
    notes = ds.figures.set_index("figure_id")["note"]
    silent = pairs[pairs["figure_id_a"].map(notes).isna() & pairs["figure_id_b"].map(notes).isna()]
    assert silent.empty, silent[["figure_id_a", "figure_id_b", "metric", "value_a", "value_b"]].to_string()


def test_secondary_repeats_of_primary_figures_say_why_they_stay() -> None:
    """CURATION rule 3: a press row that restates an agency figure goes, unless its note says what it adds."""
    ds = so.load()
    repeats = so.secondary_repeats(ds.figures)
    silent = repeats[repeats["note"].fillna("").str.strip() == ""]
    assert silent.empty, silent.to_string()


def test_notes_cite_only_figures_that_exist() -> None:
    """A note that points at another row ("see anom-0032") must point at a row still in the data."""
    import re

    ds = so.load()
    ops = sorted(ds.operations["operation_id"], key=len, reverse=True)
    cited = re.compile(r"\b((?:{})-\d{{4}})\b".format("|".join(map(re.escape, ops))))
    known = set(ds.figures["figure_id"])
    text = ds.figures["note"].fillna("") + " " + ds.figures["locator"].fillna("")
    dangling = [
        (fid, ref)
        for fid, words in zip(ds.figures["figure_id"], text)
        for ref in cited.findall(words)
        if ref not in known
    ]
    assert not dangling, dangling
