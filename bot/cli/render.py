"""Answers, hits and index reports as text for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..answer.compose import EXPLAIN
from ..ingest.markdown import clean_inline
from ..types import Answer, Hit, IndexReport


def report_json(r: IndexReport) -> dict[str, Any]:
    return {
        "documents": r.documents,
        "versions": r.versions,
        "clauses": r.clauses,
        "chunks": r.chunks,
        "embedded": r.embedded,
        "seconds": round(r.seconds, 2),
        "generation": r.generation,
        "unchanged": r.unchanged,
        "problems": [{"path": p.path, "line": p.line, "reason": p.reason} for p in r.problems],
    }


def answer_text(a: Answer) -> str:
    lines = [plain_tables(a.text)]
    if a.citations and not all(
        f"[{c.n}]" in a.text and clean_inline(c.excerpt)[:40] in a.text for c in a.citations
    ):
        # A composed (generative) answer cites [n] without quoting: show each excerpt under the answer.
        lines.append("")
        lines.extend(f"[{c.n}] “{clean_inline(c.excerpt)}”" for c in a.citations)
    if a.notes:
        lines.append("")
        lines.extend(f"Note: {note}" for note in a.notes)
    if a.glossary:
        lines.append("")
        lines.extend(f"“{term}”: {meaning}" for term, meaning in a.glossary)
    if a.citations:
        lines.append("")
        lines.append("Sources:")
        for c in a.citations:
            p = c.provenance
            kind = (
                ""
                if p.kind == "terms"
                else f" [{p.kind}, not binding]"
                if p.kind in EXPLAIN
                else f" [{p.kind}]"
            )
            region = "" if p.region in ("global", "") else f" · {p.region}"
            lines.append(f"[{c.n}] {p.service} · {p.title}{region} · {c.section_path} · {p.date_label}{kind}")
            if c.url:
                lines.append(f"    {c.url}")
    if a.disclaimer:
        lines.append("")
        lines.append(a.disclaimer)
    return "\n".join(lines)


def plain_tables(text: str) -> str:
    """A comparison's Markdown table as lines a terminal shows plainly: "• Platform (stance): summary [n]".
    Rows stay in the table's order (grouped by stance); the header and the rule line are dropped."""
    out: list[str] = []
    header: list[str] | None = None
    for line in text.split("\n"):
        if not (line.startswith("|") and line.endswith("|")):
            header = None
            out.append(line)
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif not all(set(c) <= set("-: ") for c in cells):
            name, *rest = cells
            stance = rest[0] if rest else ""
            summary = " ".join(c for c in rest[1:-1] if c)
            quote = rest[-1] if len(rest) >= 2 and rest[-1] not in ("–", "-", "") else ""
            out.append(f"• {name} ({stance}): {summary}" + (f" {quote}" if quote else ""))
    return "\n".join(out)


def hits_text(hits: Sequence[Hit]) -> str:
    if not hits:
        return "No matching clauses."
    lines = []
    for rank, h in enumerate(hits, start=1):
        p = h.provenance
        lines.append(
            f"{rank}. {p.service} · {p.title} · {h.section_path} · {p.date_label}  (score {h.score:.4f})"
        )
        lines.append("   " + " ".join(h.text.split()))
    return "\n".join(lines)


def report_text(r: IndexReport) -> str:
    state = "unchanged, nothing to do" if r.unchanged else f"generation {r.generation}"
    text = (
        f"Indexed {r.documents} documents, {r.versions} versions, {r.clauses} clauses, {r.chunks} chunks; "
        f"embedded {r.embedded} chunks in {r.seconds:.1f} s ({state})."
    )
    if r.problems:
        text += f"\nSkipped {len(r.problems)} file(s):\n" + "\n".join(f"  {p}" for p in r.problems)
    return text
