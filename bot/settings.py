"""One `Settings` object for every part of policybot, read from `POLICYBOT_*` environment variables."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_corpus_dir() -> Path:
    """The project's own `corpus/`: beside the package in a checkout, inside it in a wheel."""
    for candidate in (PACKAGE_DIR.parent / "corpus", PACKAGE_DIR / "_bundled_corpus"):
        if candidate.is_dir():
            return candidate
    return PACKAGE_DIR.parent / "corpus"


def _check_origin(origin: str) -> str:
    """An origin as browsers send it (scheme://host[:port], no path), or "*"."""
    origin = origin.strip().rstrip("/")
    if origin != "*" and not re.fullmatch(r"https?://[^/\s?#]+", origin):
        raise ValueError(
            f"cors_origins: {origin!r} is not an origin; write scheme://host[:port], e.g. https://example.com"
        )
    return origin


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "policybot"


class Settings(BaseSettings):
    """All configuration. Paths are settings so tests can point them at a temporary folder."""

    model_config = SettingsConfigDict(env_prefix="POLICYBOT_", extra="ignore", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir, description="Everything the bot keeps.")
    chroma_url: str = Field(
        default="",
        description="http://host:port of a Chroma server (`chroma run`); empty = embedded store in data_dir.",
    )
    # Retrieval
    k: int = Field(default=5, ge=1, le=50, description="Hits returned by search.")
    candidates: int = Field(default=40, ge=5, le=500, description="Candidates taken from each retriever.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    terms_prior: float = Field(
        default=1.1,
        ge=1.0,
        le=3.0,
        description="How much the main terms outrank other documents of equal score.",
    )
    # Answering
    max_citations: int = Field(default=3, ge=1, le=10)
    # Abstention thresholds, calibrated on eval/dev_questions.jsonl (see README, "Abstention").
    min_similarity: float = Field(
        default=0.25,
        ge=-1.0,
        le=1.0,
        description="Abstain below this best question–clause cosine similarity.",
    )
    min_similarity_named: float = Field(
        default=0.1,  # low: MiniLM reads English, and French terms score low
        ge=-1.0,
        le=1.0,
        description="The same, when the question names a platform in the corpus.",
    )
    min_domain_margin: float = Field(
        default=0.0, ge=-2.0, le=2.0, description="Abstain as off topic below this margin (bot/domain.py)."
    )
    min_domain_margin_named: float = Field(
        default=-0.3, ge=-2.0, le=2.0, description="The same, when the question names a platform."
    )
    max_question_chars: int = Field(default=2000, ge=10)
    max_excerpt_chars: int = Field(default=520, ge=80)
    # Composing the answer: extractive (offline, the default) or a language model through LangChain.
    composer: Literal["extractive", "llm"] = Field(default="extractive", description="extractive | llm")
    llm_provider: Literal["openai", "ollama"] = Field(
        default="openai", description="openai-compatible | ollama"
    )
    llm_base_url: str = Field(default="", description="e.g. http://localhost:11434 (Ollama), http://host/v1")
    llm_model: str = Field(default="", description="Model name at the provider.")
    llm_api_key: SecretStr = Field(default=SecretStr(""), description="From the environment only.")
    llm_timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds before falling back.")
    notes_dir: Path | None = Field(default=None, description="policybot's topic notes; default corpus/notes.")
    # Embedding
    embed_precision: str = Field(
        default="auto", pattern="^(auto|fp32|bf16)$", description="bf16 where the CPU supports it natively."
    )
    embed_batch_size: int = Field(default=16, ge=1, description="Small batches pad less: faster on a CPU.")
    # Web: the chat page, the HTTP API and the widget (bot/web/).
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Origins whose pages may call the API (comma-separated in the environment, e.g. "
        "https://help.example.com); empty = the page's own origin only; * = any origin.",
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=0, description="Questions per minute per client address; 0 = no limit."
    )
    rate_limit_burst: int = Field(default=10, ge=1, description="Questions a client may ask at once.")
    max_request_bytes: int = Field(default=32_768, ge=1024, description="Largest API request body.")
    max_history: int = Field(default=20, ge=0, le=200, description="Earlier questions a follow-up reads.")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if isinstance(value, list | tuple):
            return tuple(_check_origin(str(v)) for v in value)
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _expand(cls, value: object) -> object:
        if isinstance(value, str):
            return Path(value).expanduser()
        if isinstance(value, Path):
            return value.expanduser()
        return value

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"chroma_url must start with http:// or https://, got {value!r}")
        return value.rstrip("/")
