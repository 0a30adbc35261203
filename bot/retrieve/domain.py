"""Is a question about platforms' terms at all? A nearest-example check in the embedding space.

Retrieval similarity alone cannot tell "best reverb plugin for vocals?" (music, but not terms) from a
vague terms question. So the question is also compared with short examples of both kinds, written for
this purpose (not taken from any evaluation set): it is on topic when it is closer to a terms example.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..index.embeddings import MiniLMEmbeddings

ON_TOPIC = (
    "can the platform use my uploads to train artificial intelligence",
    "who owns the music I upload",
    "what licence do I give the platform when I post my songs",
    "is the licence perpetual and irrevocable",
    "can they delete my account without notice",
    "what happens to my tracks if I close my account",
    "can they change the terms without telling me",
    "which country's law governs the agreement",
    "do I have to go to arbitration instead of court",
    "am I waiving my right to a class action",
    "can I upload music made with AI",
    "can someone clone my voice with AI on the platform",
    "can listeners download my tracks for offline listening",
    "my label uploaded my album, do the terms apply",
    "how and when do artists get paid",
    "what fees does the platform take from sales",
    "what happens if someone reports my song for copyright",
    "how many copyright strikes before my channel is terminated",
    "how old do I have to be to have an account",
    "what personal data do they collect about me",
    "can I use other people's samples or covers",
    "is it allowed to buy streams or fake plays",
    "can they sublicense my content to partners",
    "does the platform claim ownership of my content",
    "can they use my name and likeness in ads",
    "what are the rules for impersonation and fake accounts",
    "can I get a refund if I cancel my subscription",
    "are my uploads used for recommendations and personalization",
    "what content is prohibited on the platform",
    "how do I appeal a moderation decision",
)

OFF_TOPIC = (
    "how do I tune my guitar",
    "what chord progression sounds sad",
    "which microphone is best for recording vocals",
    "how do I mix and master a track",
    "best free plugin for reverb and compression",
    "how do I write catchy lyrics",
    "what is the capital of a country",
    "what's the weather tomorrow",
    "give me a recipe for dinner",
    "how do I fix this error in my code",
    "tell me a joke",
    "who won the football match",
    "recommend me some good songs to listen to",
    "how do I promote my music on social media to get more fans",
    "what's the best time signature for a ballad",
    "translate this sentence into French",
    "what is the meaning of life",
    "how much does a new laptop cost",
    "how do I learn to play piano faster",
    "what BPM should a house track be",
    "what key is this song in",
    "what are the chords and lyrics of this song",
    "who wrote and produced this album",
)


@lru_cache(maxsize=2)
def _examples(embedder: MiniLMEmbeddings) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    return embedder.encode(ON_TOPIC), embedder.encode(OFF_TOPIC)


def domain_margin(vector: NDArray[np.float32], embedder: MiniLMEmbeddings) -> float:
    """Similarity to the nearest terms example minus similarity to the nearest other example (> 0: on topic)."""
    on, off = _examples(embedder)
    return float((on @ vector).max() - (off @ vector).max())
