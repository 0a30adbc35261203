"""The platforms policybot knows (`corpus/sources.toml`): names, aliases, documents, collections and regions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..data import Data, read_toml
from ..settings import bundled_corpus_dir

DocumentKind = Literal["terms", "guidelines", "policy", "monetisation", "statement", "help", "note"]
"""What a document is: "terms" is the agreement that binds; the rest explain, add rules or cover a programme."""


class DocumentSource(Data):
    """One document of a service as Open Terms Archive records it."""

    type: str
    """The terms type, exactly as the OTA folder is named ("Terms of Service", "Community Guidelines")."""
    kind: DocumentKind = "terms"
    collections: tuple[str, ...] = ()
    ota_name: str = ""
    """The OTA folder the document is filed under, where a service has several ("OpenAI", "ChatGPT")."""
    region: str = "global"
    url: str = ""
    language: str = ""
    """Empty: the service's language."""


class FormerName(Data):
    name: str
    until: date
    """The date of the first version published under the current name."""


class ServiceInfo(Data):
    name: str
    aliases: tuple[str, ...] = ()
    ota_names: tuple[str, ...] = ()
    language: str = "en"
    categories: tuple[str, ...] = ()
    """Kinds of platform ("ai_image_generator", "music_streaming"), for comparisons limited to one kind."""
    formerly: tuple[FormerName, ...] = ()
    documents: tuple[DocumentSource, ...] = ()

    @field_validator("aliases")
    @classmethod
    def _lower(cls, aliases: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(a.casefold() for a in aliases)


class CollectionInfo(Data):
    repository: str = ""
    region: str = ""


class _SourcesFile(Data):
    collections: dict[str, CollectionInfo] = Field(default_factory=dict)
    kinds: dict[str, DocumentKind] = Field(default_factory=dict)
    """What each Open Terms Archive terms type usually is, for documents the catalog does not list."""
    services: tuple[ServiceInfo, ...] = ()


_TERMS_TYPES = frozenset(
    {"terms of service", "terms of use", "terms", "terms and conditions", "user agreement"}
)


# Regions of the collections when sources.toml does not say: what each Open Terms Archive collection records.
DEFAULT_COLLECTION_REGIONS = {
    "contrib-versions": "global",
    "tosdr-versions": "global",
    "pga-versions": "global",
    "vlopses-us-versions": "US",
    "vlopses-eu-versions": "EU",
    "france-versions": "FR",
    "genai-eu-versions": "EU",
}


@dataclass(frozen=True, slots=True)
class Catalog:
    """What `corpus/sources.toml` says about services, documents and collections."""

    services: tuple[ServiceInfo, ...] = ()
    collections: tuple[tuple[str, CollectionInfo], ...] = ()
    kinds: dict[str, DocumentKind] = field(default_factory=dict)
    """Terms type (folded) → the kind of document it usually is."""
    _by_name: dict[str, ServiceInfo] = field(default_factory=dict, compare=False, repr=False)
    """Folded name, OTA folder name or alias → the first service that has it, filled on first use."""

    def service(self, name: str) -> ServiceInfo | None:
        """The service whose name, OTA folder name or alias is `name`, case-insensitively."""
        if not self._by_name and self.services:
            for info in self.services:
                for candidate in (info.name, *info.ota_names, *info.aliases):
                    self._by_name.setdefault(fold(candidate), info)
        return self._by_name.get(fold(name))

    def canonical_name(self, name: str) -> str:
        info = self.service(name)
        return info.name if info else " ".join(name.split())

    def document(
        self, service: str, doc_type: str, collection: str = "", folder: str = ""
    ) -> DocumentSource | None:
        """The catalog's entry for a document: by service and terms type, in `collection` when given, and
        filed under the OTA `folder` when the service has several ("OpenAI" and "ChatGPT")."""
        info = self.service(service)
        if info is None:
            return None
        matches = [d for d in info.documents if fold(d.type) == fold(doc_type)]
        if collection:
            matches = [d for d in matches if collection in d.collections]
        if folder:
            filed = [d for d in matches if d.ota_name and fold(d.ota_name) == fold(folder)]
            matches = filed or [d for d in matches if not d.ota_name] or matches
        return matches[0] if matches else None

    def kind_of(self, doc_type: str) -> DocumentKind:
        """What a terms type usually is when the catalog has no entry for the document."""
        return self.kinds.get(fold(doc_type), "policy" if fold(doc_type) not in _TERMS_TYPES else "terms")

    def language_of(self, service: str, source: DocumentSource | None) -> str:
        if source is not None and source.language:
            return source.language
        info = self.service(service)
        return info.language if info else "en"

    def former_name(self, service: str, version_date: date) -> str:
        """The name a version dated `version_date` was published under, when the service was renamed since."""
        info = self.service(service)
        for former in info.formerly if info else ():
            if version_date < former.until:
                return former.name
        return ""

    def collection_region(self, collection: str) -> str:
        for name, info in self.collections:
            if name == collection and info.region:
                return info.region
        if collection in DEFAULT_COLLECTION_REGIONS:
            return DEFAULT_COLLECTION_REGIONS[collection]
        # "<project>-us-versions", "eu-versions": a region code as the last word before "-versions".
        match = re.search(r"(?:^|-)(us|eu|eea|uk|fr|de|ca|au|br|in|jp)-versions$", collection, re.I)
        return match.group(1).upper() if match else "global"


def fold(text: str) -> str:
    return " ".join(text.casefold().split())


def default_sources_path() -> Path:
    return bundled_corpus_dir() / "sources.toml"


@lru_cache(maxsize=8)
def load_catalog(path: Path | None = None) -> Catalog:
    """Read sources.toml; a missing file gives an empty catalog, a broken one a CorpusError naming the file and
    the field."""
    path = path or default_sources_path()
    if not path.is_file():
        return Catalog()
    data = read_toml(path, _SourcesFile)
    return Catalog(
        services=data.services,
        collections=tuple(data.collections.items()),
        kinds={fold(k): v for k, v in data.kinds.items()},
    )
