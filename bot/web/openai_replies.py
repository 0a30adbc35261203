"""`ask()`'s answer in OpenAI's reply shapes: a `chat.completion` whose message is the answer text with its
Sources (the verified citations also as the message's `citations`, the objects of `/api/ask`), and the same
as `chat.completion.chunk` server-sent events ending with `data: [DONE]`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from ..errors import PolicybotError
from ..types import Answer
from .asgi import shorten
from .openai_errors import error_json, policybot_error

log = logging.getLogger(__name__)

MODEL = "policybot"
CHANGED = "\n\n---\nThe answer above was changed when it was checked; the checked answer:\n\n"


def source_line(a: Answer, n: int) -> str:
    """One Sources item: platform, document, region, section, version date, the excerpt when the answer text
    does not quote it, and the link."""
    from ..ingest.markdown import clean_inline

    c = a.citations[n]
    p = c.provenance
    excerpt = clean_inline(c.excerpt)
    where = [p.service, p.title, *([p.region] if p.region not in ("", "global") else []), c.section_path]
    item = f"- [{c.n}] {' · '.join(where)} · {p.date_label}{'' if p.binding else f' ({p.kind})'}"
    if excerpt[:40] not in a.text:
        item += f": “{excerpt}”"
    return item + (f" — {c.url}" if c.url else "")


def sources_text(a: Answer) -> str:
    """What follows the answer text in a reply: its notes, then the Sources, one Markdown list item per verified
    excerpt, then the disclaimer."""
    parts = []
    if a.notes:
        parts.append("\n".join(f"Note: {note}" for note in a.notes))
    if a.citations:
        items = [source_line(a, n) for n in range(len(a.citations))]
        parts.append("Sources:\n\n" + "\n".join(items))
    if a.disclaimer:
        parts.append(a.disclaimer)
    return "".join(f"\n\n{part}" for part in parts)


def reply_text(a: Answer) -> str:
    return a.text + sources_text(a)


def citations_json(a: Answer) -> list[dict[str, Any]]:
    from ..answer.schema import answer_json

    citations: list[dict[str, Any]] = answer_json(a)["citations"]
    return citations


def extra_json(a: Answer) -> dict[str, Any]:
    """Everything else `/api/ask` says (abstained, reason, notes, comparison, ...), as the reply's `policybot`."""
    from ..answer.schema import answer_json

    return {k: v for k, v in answer_json(a).items() if k != "citations"}


def completion_json(a: Answer, completion_id: str, created: int) -> dict[str, Any]:
    message = {"role": "assistant", "content": reply_text(a), "refusal": None, "citations": citations_json(a)}
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "policybot": extra_json(a),
    }


def chunk_event(
    completion_id: str,
    created: int,
    delta: dict[str, Any],
    finish: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    chunk = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **({"policybot": extra} if extra is not None else {}),
    }
    return sse(chunk)


def sse(data: dict[str, Any]) -> str:
    try:
        text = json.dumps(data, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: escaped, never a failure mid-stream
        text = json.dumps(data, ensure_ascii=True)
    return f"data: {text}\n\n"


def next_piece(pieces: Iterator[str | Answer]) -> str | Answer | None:
    # run_in_threadpool cannot carry StopIteration out of its thread.
    return next(pieces, None)


async def stream_events(
    first: str | Answer | None, pieces: Iterator[str | Answer], completion_id: str, created: int
) -> AsyncIterator[str]:
    """OpenAI's chunks: the role, each text piece as `ask_stream` yields it, then the Sources (with the
    citations as the delta's `citations`), the finish, and `[DONE]`. A failure once the stream has started
    can only be told in it: as an `error` event, OpenAI's way."""
    yield chunk_event(completion_id, created, {"role": "assistant", "content": ""})
    shown: list[str] = []
    item = first
    try:
        while isinstance(item, str):
            shown.append(item)
            yield chunk_event(completion_id, created, {"content": item})
            item = await run_in_threadpool(next_piece, pieces)
    except PolicybotError as exc:
        yield sse(policybot_error(exc).json())
        return
    except Exception as exc:
        log.error("/v1 stream failed: %s: %s", type(exc).__name__, shorten(str(exc), 300))
        yield sse(error_json(500, "the server failed on this request; its log says why"))
        return
    if item is None:  # pragma: no cover - ask_stream always ends with the Answer
        yield sse(error_json(500, "the answer ended before it was complete"))
        return
    # Verification can change a generative answer after it streamed: say so, and give the checked one whole.
    tail = sources_text(item) if "".join(shown) == item.text else CHANGED + reply_text(item)
    yield chunk_event(completion_id, created, {"content": tail, "citations": citations_json(item)})
    yield chunk_event(completion_id, created, {}, finish="stop", extra=extra_json(item))
    yield "data: [DONE]\n\n"
