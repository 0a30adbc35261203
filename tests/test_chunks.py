from datetime import date

import pytest

from bot.parse.chunks import make_chunks
from bot.types import Clause, Provenance

pytestmark = pytest.mark.unit

P = Provenance(
    "Acme", "Terms of Service", "Terms of Use", "terms", "global", date(2025, 1, 1), "", "", "0" * 64
)


def clause(text: str, offset: int = 100) -> Clause:
    return Clause(P, ("Grant of license",), "¶1", offset, offset + len(text), text)


def test_short_clause_is_one_chunk_with_context() -> None:
    (chunk,) = make_chunks(clause("You keep **ownership** of your [music](https://x.y)."))
    assert chunk.start == 100 and chunk.text == chunk.clause.text
    assert chunk.embed_text == "Terms of Use › Grant of license: You keep ownership of your music."


def test_long_clause_splits_on_sentences_within_the_clause() -> None:
    sentences = [f"Sentence number {i} says something about the licence you grant." for i in range(30)]
    text = " ".join(sentences)
    chunks = make_chunks(clause(text))
    assert len(chunks) > 3
    for chunk in chunks:
        assert text[chunk.start - 100 : chunk.end - 100] == chunk.text
        assert chunk.text.endswith(".")
        assert len(chunk.text) <= 420
    assert chunks[0].start == 100 and chunks[-1].end == 100 + len(text)


def test_ids_hash_text_and_provenance() -> None:
    a = make_chunks(clause("Same words."))[0]
    b = make_chunks(clause("Same words."))[0]
    moved = make_chunks(clause("Same words.", offset=5))[0]
    assert a.chunk_id == b.chunk_id
    assert a.chunk_id != moved.chunk_id
    assert a.text_hash == moved.text_hash  # same text is embedded once
