"""The chat page's event handlers. A question is checked (length, text, rate) before it touches the
conversation; the conversation keeps its last `max_history` turns and only what they need; thumbs and comments
have the API's limits. Imports Gradio: imported only when the page is built."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import BadQuestion, PolicybotError
from ..settings import Settings
from .asgi import shorten
from .bodies import MAX_CITATIONS, MAX_COMMENT, MAX_FEEDBACK_ANSWER, MAX_FEEDBACK_QUESTION, encodable
from .errors import public_message
from .feedback import FeedbackStore, Rating
from .limits import RateLimiter, retry_after
from .render import PANEL_EMPTY, PANEL_NONE, PANEL_WAIT, answer_message, citations_html, plain

log = logging.getLogger(__name__)

ALL_PLATFORMS = "All platforms"
Turn = dict[str, Any]
"""One question and its answer as the session keeps it: question, message, answered, cited."""
Update = tuple[list[dict[str, str]], str, str, list[Turn]]
"""What `respond` yields: the chat messages, the question box, the citation panel, the turns."""


def messages(turns: list[Turn], note: str = "") -> list[dict[str, str]]:
    """The chat bubbles for `turns` (every character shown as itself), and `note` from the bot after them."""
    shown = []
    for turn in turns:
        shown.append({"role": "user", "content": plain(turn["question"])})
        shown.append({"role": "assistant", "content": plain(turn["message"])})
    if note:
        shown.append({"role": "assistant", "content": plain(note)})
    return shown


def cited(answer: dict[str, Any]) -> list[str]:
    """What an answer cited, as `version_id:start-end`, so a rating can be traced to exact excerpts."""
    return [f"{c.get('version_id', '')}:{c.get('start', '')}-{c.get('end', '')}" for c in answer["citations"]]


def indexed_services(settings: Settings) -> list[str]:
    from ..retrieve.searcher import open_searcher

    try:
        return list(open_searcher(settings).services)
    except PolicybotError as exc:
        log.warning("chat page: %s", shorten(str(exc), 500))
        return []


def client_of(request: gr.Request | None) -> str:
    return request.client.host if request is not None and request.client else "chat"


def pick_example(data: gr.SelectData) -> str:
    value = data.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value)


def cleared() -> tuple[list[Turn], str, str]:
    """The bin clears the conversation: follow-ups must not read questions the user no longer sees."""
    return [], PANEL_EMPTY, ""


@dataclass(frozen=True, slots=True)
class ChatEvents:
    """The handlers, bound to what they share. Methods rather than partials: Gradio reads their type hints to
    pass in the request and the event data, and a partial has none."""

    settings: Settings
    feedback: FeedbackStore
    limiter: RateLimiter

    def refusal(self, question: str, client: str) -> tuple[str, str]:
        """Why `question` is not asked ("" when it is), checked before it is kept anywhere; and what to leave
        in the question box (the question itself only when it can simply be sent again later)."""
        limit = self.settings.max_question_chars
        if len(question.strip()) > limit:
            return f"Your question is {len(question.strip()):,} characters long; the limit is {limit:,}.", ""
        if not encodable(question):
            return "Your question holds characters that are not text (a lone UTF-16 surrogate).", ""
        wait = self.limiter.acquire(client)
        if wait:
            return f"Too many questions at once: try again in {retry_after(wait)} s.", question
        return "", ""

    def respond(
        self, question: str | None, platform: str | None, turns: list[Turn] | None, request: gr.Request
    ) -> Iterator[Update]:
        question, turns = question if isinstance(question, str) else "", list(turns or [])
        refused, keep = self.refusal(question, client_of(request))
        if refused:
            yield messages(turns, refused), keep, PANEL_NONE, turns
            return
        turn: Turn = {"question": question, "message": "", "answered": False, "cited": []}
        turns = [*turns, turn][-max(1, self.settings.max_history) :]
        yield messages(turns), "", PANEL_WAIT, turns
        service = platform if isinstance(platform, str) and platform != ALL_PLATFORMS else None
        for panel in self._answer(turn, turns[:-1], service):
            yield messages(turns), "", panel, turns

    def _answer(self, turn: Turn, earlier: list[Turn], service: str | None) -> Iterator[str]:
        """Fill `turn` in as the answer streams; yield the citation panel after each piece."""
        from ..answer.ask import ask_stream
        from ..answer.schema import answer_json
        from ..types import Answer

        history = [t["question"] for t in earlier if t["answered"]][-self.settings.max_history :]
        history = history if self.settings.max_history else []
        text = ""
        try:
            for piece in ask_stream(turn["question"], self.settings, service=service, history=history):
                if isinstance(piece, Answer):
                    result = answer_json(piece)
                    turn.update(message=answer_message(result), answered=True, cited=cited(result))
                    yield citations_html(result)
                else:
                    text += piece
                    turn["message"] = text
                    yield PANEL_WAIT
        except BadQuestion as exc:
            turn["message"] = f"I can't search for that: {exc}."
            yield PANEL_NONE
        except PolicybotError as exc:
            turn["message"] = f"The bot can't answer right now: {public_message(exc)}"
            yield PANEL_NONE

    def store(self, turn: Turn, rating: Rating, comment: str, client: str) -> str:
        """Store a rating of `turn` with the API's limits: per-client rate, comment and answer sizes."""
        if len(comment) > MAX_COMMENT:
            return f"Your comment is {len(comment):,} characters long; the limit is {MAX_COMMENT:,}."
        if not encodable(comment):
            return "Your comment holds characters that are not text (a lone UTF-16 surrogate)."
        wait = self.limiter.acquire(client)
        if wait:
            return f"Too many ratings at once: try again in {retry_after(wait)} s."
        self.feedback.add(
            rating=rating,
            question=turn["question"][:MAX_FEEDBACK_QUESTION],
            answer=turn["message"][:MAX_FEEDBACK_ANSWER],
            comment=comment.strip(),
            citations=turn["cited"][:MAX_CITATIONS],
            source="chat",
        )
        return "Thanks: your feedback on this answer is stored."

    def rate(self, turns: list[Turn] | None, data: gr.LikeData, request: gr.Request) -> str:
        turns = turns or []
        index = data.index[0] if isinstance(data.index, list | tuple) and data.index else data.index
        liked = data.liked
        rating: Rating | None = (
            "up" if liked in (True, "Like") else "down" if liked in (False, "Dislike") else None
        )
        if rating is None or not isinstance(index, int) or not 0 <= index // 2 < len(turns):
            return ""
        return self.store(turns[index // 2], rating, "", client_of(request))

    def comment(
        self, comment: str | None, turns: list[Turn] | None, rating: Rating, client: str
    ) -> tuple[str, str]:
        comment = comment if isinstance(comment, str) else ""
        if not turns:
            return "Ask a question first; then rate its answer.", comment
        status = self.store(turns[-1], rating, comment, client)
        return status, "" if status.startswith("Thanks") else comment

    def helpful(self, comment: str | None, turns: list[Turn] | None, request: gr.Request) -> tuple[str, str]:
        return self.comment(comment, turns, "up", client_of(request))

    def unhelpful(
        self, comment: str | None, turns: list[Turn] | None, request: gr.Request
    ) -> tuple[str, str]:
        return self.comment(comment, turns, "down", client_of(request))

    def platforms(self) -> Any:
        return gr.Dropdown(choices=[ALL_PLATFORMS, *indexed_services(self.settings)])
