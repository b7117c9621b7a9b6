"""Tables for notebooks, and captions that say where their numbers come from (as Our
World in Data does)."""

from __future__ import annotations

import pandas as pd

from .checks import require_columns


def caption(figures: pd.DataFrame, operations: pd.DataFrame | None = None, note: str | None = None) -> str:
    """A one-line provenance caption for the figures behind a chart or table.

    Names the operations (by name when ``operations`` is given), counts the documents and
    how many are primary, and points to the data explorer, where each figure links to its
    document. ``note`` is appended as a further sentence (e.g. a comparability warning).
    """
    require_columns(
        figures,
        ["operation_id", "source_id", "source_kind"],
        "figures",
        "keep source_id and source_kind from Dataset.normalized",
    )
    used = figures.drop_duplicates("figure_id") if "figure_id" in figures else figures
    by_source = used.dropna(subset=["source_id"]).drop_duplicates("source_id")
    ids = pd.Index(by_source["source_id"])
    kinds = by_source["source_kind"].astype("string")
    ops = sorted(used["operation_id"].dropna().astype(str).unique())
    if operations is not None:
        names = operations.set_index("operation_id")["name"].astype(str)
        ops = [names.get(o, o) for o in ops]
    shown = ", ".join(ops[:8]) + (f" and {len(ops) - 8} more" if len(ops) > 8 else "")
    n_primary = int((kinds == "primary").sum())
    text = (
        f"Source: {len(used)} figure{'s' if len(used) != 1 else ''} on {shown}, from {len(ids)} "
        f"document{'s' if len(ids) != 1 else ''} ({n_primary} agency release{'s' if n_primary != 1 else ''}, "
        f"{len(ids) - n_primary} press or other); each is listed with its document in the data explorer."
    )
    return f"{text} {note}" if note else text


class Table:
    """A DataFrame shown with a provenance caption; renders as escaped HTML in notebooks."""

    def __init__(self, frame: pd.DataFrame, caption_text: str, float_format: str = "{:,.0f}"):
        self.frame = frame
        self.caption = caption_text
        self.float_format = float_format

    def _repr_html_(self) -> str:
        import html

        frame = self.frame.apply(lambda col: col.map(self._cell))
        index = self.frame.index
        show_index = index.nlevels > 1 or index.name is not None or not pd.api.types.is_integer_dtype(index)
        body = frame.to_html(escape=True, border=0, index=show_index)
        return f'{body}\n<p class="caption">{html.escape(self.caption)}</p>'

    def _cell(self, value) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "–"
        if isinstance(value, float):
            return self.float_format.format(value)
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d")
        return str(value)

    def __repr__(self) -> str:
        return f"{self.frame.to_string()}\n{self.caption}"


def table(frame: pd.DataFrame, caption_text: str, float_format: str = "{:,.0f}") -> Table:
    """Wrap ``frame`` so that a notebook shows it with its caption (both HTML-escaped)."""
    return Table(frame, caption_text, float_format)
