"""The chat page: a Gradio app at `/` that streams answers from `ask_stream` and shows each answer's citations
in a side panel (what it shows: `bot.web.render`; what its events do: `bot.web.chat_events`). Sessions are
bounded in number and expire; Gradio's uploads and file routes serve nothing (`bot.web.chat_routes`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from ..settings import Settings
from .chat_routes import Event, page_events
from .feedback import FeedbackStore
from .limits import RateLimiter
from .render import PANEL_EMPTY, example_questions

if TYPE_CHECKING:
    import gradio as gr

    from .chat_events import ChatEvents

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
MAX_UPLOAD = "1kb"
"""Gradio's own upload limit, in case its upload route were ever reached: no component takes a file."""


def _conversation(settings: Settings, services: list[str]) -> dict[str, Any]:
    """The left column: platform filter, conversation, question box, comment box, status line."""
    import gradio as gr

    from .chat_events import ALL_PLATFORMS

    parts: dict[str, Any] = {}
    parts["platform"] = gr.Dropdown(
        choices=[ALL_PLATFORMS, *services],
        value=ALL_PLATFORMS,
        label="Platform",
        info="Limit answers to one platform, or let the question name it.",
        elem_id="pb-platform",
    )
    parts["chatbot"] = gr.Chatbot(
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
    parts["box"] = gr.Textbox(
        label="Your question",
        placeholder="e.g. Can SoundCloud train AI on my tracks?  Follow-ups: “and Bandcamp?”",
        elem_id="pb-question",
        submit_btn="Ask",
        max_length=settings.max_question_chars,
    )
    with gr.Accordion("Comment on the last answer", open=False):
        parts["comment"] = gr.Textbox(label="Comment (optional)", lines=2, max_length=2000)
        with gr.Row():
            parts["helpful"] = gr.Button("👍 Helpful", size="sm")
            parts["unhelpful"] = gr.Button("👎 Not helpful", size="sm")
    parts["status"] = gr.Markdown("", elem_id="pb-status")
    return parts


def _wire(page: gr.Blocks, events: ChatEvents, parts: dict[str, Any], turns: Any, panel: Any) -> None:
    from .chat_events import cleared, pick_example

    chatbot, box, platform, status, comment = (
        parts[k] for k in ("chatbot", "box", "platform", "status", "comment")
    )
    outputs = [chatbot, box, panel, turns]
    box.submit(events.respond, [box, platform, turns], outputs)
    chatbot.example_select(pick_example, None, box, queue=False).then(
        events.respond, [box, platform, turns], outputs
    )
    chatbot.like(events.rate, [turns], status)
    chatbot.clear(cleared, None, [turns, panel, status], queue=False)
    parts["helpful"].click(events.helpful, [comment, turns], [status, comment])
    parts["unhelpful"].click(events.unhelpful, [comment, turns], [status, comment])
    page.load(events.platforms, None, platform, queue=False)


def build_chat(settings: Settings, feedback: FeedbackStore, limiter: RateLimiter) -> gr.Blocks:
    """The Blocks of the chat page; `mount_chat` mounts it at `/`."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = (
        "False"  # before gradio is imported: no telemetry, no version check
    )
    import gradio as gr

    from .changes import changes_view
    from .chat_events import ChatEvents, indexed_services

    services = indexed_services(settings)
    events = ChatEvents(settings, feedback, limiter)
    page = gr.Blocks(title="policybot: what the platforms' terms say", analytics_enabled=False)
    with page:
        gr.Markdown(
            "## policybot\nAsk what a platform's terms say about your music. Every answer quotes the exact "
            "clause, with its document, section and version date. Not legal advice."
        )
        # Kept server-side per session, dropped `chat_session_ttl` seconds after the last question.
        turns = gr.State([], time_to_live=settings.chat_session_ttl)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                parts = _conversation(settings, services)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                panel = gr.HTML(PANEL_EMPTY, elem_id="pb-citations", js_on_load=None)
        _wire(page, events, parts, turns, panel)
        with gr.Accordion("What changed", open=False, elem_id="pb-changes-panel"):
            changes_view(settings)
    return page


def mount_chat(
    app: FastAPI, settings: Settings, feedback: FeedbackStore, limiter: RateLimiter
) -> dict[int, Event]:
    """Mount the chat page at `/`; its events (fn_index → inputs, queued), for the guard to check bodies by."""
    import gradio as gr

    page = build_chat(settings, feedback, limiter)
    page.queue(default_concurrency_limit=4, max_size=64)
    page.state_session_capacity = settings.chat_max_sessions  # Gradio's default keeps 10,000
    gr.mount_gradio_app(
        app,
        page,
        path="/",
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        show_error=False,
        max_file_size=MAX_UPLOAD,
        theme=gr.themes.Default(),
        css=CSS,
    )
    return page_events(page.get_config_file())
