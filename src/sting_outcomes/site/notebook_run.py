"""Executing one notebook with nbclient and exporting its body as HTML.

The build runs several of these concurrently in one event loop. The HTML body comes from nbconvert's
``basic`` template (no scripts, styles or fonts from anywhere) with each code input
folded into a ``<details>`` element; the page shell around it is added by
:mod:`sting_outcomes.site.pages`.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_TIMEOUT_S = 900


@dataclass(frozen=True)
class NotebookResult:
    """Outcome of executing one notebook: its HTML body, or where it failed."""

    name: str
    seconds: float
    body: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def notebook_title(nb) -> str:
    """Text of the notebook's first level-one Markdown heading, else its name."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return nb.metadata.get("title", "")


def _failed_cell(nb) -> tuple[int, str]:
    """(1-based index among code cells, first source line) of the cell that raised."""
    index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        index += 1
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
            return index, first
    return 0, ""


async def execute_notebook(path: str, zygote=None, kernel_env: dict[str, str] | None = None) -> NotebookResult:
    """Execute the notebook at ``path`` in a fresh kernel and export its HTML body.

    The kernel runs with the notebook's folder as working directory and ``kernel_env``
    added to its environment (data directory, inline plots, hash seed). With a ``zygote`` (see
    :mod:`sting_outcomes.site.kernel_fork`) the kernel is forked from a pre-imported process;
    without one it is started the usual way. The kernel is shut down immediately after
    the last cell. Errors are returned, not raised, naming the notebook and the cell.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    start = time.perf_counter()
    path_ = Path(path)
    nb = nbformat.read(path_, as_version=4)
    km = None
    if zygote is not None:
        from .kernel_fork import ForkKernelManager

        km = ForkKernelManager(kernel_name="python3")
        km.zygote = zygote
        km.kernel_env = dict(kernel_env or {})
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path_.parent)}},
        shutdown_kernel="immediate",
        record_timing=False,
    )
    try:
        # The kernel's own stderr only carries start-up chatter; cell errors arrive as messages.
        # cleanup_kc: shut the kernel down even though we, not nbclient, made its manager.
        await client.async_execute(cleanup_kc=True, stderr=subprocess.DEVNULL, env={**os.environ, **(kernel_env or {})})
    except CellExecutionError as exc:
        index, first = _failed_cell(nb)
        text = _ANSI.sub("", str(exc)).strip()  # tracebacks arrive coloured for terminals
        last = text.splitlines()[-1] if text else type(exc).__name__
        where = f"code cell {index} ({first!r})" if index else "a cell"
        return NotebookResult(path_.name, time.perf_counter() - start, error=f"{path_.name}: {where} failed: {last}")
    except Exception as exc:  # kernel died, timeout: still name the notebook
        return NotebookResult(
            path_.name, time.perf_counter() - start, error=f"{path_.name}: {type(exc).__name__}: {exc}"
        )
    stderr = _strip_stderr(nb)
    body = export_body(nb)
    return NotebookResult(path_.name, time.perf_counter() - start, body=body, warnings=stderr)


def export_body(nb) -> str:
    """HTML body of an executed notebook: nbconvert's basic template, code folded."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="folded",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


def _strip_stderr(nb) -> tuple[str, ...]:
    """Remove stderr stream outputs (warnings) from the executed notebook; return their text.

    They carry temporary paths and process ids that would make pages differ between
    builds, and they are for the author, not the reader: the build prints them instead.
    """
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                texts.append(out.get("text", "").strip())
            else:
                kept.append(out)
        cell.outputs = kept
    return tuple(t for t in texts if t)
