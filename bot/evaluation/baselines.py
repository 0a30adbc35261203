"""The LangChain tutorial recipe as a baseline: every document version split by
`RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`, stored in `langchain_chroma.Chroma`
(its own directory and collection) with the same MiniLM, and the top chunks of a similarity search.

No question reading, no platform or date filter, no abstention, no answer step (the tutorial's answer is a
language model call; offline there is none): what a reader of the tutorial would have built.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..types import Corpus
from .gold import GoldQuestion
from .metrics import DEPTH, Evidence, Outcome

if TYPE_CHECKING:
    from langchain_core.documents import Document

    from ..index.embeddings import MiniLMEmbeddings
    from .versions import CorpusVersions

Progress = Callable[[str, int, int], None]

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
COLLECTION = "langchain_recipe"
MARKER = "complete.json"
BATCH = 256


def _nothing(stage: str, done: int, total: int) -> None:
    return None


def recipe_documents(corpus: Corpus) -> list[Document]:
    """One LangChain Document per stored version, with what the hit rule needs as metadata."""
    from langchain_core.documents import Document

    return [
        Document(
            page_content=v.text,
            metadata={
                "service": v.provenance.service,
                "document": v.provenance.document,
                "region": v.provenance.region,
                "version_date": v.provenance.version_date.isoformat(),
                "sha": v.provenance.text_sha256,
                "source": v.path,
            },
        )
        for v in corpus.versions
    ]


def split_documents(documents: Sequence[Document]) -> list[Document]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return splitter.split_documents(list(documents))


def recipe_fingerprint(corpus: Corpus, model: str) -> str:
    digest = hashlib.sha256(f"{model}|{CHUNK_SIZE}|{CHUNK_OVERLAP}".encode())
    for key in sorted(f"{v.provenance.doc_key}|{v.provenance.text_sha256}" for v in corpus.versions):
        digest.update(key.encode())
    return digest.hexdigest()[:16]


def _client_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def vector_store(path: Path, embedder: MiniLMEmbeddings) -> Any:
    from langchain_chroma import Chroma

    from ..index.embeddings import as_langchain, offline_environment

    offline_environment()
    # Our embedder, always: Chroma's default embedding function would download a model.
    return Chroma(
        collection_name=COLLECTION,
        embedding_function=as_langchain(embedder),
        persist_directory=str(path),
        client_settings=_client_settings(),
    )


@dataclass(frozen=True, slots=True)
class Recipe:
    """A built recipe index: the LangChain vector store and what went into it."""

    store: Any
    path: Path
    documents: int
    chunks: int
    seconds: float
    """Time to build it in this run; 0 when an identical one was reused."""
    reused: bool

    def search(self, text: str, k: int = DEPTH) -> list[Document]:
        found: list[Document] = self.store.similarity_search(text, k=k)
        return found

    def describe(self) -> dict[str, Any]:
        return {
            "splitter": f"RecursiveCharacterTextSplitter(chunk_size={CHUNK_SIZE}, chunk_overlap={CHUNK_OVERLAP})",
            "store": "langchain_chroma.Chroma",
            "embedding": "bot.embeddings.get_embedder() (all-MiniLM-L6-v2, the same model as policybot)",
            "k": DEPTH,
            "documents": self.documents,
            "chunks": self.chunks,
            "build_seconds": round(self.seconds, 1),
            "reused": self.reused,
        }


def build_recipe(
    corpus: Corpus, path: Path, embedder: MiniLMEmbeddings, *, progress: Progress | None = None
) -> Recipe:
    """Split and embed every version into a fresh Chroma collection at `path` (what the tutorial does on
    every run: it has no notion of unchanged text)."""
    report = progress or _nothing
    began = time.perf_counter()
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    documents = recipe_documents(corpus)
    chunks = split_documents(documents)
    store = vector_store(path, embedder)
    report("recipe", 0, len(chunks))
    for start in range(0, len(chunks), BATCH):
        store.add_documents(chunks[start : start + BATCH])
        report("recipe", min(start + BATCH, len(chunks)), len(chunks))
    seconds = time.perf_counter() - began
    (path / MARKER).write_text(
        json.dumps({"documents": len(documents), "chunks": len(chunks), "seconds": seconds}), encoding="utf-8"
    )
    return Recipe(store, path, len(documents), len(chunks), seconds, reused=False)


def open_recipe(
    corpus: Corpus,
    directory: Path,
    embedder: MiniLMEmbeddings,
    *,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> Recipe:
    """The recipe index of this corpus under `directory`, reused when an identical one is complete there;
    other (stale) recipe indexes in `directory` are removed."""
    path = directory / recipe_fingerprint(corpus, embedder.name)
    marker = path / MARKER
    if marker.is_file() and not rebuild:
        facts = json.loads(marker.read_text(encoding="utf-8"))
        return Recipe(
            vector_store(path, embedder), path, int(facts["documents"]), int(facts["chunks"]), 0.0, True
        )
    if directory.is_dir():
        for stale in directory.iterdir():
            if stale.is_dir() and stale != path and (stale / MARKER).is_file():
                shutil.rmtree(stale)
    return build_recipe(corpus, path, embedder, progress=progress)


def recipe_query(question: GoldQuestion) -> str:
    """The recipe has no conversation memory without a language model: a follow-up is sent after the earlier
    questions, joined, which is the closest offline stand-in for the tutorial's condensing step."""
    return " ".join([*question.history, question.question])


def document_evidence(document: Document) -> Evidence:
    meta = document.metadata
    return Evidence(
        service=str(meta["service"]),
        document=str(meta["document"]),
        version_date=date.fromisoformat(str(meta["version_date"])),
        text=document.page_content,
        excerpt=document.page_content,
    )


def run_recipe(
    recipe: Recipe,
    questions: Sequence[GoldQuestion],
    corpus: CorpusVersions,
    *,
    progress: Progress | None = None,
) -> dict[str, Outcome]:
    """Every question through the recipe; each returned chunk is checked to be a substring of its version."""
    report = progress or _nothing
    outcomes: dict[str, Outcome] = {}
    report("recipe-questions", 0, len(questions))
    for n, question in enumerate(questions, start=1):
        began = time.perf_counter()
        found = recipe.search(recipe_query(question))
        latency = (time.perf_counter() - began) * 1000
        verified = 0
        labelled = 0
        for document in found:
            meta = document.metadata
            stored = corpus.text(str(meta["sha"]))
            verified += stored is not None and document.page_content in stored
            labelled += corpus.labels_match(
                str(meta["sha"]),
                str(meta["service"]),
                str(meta["document"]),
                date.fromisoformat(str(meta["version_date"])),
            )
        outcomes[question.id] = Outcome(
            question_id=question.id,
            evidence=tuple(document_evidence(d) for d in found),
            abstained=False,
            latency_ms=latency,
            checked=len(found),
            verified=verified,
            labelled=labelled,
        )
        report("recipe-questions", n, len(questions))
    return outcomes
