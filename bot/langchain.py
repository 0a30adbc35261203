"""policybot as a LangChain retriever: `search()`'s clauses as Documents whose page_content is the excerpt,
checked verbatim against its stored version, and whose metadata says where it comes from.

    from bot.langchain import PolicybotRetriever
    docs = PolicybotRetriever(service="SoundCloud", k=3).invoke("Can they train AI on my tracks?")

Import this module only where LangChain is wanted: it loads langchain_core (the rest of policybot does not).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

from .settings import Settings
from .types import Hit


def hit_document(h: Hit) -> Document:
    """One hit as a Document: the verbatim excerpt, and its provenance as metadata."""
    from .answer.citations import text_fragment_url

    p = h.provenance
    return Document(
        id=h.chunk_id,
        page_content=h.text,
        metadata={
            "service": p.service,
            "document": p.document,
            "title": p.title,
            "kind": p.kind,
            "binding": p.binding,
            "section": h.section_path,
            "version_date": p.version_date.isoformat(),
            "date_statement": p.date_statement,
            "region": p.region,
            "language": p.language,
            "url": text_fragment_url(p.source_url, h.text),
            "source_url": p.source_url,
            "version_id": p.version_id,
            "start": h.start,
            "end": h.end,
            "clause_start": h.clause_start,
            "clause_end": h.clause_end,
            "score": h.score,
        },
    )


class PolicybotRetriever(BaseRetriever):
    """The clauses of the indexed terms that best match a query (policybot's hybrid search), each a Document
    whose page_content is exactly `stored_text[start:end]` of the version its metadata names.

    `service`, `as_of` and `k` restrict every query; `invoke(query, k=..., service=..., as_of=...)` overrides
    them for one. Platforms and dates named in the query itself ("SoundCloud", "in March 2024") restrict it
    too, as in `policybot search`.
    """

    settings: Settings | None = Field(
        default=None, description="policybot's settings; default: the environment."
    )
    service: str | list[str] | None = Field(default=None, description="Only these platforms (any case).")
    as_of: date | None = Field(
        default=None, description="The versions in force on this date; default: latest."
    )
    k: int = Field(default=5, ge=1, le=50, description="How many Documents a query returns (at most).")

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        from .verified import verified_search

        settings = self.settings or Settings()
        hits = verified_search(
            query,
            settings,
            k=int(kwargs.get("k") or self.k),
            service=kwargs.get("service", self.service),
            as_of=kwargs.get("as_of", self.as_of),
        )
        return [hit_document(h) for h in hits]
