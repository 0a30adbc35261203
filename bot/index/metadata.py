"""Provenance as Chroma metadata and back: Chroma keeps only flat values (str, int, float, bool), so dates
are stored as YYYYMMDD integers."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..types import Provenance


def date_to_int(value: date) -> int:
    return value.year * 10000 + value.month * 100 + value.day


def int_to_date(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


def provenance_metadata(p: Provenance) -> dict[str, Any]:
    return {
        "service": p.service,
        "document": p.document,
        "title": p.title,
        "kind": p.kind,
        "region": p.region,
        "version_id": p.version_id,
        "version_date": date_to_int(p.version_date),
        "date_statement": p.date_statement,
        "recorded": date_to_int(p.recorded) if p.recorded else 0,
        "source_url": p.source_url,
        "text_sha256": p.text_sha256,
        "doc_key": p.doc_key,
        "language": p.language,
    }


def provenance_from_metadata(meta: dict[str, Any]) -> Provenance:
    recorded = int(meta.get("recorded") or 0)
    return Provenance(
        service=str(meta["service"]),
        document=str(meta["document"]),
        title=str(meta["title"]),
        kind=str(meta["kind"]),
        region=str(meta["region"]),
        version_date=int_to_date(int(meta["version_date"])),
        date_statement=str(meta.get("date_statement", "")),
        source_url=str(meta.get("source_url", "")),
        text_sha256=str(meta["text_sha256"]),
        recorded=int_to_date(recorded) if recorded else None,
        language=str(meta.get("language") or "en"),
    )
