"""Public-benchmark scoring on tiny benchmark folders written here in the upstream formats."""

import json
from pathlib import Path

import numpy as np
import pytest

from bot.evaluation.ranking import rank_candidates
from bot.evaluation.tosdr import clean_quote, load_tosdr, tosdr_points
from bot.evaluation.unfair import UNFAIR_CATEGORIES, load_unfair, unfair_tos
from bot.retrieve.lexical import LexicalIndex
from bot.settings import Settings

from .conftest import SHARED


def _point(quote: str, case: str) -> dict[str, object]:
    return {"quoteText": quote, "quoteDoc": "Terms of Service", "tosdr": {"case": case, "point": "bad"}}


QUOTES = {
    "We may delete your content at any time without notice.": "The service can delete your content without notice",
    "You waive your right to participate in a class action lawsuit.": "You waive your right to a class action",
    "These terms are governed by the laws of the State of California.": "Governing law is California",
    "We collect your IP address and <b>device identifiers</b>.": "Device fingerprinting",
    "You must be at least 13 years old to use the service.": "Only available to users over a certain age",
}


def _tosdr(root: Path, services: int = 6) -> Path:
    folder = root / "tosdr" / "api" / "1" / "service"
    folder.mkdir(parents=True)
    for n in range(services):
        points = {str(i): _point(q, c) for i, (q, c) in enumerate(QUOTES.items())}
        points["x"] = {"title": "a point with no quote", "tosdr": {"case": "Anything"}}
        (folder / f"service{n}.json").write_text(json.dumps({"pointsData": points}), encoding="utf-8")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    return root / "tosdr"


def _unfair(root: Path) -> Path:
    sentences = [
        "welcome to the service .",
        "we may terminate your account at any time for any reason .",
        "these terms are governed by the laws of england -lrb- uk -rrb- .",
        "we may remove any content you post without notice .",
        "thank you for reading .",
    ]
    labels = {"TER": [1], "LAW": [2], "CR": [3]}
    tos = root / "unfair" / "ToS"
    (tos / "Sentences").mkdir(parents=True)
    (tos / "Sentences" / "Acme.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    for code in UNFAIR_CATEGORIES:
        (tos / f"Labels_{code}").mkdir()
        marks = ["1" if i in labels.get(code, []) else "-1" for i in range(len(sentences))]
        (tos / f"Labels_{code}" / "Acme.txt").write_text("\n".join(marks) + "\n", encoding="utf-8")
    return root / "unfair"


@pytest.mark.unit
def test_tosdr_quotes_are_cleaned_and_grouped_by_case(tmp_path: Path) -> None:
    services = load_tosdr(_tosdr(tmp_path, services=1))
    assert len(services) == 1  # the broken file is skipped
    service = services[0]
    assert "We collect your IP address and device identifiers." in service.quotes
    assert len(service.quotes) == 5 and "Anything" not in service.cases
    assert clean_quote("a&amp;b <i>c</i>.<br/>d<p>e") == "a&b c. d e"


@pytest.mark.unit
def test_unfair_labels_are_read_per_sentence(tmp_path: Path) -> None:
    documents = load_unfair(_unfair(tmp_path))
    assert [d.company for d in documents] == ["Acme"]
    acme = documents[0]
    assert acme.labels[1] == {"TER"} and acme.labels[0] == frozenset()
    assert "(uk)" in acme.sentences[2].replace(" ", "")  # -lrb- / -rrb- back to brackets, as LexGLUE does
    (tmp_path / "unfair" / "ToS" / "Labels_A" / "Acme.txt").write_text("1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has 1 lines for 5 sentences"):
        load_unfair(tmp_path / "unfair")


@pytest.mark.unit
def test_rank_candidates_fuses_like_policybot() -> None:
    candidates = ["cats and dogs", "arbitration of disputes", "nothing here"]
    vectors = np.eye(3, dtype=np.float32)
    question = np.array([0.9, 0.1, 0.0], dtype=np.float32)  # dense prefers candidate 0
    rankings = rank_candidates("arbitration", question, LexicalIndex(candidates), vectors, rrf_k=60)
    assert rankings.dense == [0, 1, 2]
    assert rankings.bm25[0] == 1  # only candidate 1 shares a word
    # Fused: 1 is second by dense and first by BM25; 0 is first by dense only.
    assert rankings.policybot[:2] == [1, 0]


@pytest.mark.integration
def test_benchmarks_score_tiny_folders(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "data")
    tosdr = tosdr_points(_tosdr(tmp_path), embedder, settings, services=4, seed=1)
    assert tosdr["sample"]["services"] == 4 and tosdr["sample"]["queries"] == 20
    assert tosdr["policybot"]["hit@1"] >= 0.8  # each case title is a paraphrase of exactly one quote
    assert tosdr["random"]["hit@1"] == pytest.approx(0.2)
    assert tosdr["published"] is None
    unfair = unfair_tos(_unfair(tmp_path), embedder, settings)
    assert unfair["pairs"] == 3 and unfair["sentences"] == 5
    assert unfair["policybot"]["recall@3"] >= 2 / 3
    assert unfair["classification"]["published"]["Legal-BERT"] == {"micro_f1": 96.0, "macro_f1": 83.0}


@pytest.mark.unit
@pytest.mark.skipif(not (SHARED / "benchmarks" / "unfair_tos").is_dir(), reason="shared benchmarks not found")
def test_the_shared_unfair_split_has_lexglue_test_counts() -> None:
    documents = load_unfair(SHARED / "benchmarks" / "unfair_tos")
    assert len(documents) == 10 and sum(len(d.sentences) for d in documents) == 1607
    assert sum(1 for d in documents for labels in d.labels if labels) == 172
