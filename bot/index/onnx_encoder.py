"""all-MiniLM-L6-v2 without torch: ONNX Runtime on the exported graph (bot/index/export.py) and the
`tokenizers` package on the bundled tokenizer.json.

Tokenisation matches sentence-transformers for this model: the bundled tokenizer.json (which lowercases),
truncation to `max_seq_length` word pieces from sentence_bert_config.json (256, including [CLS]/[SEP]; the
tokenizer.json itself says a fixed 128, which sentence-transformers overrides too), padding to the longest
text of each batch. Pooling and normalisation are inside the graph.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import model_path

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

INSTALL_HINT = "the ONNX embedding path needs onnxruntime and tokenizers: run `make setup`"


class OnnxEncoder:
    """One ONNX Runtime session and tokenizer; `encode` is safe to call from several threads at once."""

    def __init__(self, onnx_file: Path, *, threads: int = 1, batch_size: int = 16) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ImportError(f"{INSTALL_HINT} ({exc})") from exc
        if not onnx_file.is_file():
            raise FileNotFoundError(f"no ONNX model at {onnx_file}: run `python -m bot.index.export`")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
        folder = Path(model_path())
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(config.get("max_seq_length", 256))
        self.lowercase = bool(config.get("do_lower_case", False))
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer.no_padding()  # padded per batch in _run, to that batch's longest text
        pad = self.tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad is None else pad
        self.session = _session(ort, onnx_file, threads)
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        if isinstance(texts, str):
            raise TypeError(f"encode() takes a list of texts, got the string {texts[:40]!r}")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([t.lower() if self.lowercase else t for t in texts])
        # Longest first, by tokens, so that each batch pads little; then back to the caller's order.
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([encodings[i] for i in rows])
        return out

    def _run(self, encodings: Sequence[Any]) -> NDArray[np.float32]:
        import numpy as np

        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = (
                encoding.ids,
                encoding.attention_mask,
                encoding.type_ids,
            )
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        (vectors,) = self.session.run(
            ["sentence_embedding"], {k: v for k, v in feeds.items() if k in self.inputs}
        )
        result: NDArray[np.float32] = np.asarray(vectors, dtype=np.float32)
        return result


def _session(ort: Any, onnx_file: Path, threads: int) -> Any:
    """A session on the graph ONNX Runtime optimised for this machine, kept beside the model on first use
    (optimising the graph is half the cost of opening it): the same optimisations as in a fresh session, done
    once. A cache that cannot be written or read only means optimising again."""
    import platform

    machine = f"ort-{ort.__version__}-{platform.machine() or 'cpu'}"  # optimisations may be the CPU's own
    optimised = onnx_file.with_name(f"{onnx_file.stem}.{machine}.optimised.onnx")
    providers = ["CPUExecutionProvider"]
    if optimised.is_file():
        options = _session_options(ort, threads)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(optimised), options, providers=providers)
        except Exception:  # a damaged cache: optimise again below
            optimised.unlink(missing_ok=True)
    options = _session_options(ort, threads)
    scratch = optimised.with_name(f".{optimised.name}.{os.getpid()}")
    options.optimized_model_filepath = str(scratch)
    try:
        session = ort.InferenceSession(str(onnx_file), options, providers=providers)
        os.replace(scratch, optimised)
    except OSError:
        scratch.unlink(missing_ok=True)
        options.optimized_model_filepath = ""
        session = ort.InferenceSession(str(onnx_file), _session_options(ort, threads), providers=providers)
    return session


def _session_options(ort: Any, threads: int) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads or (os.cpu_count() or 1))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # With dynamic (batch, sequence) shapes the CPU arena keeps every peak: RSS went from ~240 MiB to
    # ~900 MiB after a few document batches; without it, it stays near 270 MiB.
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    # Idle worker threads spin by default, taking CPU from concurrent requests on a small machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options
