"""Markdown inline markup, removed: what a person reads of a span of a document."""

from __future__ import annotations

import re

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Underscores mark emphasis only at word edges: "window.__pwned" and "snake_case" keep theirs.
_UNDERSCORES = re.compile(r"(?<![\w\\])(__|_)(?=\S)(.+?)(?<=\S)\1(?!\w)")


def _set_aside(escaped: list[str], char: str) -> str:
    escaped.append(char)
    return f"\ue000{len(escaped) - 1}\ue001"


def clean_inline(text: str) -> str:
    """Markdown inline markup removed: links become their labels, no emphasis marks, code ticks or escapes."""
    # Escaped characters ("\\*") are set aside first, so that removing markup never touches them.
    escaped: list[str] = []
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", lambda m: _set_aside(escaped, m.group(1)), text)
    text = _LINK.sub(r"\1", text)
    text = _UNDERSCORES.sub(r"\2", text)
    text = re.sub(r"(\*\*|(?<!\w)\*|\*(?!\w)|`)", "", text)
    text = re.sub("\ue000(\\d+)\ue001", lambda m: escaped[int(m.group(1))], text)
    text = text.replace("\u00a0", " ")
    return " ".join(text.strip().strip("#").split())
