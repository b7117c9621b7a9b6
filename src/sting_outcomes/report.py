"""Building ``reports/``: for now an index page that describes the dataset.

The notebooks and their rendered pages are not built yet (they come with the
notebooks work); the page says so rather than pretending. Output is written to a
temporary folder beside ``reports/`` and swapped in only when complete, so a failed
build never destroys the previous one. No timestamps: unchanged inputs give
byte-identical files.
"""

from __future__ import annotations

import html
import shutil
import tempfile
from pathlib import Path

from .data import Dataset, load
from .paths import REPORTS_DIR


def render_index(ds: Dataset) -> str:
    """The index page as a self-contained HTML string (no external resources)."""
    kinds = ds.sources["source_kind"].value_counts()
    rows = "\n".join(
        f"<tr><td>{html.escape(str(r.operation_id))}</td><td>{html.escape(str(r.name))}</td>"
        f"<td>{html.escape(str(r.target))}</td><td>{html.escape(str(r.approach))}</td>"
        f"<td>{int((ds.figures['operation_id'] == r.operation_id).sum())}</td></tr>"
        for r in ds.operations.sort_values("operation_id").itertuples()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sting-outcomes</title>
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.2rem .6rem;text-align:left}}</style>
</head><body>
<h1>sting-outcomes</h1>
<p>Sourced figures on what covert law-enforcement operations achieve: arrests, charges,
convictions, seizures and the scale of the platforms involved, each traced to a public document.</p>
<p>Dataset version <code>{ds.version}</code>: {len(ds.operations)} operations,
{len(ds.sources)} sources ({int(kinds.get("primary", 0))} primary, {int(kinds.get("secondary", 0))} secondary),
{len(ds.figures)} figures.</p>
<p>The analysis notebooks are not rendered yet; this page lists the operations covered.</p>
<table><thead><tr><th>id</th><th>name</th><th>target</th><th>approach</th><th>figures</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def build(out_dir: Path = REPORTS_DIR, data_dir: Path | None = None) -> Path:
    """Validate the data and write the report folder atomically; returns ``out_dir``."""
    ds = load(data_dir)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".reports-", dir=out_dir.parent))
    try:
        (staging / "index.html").write_text(render_index(ds), encoding="utf-8")
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging`` with two renames."""
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
