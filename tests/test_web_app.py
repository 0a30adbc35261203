"""The HTTP API: the answer JSON, every limit and error code, CORS and the origin check, feedback, the
OpenAPI spec, the widget script and the mounted chat page (in-process, through Starlette's test client)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.integration

ALLOWED = "https://help.example.com"
QUESTION = "Can Loudwave train AI on my music?"


@pytest.fixture(scope="module")
def web_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    """The project's test corpus plus the hostile document, indexed once for this module."""
    from bot.index.build import build_index
    from bot.settings import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("web-index"),
        cors_origins=(ALLOWED,),
        rate_limit_per_minute=6000,
        rate_limit_burst=1000,
    )
    report = build_index(
        [DATA / "ota", DATA / "frontmatter", DATA / "flat", DATA / "hostile"], settings, embedder=embedder
    )
    assert not report.problems, report.problems
    return settings


@pytest.fixture(scope="module")
def client(web_index: Any) -> Iterator[Any]:
    """The whole application, chat page included, with its lifespan running."""
    from fastapi.testclient import TestClient

    from bot.web.app import create_app

    with TestClient(create_app(web_index)) as test_client:
        yield test_client


def _app_client(settings: Any) -> Any:
    from fastapi.testclient import TestClient

    from bot.web.app import create_app

    return TestClient(create_app(settings, chat=False))


# --- answers ----------------------------------------------------------------------------------------------


def test_ask_returns_exactly_the_json_of_ask_json(client: Any, web_index: Any) -> None:
    from bot.answer.ask import ask
    from bot.answer.schema import answer_json

    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 200
    body = response.json()
    expected = answer_json(ask(QUESTION, web_index))
    body.pop("timings_ms")
    expected.pop("timings_ms")
    assert body == expected
    assert not body["abstained"]
    first = body["citations"][0]
    assert first["service"] == "Loudwave" and first["version_date"] == "2025-07-01"
    assert "train generative artificial intelligence" in first["excerpt"]


def test_ask_follow_up_reads_history_and_as_of_moves_the_version(client: Any) -> None:
    follow = client.post("/api/ask", json={"question": "and before 2025?", "history": [QUESTION]}).json()
    assert follow["as_of"] == "2024-12-31"
    assert follow["citations"][0]["version_date"] == "2024-03-01"
    dated = client.post("/api/ask", json={"question": QUESTION, "as_of": "2024-06-01"}).json()
    assert dated["citations"][0]["version_date"] == "2024-03-01"


def test_ask_service_filter(client: Any) -> None:
    body = client.post("/api/ask", json={"question": "Who owns my uploads?", "service": "tunebox"}).json()
    assert {c["service"] for c in body["citations"]} <= {"Tunebox"}
    assert body["services"] == ["Tunebox"]


def test_search_returns_ranked_hits(client: Any) -> None:
    response = client.post("/api/search", json={"query": "AI training", "k": 3, "service": ["Loudwave"]})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "AI training"
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3]
    assert {h["service"] for h in body["hits"]} == {"Loudwave"}


def test_health_names_the_index(client: Any) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["services"] == ["Beatcrate", "Loudwave", "Shadowtape", "Tunebox"]


def test_health_and_ask_without_an_index_are_503(tmp_path: Path) -> None:
    from bot.settings import Settings

    with _app_client(Settings(data_dir=tmp_path / "empty")) as empty:
        health = empty.get("/api/health")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        response = empty.post("/api/ask", json={"question": QUESTION})
        assert response.status_code == 503
        assert "policybot index" in response.json()["error"]
        assert empty.head("/api/health").status_code == 503
    for public in (health.json()["error"], response.json()["error"]):
        assert str(tmp_path) not in public and "the data directory" in public  # where it is: the log only


# --- errors and limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ('{"question": ', 400, "not valid JSON"),
        ("question=hello", 400, "not valid JSON"),
        ('["a list"]', 422, "must be a JSON object"),
        ("{}", 422, "question: Field required"),
        ('{"question": 42}', 422, "question: Input should be a valid string"),
        ('{"question": "   "}', 422, "the question is empty"),
        ('{"question": "?!?"}', 422, "has no words"),
        ('{"question": "' + "why " * 600 + '"}', 422, "the limit is 2,000"),
        ('{"question": "Can Loudwave train AI?", "as_of": "March 2024"}', 422, "as_of"),
        ('{"question": "Can Loudwave train AI?", "service": "Mixcloud"}', 422, "unknown platform 'Mixcloud'"),
        ('{"question": "Can Loudwave train AI?", "history": "not a list"}', 422, "history"),
    ],
)
def test_ask_rejects_bad_requests_with_a_clear_message(
    client: Any, body: str, status: int, words: str
) -> None:
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_search_rejects_k_out_of_range(client: Any) -> None:
    response = client.post("/api/search", json={"query": "AI", "k": 500})
    assert response.status_code == 422
    assert response.json()["error"].startswith("k:")


def test_declared_body_over_the_limit_is_413(client: Any, web_index: Any) -> None:
    big = json.dumps({"question": "x" * (web_index.max_request_bytes + 10)})
    response = client.post("/api/ask", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "the limit is 32,768 bytes" in response.json()["error"]


def test_streamed_body_over_the_limit_is_413(client: Any, web_index: Any) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is only known while reading
        yield b'{"question": "'
        for _ in range(web_index.max_request_bytes // 1000 + 2):
            yield b"y" * 1000
        yield b'"}'

    response = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "over 32,768 bytes" in response.json()["error"]


def test_streamed_body_under_the_limit_is_read_whole(client: Any) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "Can Loudwave '
        yield b'train AI on my music?"}'

    response = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["question"] == QUESTION


def test_rate_limit_is_429_with_retry_after(web_index: Any) -> None:
    strict = web_index.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 2})
    with _app_client(strict) as limited:
        codes = [limited.post("/api/search", json={"query": "AI"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = limited.post("/api/ask", json={"question": QUESTION})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "try again in" in refused.json()["error"]
        feedback = limited.post("/api/feedback", json={"rating": "up", "question": "q"})
        assert feedback.status_code == 429
        assert limited.get("/api/health").status_code == 200  # monitoring is not rate-limited


# --- origins ----------------------------------------------------------------------------------------------


def test_allowed_origin_gets_cors_headers(client: Any) -> None:
    preflight = client.options(
        "/api/ask",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    response = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in response.headers


def test_other_origin_is_refused(client: Any) -> None:
    evil = "https://evil.example.net"
    preflight = client.options("/api/ask", headers={"Origin": evil, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": evil})
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert evil in response.json()["error"] and "POLICYBOT_CORS_ORIGINS" in response.json()["error"]
    assert client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": "null"}).status_code == 403


def test_same_origin_page_and_non_browser_clients_are_served(client: Any) -> None:
    same = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": "http://testserver"})
    assert same.status_code == 200
    assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200


def test_default_is_same_origin_only(web_index: Any) -> None:
    closed = web_index.model_copy(update={"cors_origins": ()})
    with _app_client(closed) as api:
        assert api.post("/api/search", json={"query": "AI"}, headers={"Origin": ALLOWED}).status_code == 403
        assert (
            api.post("/api/search", json={"query": "AI"}, headers={"Origin": "http://testserver"}).status_code
            == 200
        )


# --- feedback ---------------------------------------------------------------------------------------------


def test_feedback_is_stored_in_sqlite_in_the_data_dir(client: Any, web_index: Any) -> None:
    response = client.post(
        "/api/feedback",
        json={
            "rating": "down",
            "question": QUESTION,
            "answer": "Loudwave's Terms of Use say: …",
            "comment": "The quote is from the old version",
            "citations": ["abc:1-2"],
            "source": "widget",
        },
    )
    assert response.status_code == 201
    feedback_id = response.json()["id"]
    with sqlite3.connect(web_index.data_dir / "feedback.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        row = db.execute(
            "SELECT rating, question, comment, citations, source FROM feedback WHERE id = ?", (feedback_id,)
        ).fetchone()
    assert row == ("down", QUESTION, "The quote is from the old version", '["abc:1-2"]', "widget")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"rating": "meh", "question": "q"}, "rating"),
        ({"rating": "up"}, "question: Field required"),
        ({"rating": "up", "question": ""}, "question"),
        ({"rating": "up", "question": "q", "comment": "x" * 2001}, "comment"),
        ({"rating": "up", "question": "q", "source": "email"}, "source"),
    ],
)
def test_feedback_rejects_bad_ratings(client: Any, body: dict[str, Any], words: str) -> None:
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 422
    assert words in response.json()["error"]


# --- spec, widget, page -----------------------------------------------------------------------------------


def test_openapi_spec_validates_and_documents_the_api(client: Any) -> None:
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").json()
    validate(spec)
    assert {"/api/ask", "/api/search", "/api/feedback", "/api/health"} <= set(spec["paths"])
    responses = spec["paths"]["/api/ask"]["post"]["responses"]
    assert {"200", "400", "403", "413", "422", "429", "503"} <= set(responses)
    assert client.get("/api/docs").status_code == 200


def test_widget_script_is_served_self_contained(client: Any) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    script = response.text
    assert "/api/ask" in script and "attachShadow" in script
    assert "innerHTML" not in script  # everything from the server is inserted as text
    assert "import " not in script and "https://" not in script.split("*/", 1)[1]  # no outside requests


def test_api_reference_is_served_from_the_package(client: Any) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "<script" not in docs.text and "cdn." not in docs.text
    assert "POST" in docs.text and "/api/ask" in docs.text and "AskRequest" in docs.text


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/api/nope", 404, None),
        ("GET", "/api/ask", 405, "POST"),
        ("POST", "/api/health", 405, "GET, HEAD"),
        ("PATCH", "/api/docs", 405, "GET, HEAD"),
    ],
)
def test_other_api_paths_and_methods_are_the_apis_errors(
    client: Any, method: str, path: str, status: int, allow: str | None
) -> None:
    response = client.request(method, path)
    assert response.status_code == status and set(response.json()) == {"error"}
    assert response.headers.get("allow") == allow


def test_head_health(client: Any) -> None:
    response = client.head("/api/health")
    assert response.status_code == 200 and response.content == b""


def test_every_route_checks_the_host(client: Any) -> None:
    for path in ("/", "/api/health", "/widget.js", "/api/docs", "/config"):
        response = client.get(path, headers={"Host": "rebind.example.net"})
        assert response.status_code == 421 and "--allowed-host" in response.json()["error"], path
    assert client.get("/", headers={"Host": "localhost:7860"}).status_code == 200


def test_forwarded_for_is_ignored_without_a_trusted_proxy(web_index: Any) -> None:
    strict = web_index.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 2})
    with _app_client(strict) as limited:
        codes = [
            limited.post("/api/search", json={"query": "AI"}, headers={"X-Forwarded-For": f"192.0.2.{n}"})
            for n in range(3)
        ]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert "testclient" in codes[-1].json()["error"]


def test_chat_page_internals_are_closed(client: Any) -> None:
    upload = client.post("/gradio_api/upload", files={"files": ("a.txt", b"a")})
    assert upload.status_code == 404 and "no such page" in upload.json()["error"]
    assert client.get("/gradio_api/file=https://example.com/x").status_code == 404
    foreign = client.get("/config", headers={"Origin": ALLOWED})  # allowed for the API, not for the page
    assert foreign.status_code == 403
    assert client.get("/config").status_code == 200


def test_chat_sessions_are_bounded_and_expire(client: Any, web_index: Any) -> None:
    import gradio as gr
    from starlette.routing import Mount

    (mount,) = [r for r in client.app.routes if isinstance(r, Mount)]
    blocks = mount.app.get_blocks()
    assert blocks.state_session_capacity == web_index.chat_max_sessions
    assert mount.app.state_holder.capacity == web_index.chat_max_sessions
    states = [b for b in blocks.blocks.values() if isinstance(b, gr.State)]
    assert states and all(s.time_to_live == web_index.chat_session_ttl for s in states)
    assert blocks.max_file_size is not None and blocks.max_file_size <= 1024


def test_chat_page_is_mounted_at_root_without_cookies(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "<html" in page.text.lower()
    for path in ("/", "/api/health", "/widget.js"):
        assert "set-cookie" not in client.get(path).headers
    answer = client.post("/api/ask", json={"question": QUESTION})
    assert "set-cookie" not in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "fonts.googleapis.com" not in page.text
