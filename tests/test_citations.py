from datetime import date

import pytest

from bot.answer.citations import make_citation, select_excerpt, text_fragment_url, verify_excerpt
from bot.errors import UnverifiedExcerpt
from bot.retrieve.lexical import expand_query
from bot.types import Hit, Provenance, text_sha256

pytestmark = pytest.mark.unit

STORED = (
    "Intro. By uploading your Content you grant us a licence to host it. "
    "We will not use your content to train generative AI models without your explicit consent. "
    "You can opt in from your settings. Payments are monthly."
)
P = Provenance(
    "Acme",
    "Terms of Service",
    "Terms of Use",
    "terms",
    "global",
    date(2025, 1, 1),
    "",
    "https://acme.test/terms",
    text_sha256(STORED),
)


def lookup(sha: str) -> str | None:
    return STORED if sha == P.text_sha256 else None


def hit() -> Hit:
    start = STORED.index("By uploading")
    return Hit(
        "c1", P, ("Grant of license",), "¶1", start, len(STORED), STORED[start:], 0, len(STORED), 1.0, 0.5
    )


def test_excerpt_is_the_answering_sentences() -> None:
    text = hit().text
    start, end = select_excerpt(text, expand_query("train AI on my content"), 520)
    assert text[start:end].startswith("We will not use your content to train generative AI")
    assert "Payments" not in text[start:end]


def test_citation_is_verbatim_with_offsets_and_fragment() -> None:
    citation = make_citation(1, hit(), expand_query("train AI consent opt in"), lookup, max_chars=520)
    assert STORED[citation.start : citation.end] == citation.excerpt
    assert citation.url.startswith("https://acme.test/terms#:~:text=")
    assert citation.clause_text == STORED


def test_tampered_excerpt_is_refused() -> None:
    start = STORED.index("We will not")
    end = STORED.index("consent.") + len("consent.")
    verify_excerpt(lookup, P.text_sha256, start, end, STORED[start:end])
    tampered = STORED[start:end].replace("will not", "will")
    with pytest.raises(UnverifiedExcerpt, match="not verbatim"):
        verify_excerpt(lookup, P.text_sha256, start, end, tampered)
    with pytest.raises(UnverifiedExcerpt, match="missing or altered"):
        verify_excerpt(lookup, "f" * 64, start, end, STORED[start:end])
    with pytest.raises(UnverifiedExcerpt):
        verify_excerpt(lookup, P.text_sha256, start + 1, end, STORED[start:end])


def test_tampered_hit_never_becomes_a_citation() -> None:
    good = hit()
    bad = Hit(
        **{**{k: getattr(good, k) for k in Hit.__slots__}, "text": good.text.replace("will not", "will")}
    )
    with pytest.raises(UnverifiedExcerpt):
        make_citation(1, bad, expand_query("train AI"), lookup, max_chars=520)


def test_text_fragment_url() -> None:
    assert text_fragment_url("", "anything") == ""
    assert (
        text_fragment_url("https://x.test/a#old", "short **bold** text")
        == "https://x.test/a#:~:text=short%20bold%20text"
    )
    url = text_fragment_url(
        "https://x.test/a", "one two three four five six seven eight nine ten-eleven, twelve"
    )
    assert (
        url
        == "https://x.test/a#:~:text=one%20two%20three%20four%20five,seven%20eight%20nine%20ten%2Deleven%2C%20twelve"
    )
