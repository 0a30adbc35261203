"""The chat page's event handlers, called directly: a refused question never reaches the conversation, the
conversation keeps its last turns and what they need only, and ratings have the API's limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.web.feedback import FeedbackStore

gr = pytest.importorskip("gradio")

from bot.web.chat_events import ChatEvents, Turn  # noqa: E402  (imports gradio)
from bot.web.limits import RateLimiter  # noqa: E402

QUESTION = "Can Loudwave train AI on my music?"


class Counting(RateLimiter):
    """A rate limiter that counts what it was asked, and allows `allow` tokens."""

    def __init__(self, allow: int = 100) -> None:
        super().__init__(per_minute=1, burst=max(allow, 1))
        self.asked = 0
        self.allow = allow

    def acquire(self, client: str) -> float:
        self.asked += 1
        return 0.0 if self.asked <= self.allow else 30.0


def _events(settings: Settings, tmp_path: Path, limiter: RateLimiter | None = None) -> ChatEvents:
    return ChatEvents(settings, FeedbackStore(tmp_path / "feedback.sqlite3"), limiter or Counting())


def _turn(question: str = QUESTION, message: str = "An answer.") -> Turn:
    return {"question": question, "message": message, "answered": True, "cited": ["v1:0-10"]}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("question", "words", "box"),
    [
        ("why " * 600, "the limit is 2,000", ""),
        ("Can Loudwave train AI? \ud800", "not text", ""),
    ],
)
def test_a_refused_question_is_not_kept_and_costs_no_token(
    tmp_path: Path, question: str, words: str, box: str
) -> None:
    limiter = Counting()
    events = _events(Settings(data_dir=tmp_path), tmp_path, limiter)
    earlier = [_turn()]
    ((shown, left, _, turns),) = list(events.respond(question, "All platforms", earlier, None))  # type: ignore[arg-type]
    assert turns == earlier and turns is not earlier  # the conversation as it was
    assert words in shown[-1]["content"].replace("\\", "") and shown[-1]["role"] == "assistant"
    assert question not in str(shown) and left == box
    assert limiter.asked == 0


@pytest.mark.unit
def test_a_rate_limited_question_stays_in_the_box(tmp_path: Path) -> None:
    events = _events(Settings(data_dir=tmp_path), tmp_path, Counting(allow=0))
    ((shown, left, _, turns),) = list(events.respond(QUESTION, None, [], None))  # type: ignore[arg-type]
    assert turns == [] and left == QUESTION and "Too many questions" in shown[-1]["content"]


@pytest.mark.integration
def test_the_conversation_keeps_its_last_turns_and_only_what_they_need(
    test_index: Any, tmp_path: Path
) -> None:
    settings = test_index.model_copy(update={"max_history": 2})
    events = _events(settings, tmp_path)
    turns: list[Turn] = []
    for question in (QUESTION, "and Tunebox?", "Who owns the songs I upload to Loudwave?"):
        *_, (shown, _, panel, turns) = events.respond(question, "All platforms", turns, None)  # type: ignore[arg-type]
    assert [t["question"] for t in turns] == ["and Tunebox?", "Who owns the songs I upload to Loudwave?"]
    assert all(set(t) == {"question", "message", "answered", "cited"} for t in turns)
    assert turns[-1]["answered"] and all(":" in c for c in turns[-1]["cited"])
    assert len(shown) == 4 and "pb-cite" in panel


@pytest.mark.unit
def test_ratings_have_the_apis_limits(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_question_chars=6000)
    events = _events(settings, tmp_path, Counting(allow=3))
    turn = _turn(question="q" * 5000, message="a" * 30_000)
    assert "the limit is 2,000" in events.store(turn, "up", "c" * 2001, "1.2.3.4")
    assert "not text" in events.store(turn, "up", "\ud800", "1.2.3.4")
    assert events.store(turn, "down", " fine ", "1.2.3.4").startswith("Thanks")
    assert events.store({**turn, "cited": [f"v:{n}" for n in range(50)]}, "up", "", "1.2.3.4").startswith(
        "Thanks"
    )
    assert events.store(turn, "up", "", "1.2.3.4").startswith("Thanks")
    assert "Too many ratings" in events.store(turn, "up", "", "1.2.3.4")
    rows = events.feedback.all()
    assert len(rows) == 3
    assert {len(r.question) for r in rows} == {4000} and {len(r.answer) for r in rows} == {20_000}
    assert rows[0].comment == "fine" and rows[0].source == "chat" and len(rows[1].citations) == 20


@pytest.mark.unit
def test_rate_reads_the_like_index_defensively(tmp_path: Path) -> None:
    events = _events(Settings(data_dir=tmp_path), tmp_path)
    turns = [_turn()]

    def like(index: Any, liked: Any = False) -> str:
        data = gr.LikeData(target=None, data={"index": index, "value": "x", "liked": liked})
        return events.rate(turns, data, None)  # type: ignore[arg-type]

    assert like(1).startswith("Thanks") and like([1, 0]).startswith("Thanks")
    assert like(None) == like("1") == like(99) == like(-4) == like([]) == ""
    assert like(1, liked="maybe") == ""
    assert events.rate(None, gr.LikeData(None, {"index": 1, "value": "x", "liked": True}), None) == ""  # type: ignore[arg-type]


@pytest.mark.unit
def test_comments_need_a_question_first_and_keep_a_refused_comment(tmp_path: Path) -> None:
    events = _events(Settings(data_dir=tmp_path), tmp_path)
    assert events.helpful("nice", [], None)[0].startswith("Ask a question first")  # type: ignore[arg-type]
    status, left = events.unhelpful("x" * 3000, [_turn()], None)  # type: ignore[arg-type]
    assert "the limit is 2,000" in status and left == "x" * 3000
    status, left = events.helpful("nice", [_turn()], None)  # type: ignore[arg-type]
    assert status.startswith("Thanks") and left == ""
