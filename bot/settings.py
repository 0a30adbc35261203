"""One `Settings` object for every part of policybot, read from `POLICYBOT_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_corpus_dir() -> Path:
    """The project's own `corpus/`: beside the package in a checkout, inside it in a wheel."""
    for candidate in (PACKAGE_DIR.parent / "corpus", PACKAGE_DIR / "_bundled_corpus"):
        if candidate.is_dir():
            return candidate
    return PACKAGE_DIR.parent / "corpus"


def _split_checked(value: object, check: Callable[[str], str]) -> object:
    """A comma- or space-separated setting as a tuple, each part passed through `check` (which names a bad one)."""
    if isinstance(value, str):
        value = [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, list | tuple):
        return tuple(check(str(v)) for v in value)
    return value


def _check_origin(origin: str) -> str:
    """An origin as browsers send it (scheme://host[:port], no path), or "*"."""
    origin = origin.strip().rstrip("/")
    if origin != "*" and not re.fullmatch(r"https?://[^/\s?#]+", origin):
        raise ValueError(
            f"cors_origins: {origin!r} is not an origin; write scheme://host[:port], e.g. https://example.com"
        )
    return origin


def _check_host(host: str) -> str:
    """A host name or address as a Host header carries it (no scheme, port or path), "*.domain", or "*"."""
    host = host.strip().casefold().rstrip(".")
    bare = host[2:] if host.startswith("*.") else host
    if host != "*" and not (
        re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", bare) or re.fullmatch(r"\[?[0-9a-f:.]+\]?", bare)
    ):
        raise ValueError(
            f"allowed_hosts: {host!r} is not a host name; write e.g. bot.example.com, *.example.com or 10.0.0.5"
        )
    return host.strip("[]")


def _check_network(value: str) -> str:
    """An address or network (CIDR) of a trusted proxy, or "*"."""
    value = value.strip()
    if value != "*":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"forwarded_allow_ips: {value!r} is not an address or network; write e.g. 127.0.0.1 or 10.0.0.0/24"
            ) from None
    return value


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "policybot"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policybot"


ENV_PREFIX = "POLICYBOT_"


def environment_values(fields: Any) -> dict[str, str]:
    """The `POLICYBOT_<FIELD>` environment variables (any case) of `fields`, as the raw strings they are:
    each field's validators parse them (lists are comma- or space-separated, never JSON)."""
    wanted = {f"{ENV_PREFIX}{name}".casefold(): name for name in fields}
    return {wanted[key.casefold()]: value for key, value in os.environ.items() if key.casefold() in wanted}


class Settings(BaseModel):
    """All configuration. Paths are settings so tests can point them at a temporary folder. Values given
    to the constructor win over `POLICYBOT_*` environment variables, which win over the defaults.

    A plain pydantic model reading the environment itself: pydantic-settings cost more to import than a
    cold `policybot ask` may spend in all."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**environment_values(type(self).model_fields), **values})

    data_dir: Path = Field(default_factory=default_data_dir, description="Everything the bot keeps.")
    chroma_url: str = Field(
        default="",
        description="http://host:port of a Chroma server (`chroma run`); empty = embedded store in data_dir.",
    )
    # Retrieval
    k: int = Field(default=5, ge=1, le=50, description="Hits returned by search.")
    candidates: int = Field(default=40, ge=5, le=500, description="Candidates taken from each retriever.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    draft_cache: int = Field(
        default=512,
        ge=0,
        le=100_000,
        description="Drafted answers kept per index generation, for questions read the same way on the same day "
        "(a generation's answers never change under it); 0 = draft every answer afresh.",
    )
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
    embed_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="onnx: ONNX Runtime on policybot's export of the bundled model (no torch at query time); "
        "torch: sentence-transformers, the reference. Same vectors (cosine 1.000000).",
    )
    model_cache: Path = Field(
        default_factory=default_cache_dir,
        description="Where the ONNX export of the bundled model is kept (`make setup` or the first index "
        "writes it; derived from installed files only). Default: ~/.cache/policybot.",
    )
    # Web: the chat page, the HTTP API and the widget (bot/web/).
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="Origins whose pages may call the API (comma-separated in the environment, e.g. "
        "https://help.example.com); empty = the page's own origin only; * = any origin.",
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=0, description="Questions per minute per client address; 0 = no limit."
    )
    rate_limit_burst: int = Field(default=10, ge=1, description="Questions a client may ask at once.")
    max_request_bytes: int = Field(
        default=32_768, ge=1024, description="Largest request body, on every route (API and chat page)."
    )
    max_history: int = Field(
        default=20,
        ge=0,
        le=200,
        description="Earlier questions a follow-up reads; also the turns a chat page conversation keeps.",
    )
    allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Host names the server answers to besides localhost and the address a request came in on "
        "(comma-separated, e.g. bot.example.com; *.example.com for its subdomains; * = any). Stops DNS rebinding.",
    )
    forwarded_allow_ips: tuple[str, ...] = Field(
        default=(),
        description="Proxies whose X-Forwarded-For, -Proto and -Host are believed (addresses or networks, "
        "comma-separated, e.g. 127.0.0.1 or 10.0.0.0/24; * = any peer); empty = none: the peer is the client.",
    )
    request_rate_per_minute: int = Field(
        default=1200,
        ge=0,
        description="Requests of any kind (page assets included) per minute per client address; 0 = no limit. "
        "Off too when rate_limit_per_minute is 0.",
    )
    request_burst: int = Field(
        default=300, ge=1, description="Requests of any kind a client may send at once."
    )
    max_header_bytes: int = Field(
        default=16_384, ge=1024, le=1_048_576, description="Largest request line plus headers."
    )
    client_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a client has to send a request's headers, and again its body, before it is cut off.",
    )
    shutdown_timeout: int = Field(
        default=5,
        ge=0,
        le=300,
        description="Seconds a shutdown waits for open requests and event streams before closing them.",
    )
    max_connections: int = Field(
        default=256, ge=8, description="Open connections at once; more are refused with 503."
    )
    chat_max_sessions: int = Field(
        default=1000, ge=10, description="Chat page sessions kept in memory; beyond it the oldest is dropped."
    )
    chat_session_ttl: int = Field(
        default=3600, ge=60, description="Seconds a chat page conversation is kept after its last question."
    )
    api_keys: tuple[SecretStr, ...] = Field(
        default=(),
        description="Bearer keys the OpenAI-compatible API (/v1) accepts (comma-separated in the environment); "
        "empty = no key needed. From the environment only.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return _split_checked(value, _check_origin)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return _split_checked(value, _check_host)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        return _split_checked(value, _check_network)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        # Settings copied with model_dump() hand the keys back as SecretStr: keep them, never their masked str().
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list | tuple):
            keys = (v if isinstance(v, SecretStr) else SecretStr(str(v).strip()) for v in value)
            return tuple(k for k in keys if k.get_secret_value())
        return value

    @field_validator("data_dir", "model_cache", mode="before")
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
