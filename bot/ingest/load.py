"""Loading documents: Open Terms Archive's dataset layout, the project's own `corpus/`, or a flat folder.

One loader for the three inputs. A file that cannot be used is reported (path, line, reason) and skipped;
the rest of the corpus still loads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from ..errors import CorpusError
from ..types import KINDS, Corpus, CorpusProblem, DocumentVersion, Provenance, text_sha256
from .catalog import Catalog, load_catalog
from .dates import find_version_date, parse_date, parse_file_date
from .markdown import clean_inline

SUFFIXES = (".md", ".markdown", ".txt")
MAX_FILE_BYTES = 20 * 1024 * 1024
_SKIP_NAMES = re.compile(r"^(readme|license|licence|changelog|sources|contributing)\b", re.I)
FRONT_MATTER_KEYS = frozenset(
    {
        "service",
        "title",
        "document",
        "kind",
        "url",
        "source",
        "source_url",
        "version_date",
        "date",
        "date_statement",
        "region",
        "language",
        "recorded",
        "via",
        "note",
        "source_title",
    }
)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    fields: dict[str, str]
    body_offset: int
    """Where the body starts in the file's text."""


class _Problem(Exception):
    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def load_corpus(paths: Sequence[Path | str], catalog: Catalog | None = None) -> Corpus:
    """Every document version under `paths`, newest information from `catalog` (sources.toml).

    Raises CorpusError only when a folder itself is missing; bad files become `Corpus.problems`.
    """
    catalog = catalog or load_catalog()
    versions: list[DocumentVersion] = []
    problems: list[CorpusProblem] = []
    for raw in paths:
        root = Path(raw).expanduser()
        if not root.exists():
            raise CorpusError(f"corpus folder {root} does not exist; give a folder of .md/.txt files")
        files = [root] if root.is_file() else sorted(_corpus_files(root))
        for path in files:
            try:
                versions.append(load_file(path, root if root.is_dir() else path.parent, catalog))
            except _Problem as problem:
                problems.append(CorpusProblem(str(path), problem.reason, problem.line))
            except OSError as exc:
                problems.append(CorpusProblem(str(path), f"cannot read: {exc.strerror or exc}"))
    return Corpus(versions=tuple(_dedupe(_unify_names(versions))), problems=tuple(problems))


def _corpus_files(root: Path) -> Iterable[Path]:
    for path in root.rglob("*"):
        rel = path.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in rel):
            continue
        if path.is_file() and path.suffix.lower() in SUFFIXES and not _SKIP_NAMES.match(path.name):
            yield path


def _unify_names(versions: list[DocumentVersion]) -> list[DocumentVersion]:
    """One spelling per service: "Soundcloud" and "SoundCloud" are one platform, shown the second way."""
    spellings: dict[str, set[str]] = {}
    for version in versions:
        spellings.setdefault(version.provenance.service.casefold(), set()).add(version.provenance.service)
    chosen = {
        key: max(sorted(names), key=lambda name: sum(ch.isupper() for ch in name))
        for key, names in spellings.items()
    }
    return [
        replace(v, provenance=replace(v.provenance, service=chosen[v.provenance.service.casefold()]))
        for v in versions
    ]


def _dedupe(versions: list[DocumentVersion]) -> list[DocumentVersion]:
    """The same text of the same document recorded twice is one version (the first recording)."""
    seen: dict[str, DocumentVersion] = {}
    for version in sorted(
        versions, key=lambda v: (v.provenance.recorded or v.provenance.version_date, v.path)
    ):
        seen.setdefault(version.provenance.version_id, version)
    return sorted(seen.values(), key=lambda v: (v.provenance.doc_key, v.provenance.version_date, v.path))


def read_text(path: Path) -> str:
    """The file as text with Unix line ends, or a _Problem saying why it is not usable text."""
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise _Problem(f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    if b"\x00" in data[:8192]:
        raise _Problem("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _Problem(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _Problem("empty file")
    return text


def parse_front_matter(text: str) -> FrontMatter | None:
    """A `---` … `---` header of `key: value` lines at the top of the file, or None when there is none."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---", 3)
    while end != -1 and text[end + 4 : end + 5] not in ("\n", ""):
        end = text.find("\n---", end + 4)
    if end == -1:
        raise _Problem("front matter opened with '---' on line 1 is never closed by a '---' line", 1)
    fields: dict[str, str] = {}
    for number, line in enumerate(text[4:end].split("\n"), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or not key:
            raise _Problem(f"front matter line is not 'key: value': {line.strip()[:60]!r}", number)
        if key not in FRONT_MATTER_KEYS:
            known = ", ".join(sorted(FRONT_MATTER_KEYS))
            raise _Problem(f"unknown front matter key {key!r}; known keys: {known}", number)
        fields[key] = _unquote(value.strip())
        fields[f"{key}#line"] = str(number)
    body = end + 4
    if text[body : body + 1] == "\n":
        body += 1
    return FrontMatter(fields, body)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def load_file(path: Path, root: Path, catalog: Catalog) -> DocumentVersion:
    text = read_text(path)
    front = parse_front_matter(text)
    rel = path.relative_to(root).parts if path.is_relative_to(root) else (path.name,)
    if front is not None:
        return _from_front_matter(path, text, front, catalog)
    ota = _ota_parts(root, rel)
    if ota is not None:
        return _from_ota(path, text, *ota, catalog=catalog)
    return _from_flat(path, text, catalog)


def _ota_parts(root: Path, rel: tuple[str, ...]) -> tuple[str, str, str, date] | None:
    """(collection, service, terms type, recorded date) when the path follows OTA's dataset layout."""
    if len(rel) == 4:
        collection, service, terms_type, name = rel
    elif len(rel) == 3 and root.name.endswith("-versions"):
        collection, (service, terms_type, name) = root.name, rel
    else:
        return None
    recorded = parse_file_date(name)
    if recorded is None:
        return None
    return collection, service, terms_type, recorded


def _from_ota(
    path: Path, text: str, collection: str, service: str, terms_type: str, recorded: date, *, catalog: Catalog
) -> DocumentVersion:
    name = catalog.canonical_name(service)
    source = catalog.document(name, terms_type, collection, folder=service) or catalog.document(
        name, terms_type, folder=service
    )
    region = source.region if source else catalog.collection_region(collection)
    stated = find_version_date(text, not_after=recorded)
    version_date, statement = stated if stated else (recorded, "")
    if _rel_region_hint(text) and not source:
        region = _rel_region_hint(text)
    provenance = Provenance(
        service=name,
        document=terms_type,
        title=detect_title(text, name, terms_type),
        kind=source.kind if source else catalog.kind_of(terms_type),
        region=region,
        version_date=version_date,
        date_statement=statement,
        source_url=source.url if source else "",
        text_sha256=text_sha256(text),
        recorded=recorded,
        language=catalog.language_of(name, source),
    )
    return DocumentVersion(provenance=provenance, text=text, path=str(path))


def _rel_region_hint(text: str) -> str:
    """A region a document states in its opening lines ("These terms apply if you live in the EEA")."""
    head = text[:800]
    if re.search(r"European Economic Area|\bEEA\b", head):
        return "EEA"
    return ""


def _from_front_matter(path: Path, text: str, front: FrontMatter, catalog: Catalog) -> DocumentVersion:
    fields = front.fields
    body = text[front.body_offset :]
    if not body.strip():
        raise _Problem("front matter but no text after it", 1)

    def line_of(key: str) -> int | None:
        return int(fields[f"{key}#line"]) if f"{key}#line" in fields else None

    service = fields.get("service") or _service_from_name(path)
    kind = fields.get("kind", "terms").lower()
    if kind not in KINDS:
        raise _Problem(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", line_of("kind"))
    stated_text = fields.get("version_date") or fields.get("date") or ""
    stated = find_version_date(body)
    if stated_text:
        parsed = parse_date(stated_text)
        key = "version_date" if "version_date" in fields else "date"
        if parsed is None:
            raise _Problem(f"{key} {stated_text!r} is not a date (write 2024-02-07)", line_of(key))
        version_date = parsed
        statement = fields.get("date_statement", stated[1] if stated and stated[0] == parsed else "")
    elif stated:
        version_date, statement = stated
    else:
        file_date = parse_file_date(path.name)
        if file_date is None:
            raise _Problem("no version date: add 'version_date: YYYY-MM-DD' to the front matter", 1)
        version_date, statement = file_date, ""
    recorded = parse_date(fields["recorded"]) if fields.get("recorded") else None
    name = catalog.canonical_name(service)
    document = fields.get("document") or fields.get("title") or "Document"
    provenance = Provenance(
        service=name,
        document=document,
        title=_strip_service(fields.get("title") or document, name),
        kind=kind,
        region=fields.get("region", "global"),
        version_date=version_date,
        date_statement=statement,
        source_url=fields.get("url") or fields.get("source_url") or fields.get("source", ""),
        text_sha256=text_sha256(body),
        recorded=recorded,
        language=fields.get("language") or catalog.language_of(name, None),
    )
    return DocumentVersion(provenance=provenance, text=body, path=str(path))


def _service_from_name(path: Path) -> str:
    stem = path.stem
    date_in_name = parse_file_date(stem)
    if date_in_name is not None:
        stem = re.sub(r"[_\s-]*(?:19|20)\d{2}-\d{2}-\d{2}.*$", "", stem) or path.parent.name
    return re.sub(r"[_]+", " ", stem).strip() or path.stem


def _from_flat(path: Path, text: str, catalog: Catalog) -> DocumentVersion:
    service = catalog.canonical_name(_service_from_name(path))
    recorded = parse_file_date(path.name)
    stated = find_version_date(text, not_after=recorded)
    if stated:
        version_date, statement = stated
    elif recorded:
        version_date, statement = recorded, ""
    else:
        raise _Problem(
            "no version date: the text states none and the file name has no YYYY-MM-DD; "
            "add front matter with 'version_date: YYYY-MM-DD'"
        )
    title = detect_title(text, service, "Terms")
    provenance = Provenance(
        service=service,
        document=title,
        title=title,
        kind="terms",
        region="global",
        version_date=version_date,
        date_statement=statement,
        source_url="",
        text_sha256=text_sha256(text),
        recorded=recorded,
        language=catalog.language_of(service, None),
    )
    return DocumentVersion(provenance=provenance, text=text, path=str(path))


_TITLE_WORDS = re.compile(
    r"\b(terms|conditions|policy|policies|guidelines|agreement|rules|standards|notice|conditions|"
    r"politique|contrat)\b",
    re.I,
)
_HEADING = re.compile(r"^(?:#{1,3}[ \t]+(?P<atx>.+)|(?P<setext>[^\n]+)\n[ \t]*(?:=+|-+)[ \t]*$)", re.M)


def detect_title(text: str, service: str, fallback: str) -> str:
    """The document's own title ("Terms of Use"), without the platform's name; `fallback` when unclear."""
    for match in _HEADING.finditer(text[:3000]):
        raw = match.group("atx") or match.group("setext") or ""
        title = clean_inline(raw)
        if not title or len(title) > 90 or len(title.split()) > 9 or title[0].isdigit():
            continue
        if _TITLE_WORDS.search(title):
            return _strip_service(title, service)
        break
    return fallback


def _strip_service(title: str, service: str) -> str:
    for prefix in (service, service.split()[0]):
        pattern = re.compile(rf"^{re.escape(prefix)}(?:'s|’s)?\s+", re.I)
        stripped = pattern.sub("", title)
        if stripped != title and stripped:
            return stripped[:1].upper() + stripped[1:]
    return title
