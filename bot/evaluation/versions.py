"""The corpus as loaded from its files, by text hash: what citation labels and the recipe's chunks are
checked against, independently of the index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ..types import Corpus, DocumentVersion

TextLookup = Callable[[str], "str | None"]
"""A stored version text by its SHA-256 (`open_store(settings).text`, `CorpusVersions.text`)."""


@dataclass(frozen=True, slots=True)
class CorpusVersions:
    """The corpus as loaded from the files, by text hash: what a citation's labels are checked against,
    independently of the index."""

    by_sha: dict[str, tuple[DocumentVersion, ...]]

    @classmethod
    def of(cls, corpus: Corpus) -> CorpusVersions:
        by_sha: dict[str, list[DocumentVersion]] = {}
        for version in corpus.versions:
            by_sha.setdefault(version.provenance.text_sha256, []).append(version)
        return cls({sha: tuple(versions) for sha, versions in by_sha.items()})

    def labels_match(self, sha: str, service: str, document: str, version_date: date | None) -> bool:
        return any(
            v.provenance.service == service
            and v.provenance.document == document
            and (version_date is None or v.provenance.version_date == version_date)
            for v in self.by_sha.get(sha, ())
        )

    def text(self, sha: str) -> str | None:
        versions = self.by_sha.get(sha)
        return versions[0].text if versions else None
