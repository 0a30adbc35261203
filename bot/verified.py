"""`search()` for the interfaces that hand out bare excerpts (the MCP server's search_terms, the LangChain
retriever): each hit's text checked verbatim against its stored version, as every citation is."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from .settings import Settings
from .types import Hit

log = logging.getLogger(__name__)


def verified_search(
    query: str,
    settings: Settings,
    *,
    k: int | None = None,
    service: Sequence[str] | str | None = None,
    as_of: date | None = None,
) -> list[Hit]:
    """The hits of `search()` whose text is exactly the stored version's text at their offsets; one that is
    not (an index out of step with its stored texts) is left out and logged, never shown."""
    from .answer.ask import search
    from .answer.citations import verify_excerpt
    from .errors import UnverifiedExcerpt
    from .retrieve.searcher import open_searcher

    searcher = open_searcher(settings)
    kept = []
    for h in search(query, settings, k=k, service=service, as_of=as_of, searcher=searcher):
        try:
            verify_excerpt(searcher.text, h.provenance.text_sha256, h.start, h.end, h.text)
        except UnverifiedExcerpt as exc:
            log.warning("left out a hit that is not verbatim (%s): %s", h.chunk_id, exc)
            continue
        kept.append(h)
    return kept
