"""The MCP server (bot/mcp/), end to end with the SDK's own client session over stdio: `policybot mcp` started as
a subprocess on the test index, its tools listed and called, a resource read, and bad arguments that come back
as tool errors while the server goes on answering. One server for the module; each test checks one result."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

AI_QUESTION = "Can Loudwave train AI on my tracks?"
TOOLS = {"ask_terms", "search_terms", "compare_platforms", "terms_changes"}


def _result(r: Any) -> dict[str, Any]:
    return {
        "is_error": bool(r.is_error),
        "text": "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text"),
        "structured": r.structured_content,
    }


async def _scenario(data_dir: Path, errlog: Any) -> dict[str, Any]:
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.shared.exceptions import MCPError

    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "bot", "--data-dir", str(data_dir), "mcp"],
        cwd=str(ROOT),
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"},
    )
    out: dict[str, Any] = {}
    calls = {
        "ask": ("ask_terms", {"question": AI_QUESTION}),
        "ask_then": (
            "ask_terms",
            {"question": "What did the terms say about AI?", "platform": "loudwave", "as_of": "2024-06-01"},
        ),
        "ask_offtopic": ("ask_terms", {"question": "What is the capital of France?"}),
        "search": ("search_terms", {"query": "opt out of AI training", "platform": "Loudwave", "k": 2}),
        "compare": ("compare_platforms", {"topic": "ai_training"}),
        "compare_two": (
            "compare_platforms",
            {"topic": "AI training on uploads", "platforms": ["Loudwave", "Tunebox"]},
        ),
        "changes": ("terms_changes", {"platform": "Loudwave"}),
        "bad_k": ("search_terms", {"query": "licence", "k": 500}),
        "bad_date": ("ask_terms", {"question": AI_QUESTION, "as_of": "last spring"}),
        "missing": ("ask_terms", {}),
        "unknown_platform": ("search_terms", {"query": "licence", "platform": "Mixcloud"}),
        "one_platform": ("compare_platforms", {"topic": "ai_training", "platforms": ["Loudwave"]}),
        "not_a_topic": ("compare_platforms", {"topic": "refunds for beats"}),
        "off_topic": ("compare_platforms", {"topic": "the weather in Paris"}),
        "after_errors": ("ask_terms", {"question": AI_QUESTION}),
    }
    with anyio.fail_after(900):
        async with (
            stdio_client(server, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            out["init"] = await session.initialize()
            out["tools"] = {t.name: t for t in (await session.list_tools()).tools}
            for key, (name, arguments) in calls.items():
                out[key] = _result(await session.call_tool(name, arguments))
            out["resources"] = (await session.list_resources()).resources
            out["templates"] = (await session.list_resource_templates()).resource_templates
            latest = next(r for r in out["resources"] if "Terms%20of%20Service/2025-07-01" in str(r.uri))
            out["read"] = (await session.read_resource(latest.uri)).contents
            out["read_in_force"] = (
                await session.read_resource(
                    "policybot://loudwave/Terms%20of%20Service/2024-12-31?region=global"
                )
            ).contents
            try:
                await session.read_resource("policybot://Loudwave/Cookie%20Policy/latest")
            except MCPError as exc:
                out["read_missing"] = str(exc)
    return out


@pytest.fixture(scope="module")
def mcp_run(test_index: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import anyio

    log = tmp_path_factory.mktemp("mcp") / "server.log"
    with log.open("w", encoding="utf-8") as errlog:
        try:
            return anyio.run(_scenario, test_index.data_dir, errlog)
        except BaseException:
            errlog.flush()
            print(log.read_text(encoding="utf-8")[-4000:], file=sys.stderr)
            raise


def test_server_names_itself_and_lists_the_four_tools(mcp_run: dict[str, Any]) -> None:
    assert mcp_run["init"].server_info.name == "policybot"
    assert "verified" in (mcp_run["init"].instructions or "")
    tools = mcp_run["tools"]
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations.read_only_hint is True
        assert tool.output_schema is not None and tool.description
    assert tools["ask_terms"].input_schema["required"] == ["question"]
    assert set(tools["ask_terms"].input_schema["properties"]) == {"question", "platform", "as_of"}
    assert set(tools["search_terms"].input_schema["properties"]) == {"query", "platform", "k"}
    assert set(tools["compare_platforms"].input_schema["properties"]) == {"topic", "platforms"}
    assert {"platform", "topic", "since"} <= set(tools["terms_changes"].input_schema["properties"])
    assert "ai_training (AI training on uploads)" in json.dumps(tools["compare_platforms"].input_schema)


def test_ask_terms_gives_verified_excerpts_as_structured_content_and_text(
    mcp_run: dict[str, Any], test_index: Any
) -> None:
    from bot.answer.ask import ask
    from bot.answer.schema import answer_json

    result = mcp_run["ask"]
    expected = answer_json(ask(AI_QUESTION, test_index))
    assert not result["is_error"]
    structured = result["structured"]
    assert structured["citations"] == expected["citations"]  # the objects /api/ask returns
    first = structured["citations"][0]
    assert (first["service"], first["section"], first["version_date"]) == (
        "Loudwave",
        "Grant of license › ¶2",
        "2025-07-01",
    )
    assert first["version_id"] and first["end"] > first["start"]
    assert result["text"].startswith(expected["answer"])
    assert (
        "Sources:\n[1] Loudwave · Terms of Use · Grant of license › ¶2 · Last Amended: July 1, 2025"
        in result["text"]
    )


def test_ask_terms_reads_the_version_in_force_on_as_of(mcp_run: dict[str, Any]) -> None:
    structured = mcp_run["ask_then"]["structured"]
    assert structured["as_of"] == "2024-06-01" and structured["services"] == ["Loudwave"]
    assert {c["version_date"] for c in structured["citations"] if c["document"] == "Terms of Service"} == {
        "2024-03-01"
    }


def test_ask_terms_abstention_is_a_result_not_an_error(mcp_run: dict[str, Any]) -> None:
    result = mcp_run["ask_offtopic"]
    assert not result["is_error"]
    assert result["structured"]["abstained"] is True and result["structured"]["citations"] == []
    assert "doesn't look like a question about a platform's terms" in result["text"]


def test_search_terms_returns_hits_with_provenance(mcp_run: dict[str, Any], test_index: Any) -> None:
    from bot.retrieve.searcher import open_searcher

    result = mcp_run["search"]
    hits = result["structured"]["hits"]
    assert not result["is_error"] and len(hits) == 2
    assert {h["service"] for h in hits} == {"Loudwave"}
    searcher = open_searcher(test_index)
    for hit in hits:  # each excerpt is exactly the stored version's text at its offsets
        assert searcher.version_document(hit["version_id"]).text[hit["start"] : hit["end"]] == hit["excerpt"]
    assert result["text"].startswith("[1] Loudwave · ")


def test_compare_platforms_returns_the_comparison_rows(mcp_run: dict[str, Any]) -> None:
    every = mcp_run["compare"]["structured"]
    assert every["topic"] == "ai_training"
    assert sorted(r["service"] for r in every["comparison"]) == ["Beatcrate", "Loudwave", "Tunebox"]
    loudwave = next(r for r in every["comparison"] if r["service"] == "Loudwave")
    assert loudwave["citation"] is not None
    assert any(c["n"] == loudwave["citation"] and c["service"] == "Loudwave" for c in every["citations"])
    off = mcp_run["off_topic"]  # an abstention is a result that says why, as in ask_terms
    assert (
        not off["is_error"]
        and off["structured"]["abstained"] is True
        and off["structured"]["comparison"] == []
    )
    two = mcp_run["compare_two"]["structured"]
    assert sorted(r["service"] for r in two["comparison"]) == ["Loudwave", "Tunebox"]
    text = mcp_run["compare"]["text"]  # the readable text: a line per platform, however the CLI renders it
    assert text.startswith("AI training on uploads") and all(
        r["service"] in text for r in every["comparison"]
    )


def test_terms_changes_quotes_old_and_new_wording(mcp_run: dict[str, Any]) -> None:
    result = mcp_run["changes"]
    assert not result["is_error"], result["text"]
    structured = result["structured"]
    assert (
        structured["count"] == len(structured["changes"]) and structured["filters"]["platform"] == "Loudwave"
    )
    assert all(c["service"] == "Loudwave" for c in structured["changes"])
    # The test corpus's two versions of Loudwave's terms differ in their AI clause.
    assert structured["changes"] and {c["date"] for c in structured["changes"]} <= {
        "2025-07-01",
        "2025-08-01",
    }
    assert "“" in result["text"]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("bad_k", "less than or equal to 20"),
        ("bad_date", "as_of"),
        ("missing", "question"),
        ("unknown_platform", "Mixcloud"),
        ("one_platform", "two or more platforms"),
        ("not_a_topic", "not a topic policybot compares"),
    ],
)
def test_bad_arguments_are_tool_errors(mcp_run: dict[str, Any], key: str, words: str) -> None:
    result = mcp_run[key]
    assert result["is_error"] is True
    assert words in result["text"]
    assert "Traceback" not in result["text"]


def test_server_goes_on_after_errors(mcp_run: dict[str, Any]) -> None:
    assert mcp_run["after_errors"]["structured"] == mcp_run["ask"]["structured"] | {
        "timings_ms": mcp_run["after_errors"]["structured"]["timings_ms"]
    }


def test_documents_are_resources(mcp_run: dict[str, Any], test_index: Any) -> None:
    from bot.retrieve.searcher import open_searcher

    searcher = open_searcher(test_index)
    uris = {str(r.uri) for r in mcp_run["resources"]}
    assert len(uris) == sum(len(d.versions) for d in searcher.documents)
    assert "policybot://Tunebox/Terms%20of%20Service/2025-05-05" in uris
    assert "policybot://Loudwave/Terms%20of%20Service/2025-08-01?region=US" in uris
    assert [t.uri_template for t in mcp_run["templates"]] == [
        "policybot://{service}/{document}/{date}{?region}"
    ]
    latest = searcher.find_document("Loudwave", "Terms of Service", "global").latest
    (content,) = mcp_run["read"]
    assert content.text == searcher.version_document(latest.version_id).text
    assert content.mime_type == "text/markdown"
    # Any date reads the version in force then: the 2024-03-01 version was, at the end of 2024.
    older = searcher.find_document("Loudwave", "Terms of Service", "global").in_force(
        __import__("datetime").date(2024, 12, 31)
    )
    assert (
        older is not None
        and mcp_run["read_in_force"][0].text == searcher.version_document(older.version_id).text
    )
    assert "Cookie Policy" in mcp_run["read_missing"] and "Privacy Policy" in mcp_run["read_missing"]


# --- without a subprocess ---------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("topic", "platforms", "question"),
    [
        (
            "ai_training",
            [],
            "Compare all platforms: will they feed my songs into their machine learning models",
        ),
        (
            "AI TRAINING ON UPLOADS",
            ["SoundCloud", "Bandcamp"],
            "Compare SoundCloud and Bandcamp: will they feed my songs into their machine learning models",
        ),
        ("ownership", ["A", "B", "C"], "Compare A, B and C: do I still own my music after I upload it"),
        ("opt out of AI training", [], "Compare all platforms on opt out of AI training"),
    ],
)
def test_comparison_question(topic: str, platforms: list[str], question: str) -> None:
    from bot.mcp.server import comparison_question

    assert comparison_question(topic, platforms) == question


@pytest.mark.unit
def test_terms_changes_without_the_change_feed_is_a_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp.server.mcpserver.exceptions import ToolError

    from bot.mcp.server import changes_result
    from bot.settings import Settings

    monkeypatch.setitem(sys.modules, "bot.changes", None)  # what an install without bot/changes/ imports
    with pytest.raises(ToolError, match="no change feed"):
        changes_result(Settings(), "Loudwave", None, None, 5)


@pytest.mark.unit
def test_mcp_command_is_registered_and_help_does_not_load_the_sdk() -> None:
    import subprocess

    code = "import sys; from bot.cli import main; print('mcp' in main.commands, 'mcp.server' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={**os.environ}, check=True
    )
    assert done.stdout.split() == ["True", "False"]


def test_streamable_http_with_a_bearer_key(test_index: Any) -> None:
    """`policybot mcp --http`'s app: the SDK's streamable HTTP client with the key lists and calls the tools;
    without it, 401."""
    import anyio
    import httpx
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from pydantic import SecretStr

    from bot.mcp.server import create_server, http_app
    from tests.test_openai_api import serving

    settings = test_index.model_copy(update={"api_keys": (SecretStr("mcp-key"),)})
    app = http_app(create_server(settings), settings, "127.0.0.1")

    async def call(url: str) -> tuple[set[str], dict[str, Any]]:
        headers = {"Authorization": "Bearer mcp-key"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=300) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            return tools, _result(await session.call_tool("ask_terms", {"question": AI_QUESTION}))

    with serving(app, lifespan="on") as base:
        url = base.removesuffix("/v1") + "/mcp"
        refused = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert refused.status_code == 401 and "bearer key" in refused.json()["error"]
        tools, asked = anyio.run(call, url)
    assert tools == TOOLS
    assert not asked["is_error"] and asked["structured"]["citations"][0]["service"] == "Loudwave"
