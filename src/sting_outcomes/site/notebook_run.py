"""Executing one notebook with nbclient and exporting its body as HTML.

The build runs several of these concurrently in one event loop. Each finished cell is
checked: a page may not exceed :data:`MAX_PAGE_BYTES`, and may not show an empty table
(no body rows), an image of zero size or a caption counting 0 figures; any of these, an
exception, a dead kernel or a timeout fails the notebook with the notebook and the cell
named. The HTML body comes from nbconvert's
``basic`` template (no scripts, styles or fonts from anywhere) with each code input
folded into a ``<details>`` element; the page shell around it is added by
:mod:`sting_outcomes.site.pages`.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import os
import re
import struct
import subprocess
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_TIMEOUT_S = 900
#: Largest page a notebook may produce: its outputs together, in bytes.
MAX_PAGE_BYTES = 5 * 2**20


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


class OutputProblem(Exception):
    """An output the page must not show: too large, or an empty table or chart."""


def _code_cell(nb, cell_index: int) -> tuple[int, str]:
    """(1-based index among code cells, first source line) of ``nb.cells[cell_index]``."""
    ordinal = sum(1 for cell in nb.cells[: cell_index + 1] if cell.cell_type == "code")
    source = nb.cells[cell_index].source if 0 <= cell_index < len(nb.cells) else ""
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return ordinal, first if len(first) <= 60 else first[:57] + "..."


def _where(nb, cell_index: int | None) -> str:
    if cell_index is None:
        return "before the first cell"
    ordinal, first = _code_cell(nb, cell_index)
    return f"code cell {ordinal} ({first!r})"


def _failed_cell(nb) -> int | None:
    """Index in ``nb.cells`` of the first code cell with an error output."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index
    return None


class _Tables(HTMLParser):
    """Counts the body rows of every ``<table>`` in an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[dict] = []
        self.tables: list[dict] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.open.append({"tbody": 0, "has_tbody": False, "body_rows": 0, "data_rows": 0, "row_has_td": False})
        elif not self.open:
            return
        table = self.open[-1]
        if tag == "tbody":
            table["tbody"] += 1
            table["has_tbody"] = True
        elif tag == "tr":
            table["row_has_td"] = False
            if table["tbody"]:
                table["body_rows"] += 1
        elif tag == "td" and not table["row_has_td"]:
            table["row_has_td"] = True
            table["data_rows"] += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            return
        if tag == "tbody":
            self.open[-1]["tbody"] = max(0, self.open[-1]["tbody"] - 1)
        elif tag == "table":
            self.tables.append(self.open.pop())

    def empty_tables(self) -> int:
        self.close()
        tables = self.tables + self.open
        return sum(1 for t in tables if (t["body_rows"] if t["has_tbody"] else t["data_rows"]) == 0)


_ZERO_FIGURES = re.compile(r"Source: 0 figures\b")


def _image_is_empty(mime: str, value) -> bool:
    if isinstance(value, list):
        value = "".join(value)
    if not isinstance(value, str) or not value.strip():
        return True
    if mime == "image/svg+xml":
        return "<svg" not in value
    try:
        data = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return True
    if not data:
        return True
    if mime == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width == 0 or height == 0
    return False


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_size(outputs) -> int:
    """Bytes an output list adds to a page (stderr excluded: it is left out of pages)."""
    total = 0
    for out in outputs:
        if out.get("output_type") == "stream":
            if out.get("name") != "stderr":
                total += len(_text(out.get("text", "")).encode())
        elif out.get("output_type") in ("display_data", "execute_result"):
            total += sum(len(_text(v).encode()) for v in out.get("data", {}).values())
        elif out.get("output_type") == "error":
            total += sum(len(str(line)) for line in out.get("traceback", []))
    return total


def empty_output(outputs) -> str | None:
    """What is empty in a cell's outputs (an HTML table with no rows, an image of zero
    size, a provenance caption counting 0 figures), or None."""
    for out in outputs:
        if out.get("output_type") not in ("display_data", "execute_result"):
            continue
        data = out.get("data", {})
        for mime, value in data.items():
            if mime.startswith("image/") and _image_is_empty(mime, value):
                return "an image of zero size"
        html_text = _text(data.get("text/html", ""))
        if "<table" in html_text.lower():
            parser = _Tables()
            parser.feed(html_text)
            if parser.empty_tables():
                return "an empty table (no rows)"
        for mime in ("text/html", "text/markdown"):
            if mime in data and _ZERO_FIGURES.search(_text(data[mime])):
                return "a table or chart of 0 figures (its caption says 'Source: 0 figures')"
    return None


class _Watch:
    """nbclient hooks: which cell runs now, and a check of each finished cell's outputs."""

    def __init__(self, nb, max_bytes: int):
        self.nb = nb
        self.max_bytes = max_bytes
        self.current: int | None = None
        self.total = 0

    def on_cell_start(self, cell, cell_index: int, **_) -> None:
        if cell.cell_type == "code":
            self.current = cell_index

    def on_cell_executed(self, cell, cell_index: int, **_) -> None:
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return  # nbclient reports the exception itself
        size = output_size(cell.get("outputs", []))
        self.total += size
        limit = f"{self.max_bytes / 2**20:g} MB"
        if size > self.max_bytes:
            raise OutputProblem(f"its output is {size / 2**20:.1f} MB, over the {limit} limit for a page")
        if self.total > self.max_bytes:
            raise OutputProblem(
                f"the page's outputs reach {self.total / 2**20:.1f} MB here, over the {limit} limit for a page"
            )
        empty = empty_output(cell.get("outputs", []))
        if empty:
            raise OutputProblem(f"shows {empty}")


async def execute_notebook(
    name: str,
    nb,
    cwd: Path,
    kernel_env: dict[str, str] | None = None,
    zygote=None,
    registry=None,
    run_dir: Path | None = None,
    max_bytes: int = MAX_PAGE_BYTES,
) -> NotebookResult:
    """Execute ``nb`` (an nbformat node, as read once by the build) in a fresh kernel and
    export its HTML body.

    The kernel runs in ``cwd`` with ``kernel_env`` added to its environment (data snapshot,
    inline plots, hash seed). With a ``zygote`` (see :mod:`sting_outcomes.site.kernel_fork`)
    the kernel is forked from a pre-imported process, else started the usual way; either
    way through a provisioner that makes it die with the build (:mod:`.kernels`). The kernel
    is shut down right after the last cell. Errors are returned, not raised, naming the
    notebook and the cell: an exception, a dead kernel, a timeout, an output over
    ``max_bytes`` or an empty table or chart.
    """
    import tempfile

    from nbclient import NotebookClient

    from .kernels import GuardedProvisioner, kernel_manager

    start = time.perf_counter()
    run_dir = Path(run_dir or tempfile.gettempdir())
    if zygote is not None:
        from .kernel_fork import ForkProvisioner

        km = kernel_manager(ForkProvisioner, run_dir, zygote=zygote, registry=registry)
    else:
        km = kernel_manager(GuardedProvisioner, run_dir, registry=registry)
    watch = _Watch(nb, max_bytes)
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        shutdown_kernel="immediate",
        record_timing=False,
        on_cell_start=watch.on_cell_start,
        on_cell_executed=watch.on_cell_executed,
    )

    try:
        return await _execute(client, nb, name, watch, kernel_env, start)
    finally:
        # nbclient registers an exit handler that shuts the kernel down; after a cancelled
        # build it would block the interpreter's exit on a socket (the build kills kernels itself).
        atexit.unregister(client._cleanup_kernel)


async def _execute(client, nb, name: str, watch: _Watch, kernel_env, start: float) -> NotebookResult:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    def failed(message: str) -> NotebookResult:
        return NotebookResult(name, time.perf_counter() - start, error=f"{name}: {message}")

    try:
        # The kernel's own stderr only carries start-up chatter; cell errors arrive as messages.
        # cleanup_kc: shut the kernel down even though we, not nbclient, made its manager.
        await client.async_execute(cleanup_kc=True, stderr=subprocess.DEVNULL, env={**os.environ, **(kernel_env or {})})
    except CellExecutionError as exc:
        text = _ANSI.sub("", str(exc)).strip()  # tracebacks arrive coloured for terminals
        last = text.splitlines()[-1] if text else type(exc).__name__
        index = _failed_cell(nb)
        return failed(f"{_where(nb, index if index is not None else watch.current)} failed: {last}")
    except DeadKernelError:
        return failed(f"{_where(nb, watch.current)}: the kernel died while running it")
    except CellTimeoutError:
        return failed(f"{_where(nb, watch.current)}: did not finish within {CELL_TIMEOUT_S} s")
    except OutputProblem as exc:
        return failed(f"{_where(nb, watch.current)}: {exc}")
    except Exception as exc:  # the kernel did not start, or died between cells
        what = "the kernel failed" if watch.current is None else f"{_where(nb, watch.current)}: the kernel failed"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return failed(f"{what} ({type(exc).__name__}{': ' + detail if detail else ''})")
    stderr = _strip_stderr(nb)
    _merge_streams(nb)
    body = export_body(nb)
    return NotebookResult(name, time.perf_counter() - start, body=body, warnings=stderr)


_EXPORTER = None


def export_body(nb) -> str:
    """HTML body of an executed notebook: nbconvert's basic template, code folded, every
    image with a text alternative (the template's). One exporter serves every notebook."""
    global _EXPORTER
    if _EXPORTER is None:
        _EXPORTER = _body_exporter()
    body, _ = _EXPORTER.from_notebook_node(nb)
    return body


def _body_exporter():
    from nbconvert import HTMLExporter, TemplateExporter

    class BodyExporter(HTMLExporter):
        """nbconvert's HTML exporter without its last step, which re-parses the whole page
        with BeautifulSoup to add a stock alt text to images and tab stops to JupyterLab
        cells (a second of every build; the folded template writes the alt text and has
        no such cells). The filters ``HTMLExporter.from_notebook_node`` registers are
        registered here the same way."""

        def from_notebook_node(self, nb, resources=None, **kw):
            from nbconvert.filters.highlight import Highlight2HTML
            from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            self.register_filter(
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return BodyExporter(
        template_name="folded",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


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


def _merge_streams(nb) -> None:
    """Join consecutive stdout outputs of a cell into one. How a cell's printing is split
    into messages depends on timing (the kernel flushes on a timer), so without this two
    builds of the same notebook could differ in their ``<pre>`` blocks."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged: list = []
        for out in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (
                last is not None
                and out.get("output_type") == "stream"
                and last.get("output_type") == "stream"
                and last.get("name") == out.get("name")
            ):
                last["text"] = _text(last.get("text", "")) + _text(out.get("text", ""))
            else:
                merged.append(out)
        cell.outputs = merged
