"""End to end in real headless Chromium (Debian's `chromium`, driven by Playwright; never a downloaded
browser): the chat page, the widget on a page from another origin, a refused origin, and a hostile document
(tests/data/hostile/: `<script>`, `onerror=`, `javascript:` links, template syntax) whose text must show as
text and never run.

One policybot server (uvicorn in a thread) and one static server for the host page serve the whole module.
Screenshots go to reports/web-e2e/ (or $POLICYBOT_SCREENSHOTS).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import DATA, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "Can Loudwave train AI on my music?"
HOSTILE_QUESTION = "Can Shadowtape train AI on my tracks?"
TIMEOUT_MS = 60_000


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def shots() -> Path:
    folder = Path(os.environ.get("POLICYBOT_SCREENSHOTS", ROOT / "reports" / "web-e2e"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def host_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A static server for the example host page: its origin differs from the bot's (another port)."""
    folder = tmp_path_factory.mktemp("host-page")
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "folder": folder,
        "port": port,
        "allowed": f"http://127.0.0.1:{port}",
        "refused": f"http://localhost:{port}",
    }
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, host_page: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """policybot serving the test corpus plus the hostile document, allowing the host page's origin only."""
    import uvicorn

    from bot.index.build import build_index
    from bot.settings import Settings
    from bot.web.app import create_app
    from bot.web.server import server_config

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("web-e2e"),
        cors_origins=(host_page["allowed"],),
        rate_limit_per_minute=600,
        rate_limit_burst=100,
    )
    build_index(
        [DATA / "ota", DATA / "frontmatter", DATA / "flat", DATA / "hostile"], settings, embedder=embedder
    )
    sock = _free_socket()
    port = sock.getsockname()[1]
    # The same uvicorn settings as `policybot serve` (its protocol, limits and guard), without its logging.
    config = server_config(create_app(settings), settings, "127.0.0.1", port, logs=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    # The one-line embed from the example page, pointed at this server.
    page = (ROOT / "examples" / "embed.html").read_text(encoding="utf-8")
    assert "http://localhost:7860/widget.js" in page
    (host_page["folder"] / "embed.html").write_text(
        page.replace("http://localhost:7860", base), encoding="utf-8"
    )
    yield {"base": base, "settings": settings}
    server.should_exit = True
    thread.join(15)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}; `make browser` installs it (apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra: make setup")
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data dir
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page()
    tab.requested = []  # every URL the page asks for
    tab.refused = []  # every response of 400 or more: the guard must let the page's own requests through
    tab.on("request", lambda request: tab.requested.append(request.url))
    tab.on("response", lambda r: tab.refused.append((r.status, r.url)) if r.status >= 400 else None)
    yield tab
    tab.close()


def _ask_on_chat_page(page: Any, question: str) -> None:
    box = page.locator("#pb-question textarea")
    box.fill(question)
    box.press("Enter")


def _hosts(urls: list[str]) -> set[str]:
    return {urlsplit(u).netloc for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")}


def _nothing_ran(page: Any) -> None:
    assert page.evaluate("window.__pwned") is None
    # None of the hostile markup became elements: no script, img, iframe or link carrying it.
    planted = page.evaluate(
        """() => Array.from(document.querySelectorAll('script, img, iframe, a'))
                 .filter(e => e.outerHTML.includes('__pwned')).length"""
    )
    assert planted == 0


# --- the chat page ----------------------------------------------------------------------------------------


def test_chat_page_answers_with_citation_panel_and_stays_offline(
    page: Any, bot: dict[str, Any], shots: Path
) -> None:
    page.goto(bot["base"] + "/")
    page.wait_for_selector("#pb-question textarea")
    examples = page.locator("#pb-chat").inner_text()
    assert "Who owns the music I upload to Loudwave?" in examples  # example questions on first load
    page.screenshot(path=str(shots / "chat-first-load.png"), full_page=True)

    _ask_on_chat_page(page, QUESTION)
    page.wait_for_selector("#pb-citations .pb-cite")
    chat = page.locator("#pb-chat").inner_text()
    assert "Loudwave will not use your Content to train generative artificial intelligence models" in chat
    panel = page.locator("#pb-citations")
    first = panel.locator(".pb-cite").first
    text = first.inner_text()
    assert "[1]" in text and "Loudwave" in text and "Terms of Use" in text
    assert "Grant of license" in text and "Last Amended: July 1, 2025" in text and "2025-07-01" in text
    assert "train generative artificial intelligence" in first.locator("mark").inner_text()
    assert first.locator("a.pb-source").count() == 0  # the test corpus has no source address to link
    page.screenshot(path=str(shots / "chat-answer.png"), full_page=True)

    # Follow-ups keep context: the date moves to the version in force before 2025.
    _ask_on_chat_page(page, "and before 2025?")
    page.wait_for_function(
        "() => document.querySelector('#pb-citations').innerText.includes('Last Amended: March 1, 2024')"
    )
    assert "a newer version exists" in page.locator("#pb-chat").inner_text()
    page.screenshot(path=str(shots / "chat-follow-up.png"), full_page=True)

    # The page made no request to any other host: no fonts, CDN or analytics; the guard refused none of its own.
    assert _hosts(page.requested) == {urlsplit(bot["base"]).netloc}
    assert page.refused == []


def test_chat_page_thumbs_are_stored(page: Any, bot: dict[str, Any]) -> None:
    page.goto(bot["base"] + "/")
    page.wait_for_selector("#pb-question textarea")
    page.get_by_text("Who owns the music I upload to Loudwave?").click()  # an example question
    page.wait_for_selector("#pb-citations .pb-cite")
    page.locator("#pb-chat button[aria-label='Dislike'], #pb-chat button[title='Dislike']").last.click()
    page.wait_for_function("() => document.querySelector('#pb-status').innerText.includes('stored')")
    db = sqlite3.connect(bot["settings"].data_dir / "feedback.sqlite3")
    rows = db.execute(
        "SELECT rating, question, source, citations FROM feedback WHERE source = 'chat'"
    ).fetchall()
    db.close()
    assert ("down", "Who owns the music I upload to Loudwave?", "chat") in [r[:3] for r in rows]
    assert any(":" in r[3] for r in rows)  # the cited excerpts, so the rating can be traced
    assert page.refused == []


def test_chat_page_shows_a_hostile_document_as_text(page: Any, bot: dict[str, Any], shots: Path) -> None:
    page.goto(bot["base"] + "/")
    page.wait_for_selector("#pb-question textarea")
    _ask_on_chat_page(page, HOSTILE_QUESTION)
    page.wait_for_selector("#pb-citations .pb-cite")
    time.sleep(0.5)  # let anything that would run, run
    panel = page.locator("#pb-citations").inner_text()
    chat = page.locator("#pb-chat").inner_text()
    for shown in (panel, chat):
        assert "<script>window.__pwned='clause'</script>" in shown
        assert "<img src=x onerror=\"window.__pwned='img'\">" in shown
        # Markdown is shown as read: a link's text without its target, so no javascript: link exists.
        assert "in every country" in shown and "](javascript:" not in shown
        assert "${window.__pwned='template'}" in shown
    assert "No public address for this document." in panel  # the javascript: source address is not linked
    assert page.locator("a[href^='javascript:' i]").count() == 0
    _nothing_ran(page)
    page.screenshot(path=str(shots / "chat-hostile.png"), full_page=True)


# --- the widget -------------------------------------------------------------------------------------------

WIDGET = "[data-policybot='widget']"
ANSWERED = """() => {
  const root = document.querySelector("[data-policybot='widget']").shadowRoot;
  const bots = root.querySelectorAll('.bot');
  return bots.length > 0 && !bots[bots.length - 1].textContent.startsWith('Searching');
}"""


def _ask_widget(page: Any, question: str) -> Any:
    page.locator(f"{WIDGET} >> .bubble").click()
    field = page.locator(f"{WIDGET} >> input")
    field.fill(question)
    field.press("Enter")
    page.wait_for_function(ANSWERED)
    return page.locator(f"{WIDGET} >> .bot").last


def test_widget_on_an_allowed_origin_answers_with_citations(
    page: Any, bot: dict[str, Any], host_page: dict[str, Any], shots: Path
) -> None:
    page.goto(host_page["allowed"] + "/embed.html")
    answer = _ask_widget(page, QUESTION)
    text = answer.inner_text()
    assert "Loudwave will not use your Content to train generative artificial intelligence models" in text
    cites = answer.locator(".cite")
    assert cites.count() >= 1
    first = cites.first.inner_text()
    assert first.startswith("[1]") and "Loudwave" in first and "Last Amended: July 1, 2025" in first
    # The statement's excerpt sits in the answer; its source link (an http address) is shown.
    links = answer.locator("a.source")
    assert links.count() >= 1
    assert links.first.get_attribute("href").startswith(
        "https://example.org/loudwave-statement#:~:text=Loudwave"
    )
    assert _hosts(page.requested) == {urlsplit(host_page["allowed"]).netloc, urlsplit(bot["base"]).netloc}
    page.screenshot(path=str(shots / "widget-allowed-origin.png"))


def test_widget_on_another_origin_is_refused(page: Any, host_page: dict[str, Any], shots: Path) -> None:
    page.goto(host_page["refused"] + "/embed.html")  # localhost is not 127.0.0.1: another origin
    answer = _ask_widget(page, QUESTION)
    assert "can't be reached" in answer.inner_text()
    assert answer.locator(".cite").count() == 0
    page.screenshot(path=str(shots / "widget-refused-origin.png"))


def test_widget_shows_a_hostile_document_as_text(page: Any, host_page: dict[str, Any], shots: Path) -> None:
    page.goto(host_page["allowed"] + "/embed.html")
    answer = _ask_widget(page, HOSTILE_QUESTION)
    time.sleep(0.5)
    text = answer.inner_text()
    assert "<script>window.__pwned='clause'</script>" in text
    assert "onerror=\"window.__pwned='title'\"" in text
    assert answer.locator("a").count() == 0  # javascript: source addresses are never linked
    _nothing_ran(page)
    page.screenshot(path=str(shots / "widget-hostile.png"))
