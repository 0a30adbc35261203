"""The chat page: a Gradio app that streams answers from `ask_stream` and shows each answer's citations in a
side panel, every excerpt highlighted inside its clause. Everything it shows from a document is escaped."""

import html
import logging
import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..settings import Settings
from .feedback import FeedbackStore, Rating
from .limits import RateLimiter, retry_after

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

ALL_PLATFORMS = "All platforms"
PANEL_EMPTY = (
    '<div class="pb-panel pb-empty">Sources appear here: every clause an answer quotes, with its platform, '
    "document, section and version date, and a link to the source.</div>"
)
PANEL_WAIT = '<div class="pb-panel pb-empty">Searching the terms…</div>'
PANEL_NONE = '<div class="pb-panel pb-empty">No sources: this answer quotes nothing.</div>'
_CONTEXT_CHARS = 700
"""Clause text shown on each side of an excerpt; longer clauses are cut with “…”."""

# Preferred platforms for the example questions, when the index has them.
_EXAMPLE_PLATFORMS = ("SoundCloud", "Bandcamp", "Spotify", "YouTube", "TikTok")
_EXAMPLES = (
    "Can {} use my tracks to train AI?",
    "Who owns the music I upload to {}?",
    "Can {} close my account without notice?",
)

CSS = """
.pb-panel { font-size: 0.95rem; line-height: 1.45; }
.pb-empty { color: var(--body-text-color-subdued); padding: 0.5rem 0; }
.pb-panel ol { list-style: none; padding: 0; margin: 0; }
.pb-cite { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.8rem;
           margin-bottom: 0.7rem; }
.pb-cite-head { font-weight: 600; }
.pb-n { display: inline-block; min-width: 1.8em; color: var(--color-accent); }
.pb-meta { color: var(--body-text-color-subdued); font-size: 0.85rem; margin: 0.15rem 0 0.4rem; }
.pb-clause { white-space: pre-wrap; margin: 0; padding-left: 0.7rem; border-left: 3px solid
             var(--border-color-primary); }
.pb-clause mark { background: #fde68a; color: #1f2937; padding: 0 1px; }
.pb-kind { font-size: 0.8rem; border: 1px solid var(--border-color-primary); border-radius: 4px;
           padding: 0 4px; margin-left: 4px; }
.pb-note { font-size: 0.85rem; margin-top: 0.3rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def safe_link(url: object) -> str:
    """`url` when it is an http(s) address, else "": a document's front matter must not plant a javascript: link."""
    if not isinstance(url, str):
        return ""
    try:
        scheme = urlsplit(url.strip()).scheme.casefold()
    except ValueError:
        return ""
    return url.strip() if scheme in ("http", "https") else ""


def highlighted_clause(citation: dict[str, Any]) -> str:
    """The clause as escaped HTML with the excerpt in <mark>; the excerpt alone when offsets don't line up."""
    excerpt = str(citation.get("excerpt", ""))
    clause = citation.get("clause")
    start, clause_start = citation.get("start"), citation.get("clause_start")
    if isinstance(clause, str) and isinstance(start, int) and isinstance(clause_start, int):
        rel = start - clause_start
        if rel >= 0 and clause[rel : rel + len(excerpt)] == excerpt:
            before, after = clause[:rel], clause[rel + len(excerpt) :]
            if len(before) > _CONTEXT_CHARS:
                before = "…" + before[-_CONTEXT_CHARS:]
            if len(after) > _CONTEXT_CHARS:
                after = after[:_CONTEXT_CHARS] + "…"
            return f"{_e(before)}<mark>{_e(excerpt)}</mark>{_e(after)}"
    return f"<mark>{_e(excerpt)}</mark>"


def citations_html(answer: dict[str, Any]) -> str:
    """The side panel for one answer (the JSON of `bot.render.answer_json`), all document text escaped."""
    citations = answer.get("citations") or []
    if not citations:
        return PANEL_NONE
    items = []
    for c in citations:
        kind = str(c.get("kind") or "terms")
        badge = "" if kind == "terms" else f'<span class="pb-kind">{_e(kind)}, not binding</span>'
        region = c.get("region") or ""
        where = f" · {_e(region)}" if region and region != "global" else ""
        date_label = c.get("date_statement") or f"version of {c.get('version_date', '')}"
        newer = c.get("newer_version")
        note = f'<div class="pb-note">A newer version exists: {_e(newer)}.</div>' if newer else ""
        link = safe_link(c.get("url")) or safe_link(c.get("source_url"))
        source = (
            f'<a class="pb-source" href="{_e(link)}" target="_blank" rel="noopener noreferrer nofollow">'
            "Open the source</a>"
            if link
            else '<span class="pb-source">No public address for this document.</span>'
        )
        items.append(
            f'<li class="pb-cite" data-n="{_e(c.get("n", ""))}">'
            f'<div class="pb-cite-head"><span class="pb-n">[{_e(c.get("n", ""))}]</span>'
            f"{_e(c.get('service', ''))} · {_e(c.get('title') or c.get('document', ''))}{where}{badge}</div>"
            f'<div class="pb-meta">{_e(c.get("section", ""))} · {_e(date_label)} '
            f"({_e(c.get('version_date', ''))})</div>"
            f'<blockquote class="pb-clause">{highlighted_clause(c)}</blockquote>'
            f"{note}<div>{source}</div></li>"
        )
    return f'<div class="pb-panel"><ol>{"".join(items)}</ol></div>'


_MARKDOWN_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=\"'^])")


def plain(text: str) -> str:
    """`text` for the chat bubble, which renders Markdown: every character shows as itself.

    Markdown punctuation is backslash-escaped and HTML's special characters become entities, so a clause
    with `<script>` or `[link](javascript:…)` in it reads as those characters and does nothing.
    """
    return _MARKDOWN_PUNCT.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def answer_message(answer: dict[str, Any]) -> str:
    """What the chat bubble says: the answer, how a follow-up was read, and the notes."""
    parts = []
    standalone = answer.get("standalone_question")
    if standalone:
        parts.append(f"(Read as: “{standalone}”)")
    parts.append(str(answer.get("answer", "")))
    parts.extend(f"Note: {n}" for n in answer.get("notes") or [])
    return "\n\n".join(parts)


def example_questions(services: Sequence[str]) -> list[str]:
    preferred = [s for s in _EXAMPLE_PLATFORMS if s in services]
    others = [s for s in services if s not in preferred]
    chosen = (preferred + others)[: len(_EXAMPLES)]
    if not chosen:
        return []
    return [template.format(chosen[i % len(chosen)]) for i, template in enumerate(_EXAMPLES)]


def _indexed_services(settings: Settings) -> list[str]:
    from ..errors import PolicybotError
    from ..retrieve.searcher import open_searcher

    try:
        return list(open_searcher(settings).services)
    except PolicybotError as exc:
        log.warning("chat page: %s", exc)
        return []


def _messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": plain(turn["question"])})
        messages.append({"role": "assistant", "content": plain(turn["message"])})
    return messages


def _cited(answer: dict[str, Any] | None) -> list[str]:
    if not answer:
        return []
    return [f"{c.get('version_id', '')}:{c.get('start', '')}-{c.get('end', '')}" for c in answer["citations"]]


def build_chat(settings: Settings, feedback: FeedbackStore, limiter: RateLimiter) -> "gr.Blocks":
    """The Blocks of the chat page; `bot.web.app` mounts it at `/`."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = (
        "False"  # before gradio is imported: no telemetry, no version check
    )
    import gradio as gr

    from ..answer.ask import ask_stream
    from ..answer.schema import answer_json
    from ..errors import BadQuestion, PolicybotError
    from ..types import Answer

    services = _indexed_services(settings)

    def respond(
        question: str, platform: str | None, turns: list[dict[str, Any]], request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        question = question or ""
        turn: dict[str, Any] = {"question": question, "message": "", "answer": None}
        turns = [*turns, turn]
        client = request.client.host if request and request.client else "chat"
        wait = limiter.acquire(client)
        if wait:
            turn["message"] = f"Too many questions at once: try again in {retry_after(wait)} s."
            yield _messages(turns), "", PANEL_NONE, turns
            return
        yield _messages(turns), "", PANEL_WAIT, turns
        history = [t["question"] for t in turns[:-1] if t["answer"] is not None][-settings.max_history :]
        service = platform if platform and platform != ALL_PLATFORMS else None
        text = ""
        try:
            for piece in ask_stream(question, settings, service=service, history=history):
                if isinstance(piece, Answer):
                    result = answer_json(piece)
                    turn["answer"] = result
                    turn["message"] = answer_message(result)
                    yield _messages(turns), "", citations_html(result), turns
                else:
                    text += piece
                    turn["message"] = text
                    yield _messages(turns), "", PANEL_WAIT, turns
        except BadQuestion as exc:
            turn["message"] = f"I can't search for that: {exc}."
            yield _messages(turns), "", PANEL_NONE, turns
        except PolicybotError as exc:
            turn["message"] = f"The bot can't answer right now: {exc}"
            yield _messages(turns), "", PANEL_NONE, turns

    def rate(turns: list[dict[str, Any]], data: gr.LikeData) -> str:
        index = data.index if isinstance(data.index, int) else data.index[0]
        liked = data.liked
        rating: Rating | None = (
            "up" if liked in (True, "Like") else "down" if liked in (False, "Dislike") else None
        )
        if rating is None or not 0 <= index // 2 < len(turns):
            return ""
        return _store(turns[index // 2], rating, "")

    def _store(turn: dict[str, Any], rating: Rating, comment: str) -> str:
        feedback.add(
            rating=rating,
            question=turn["question"],
            answer=turn["message"],
            comment=comment.strip()[:2000],
            citations=_cited(turn["answer"]),
            source="chat",
        )
        return "Thanks: your feedback on this answer is stored."

    def comment_on_last(comment: str, turns: list[dict[str, Any]], rating: Rating) -> tuple[str, str]:
        if not turns:
            return "Ask a question first; then rate its answer.", comment
        return _store(turns[-1], rating, comment), ""

    def pick_example(data: gr.SelectData) -> str:
        value = data.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    def refresh_platforms() -> Any:
        return gr.Dropdown(choices=[ALL_PLATFORMS, *_indexed_services(settings)])

    page = gr.Blocks(title="policybot: what the platforms' terms say", analytics_enabled=False)
    with page:
        gr.Markdown(
            "## policybot\nAsk what a platform's terms say about your music. Every answer quotes the exact "
            "clause, with its document, section and version date. Not legal advice."
        )
        turns_state = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                platform = gr.Dropdown(
                    choices=[ALL_PLATFORMS, *services],
                    value=ALL_PLATFORMS,
                    label="Platform",
                    info="Limit answers to one platform, or let the question name it.",
                    elem_id="pb-platform",
                )
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="pb-chat",
                    height=460,
                    examples=[{"text": q} for q in example_questions(services)] or None,
                    feedback_options=("Like", "Dislike"),
                    latex_delimiters=[],
                    sanitize_html=True,
                    allow_tags=False,
                    buttons=["copy"],
                    placeholder="Ask about a platform's terms, or pick an example.",
                )
                box = gr.Textbox(
                    label="Your question",
                    placeholder="e.g. Can SoundCloud train AI on my tracks?  Follow-ups: “and Bandcamp?”",
                    elem_id="pb-question",
                    submit_btn="Ask",
                    max_length=settings.max_question_chars,
                )
                with gr.Accordion("Comment on the last answer", open=False):
                    comment = gr.Textbox(label="Comment (optional)", lines=2, max_length=2000)
                    with gr.Row():
                        helpful = gr.Button("👍 Helpful", size="sm")
                        unhelpful = gr.Button("👎 Not helpful", size="sm")
                status = gr.Markdown("", elem_id="pb-status")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                panel = gr.HTML(PANEL_EMPTY, elem_id="pb-citations", js_on_load=None)

        outputs = [chatbot, box, panel, turns_state]
        box.submit(respond, [box, platform, turns_state], outputs)
        chatbot.example_select(pick_example, None, box, queue=False).then(
            respond, [box, platform, turns_state], outputs
        )
        chatbot.like(rate, [turns_state], status)
        # The bin clears the conversation: follow-ups must not read questions the user no longer sees.
        chatbot.clear(lambda: ([], PANEL_EMPTY, ""), None, [turns_state, panel, status], queue=False)
        helpful.click(lambda c, t: comment_on_last(c, t, "up"), [comment, turns_state], [status, comment])
        unhelpful.click(lambda c, t: comment_on_last(c, t, "down"), [comment, turns_state], [status, comment])
        page.load(refresh_platforms, None, platform, queue=False)
    return page
