"""One `Settings` object for every part of policybot, read from `POLICYBOT_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_corpus_dir() -> Path:
    """The project's own `corpus/`: beside the package in a checkout, inside it in a wheel."""
    for candidate in (PACKAGE_DIR.parent / "corpus", PACKAGE_DIR / "_bundled_corpus"):
        if candidate.is_dir():
            return candidate
    return PACKAGE_DIR.parent / "corpus"


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
    # Answering
    max_citations: int = Field(default=3, ge=1, le=10)
    min_similarity: float = Field(
        default=0.36,
        ge=-1.0,
        le=1.0,
        description="Abstain when the best question–clause cosine similarity is below this (calibrated).",
    )
    max_question_chars: int = Field(default=2000, ge=10)
    max_excerpt_chars: int = Field(default=520, ge=80)
    # Embedding
    embed_precision: str = Field(
        default="auto", pattern="^(auto|fp32|bf16)$", description="bf16 where the CPU supports it natively."
    )
    embed_batch_size: int = Field(default=16, ge=1, description="Small batches pad less: faster on a CPU.")

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
