"""A server made ready before its first question: what every generation's first questions would otherwise
do once, at the cost of the users who ask them (seconds each, and memory that grows under load)."""

from __future__ import annotations

from ..retrieve.searcher import Searcher, open_searcher
from ..settings import Settings

WARM_QUESTION = "Which platforms let me opt out of AI training?"
"""One comparison across every platform: it reads every document's latest clauses, the notes, the topics'
and intents' examples and the answer's data files, as questions will."""


def get_ready(settings: Settings) -> Searcher:
    """The serving generation loaded, every document's latest clauses read (comparisons quote them all), its
    recorded changes read, and one question answered."""
    from ..changes.query import record_for
    from .ask import ask

    searcher = open_searcher(settings)
    for document in searcher.documents:
        searcher.clauses(document.latest.version_id)
    record_for(searcher)
    ask(WARM_QUESTION, settings, searcher=searcher)
    return searcher
