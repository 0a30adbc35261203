"""Is a question about platforms' terms at all? A nearest-example check in the embedding space.

Retrieval similarity alone cannot tell "best reverb plugin for vocals?" (music, but not terms) from a
vague terms question. So the question is also compared with short examples of both kinds, written for
this purpose (not taken from any evaluation set): it is on topic when it is closer to a terms example.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ..data import Data, load

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..index.embeddings import MiniLMEmbeddings


class _Examples(Data):
    """bot/data/domain.toml"""

    on_topic: tuple[str, ...]
    on_topic_fr: tuple[str, ...]
    off_topic: tuple[str, ...]


_EXAMPLES = load("domain.toml", _Examples)
ON_TOPIC = (*_EXAMPLES.on_topic, *_EXAMPLES.on_topic_fr)
OFF_TOPIC = _EXAMPLES.off_topic


@lru_cache(maxsize=2)
def _examples(embedder: MiniLMEmbeddings) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    return embedder.encode_fixed(ON_TOPIC), embedder.encode_fixed(OFF_TOPIC)


def domain_margin(vector: NDArray[np.float32], embedder: MiniLMEmbeddings) -> float:
    """Similarity to the nearest terms example minus similarity to the nearest other example (> 0: on topic)."""
    on, off = _examples(embedder)
    return float((on @ vector).max() - (off @ vector).max())
