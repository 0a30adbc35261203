"""The platforms policybot knows: names, aliases, sources (from `corpus/sources.toml`), and spotting them in text."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import CorpusError
from ..settings import bundled_corpus_dir


@dataclass(frozen=True, slots=True)
class DocumentSource:
    """One document of a service as Open Terms Archive records it."""

    type: str
    collections: tuple[str, ...]
    region: str
    url: str
    language: str


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    name: str
    aliases: tuple[str, ...]
    ota_names: tuple[str, ...]
    language: str
    documents: tuple[DocumentSource, ...]


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    repository: str
    region: str


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
    collections: tuple[CollectionInfo, ...] = ()

    def service(self, name: str) -> ServiceInfo | None:
        """The service whose name, OTA folder name or alias is `name`, case-insensitively."""
        key = fold(name)
        for info in self.services:
            names = (info.name, *info.ota_names, *info.aliases)
            if any(fold(candidate) == key for candidate in names):
                return info
        return None

    def canonical_name(self, name: str) -> str:
        info = self.service(name)
        return info.name if info else " ".join(name.split())

    def document(self, service: str, doc_type: str, collection: str = "") -> DocumentSource | None:
        info = self.service(service)
        if info is None:
            return None
        matches = [d for d in info.documents if fold(d.type) == fold(doc_type)]
        if collection:
            in_collection = [d for d in matches if collection in d.collections]
            matches = in_collection or []
        return matches[0] if matches else None

    def collection_region(self, collection: str) -> str:
        for info in self.collections:
            if info.name == collection and info.region:
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
    """Read sources.toml; a missing file gives an empty catalog, a broken one a CorpusError naming it."""
    path = path or default_sources_path()
    if not path.is_file():
        return Catalog()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: not valid TOML ({exc}); fix the file or restore it from git") from exc
    services = []
    for entry in data.get("services", []):
        language = str(entry.get("language", "en"))
        documents = tuple(
            DocumentSource(
                type=str(doc["type"]),
                collections=tuple(doc.get("collections", ())),
                region=str(doc.get("region", "global")),
                url=str(doc.get("url", "")),
                language=str(doc.get("language", language)),
            )
            for doc in entry.get("documents", [])
        )
        services.append(
            ServiceInfo(
                name=str(entry["name"]),
                aliases=tuple(str(a).casefold() for a in entry.get("aliases", ())),
                ota_names=tuple(entry.get("ota_names", ())),
                language=language,
                documents=documents,
            )
        )
    collections = tuple(
        CollectionInfo(
            name=name, repository=str(value.get("repository", "")), region=str(value.get("region", ""))
        )
        for name, value in data.get("collections", {}).items()
    )
    return Catalog(services=tuple(services), collections=collections)


# --- spotting platforms in a question ---------------------------------------------------------------
