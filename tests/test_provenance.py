from pathlib import Path

import sting_outcomes as so
from sting_outcomes.provenance import caption


def test_caption_counts_documents_and_primary(mini_data: Path) -> None:
    ds = so.load(mini_data)
    text = caption(ds.figures, ds.sources, ds.operations)
    assert text.startswith("Source: 3 figures on Operation One, Operation Two, from 2 documents")
    assert "(1 agency release, 1 press or other)" in text


def test_caption_of_a_subset_and_note(mini_data: Path) -> None:
    ds = so.load(mini_data)
    one = ds.figures[ds.figures["figure_id"] == "op-two-0001"]
    text = caption(one, ds.sources, note="Not comparable across countries.")
    assert text.startswith("Source: 1 figure on op-two, from 1 document (0 agency releases, 1 press or other)")
    assert text.endswith("Not comparable across countries.")


def test_table_escapes_frame_and_caption() -> None:
    import pandas as pd

    from sting_outcomes.provenance import table

    shown = table(pd.DataFrame({"title": ["<script>x</script>"]}), "Source: <b>1</b> document")._repr_html_()
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "Source: &lt;b&gt;1&lt;/b&gt; document" in shown
