"""What the index holds, document by document: each platform document with its dated versions, read from
the manifest of the serving generation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..index.metadata import provenance_from_metadata
from ..types import Provenance


@dataclass(frozen=True, slots=True)
class VersionEntry:
    version_id: str
    provenance: Provenance
    clauses: int
    chunks: int


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    doc_key: str
    service: str
    document: str
    title: str
    kind: str
    region: str
    url: str
    versions: tuple[VersionEntry, ...]
    """Oldest first."""

    def in_force(self, as_of: date | None) -> VersionEntry | None:
        """The version in force on `as_of` (the newest when None); None when all versions are later."""
        if as_of is None:
            return self.versions[-1]
        candidates = [v for v in self.versions if v.provenance.version_date <= as_of]
        return candidates[-1] if candidates else None

    @property
    def latest(self) -> VersionEntry:
        return self.versions[-1]


def documents_from_manifest(manifest: dict[str, Any]) -> list[DocumentEntry]:
    documents = []
    for doc in manifest["documents"]:
        versions = tuple(
            VersionEntry(
                version_id=v["version_id"],
                provenance=provenance_from_metadata(v["provenance"]),
                clauses=int(v.get("clauses", 0)),
                chunks=int(v.get("chunks", 0)),
            )
            for v in doc["versions"]
        )
        if not versions:
            continue
        documents.append(
            DocumentEntry(
                doc_key=versions[0].provenance.doc_key,
                service=doc["service"],
                document=doc["document"],
                title=doc["title"],
                kind=doc["kind"],
                region=doc["region"],
                url=doc.get("url", ""),
                versions=versions,
            )
        )
    return documents
