"""Markdown inline markup, removed: what a person reads of a span of a document."""

from __future__ import annotations

import re

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def clean_inline(text: str) -> str:
    """Markdown inline markup removed: links become their labels, no emphasis marks or escapes."""
    text = _LINK.sub(r"\1", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    text = text.replace("\u00a0", " ")
    return " ".join(text.strip().strip("#").split())
