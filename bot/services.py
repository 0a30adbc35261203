"""The platforms policybot knows: names, aliases, sources (from `corpus/sources.toml`), and spotting them in text."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import CorpusError
from .settings import bundled_corpus_dir


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

# Platforms artists ask about that the corpus may not hold: naming one gets a plain "I don't have its terms".
OTHER_PLATFORMS: dict[str, tuple[str, ...]] = {
    "Mixcloud": ("mixcloud", "mix cloud"),
    "Audiomack": ("audiomack",),
    "Tidal": ("tidal",),
    "Beatport": ("beatport",),
    "Patreon": ("patreon",),
    "CD Baby": ("cd baby", "cdbaby"),
    "TuneCore": ("tunecore", "tune core"),
    "Napster": ("napster",),
    "Pandora": ("pandora",),
    "iHeartRadio": ("iheartradio", "iheart"),
    "Last.fm": ("last.fm", "lastfm"),
    "ReverbNation": ("reverbnation", "reverb nation"),
    "Audius": ("audius",),
    "BandLab": ("bandlab", "band lab"),
    "LANDR": ("landr",),
    "United Masters": ("unitedmasters", "united masters"),
    "Amuse": ("amuse.io",),
    "Ditto Music": ("ditto music",),
    "Believe": ("believe digital",),
    "Boomy": ("boomy",),
    "Suno": ("suno",),
    "Udio": ("udio",),
    "Snapchat": ("snapchat",),
    "X (Twitter)": ("twitter", "x.com"),
    "Threads": ("threads app",),
    "Bluesky": ("bluesky",),
    "Discord": ("discord",),
    "Reddit": ("reddit",),
    "Pinterest": ("pinterest",),
    "Kick": ("kick.com",),
    "Anghami": ("anghami",),
    "Boomplay": ("boomplay",),
    "JioSaavn": ("jiosaavn", "saavn"),
    "Yandex Music": ("yandex music",),
    "NetEase Cloud Music": ("netease",),
    "Shazam": ("shazam",),
    "Genius": ("genius.com",),
    "Musixmatch": ("musixmatch",),
    "Splice": ("splice",),
    "Soundtrap": ("soundtrap",),
    "Hearthis.at": ("hearthis",),
    "Jamendo": ("jamendo",),
    "Epidemic Sound": ("epidemic sound",),
    "Artlist": ("artlist",),
    "Songtradr": ("songtradr",),
    "Kobalt": ("kobalt",),
    "Dailymotion": ("dailymotion",),
    "Rumble": ("rumble.com",),
    "Substack": ("substack",),
    "Ko-fi": ("ko-fi", "kofi"),
    "Kickstarter": ("kickstarter",),
}


@dataclass(frozen=True, slots=True)
class Catalog:
    """What `corpus/sources.toml` says about services, documents and collections."""

    services: tuple[ServiceInfo, ...] = ()
    collections: tuple[CollectionInfo, ...] = ()

    def service(self, name: str) -> ServiceInfo | None:
        """The service whose name, OTA folder name or alias is `name`, case-insensitively."""
        key = _fold(name)
        for info in self.services:
            names = (info.name, *info.ota_names, *info.aliases)
            if any(_fold(candidate) == key for candidate in names):
                return info
        return None

    def canonical_name(self, name: str) -> str:
        info = self.service(name)
        return info.name if info else " ".join(name.split())

    def document(self, service: str, doc_type: str, collection: str = "") -> DocumentSource | None:
        info = self.service(service)
        if info is None:
            return None
        matches = [d for d in info.documents if _fold(d.type) == _fold(doc_type)]
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


def _fold(text: str) -> str:
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

_WORD = re.compile(r"[a-z0-9][a-z0-9.+&'-]*[a-z0-9+]|[a-z0-9]")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("’", "'"))


def _alias_forms(name: str, aliases: Iterable[str]) -> set[str]:
    forms = {_fold(name), _fold(name).replace(" ", "")}
    for alias in aliases:
        forms.add(_fold(alias))
    return {f for f in forms if f}


@dataclass(frozen=True, slots=True)
class ServiceMention:
    name: str
    text: str
    """The words of the question that named it."""


def find_services(
    text: str,
    available: Iterable[str],
    catalog: Catalog | None = None,
) -> tuple[list[ServiceMention], list[ServiceMention]]:
    """Platforms named in `text`: (those in the corpus, those it lacks), in order of mention.

    Matches names and aliases case-insensitively, as one or two words ("sound cloud"), and tolerates a
    typo in names of six letters or more ("soundclod", "spotfy").
    """
    catalog = catalog or load_catalog()
    words = _words(text)
    # Longest phrases first, so "apple music" is one mention, not also "apple".
    grams = [
        (i, size, " ".join(words[i : i + size])) for size in (3, 2, 1) for i in range(len(words) - size + 1)
    ]
    covered: set[int] = set()
    available_names = list(dict.fromkeys(catalog.canonical_name(n) for n in available))
    # (name, spellings, in corpus, typos tolerated): only the catalog's platforms are matched with a typo, so
    # that everyday words ("artists") are never read as a lesser-known platform ("Artlist").
    candidates: list[tuple[str, set[str], bool, bool]] = []
    for name in available_names:
        info = catalog.service(name)
        aliases = (*info.aliases, *info.ota_names) if info else ()
        candidates.append((name, _alias_forms(name, aliases), True, True))
    taken = {_fold(n) for n in available_names}
    for info in catalog.services:
        if _fold(info.name) not in taken:
            candidates.append(
                (info.name, _alias_forms(info.name, (*info.aliases, *info.ota_names)), False, True)
            )
            taken.add(_fold(info.name))
    for name, aliases in OTHER_PLATFORMS.items():
        if _fold(name) not in taken:
            # Only the listed spellings: some of these names are everyday words ("kick", "believe", "genius").
            candidates.append((name, {_fold(a) for a in aliases}, False, False))
    found: dict[str, tuple[int, ServiceMention, bool]] = {}
    for position, size, gram in grams:
        if covered.intersection(range(position, position + size)):
            continue
        for name, forms, in_corpus, _ in candidates:
            if name not in found and gram in forms:
                found[name] = (position, ServiceMention(name, gram), in_corpus)
                covered.update(range(position, position + size))
                break
    for position, size, gram in grams:
        if size > 2 or covered.intersection(range(position, position + size)) or gram in _COMMON_WORDS:
            continue
        for name, forms, in_corpus, typos in candidates:
            if name in found or not typos:
                continue
            if any(_close(gram, f) for f in forms if (" " in f) == (size == 2)):
                found[name] = (position, ServiceMention(name, gram), in_corpus)
                covered.update(range(position, position + size))
                break
    ordered = sorted(found.values(), key=lambda item: item[0])
    known = [mention for _, mention, in_corpus in ordered if in_corpus]
    unknown = [mention for _, mention, in_corpus in ordered if not in_corpus]
    return known, unknown


# Words that sit one typo away from a platform name and must never be read as one.
_COMMON_WORDS = frozenset(
    {
        "spotted",
        "deeper",
        "twitched",
        "videos",
        "video",
        "download",
        "soundly",
        "recipe",
        "apply",
        "ample",
        "twice",
    }
)


def _close(word: str, form: str) -> bool:
    """One typo away: "soundclod", "spotfy", "twich", "qubuz", "amazon musik". Short names need their
    first and last letters right, so that everyday words stay words."""
    if len(form) < 5 or len(word) < 5 or abs(len(word) - len(form)) > 2 or word[0] != form[0]:
        return False
    ratio = difflib.SequenceMatcher(None, word, form).ratio()
    if len(form) < 7:
        return word[-1] == form[-1] and ratio >= 0.8
    return ratio >= 0.84
