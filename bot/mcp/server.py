"""The MCP server: four tools over `ask()` / `search()` and the stored versions as resources. Each tool result
carries the verified excerpts with their provenance as structured content (the JSON of `/api/ask` and
`/api/search`) and the answer as readable text; a bad argument or a missing index is a tool error, not a crash."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from ..answer.schema import AnswerOut, SearchOut, answer_json, search_json
from ..errors import PolicybotError
from ..retrieve.topics import TOPICS
from ..settings import Settings
from ..types import Answer, Hit
from .resources import LATEST, TEMPLATE, find_version, version_resources

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "policybot answers questions about platforms' Terms of Use (SoundCloud, Bandcamp, Spotify, YouTube, …) by "
    "quoting verified, dated clauses. Quote its excerpts as they are, with platform, document, section and "
    "version date; when it abstains, say so rather than guessing. It shows what the documents say, not legal "
    "advice."
)
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
MAX_K = 20
MAX_CHANGES = 100
TOPIC_CHOICES = "; ".join(f"{t.id} ({t.label})" for t in TOPICS)

T = TypeVar("T")

Platform = Annotated[
    str | None,
    Field(
        description="Only this platform's documents, any case (e.g. SoundCloud). Default: those the text names."
    ),
]
AsOf = Annotated[
    date | None,
    Field(description="Answer from the versions in force on this date, YYYY-MM-DD. Default: the latest."),
]


class ChangesOut(BaseModel):
    """What terms_changes returns: the changes as `GET /api/changes` gives them, newest first."""

    count: int
    filters: dict[str, Any]
    changes: list[dict[str, Any]] = Field(
        description="Each change as /api/changes gives it (bot.changes.to_json)."
    )


def answer_result(a: Answer) -> CallToolResult:
    from ..cli.render import answer_text

    return CallToolResult(
        content=[TextContent(type="text", text=answer_text(a))], structured_content=answer_json(a)
    )


def hits_text(query: str, hits: Sequence[Hit]) -> str:
    from ..answer.citations import text_fragment_url

    if not hits:
        return f"No clause matches {query!r}."
    lines = []
    for rank, h in enumerate(hits, start=1):
        p = h.provenance
        lines.append(f"[{rank}] {p.service} · {p.title} · {h.section_path} · {p.date_label}")
        lines.append(f"“{' '.join(h.text.split())}”")
        url = text_fragment_url(p.source_url, h.text)
        if url:
            lines.append(url)
        lines.append("")
    return "\n".join(lines).rstrip()


def topic_phrase(topic: str) -> str:
    """How a comparison question names a taxonomy topic given by id, label or former name (any case): one of
    the topic's own example questions, which the question reader takes for that topic where a bare label can
    read as a neighbour ("AI training on uploads" as AI outputs). Anything else: "on <what was written>"."""
    wanted = topic.strip().casefold()
    for t in TOPICS:
        if wanted in {t.id.casefold(), t.label.casefold(), *(a.casefold() for a in t.aliases)}:
            return f": {t.examples[0]}" if t.examples else f" on {t.label}"
    return f" on {topic.strip()}"


def comparison_question(topic: str, platforms: Sequence[str]) -> str:
    """The question `ask()` reads as a comparison: "Compare A, B and C: <the topic's example question>", or
    "Compare all platforms: ..." without platforms."""
    names = list(platforms)
    if not names:
        listed = "all platforms"
    else:
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"Compare {listed}{topic_phrase(topic)}"


def guarded(action: Callable[[], T]) -> T:
    """policybot's own errors (a bad question, an unknown platform, no index) as the tool's error message."""
    try:
        return action()
    except PolicybotError as exc:
        raise ToolError(str(exc)) from None


class PolicybotMCP(MCPServer[Any]):
    """MCPServer whose resource list is read from the serving index at each request (a new generation shows)."""

    def __init__(self, settings: Settings) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("policybot")
        except PackageNotFoundError:  # pragma: no cover - a checkout that was never installed
            number = "unknown"
        # WARNING: the SDK logs every call at INFO, on the stderr a desktop assistant keeps as its log.
        super().__init__(
            "policybot", title="policybot", instructions=INSTRUCTIONS, version=number, log_level="WARNING"
        )
        self.policybot_settings = settings

    async def list_resources(self) -> list[Resource]:
        listed = await super().list_resources()
        return [*listed, *await anyio.to_thread.run_sync(self._versions)]

    def _versions(self) -> list[Resource]:
        from ..retrieve.searcher import open_searcher

        try:
            searcher = open_searcher(self.policybot_settings)
        except PolicybotError as exc:
            log.warning("no documents to list: %s", exc)
            return []
        return [
            Resource(
                uri=r.uri, name=r.name, title=r.title, description=r.description, mime_type="text/markdown"
            )
            for r in version_resources(searcher)
        ]


def create_server(settings: Settings) -> PolicybotMCP:
    """The MCP server for `settings`: run it with `.run()` (stdio) or serve `.streamable_http_app()`."""
    server = PolicybotMCP(settings)
    add_reading_tools(server, settings)
    add_overview_tools(server, settings)
    add_document_resources(server, settings)
    return server


def add_reading_tools(server: PolicybotMCP, settings: Settings) -> None:
    """ask_terms and search_terms: `ask()` and `search()` on one question."""
    from ..answer.ask import ask
    from ..verified import verified_search

    @server.tool(annotations=READ_ONLY)
    def ask_terms(
        question: Annotated[str, Field(description="The question, as the user would ask it.")],
        platform: Platform = None,
        as_of: AsOf = None,
    ) -> Annotated[CallToolResult, AnswerOut]:
        """Answer a question about platforms' terms by quoting the deciding clauses verbatim, with platform,
        document, section, version date and link; abstains (abstained: true, and why) when the documents
        don't answer. Dates in the question ("in March 2024") select the version in force then."""
        return answer_result(guarded(lambda: ask(question, settings, service=platform, as_of=as_of)))

    @server.tool(annotations=READ_ONLY)
    def search_terms(
        query: Annotated[str, Field(description="What to look for, e.g. 'opt out of AI training'.")],
        platform: Platform = None,
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many clauses.")] = 5,
    ) -> Annotated[CallToolResult, SearchOut]:
        """Retrieval only: the best-matching clauses of the latest versions, ranked, each an excerpt checked
        verbatim against its stored version, with its provenance (version id and offsets)."""
        hits = guarded(lambda: verified_search(query, settings, k=k, service=platform))
        return CallToolResult(
            content=[TextContent(type="text", text=hits_text(query, hits))],
            structured_content=search_json(query, hits),
        )


def add_overview_tools(server: PolicybotMCP, settings: Settings) -> None:
    """compare_platforms and terms_changes: across platforms, and across versions."""
    from ..answer.ask import ask

    @server.tool(annotations=READ_ONLY)
    def compare_platforms(
        topic: Annotated[str, Field(description=f"A topic id or label: {TOPIC_CHOICES}.")],
        platforms: Annotated[
            list[str] | None,
            Field(description="Two or more platforms. Default: every platform in the index."),
        ] = None,
    ) -> Annotated[CallToolResult, AnswerOut]:
        """Compare platforms on one topic: a row per platform (`comparison`: stance, policybot's note and the
        `n` of the citation quoting the deciding clause, or "not addressed in <document> (<date>)")."""
        named = [p.strip() for p in platforms or () if p.strip()]
        if len(named) == 1:
            raise ToolError(
                "compare_platforms needs two or more platforms (or none, for all); for one, use ask_terms"
            )
        question = comparison_question(topic, named)
        answer = guarded(lambda: ask(question, settings, service=named or None))
        if not answer.abstained and not answer.comparison:
            raise ToolError(
                f"{topic!r} is not a topic policybot compares platforms on; use one of: {TOPIC_CHOICES}"
            )
        return answer_result(answer)

    @server.tool(annotations=READ_ONLY)
    def terms_changes(
        platform: Platform = None,
        topic: Annotated[str | None, Field(description=f"A topic id or label: {TOPIC_CHOICES}.")] = None,
        since: Annotated[
            date | None, Field(description="Changes in versions dated on or after this day.")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_CHANGES, description="At most this many, the newest.")] = 20,
    ) -> Annotated[CallToolResult, ChangesOut]:
        """What changed in the platforms' terms, newest first: each clause added, removed or reworded between
        two consecutive versions, with the old and the new wording quoted verbatim and dated (substantive
        changes only)."""
        return changes_result(settings, platform, topic, since, limit)


def changes_result(
    settings: Settings, platform: str | None, topic: str | None, since: date | None, limit: int
) -> CallToolResult:
    """terms_changes' result: the change feed's `changes_for`, as text and as `ChangesOut`."""
    try:
        from ..changes import changes_for, to_json
        from ..changes.describe import change_lines
    except ImportError as exc:  # a build without the change feed: say so, as the tool's error
        raise ToolError(
            f"this policybot has no change feed ({exc}); ask_terms can still compare versions"
        ) from None

    services = [platform] if platform and platform.strip() else []
    found = guarded(lambda: changes_for(settings, services=services, topic=topic, since=since, limit=limit))
    text = "\n\n".join("\n".join(change_lines(c)) for c in found) or "No recorded change matches."
    filters = {"platform": platform, "topic": topic, "since": since.isoformat() if since else None}
    out = ChangesOut(count=len(found), filters=filters, changes=[to_json(c) for c in found])
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=out.model_dump(mode="json")
    )


def add_document_resources(server: PolicybotMCP, settings: Settings) -> None:
    """The stored versions, `policybot://SERVICE/DOCUMENT/DATE` (listed by `PolicybotMCP.list_resources`)."""
    from ..retrieve.searcher import open_searcher

    @server.resource(
        TEMPLATE,
        name="document-version",
        title="A stored version of a platform document",
        description="The full text of the version in force on DATE (a version's date, any YYYY-MM-DD, or "
        f"{LATEST}), exactly as stored: every citation's offsets point into it.",
        mime_type="text/markdown",
    )
    def document_version(service: str, document: str, date: str, region: str | None = None) -> str:
        def read() -> str:
            searcher = open_searcher(settings)
            try:
                _, version = find_version(searcher, service, document, date, region)
            except LookupError as exc:
                raise ResourceNotFoundError(str(exc)) from None
            return searcher.version_document(version.version_id).text

        try:
            return read()
        except PolicybotError as exc:  # no index, or its store cannot be read
            raise ResourceError(str(exc)) from None


class BearerKeys:
    """401 for an HTTP request without one of `settings.api_keys` as its bearer key (POLICYBOT_API_KEYS), in
    front of the streamable HTTP app; the lifespan passes."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.keys = settings.api_keys

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from ..web.asgi import header, send_error
        from ..web.openai_errors import bearer_key, key_accepted, key_refusal

        if scope["type"] == "http" and self.keys:
            given = bearer_key(header(scope, b"authorization"))
            if not key_accepted(given, self.keys):
                await send_error(send, 401, key_refusal(given), [("WWW-Authenticate", "Bearer")])
                return
        await self.app(scope, receive, send)


def http_app(server: PolicybotMCP, settings: Settings, host: str, path: str = "/mcp") -> Any:
    """The streamable HTTP app for `server`: DNS-rebinding protection for `host` (the SDK's), the body limit of
    the web API, and the bearer keys when any are set."""
    app = server.streamable_http_app(
        streamable_http_path=path, host=host, max_request_body_size=settings.max_request_bytes
    )
    return BearerKeys(app, settings) if settings.api_keys else app
