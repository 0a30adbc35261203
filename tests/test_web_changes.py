"""The changes on the web: `GET /api/changes`, `GET /api/changes/{id}`, `GET /feeds/changes.atom` (valid Atom,
escaped, cacheable) on a bare FastAPI app and in `create_app`, and the chat page's "What changed" view —
rendered in isolation, and on the real chat page in Debian's chromium, with screenshots.

The corpus: the project's test corpus (Loudwave's terms change between March 2024 and July 2025) plus two
versions of a hostile document whose changed clause carries markup that must never run.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.web.changes import changes_router, changes_view, render_changes
from bot.web.errors import add_error_handlers

from .conftest import DATA, ROOT

pytestmark = pytest.mark.integration

HOSTILE = """---
service: Shadowtape
document: Terms of Service
title: Terms of Use
kind: terms
region: global
version_date: {day}
url: https://shadowtape.example/terms
---
# Terms of Use

## AI training

{ai}

## Ownership

You keep ownership of your tracks and Shadowtape claims no rights in them beyond this licence.
"""
AI_BEFORE = "Shadowtape will not use the tracks you upload to train artificial intelligence models."
AI_AFTER = (
    "Shadowtape may use the tracks you upload to train artificial intelligence models "
    "<script>window.__pwned='change'</script> unless you opt out <img src=x onerror=\"window.__pwned='img'\">."
)


def app_for(settings: Settings) -> FastAPI:
    """The router as `create_app` mounts it: settings in app.state, the API's error handlers."""
    app = FastAPI()
    app.state.settings = settings
    add_error_handlers(app)
    app.include_router(changes_router)
    return app


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Settings:
    from bot.index.build import build_index

    hostile = tmp_path_factory.mktemp("hostile-changes")
    (hostile / "shadowtape-2025-01-01.md").write_text(HOSTILE.format(day="2025-01-01", ai=AI_BEFORE), "utf-8")
    (hostile / "shadowtape-2025-09-01.md").write_text(HOSTILE.format(day="2025-09-01", ai=AI_AFTER), "utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("web-changes"))
    build_index([DATA / "ota", DATA / "frontmatter", hostile], settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> TestClient:
    return TestClient(app_for(settings))


def test_api_changes_with_filters(client: TestClient) -> None:
    everything = client.get("/api/changes").json()
    assert everything["count"] == 3
    assert [c["service"] for c in everything["changes"]] == ["Shadowtape", "Loudwave", "Loudwave"]
    ai = client.get("/api/changes", params={"service": "loudwave", "topic": "ai_training"}).json()
    assert ai["count"] == 1 and ai["changes"][0]["section"] == "Grant of license › ¶2"
    assert ai["filters"] == {
        "services": ["Loudwave"],
        "documents": [],
        "topic": "ai_training",
        "since": None,
        "until": None,
        "include_editorial": False,
    }
    assert client.get("/api/changes", params={"since": "2025-08-01"}).json()["count"] == 1
    assert (
        client.get("/api/changes", params={"service": "Loudwave,Shadowtape", "limit": 1}).json()["count"] == 1
    )
    one = client.get(f"/api/changes/{ai['changes'][0]['id']}")
    assert one.status_code == 200 and one.json()["id"] == ai["changes"][0]["id"]
    missing = client.get("/api/changes/nope")
    assert missing.status_code == 404 and "no recorded change" in missing.json()["error"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "last year"}, "since: 'last year' is not a date"),
        ({"topic": "weather"}, "unknown topic"),
        ({"service": "Mixcloud"}, "no platform 'Mixcloud'"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_filters_are_422_with_the_reason(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    for path in ("/api/changes", "/feeds/changes.atom"):
        if path.endswith(".atom") and "limit" in params:
            continue
        response = client.get(path, params=params)
        assert response.status_code == 422 and message in response.json()["error"]


def test_no_index_is_503(tmp_path: Path) -> None:
    response = TestClient(app_for(Settings(data_dir=tmp_path))).get("/feeds/changes.atom")
    assert response.status_code == 503 and "policybot index" in response.json()["error"]


def test_the_feed_validates_and_never_carries_markup_from_a_document(client: TestClient) -> None:
    feedparser = pytest.importorskip("feedparser")
    response = client.get("/feeds/changes.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert b"<script" not in response.content and b"<img" not in response.content
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "policybot: Substantive changes to the platforms' terms"
    assert len(feed.entries) == 3
    for entry in feed.entries:
        assert entry.id.startswith("urn:policybot:change:") and entry.title and entry.updated and entry.link
        assert entry.content[0].value
    hostile = next(e for e in feed.entries if "Shadowtape" in e.title)
    assert hostile.title == "Shadowtape changed its Terms of Use on AI training (September 1, 2025)"
    assert hostile.updated.startswith("2025-09-01") and hostile.link.startswith(
        "https://shadowtape.example/terms"
    )
    content = hostile.content[0].value
    assert "&lt;script&gt;" in content and "&lt;/script&gt;" in content and "__pwned" in content
    assert "<script" not in content and "<img" not in content
    assert "January 1, 2025" in content and "September 1, 2025" in content
    # The same entries under the same ids on every request; a reader asking again gets 304.
    again = client.get("/feeds/changes.atom", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert [e.id for e in feedparser.parse(client.get("/feeds/changes.atom").content).entries] == [
        e.id for e in feed.entries
    ]
    only = feedparser.parse(client.get("/feeds/changes.atom", params={"topic": "termination"}).content)
    assert [e.title for e in only.entries] == [
        "Loudwave changed its Terms of Use on account termination (July 1, 2025)"
    ]


def test_the_view_renders_escaped_side_by_side_wording(settings: Settings) -> None:
    body = render_changes(settings, "all", "all", False)
    assert body.count('<details class="pb-change"') == 3
    assert "<h4>Shadowtape</h4>" in body and "<h4>Loudwave</h4>" in body
    assert "&lt;script&gt;" in body and "&lt;/script&gt;" in body and "__pwned" in body
    assert "<script" not in body and "<img" not in body
    assert "<del>" in body and "<ins>" in body
    assert "Before — version of March 1, 2024 (Last Amended: March 1, 2024)" in body
    termination = render_changes(settings, "termination", "all", False)
    assert termination.count("<details") == 1 and "30 days" in termination
    assert "No substantive changes" in render_changes(settings, "payouts", "Loudwave", False)


def test_the_view_builds_into_a_page(settings: Settings) -> None:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    with gr.Blocks() as page:
        parts = changes_view(settings)
    assert set(parts) == {"topic", "platform", "editorial", "listing"}
    config = page.get_config_file()
    assert len(config["dependencies"]) >= 3  # the filters re-render the list


# --- in Debian's chromium ---------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[str]:
    """The whole web application (`create_app`: API, feed and chat page, behind the guard), served by uvicorn
    on loopback with `policybot serve`'s settings."""
    import uvicorn

    from bot.web.app import create_app
    from bot.web.server import server_config

    served_settings = Settings(data_dir=settings.data_dir, rate_limit_per_minute=600, rate_limit_burst=100)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = server_config(create_app(served_settings), served_settings, "127.0.0.1", port, logs=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    sock.close()


def test_the_app_serves_the_changes(settings: Settings) -> None:
    from bot.web.app import create_app

    app = TestClient(create_app(settings, chat=False))
    assert app.get("/api/changes").json()["count"] == 3
    feed = app.get("/feeds/changes.atom", params={"service": "Loudwave", "topic": "ai_training"})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert b"Loudwave changed its Terms of Use on AI training (July 1, 2025)" in feed.content


@pytest.mark.slow
def test_the_view_in_chromium(served: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}; `make browser` installs it (apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra: make setup")
    shots = Path(os.environ.get("POLICYBOT_SCREENSHOTS", ROOT / "reports" / "web-e2e"))
    shots.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "profile"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        browser.set_default_timeout(60_000)
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(served + "/")
        # On the chat page, under the conversation: the "What changed" panel, closed until opened.
        page.locator("#pb-changes-panel").get_by_text("What changed").first.click()
        page.wait_for_selector("#pb-changes details.pb-change")
        # The list is rendered again when the page loads: wait until that is done (Gradio hides its tracker).
        page.wait_for_function(
            "() => [...document.querySelectorAll('#pb-changes .wrap')].every(w => w.classList.contains('hide'))"
        )
        assert page.locator("#pb-changes details.pb-change").count() == 3
        first = page.locator("#pb-changes details.pb-change").filter(
            has_text="Loudwave changed its Terms of Use on AI"
        )
        first.locator("summary").click()
        old, new = first.locator(".pb-old"), first.locator(".pb-new")
        assert old.is_visible() and new.is_visible()
        assert "explicitly agree" in " ".join(old.locator("del").all_inner_texts())
        assert "opt in" in " ".join(new.locator("ins").all_inner_texts())
        hostile = page.locator("#pb-changes details.pb-change").filter(has_text="Shadowtape")
        hostile.locator("summary").click()
        time.sleep(0.5)  # let anything that would run, run
        assert "<script>window.__pwned='change'</script>" in hostile.inner_text()
        assert page.evaluate("window.__pwned") is None
        page.screenshot(path=str(shots / "changes-view.png"), full_page=True)

        page.locator("#pb-changes-topic input").click()
        page.get_by_role("option", name="Account termination").click()
        page.wait_for_function(
            "() => document.querySelectorAll('#pb-changes details.pb-change').length === 1"
        )
        page.locator("#pb-changes details.pb-change summary").click()
        assert "30 days" in " ".join(page.locator("#pb-changes .pb-new ins").all_inner_texts())
        page.screenshot(path=str(shots / "changes-view-topic.png"), full_page=True)
        assert {r.split("/")[2] for r in requested if r.startswith("http")} == {served.split("/")[2]}
        browser.close()
    shutil.rmtree(profile, ignore_errors=True)
