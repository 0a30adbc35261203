"""Chroma's client, embedded or a server, and the guards that turn its failures into one-line policybot errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlparse

from ..errors import IndexMissing, StoreUnavailable
from ..settings import Settings


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def make_client(settings: Settings) -> Any:
    """Chroma's client: a server when `chroma_url` is set, else an embedded store in the data dir."""
    from .embeddings import offline_environment

    offline_environment()
    import chromadb

    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            port = url.port or (443 if url.scheme == "https" else 8000)
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=port,
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
            client.heartbeat()
            return client
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except StoreUnavailable:
        raise
    except Exception as exc:
        where = settings.chroma_url or str(settings.data_dir / "chroma")
        hint = (
            "start it with `chroma run --path DIR --port PORT` or unset POLICYBOT_CHROMA_URL"
            if settings.chroma_url
            else "check that the data directory is writable (--data-dir / POLICYBOT_DATA_DIR)"
        )
        raise StoreUnavailable(f"cannot open the Chroma store at {where}: {one_line(exc)}; {hint}") from None


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def is_missing(exc: BaseException) -> bool:
    """Whether a Chroma error says the collection (or record) asked for does not exist."""
    text = str(exc).casefold()
    return type(exc).__name__ == "NotFoundError" or "does not exist" in text or "not found" in text


class StoreGuard:
    """Turns a Chroma failure into one StoreUnavailable line that says what was being done."""

    def __init__(self, settings: Settings, action: str) -> None:
        self.settings = settings
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> Literal[False]:
        if exc is None or isinstance(exc, (StoreUnavailable, IndexMissing, KeyboardInterrupt)):
            return False
        name = type(exc).__name__
        if name in {
            "ConnectError",
            "ConnectionError",
            "ConnectTimeout",
            "ReadTimeout",
            "RemoteProtocolError",
        } or ("connect" in str(exc).casefold() and self.settings.chroma_url):
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {self.settings.chroma_url} to {self.action}: {one_line(exc)}; "
                "check that `chroma run` is up or unset POLICYBOT_CHROMA_URL"
            ) from None
        return False


class GuardedCollection:
    """A Chroma collection whose calls fail as one-line policybot errors: a query that meets a stopped server
    is a StoreUnavailable (503 on the web), a generation dropped under it an IndexMissing."""

    def __init__(self, collection: Any, settings: Settings, generation: str) -> None:
        self._collection = collection
        self._settings = settings
        self._generation = generation

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with StoreGuard(self._settings, "read the index"):
                try:
                    return attribute(*args, **kwargs)
                except Exception as exc:
                    if is_missing(exc):
                        raise IndexMissing(
                            f"index generation {self._generation} was removed while in use (a newer "
                            "one replaced it); ask again"
                        ) from None
                    raise

        return call


def pages(collection: Any, include: list[str], size: int = 5000) -> Iterator[dict[str, Any]]:
    """Every record of `collection`, `size` at a time (one request for a whole generation would be huge)."""
    offset = 0
    while True:
        batch = collection.get(include=include, limit=size, offset=offset)
        if not batch["ids"]:
            return
        yield batch
        offset += len(batch["ids"])
        if len(batch["ids"]) < size:
            return
