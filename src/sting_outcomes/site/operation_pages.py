"""One page per operation: ``operations/<operation_id>.html``.

Each page says what the operation was, draws every running total over time, lists the
figures (running totals and parts apart), the pairs of sources that disagree about it
with their notes, the documents cited, and what curators sought and did not find (the
operation's lines of the codebook's "Sought, not found" section). Everything comes from
the dataset; every text from it is escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..tables import caption, percent, table
from .charts import timeline_svg

SOUGHT_HEADING = "## Sought, not found"
TABLE_NOTE = (
    "Values and units as each source gives them (the Unit column names the currency of money figures; "
    "USD converts them at the ECB rate of the as-of date). Place: the jurisdiction (ISO 3166 code, or global). "
    "Kind: primary is the agency's own release, secondary the press or another site."
)

#: Words dropped from operation names and aliases to get the names the codebook uses.
_NAME_NOISE = re.compile(
    r"\b(takedown|takeover|disruption|Operation|Operatie|Opération|case|child abuse platform|"
    r"phishing-as-a-service|ransomware)\b"
)


def esc(value) -> str:
    return html.escape("" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value))


def words(code) -> str:
    return "" if code is None or pd.isna(code) else str(code).replace("_", " ")


def date_text(when, precision: str = "day") -> str:
    if when is None or pd.isna(when):
        return "–"
    return when.strftime("%Y-%m-%d" if precision == "day" else "%Y-%m" if precision == "month" else "%Y")


def value_text(value: float, high: float | None = None) -> str:
    """224 -> '224'; 1.5 -> '1.5'; 1000 to 2000 -> '1,000–2,000'."""

    def one(v: float) -> str:
        if v is None or pd.isna(v):
            return ""
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")

    text = one(value)
    return f"{text}–{one(high)}" if high is not None and pd.notna(high) else text


def link(url, text: str) -> str:
    """An escaped ``<a>`` to an http(s) address, or the escaped text alone."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{esc(text)}</a>'
    return esc(text)


# -- what was sought and not found -----------------------------------------------------


@dataclass(frozen=True)
class SoughtItem:
    label: str  # the bullet's bold label ("ANOM", "Darknet markets")
    text: str  # the bullet's text after the label, markdown as written


def sought_not_found(readme: Path) -> list[SoughtItem]:
    """The bullets of the codebook's "Sought, not found" section (empty when absent)."""
    try:
        text = readme.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    start = text.find(SOUGHT_HEADING)
    if start < 0:
        return []
    body = text[start + len(SOUGHT_HEADING) :]
    end = re.search(r"^## ", body, flags=re.MULTILINE)
    body = body[: end.start()] if end else body
    items, current = [], None
    for line in body.splitlines():
        if line.startswith("- "):
            if current is not None:
                items.append(current)
            current = line[2:].strip()
        elif current is not None and line.startswith("  ") and line.strip():
            current += " " + line.strip()
        elif current is not None and not line.strip():
            items.append(current)
            current = None
    if current is not None:
        items.append(current)
    out = []
    for item in items:
        m = re.match(r"\*\*(.+?)\*\*:?\s*(.*)", item)
        out.append(SoughtItem(m.group(1), m.group(2)) if m else SoughtItem("", item))
    return out


def name_terms(op: pd.Series) -> list[str]:
    """Names the codebook may use for an operation: its name, aliases and their cores."""
    raw = [str(op["name"])]
    if isinstance(op.get("aliases"), str):
        raw += [a for a in op["aliases"].split(";") if a.strip()]
    terms = set()
    for name in raw:
        for part in re.split(r"[()]", name):
            part = part.strip()
            if not part:
                continue
            terms.add(part)
            core = re.sub(r"\s+", " ", _NAME_NOISE.sub(" ", part)).strip(" -")
            if core:
                terms.add(core)
                if core.endswith(" Market"):
                    terms.add(core[: -len(" Market")])
    return sorted((t for t in terms if len(t) >= 4 or t.isupper()), key=lambda t: (-len(t), t))


def _pattern(terms: list[str]) -> re.Pattern | None:
    if not terms:
        return None
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w-])")


def sought_for(op: pd.Series, items: list[SoughtItem], others: list[pd.Series]) -> list[tuple[str, str]]:
    """(label, text) of what was sought for ``op``: a bullet about it alone in full, else
    the clauses of shared bullets that name it."""
    mine = _pattern(name_terms(op))
    if mine is None:
        return []
    other = _pattern(sorted({t for o in others for t in name_terms(o)} - set(name_terms(op))))
    found = []
    for item in items:
        if mine.search(item.label) and not (other and other.search(item.label)):
            found.append((item.label, item.text))
            continue
        clauses = [c.strip() for c in re.split(r";\s+|(?<=\.)\s+(?=[A-Z])", item.text) if c.strip()]
        hits = [c for c in clauses if mine.search(c)]
        if hits:
            found.append((item.label, "; ".join(h.rstrip(".;") for h in hits) + "."))
    return found


def markdown_inline(text: str, highlight: re.Pattern | None = None) -> str:
    """Escape ``text`` and render the codebook's inline markdown (bold, code); mark names."""
    out = esc(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    if highlight is not None:
        out = highlight.sub(lambda m: f"<mark>{m.group(0)}</mark>", out)
    return out


# -- the page ----------------------------------------------------------------------------


def timeline_job(op: pd.Series, points: pd.DataFrame, metric_order: list[str]) -> dict:
    """Keyword arguments of :func:`~.charts.timeline_svg` for one operation."""
    return {
        "points": points,
        "title": f"Small multiples of {op['name']}'s running totals over time",
        "takedown": op["takedown_date"],
        "covert_start": op["covert_start"],
        "metric_order": metric_order,
    }


def _figures_frame(rows: pd.DataFrame, sources: pd.DataFrame, with_usd: bool) -> pd.DataFrame:
    src = sources.set_index("source_id")
    rows = rows.sort_values(["metric", "jurisdiction", "category", "as_of", "figure_id"], kind="stable")
    metric = rows["metric"].astype(str).str.replace("_", " ")
    cat = rows["category"].astype("string")
    frame = pd.DataFrame(
        {
            "Figure": rows["figure_id"].astype(str),
            "Place": rows["jurisdiction"].astype(str),
            "Metric": metric.where(cat.isna(), metric + " · " + cat.fillna("").str.replace("_", " ")),
            "Value": rows["value"].astype(float),
            "High end": rows["value_high"].astype(float),
            "Unit": rows["unit"].astype(str),
            "Qualifier": rows["qualifier"].astype(str).str.replace("_", " "),
            "As of": [date_text(d, p) for d, p in zip(rows["as_of"], rows["as_of_precision"].astype(str))],
            "Kind": rows["source_kind"].astype(str),
            "Source": [f"{p} – {t}" for p, t in zip(rows["publisher"].fillna(""), rows["source_id"].map(src["title"]))],
            "url": rows["source_id"].map(src["url"]).astype("string"),
            "Note": [
                ("doubtful: " if d else "") + (n if isinstance(n, str) else "")
                for d, n in zip(rows["doubtful"], rows["note"])
            ],
        }
    )
    if with_usd:
        frame.insert(6, "USD (ECB rate, as-of date)", rows["value_usd"].round(0).astype(float))
    if frame["High end"].isna().all():
        frame = frame.drop(columns="High end")
    frame["Note"] = frame["Note"].where(frame["Note"] != "", None)
    return frame.reset_index(drop=True)


def conflict_cards(pairs: pd.DataFrame, normalized: pd.DataFrame, sources: pd.DataFrame, names: dict, root: str) -> str:
    """One card per disagreeing pair: both values, units, qualifiers, dates, sources and notes."""
    fig = normalized.set_index("figure_id")
    src = sources.set_index("source_id")
    cards = []
    for r in pairs.itertuples():
        sides = []
        for side in ("a", "b"):
            fid = getattr(r, f"figure_id_{side}")
            row = fig.loc[fid]
            sid = getattr(r, f"source_id_{side}")
            note = row["note"] if isinstance(row["note"], str) else "no note"
            std = getattr(r, f"value_std_{side}")
            unit = str(getattr(r, f"unit_{side}"))
            std_text = (
                ""
                if unit == str(r.unit_std)
                else f' <span class="muted">(= {value_text(round(std, 2))} {esc(r.unit_std)})</span>'
            )
            value = esc(value_text(getattr(r, f"value_{side}"), row["value_high"]))
            qualifier = esc(words(getattr(r, f"qualifier_{side}")))
            when = esc(date_text(getattr(r, f"as_of_{side}"), str(row["as_of_precision"])))
            document = link(src.at[sid, "url"], src.at[sid, "title"])
            sides.append(
                f'<div class="side"><p class="big">{value} {esc(unit)} <span class="qual">{qualifier}</span>'
                f"{std_text}</p><p>as of {when} · {esc(row['source_kind'])} · <code>{esc(fid)}</code></p>"
                f'<p>{document}<br><span class="muted">{esc(src.at[sid, "publisher"])}</span></p>'
                f'<p class="note">{esc(note)}</p></div>'
            )
        op = str(r.operation_id)
        cat = f" · {words(r.category)}" if isinstance(r.category, str) else ""
        cards.append(
            f'<div class="pair" id="pair-{esc(r.figure_id_a)}-{esc(r.figure_id_b)}">'
            f'<p class="pair-head"><a href="{root}operations/{esc(op)}.html">{esc(names.get(op, op))}</a> · '
            f"{esc(r.jurisdiction)} · {esc(words(r.metric))}{esc(cat)}: "
            f"<strong>{percent(r.rel_diff)} apart</strong> · {int(r.days_apart)} day{'s' if r.days_apart != 1 else ''} "
            "between the dates</p>"
            f'<div class="sides">{sides[0]}{sides[1]}</div></div>'
        )
    return "\n".join(cards)


def operation_body(
    op: pd.Series,
    *,
    normalized: pd.DataFrame,
    operations: pd.DataFrame,
    sources: pd.DataFrame,
    points: pd.DataFrame,
    pairs: pd.DataFrame,
    sought: list[tuple[str, str]],
    metric_order: list[str],
) -> str:
    """Body of ``operations/<id>.html`` (``points``, ``pairs`` already for this operation)."""
    oid = str(op["operation_id"])
    mine = normalized[normalized["operation_id"].astype(str) == oid]
    totals = mine[mine["scope"].astype(str) == "total"]
    parts = mine[mine["scope"].astype(str) == "part"]
    names = dict(zip(operations["operation_id"].astype(str), operations["name"].astype(str)))
    facts = [
        ("Target", words(op["target"])),
        ("Approach", words(op["approach"])),
        ("Covert phase from", date_text(op["covert_start"]) if pd.notna(op["covert_start"]) else "not known"),
        ("Action day", date_text(op["takedown_date"])),
        ("Lead agencies", "; ".join(a.strip() for a in str(op["lead_agencies"]).split(";"))),
        ("Countries", ", ".join(str(op["countries"]).split(";"))),
        ("Also known as", "; ".join(str(op["aliases"]).split(";")) if isinstance(op["aliases"], str) else "–"),
    ]
    dl = "\n".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    n_primary = int((mine["source_kind"].astype(str) == "primary").sum())
    parts_html = []
    parts_html.append(
        f"""<p class="crumbs"><a href="../index.html#operations">Operations</a> ›</p>
<h1>{esc(op["name"])}</h1>
<p class="lead">{esc(op["summary"])}</p>
<dl class="facts">
{dl}
</dl>
<p>{len(mine):,} figures ({len(totals):,} running totals, {len(parts):,} parts) from
{mine["source_id"].nunique():,} documents; {n_primary:,} figures come from the agencies' own releases.
<a href="../explorer.html#operation_id={esc(oid)}">All of them in the data explorer</a>.</p>
<nav class="toc">On this page: <a href="#timeline">timeline</a> · <a href="#totals">running totals</a> ·
<a href="#conflicts">conflicts ({len(pairs)})</a> · <a href="#parts">parts ({len(parts)})</a> ·
<a href="#sources">sources</a> · <a href="#sought">sought, not found</a></nav>"""
    )

    # timeline
    parts_html.append('<h2 id="timeline">Running totals over time</h2>')
    if len(points):
        chart = timeline_svg(**timeline_job(op, points, metric_order))
        n_series = points.groupby(["jurisdiction", "metric", "category"], dropna=False, observed=True).ngroups
        sizes = points.groupby(["metric", "unit_std"], observed=True).size()
        panels, once = int((sizes > 1).sum()), int((sizes == 1).sum())
        layout = ", ".join(
            part
            for part in (
                f"{panels} panel{'s' if panels != 1 else ''}, one per metric reported more than once" if panels else "",
                f"{once} metric{'s' if once != 1 else ''} reported once in the last strip" if once else "",
            )
            if part
        )
        what = (
            f"What is drawn: every running total reported for {op['name']} ({len(points)} points in {n_series} "
            f"series; {layout}), in standard units: money in USD at the ECB rate of "
            "each figure's date, masses in kg. Colour: the place (country code, a region, or global). Marker: "
            "a dot for the agency's own release, a cross for press or other sources. An arrow up marks "
            '"at least" (down: "at most"); a bar marks a range, or ±10 % for "about". Every y axis starts '
            "at zero. The dashed line is the action day"
            + (
                f", the grey band the covert phase (from {date_text(op['covert_start'])}; the axis starts near the "
                "first figure, so the band may begin at its left edge)"
                if pd.notna(op["covert_start"])
                else ""
            )
            + ". Values are written at each point when a panel has few, else at the end of each line. "
            "Figures the data call doubtful are left out, and when two documents give the same date the "
            "agency's figure is drawn."
        )
        parts_html.append(
            f'<figure class="timeline"><div class="chart">{chart}</div>'
            f"<figcaption>{esc(what)} {esc(caption(points, operations))}</figcaption></figure>"
        )
    else:
        parts_html.append("<p>No running total is recorded for this operation.</p>")

    # figures
    parts_html.append('<h2 id="totals">Running totals</h2>')
    if len(totals):
        frame = _figures_frame(totals, sources, with_usd=bool(totals["value_usd"].notna().any()))
        parts_html.append(
            table(
                frame,
                caption(
                    totals,
                    operations,
                    note=TABLE_NOTE,
                ),
                links={"Source": "url"},
            ).to_html()
        )
    else:
        parts_html.append("<p>No running total is recorded for this operation.</p>")

    # conflicts
    parts_html.append('<h2 id="conflicts">Where sources disagree</h2>')
    if len(pairs):
        parts_html.append(
            f"<p>{len(pairs)} pair{'s' if len(pairs) != 1 else ''} of figures from different documents about the same "
            "place, metric and date (within 31 days) do not agree beyond 2 % once their qualifiers are allowed for "
            '("apart": the gap between the ranges the qualifiers allow, as a share of the larger value). '
            'All pairs for every operation are on the <a href="../conflicts.html">conflicts page</a>.</p>'
        )
        parts_html.append(conflict_cards(pairs, normalized, sources, names, "../"))
    else:
        parts_html.append("<p>No two documents disagree about this operation's running totals.</p>")

    # parts
    parts_html.append('<h2 id="parts">Parts: one force, region or case</h2>')
    if len(parts):
        parts_html.append(
            "<p>These figures count one part of the operation (a police force's or region's share, a "
            "sub-operation, a separate case). They are never the running tally, and the analyses leave them out.</p>"
        )
        frame = _figures_frame(parts, sources, with_usd=bool(parts["value_usd"].notna().any()))
        parts_html.append(table(frame, caption(parts, operations, note=TABLE_NOTE), links={"Source": "url"}).to_html())
    else:
        parts_html.append("<p>No part figures are recorded for this operation.</p>")

    # sources
    used = mine.groupby("source_id").size().rename("figures")
    docs = sources[sources["source_id"].isin(used.index)].copy()
    docs = docs.assign(figures=docs["source_id"].map(used)).sort_values(["published", "source_id"], kind="stable")
    frame = pd.DataFrame(
        {
            "Title": docs["title"].astype(str),
            "url": docs["url"].astype("string"),
            "Publisher": docs["publisher"].astype("string"),
            "Source kind": docs["source_kind"].astype(str),
            "Published": [date_text(d, p) for d, p in zip(docs["published"], docs["published_precision"].astype(str))],
            "Copied via": docs["via"].astype("string"),
            "Figures": docs["figures"].astype(int),
            "Source id": docs["source_id"].astype(str),
        }
    ).reset_index(drop=True)
    parts_html.append('<h2 id="sources">Sources</h2>')
    parts_html.append(
        table(
            frame,
            f'{len(docs)} documents cited by this operation\'s figures; "copied via" names the site that carries '
            "an agency's release verbatim when the agency's own page was not available.",
            links={"Title": "url"},
        ).to_html()
    )

    # sought, not found
    parts_html.append('<h2 id="sought">Sought, not found</h2>')
    if sought:
        mark = _pattern(name_terms(op))
        items = "\n".join(
            f"<li>{('<strong>' + esc(label) + '</strong>: ') if label else ''}{markdown_inline(text, mark)}</li>"
            for label, text in sought
        )
        parts_html.append(
            "<p>What the curators looked for and could not source (from the codebook, data/README.md); each is "
            f'a gap, not a zero.</p>\n<ul class="sought">\n{items}\n</ul>'
        )
    else:
        parts_html.append("<p>The codebook records no search that came back empty for this operation.</p>")
    return "\n".join(parts_html)
