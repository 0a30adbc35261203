"""Question understanding by nearest written examples: which topic a question is about (bot/data/topics.toml)
and what it asks for — a figure, a time limit, a consequence, a notice, a kind of document
(bot/data/intents.toml). No keyword rules: a question is read by its closeness, in the embedding space, to
questions written for each topic and intent."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ..data import Data, Pattern, load
from .topics import TOPICS, Topic, named_topics

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..index.embeddings import MiniLMEmbeddings


class _Intent(Data):
    id: str
    examples: tuple[str, ...]
    supplies: Pattern = ""
    """What a clause must contain to answer a question with this intent ("" when any clause may)."""


class _Intents(Data):
    intents: tuple[_Intent, ...]


@cache
def intents() -> tuple[_Intent, ...]:
    return load("intents.toml", _Intents).intents


INTENT_IDS: tuple[str, ...] = tuple(i.id for i in load("intents.toml", _Intents).intents)


@cache
def supplies(intent: str) -> re.Pattern[str] | None:
    """What an excerpt must contain to answer a question asking for `intent` (None: nothing in particular)."""
    pattern = next((i.supplies for i in intents() if i.id == intent), "")
    return re.compile(pattern, re.I) if pattern else None


@dataclass(frozen=True, slots=True)
class _Examples:
    vectors: NDArray[np.float32]
    """One row per example, normalised."""
    owners: tuple[str, ...]
    """The topic or intent id of each row."""


_lock = threading.Lock()
_embedded: dict[tuple[int, str], _Examples] = {}


def _examples(embedder: MiniLMEmbeddings, kind: str) -> _Examples:
    """The examples of every topic ("topics") or intent ("intents"), embedded once per model."""
    key = (id(embedder), kind)
    with _lock:
        held = _embedded.get(key)
    if held is None:
        pairs = (
            [(t.id, e) for t in TOPICS for e in t.examples]
            if kind == "topics"
            else [(i.id, e) for i in intents() for e in i.examples]
        )
        held = _Examples(embedder.encode_fixed([e for _, e in pairs]), tuple(o for o, _ in pairs))
        with _lock:
            _embedded[key] = held
    return held


def _best_per_owner(examples: _Examples, vector: NDArray[np.float32]) -> dict[str, float]:
    sims = examples.vectors @ vector
    best: dict[str, float] = {}
    for owner, sim in zip(examples.owners, sims.tolist(), strict=True):
        if sim > best.get(owner, -2.0):
            best[owner] = sim
    return best


@dataclass(frozen=True, slots=True)
class Reading:
    """What the examples say of one question."""

    topic: Topic | None
    """The nearest topic, when the question is close enough to one."""
    topic_similarity: float
    intents: dict[str, float]
    """Similarity to the nearest example of each intent."""


TOPIC_FLOOR = 0.45
"""Below this similarity to every topic's examples, a question is about no topic in particular (calibrated on
the dev set: above it, the nearest topic is the labelled one in most questions)."""


def read_intents(vector: NDArray[np.float32], embedder: MiniLMEmbeddings, text: str = "") -> Reading:
    """The question's topic and intents. A topic the question names in the taxonomy's own words (its
    `pattern` in topics.toml: "train … AI", "opt out … training") is taken as named, the nearest by examples
    when it names several; otherwise the topic whose written examples the question is nearest to, when it is
    near enough."""
    by_topic = _best_per_owner(_examples(embedder, "topics"), vector)
    topic_id, similarity = max(by_topic.items(), key=lambda kv: kv[1]) if by_topic else ("", 0.0)
    by_id = {t.id: t for t in TOPICS}
    topic = by_id.get(topic_id) if similarity >= TOPIC_FLOOR else None
    named = named_topics(text) if text else []
    if named:
        topic = max(named, key=lambda t: by_topic.get(t.id, 0.0))
    return Reading(topic, similarity, _best_per_owner(_examples(embedder, "intents"), vector))
