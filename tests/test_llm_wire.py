"""The wire path end to end: `ask()` and `ask_stream()` with POLICYBOT_COMPOSER=llm against a small
OpenAI-compatible server on loopback (a stand-in written here, with and without `stream: true`)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import bot.answer.llm as llm
from bot.answer.ask import ask, ask_stream
from bot.settings import Settings
from bot.types import Answer

pytestmark = pytest.mark.integration

_CLAUSE = re.compile(r'<clause id="(\d+)"[^>]*>\n(.*?)\n</clause>', re.DOTALL)


@dataclass
class StandIn:
    """What the stand-in server saw, and how it behaves."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    closing: threading.Event = field(default_factory=threading.Event)

    def reply(self, body: dict[str, Any]) -> str:
        """A follow-up gets a stand-alone question; a question gets an answer citing and quoting the clause
        about opting in, found in the prompt by its words, like a model that reads its clauses."""
        system, human = body["messages"][0]["content"], body["messages"][-1]["content"]
        if "stand-alone question" in system:
            return "Can Loudwave use my music to train AI?"
        for n, text in _CLAUSE.findall(human):
            if "opt in" in text:
                sentence = text.split(". ")[0].rstrip(".")
                return f"Only if you opt in: Loudwave's Terms of Use say “{sentence}” [{n}]."
        return "The clauses I have don't say."


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

        def do_POST(self) -> None:
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stand_in.requests.append(body)
            if stand_in.delay and stand_in.closing.wait(stand_in.delay):
                return  # the test is over and the client long gone
            text = stand_in.reply(body)
            base = {"id": "chatcmpl-1", "created": int(time.time()), "model": body["model"]}
            if not body.get("stream"):
                payload = {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            pieces = [text[i : i + 7] for i in range(0, len(text), 7)]  # markers split across events
            for i, piece in enumerate(pieces):
                delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                event = {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            end = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()

    return Handler


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StandIn, str]]:
    stand_in = StandIn()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # loopback never goes through a proxy
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    llm.chains_cache_clear()
    yield stand_in, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    stand_in.closing.set()
    httpd.shutdown()
    httpd.server_close()
    llm.chains_cache_clear()


def _settings(
    monkeypatch: pytest.MonkeyPatch, test_index: Settings, url: str, timeout: float = 30
) -> Settings:
    """Settings read from the environment, as a deployment would set them."""
    monkeypatch.setenv("POLICYBOT_COMPOSER", "llm")
    monkeypatch.setenv("POLICYBOT_LLM_PROVIDER", "openai")
    monkeypatch.setenv("POLICYBOT_LLM_BASE_URL", url)
    monkeypatch.setenv("POLICYBOT_LLM_MODEL", "stand-in-model")
    monkeypatch.setenv("POLICYBOT_LLM_API_KEY", "sk-test-key")
    monkeypatch.setenv("POLICYBOT_LLM_TIMEOUT", str(timeout))
    monkeypatch.setenv("POLICYBOT_DATA_DIR", str(test_index.data_dir))
    return Settings()


QUESTION = "Can Loudwave use my music to train AI?"
EXPECTED = (
    "Only if you opt in: Loudwave's Terms of Use say “Loudwave will not use your Content to train generative "
    "artificial intelligence models unless you opt in from the privacy settings of your account” [1]."
)


def test_ask_goes_over_the_wire_and_is_verified(server, test_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stand_in, url = server
    settings = _settings(monkeypatch, test_index, url)
    assert settings.composer == "llm" and settings.llm_api_key.get_secret_value() == "sk-test-key"
    answer = ask(QUESTION, settings)
    assert answer.text == EXPECTED and not answer.abstained
    assert len(answer.citations) == 1 and "opt in" in answer.citations[0].excerpt
    (request,) = stand_in.requests
    assert request["model"] == "stand-in-model" and request["temperature"] == 0 and not request.get("stream")
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert '<clause id="1" platform="Loudwave"' in request["messages"][1]["content"]


def test_ask_stream_streams_over_the_wire(server, test_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stand_in, url = server
    settings = _settings(monkeypatch, test_index, url)
    pieces = list(ask_stream(QUESTION, settings))
    final = pieces[-1]
    text = [p for p in pieces[:-1] if isinstance(p, str)]
    assert isinstance(final, Answer) and len(text) > 5
    assert "".join(text) == final.text == EXPECTED
    assert stand_in.requests[-1]["stream"] is True


def test_a_follow_up_is_condensed_over_the_wire(server, test_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stand_in, url = server
    settings = _settings(monkeypatch, test_index, url)
    answer = ask("and what about my music?", settings, history=["Does Loudwave train AI on uploads?"])
    assert answer.standalone == "Can Loudwave use my music to train AI?" and answer.text == EXPECTED
    assert len(stand_in.requests) == 2
    assert "Does Loudwave train AI on uploads?" in stand_in.requests[0]["messages"][1]["content"]


def test_a_slow_server_times_out_to_the_quoted_answer(server, test_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stand_in, url = server
    stand_in.delay = 3.0
    settings = _settings(monkeypatch, test_index, url, timeout=0.5)
    answer = ask(QUESTION, settings)
    assert "did not answer within 0.5 s" in answer.notes[0]  # the client's timeout, not the server's reply
    assert answer.citations and answer.text.startswith("Loudwave's Terms of Use")


def test_a_closed_port_gives_the_quoted_answer(test_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free now, and nothing listens on it
    llm.chains_cache_clear()
    settings = _settings(monkeypatch, test_index, f"http://127.0.0.1:{port}/v1")
    answer = ask(QUESTION, settings)
    assert "could not be reached" in answer.notes[0] and answer.citations
    pieces = list(ask_stream(QUESTION, settings))
    assert isinstance(pieces[-1], Answer) and "could not be reached" in pieces[-1].notes[0]
    llm.chains_cache_clear()
