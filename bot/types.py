"""The data that flows through policybot: document version → clause → chunk → hit → citation → answer.

Frozen dataclasses with no I/O, so every stage can be tested with plain values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

KINDS: tuple[str, ...] = ("terms", "guidelines", "policy", "monetisation", "statement", "help", "note")
"""What a document is: only "terms" (the platform's user agreement) bind it; guidelines, policies and
monetisation terms add rules or cover a programme; statements, help pages and notes explain."""


def short_hash(*parts: str, length: int = 16) -> str:
    """A stable id from text parts: the same inputs always give the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def section_path(section: tuple[str, ...], label: str) -> str:
    """How a citation names its place: "Grant of license › ¶4"."""
    return " › ".join((*section, label)) if section else label


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a piece of text comes from: one dated version of one platform document."""

    service: str
    """Platform name as shown to users, e.g. "SoundCloud"."""
    document: str
    """Document type, stable across versions, e.g. "Terms of Service" (Open Terms Archive's terms type)."""
    title: str
    """The document's own title, e.g. "Terms of Use"."""
    kind: str
    """One of KINDS: only "terms" binds."""
    region: str
    """Where the document applies: "global", "US", "EEA", "FR", ..."""
    version_date: date
    """The date the text states for itself (Last Amended / Effective / Last updated), else the recorded date."""
    date_statement: str
    """The text's own words for its date, e.g. "Last Amended: August 17, 2026"; empty when it states none."""
    source_url: str
    """The public address of the document ("" when unknown)."""
    text_sha256: str
    """SHA-256 of the stored version text: the key the verbatim check reads the text back by."""
    recorded: date | None = None
    """When an archive captured this version (from the file name), if known."""
    language: str = "en"
    """The language the document is written in ("fr" for Deezer's terms): excerpts are quoted in it."""

    @property
    def doc_key(self) -> str:
        """Identity of the document across its versions: service + document type + region."""
        return f"{self.service.casefold()}|{self.document.casefold()}|{self.region.casefold()}"

    @property
    def version_id(self) -> str:
        return short_hash(self.doc_key, self.text_sha256)

    @property
    def date_label(self) -> str:
        """How a citation names the version: the text's own words, else the date."""
        if self.date_statement:
            return self.date_statement
        return f"version of {self.version_date.isoformat()}"

    @property
    def binding(self) -> bool:
        return self.kind == "terms"


@dataclass(frozen=True, slots=True)
class DocumentVersion:
    """One stored version of a document, with its full text exactly as loaded."""

    provenance: Provenance
    text: str
    path: str
    """The file it was loaded from."""


@dataclass(frozen=True, slots=True)
class Clause:
    """One unit of a document's own structure: a paragraph, list item or numbered item, in one section."""

    provenance: Provenance
    section: tuple[str, ...]
    """Headings from the top of the document down to this clause."""
    label: str
    """The item's own number ("(xi)", "3.5", "a)") or its paragraph position in the section ("¶4")."""
    start: int
    end: int
    """Character offsets of the clause in the stored version text."""
    text: str

    @property
    def section_path(self) -> str:
        return section_path(self.section, self.label)

    @property
    def heading(self) -> str:
        return self.section[-1] if self.section else ""

    def hit(self, start: int, end: int, score: float, similarity: float = 0.0) -> Hit:
        """The span [start, end) of this clause (offsets within the clause) as a hit that can be cited."""
        return Hit(
            chunk_id="",
            provenance=self.provenance,
            section=self.section,
            label=self.label,
            start=self.start + start,
            end=self.start + end,
            text=self.text[start:end],
            clause_start=self.start,
            clause_end=self.end,
            score=score,
            similarity=similarity,
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """What is indexed: a window of whole sentences of one clause, never crossing a section."""

    clause: Clause
    start: int
    end: int
    """Character offsets of the chunk in the stored version text."""
    text: str
    """Verbatim text of the chunk (stored_text[start:end])."""
    embed_text: str
    """What the embedding model and BM25 see: document title and headings, then the text."""

    @property
    def text_hash(self) -> str:
        """Key of the embedding: identical text under identical headings is embedded once."""
        return short_hash(self.embed_text, length=32)

    @property
    def chunk_id(self) -> str:
        """Hash of text and provenance, so re-indexing the same corpus gives the same ids."""
        p = self.clause.provenance
        return short_hash(self.embed_text, p.version_id, str(self.start), str(self.end), length=32)


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk returned by retrieval, with its scores."""

    chunk_id: str
    provenance: Provenance
    section: tuple[str, ...]
    label: str
    start: int
    end: int
    text: str
    clause_start: int
    clause_end: int
    score: float
    """Fused rank score (reciprocal rank fusion): higher is better, comparable within one query only."""
    similarity: float
    """Cosine similarity between the question and the chunk (0 when only BM25 found it)."""
    dense_rank: int | None = None
    bm25_rank: int | None = None

    @property
    def section_path(self) -> str:
        return section_path(self.section, self.label)

    @property
    def clause_key(self) -> tuple[str, int]:
        return (self.provenance.version_id, self.clause_start)


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    """The question, cleaned of control characters and extra whitespace."""
    services: tuple[str, ...]
    """Platforms it names that the corpus holds."""
    unknown_services: tuple[str, ...]
    """Platforms it names that the corpus lacks."""
    as_of: date | None
    """The date whose versions answer it ("in March 2024" → 2024-03-31), None for the latest."""
    date_phrase: str
    instruction: bool
    """It tries to instruct the bot (prompt injection) instead of asking about terms."""
    task: bool
    """It asks for something other than information from terms (write a poem, translate, …)."""
    topic: str
    """What to search for: the question without the platform names, the date and talk about "the terms"."""
    region: str | None = None
    """A region the question asks about ("in the EU" → "EEA"), matched against documents' regions."""
    standalone: str = ""
    """The question as asked, or rewritten from the conversation when it was a follow-up ("and Bandcamp?")."""
    then_and_now: bool = False
    """It asks about the version in force at `as_of` and about today's ("in 2023 … and now?")."""
    earliest: bool = False
    """It asks for the oldest version held ("when the terms were first archived")."""
    back: bool = False
    """It points back at the date the conversation was about ("back then")."""
    language: str = "en"
    """The language it is written in ("en", "fr")."""
    categories: tuple[str, ...] = ()
    """Kinds of platform it asks across ("which AI image generators …" → ai_image_generator)."""


@dataclass(frozen=True, slots=True)
class Citation:
    """A verified verbatim excerpt of a stored version, numbered as it is cited in the answer."""

    n: int
    provenance: Provenance
    section: tuple[str, ...]
    label: str
    start: int
    end: int
    excerpt: str
    """Exactly stored_text[start:end]; checked in code before it is shown."""
    url: str
    """Source address with a text fragment pointing at the excerpt, where the address is known."""
    clause_start: int
    clause_end: int
    clause_text: str
    """The whole clause the excerpt sits in, for showing the excerpt in context."""
    newer_version: str = ""
    """Date label of a newer version of the same document, when this citation is from an older one."""

    @property
    def section_path(self) -> str:
        return section_path(self.section, self.label)


@dataclass(frozen=True, slots=True)
class Summary:
    """policybot's own plain summary of a platform's position on a topic (a note), shown before the quotes."""

    service: str
    topic: str
    stance: str
    text: str
    citation: int | None = None
    """The `n` of the citation quoting the clause the summary rests on."""


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One platform in a comparison table: its stance, the project's note, and the deciding excerpt."""

    service: str
    stance: str | None
    note: str
    """The project's summary, or what was checked ("not addressed in Terms of Use (August 17, 2026)")."""
    citation: int | None
    """The `n` of the citation quoting the deciding clause, or None when the terms don't address it."""


AbstainReason = Literal[
    "instruction", "off_topic", "unknown_service", "no_version", "no_evidence", "not_addressed"
]
"""Why the bot does not answer; the messages for each are in bot/answer/abstain.py."""


@dataclass(frozen=True, slots=True)
class Abstention:
    """A stage's decision not to answer, and what to tell the user instead."""

    reason: AbstainReason
    message: str


DISCLAIMER = (
    "Not legal advice: policybot shows what the platforms' documents say, not what they mean for your case."
)


@dataclass(frozen=True, slots=True)
class Answer:
    """What `ask()` returns to the command line, the chat page, the HTTP API and the evaluation."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    reason: AbstainReason | Literal[""] = ""
    """Why the bot abstained (empty when it answered)."""
    services: tuple[str, ...] = ()
    """Platforms the question named (as found in the corpus)."""
    as_of: date | None = None
    """The date whose versions were searched, when the question or caller gave one."""
    notes: tuple[str, ...] = ()
    """Short remarks shown after the answer (older version cited, statement vs terms, ...)."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone: str = ""
    """For a follow-up, the question as understood from the conversation; empty otherwise."""
    topic: str = ""
    """The taxonomy topic the question is about (bot/topics.py), when it names one."""
    summaries: tuple[Summary, ...] = ()
    comparison: tuple[ComparisonRow, ...] = ()
    glossary: tuple[tuple[str, str], ...] = ()
    """(term, plain meaning) for legal words the quoted excerpts use."""
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True, slots=True)
class Draft:
    """What the stages found and the extractive answer built from it: the input of every composer."""

    question: Question
    hits: tuple[Hit, ...]
    """Retrieved clauses, best first: all a generative composer may cite."""
    answer: Answer
    """The extractive, verified answer (or abstention): the default, and the fallback of other composers."""


@dataclass(frozen=True, slots=True)
class CorpusProblem:
    """A file that could not be loaded, and why; the rest of the corpus is still indexed."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Corpus:
    """Everything loaded from the corpus folders, plus what was skipped."""

    versions: tuple[DocumentVersion, ...]
    problems: tuple[CorpusProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What `build_index` did, for the command line and the benchmarks."""

    documents: int
    versions: int
    clauses: int
    chunks: int
    embedded: int
    """Chunks whose text had to be embedded in this run (0 when nothing changed)."""
    seconds: float
    generation: str
    unchanged: bool
    problems: tuple[CorpusProblem, ...] = ()
