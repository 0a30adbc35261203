"""`policybot mcp`: the Model Context Protocol server, over stdio for a desktop assistant or over streamable
HTTP. Imports only click at the top, so that `policybot --help` stays fast; the MCP SDK loads when it runs."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import click


def _warm_up(settings: Any) -> None:
    """Load the index and the model in the background, so the first question doesn't wait for them."""
    from ..errors import PolicybotError
    from ..retrieve.searcher import open_searcher

    try:
        searcher = open_searcher(settings)
        print(f"policybot mcp: {len(searcher.documents)} documents loaded", file=sys.stderr)
    except PolicybotError as exc:
        print(f"policybot mcp: warning: {exc}; the tools will answer once an index exists", file=sys.stderr)


@click.command("mcp")
@click.option(
    "--http", "http", is_flag=True, help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (with --http).")
@click.option(
    "--port", default=7861, show_default=True, type=click.IntRange(0, 65535), help="Port (with --http)."
)
@click.pass_obj
def mcp_command(obj: Any, http: bool, host: str, port: int) -> None:
    """Serve policybot to MCP clients (desktop and IDE assistants): tools ask_terms, search_terms,
    compare_platforms and terms_changes, and each stored document version as a resource
    policybot://SERVICE/DOCUMENT/DATE.

    \b
    Over stdio (the default) a client starts it itself; its configuration:
      {"mcpServers": {"policybot": {"command": "/path/to/.venv/bin/policybot", "args": ["mcp"]}}}
    Over HTTP, POLICYBOT_API_KEYS (when set) lists the bearer keys it accepts.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    try:
        from ..mcp.server import create_server, http_app
    except ImportError as exc:
        raise click.ClickException(
            f"the MCP server needs the mcp package ({exc}); install it with: pip install 'policybot[mcp]'"
        ) from None

    settings = obj.settings
    server = create_server(settings)
    threading.Thread(target=_warm_up, args=(settings,), name="policybot-warm-up", daemon=True).start()
    if not http:
        server.run("stdio")
        return
    from ..web.server import run

    click.echo(f"policybot mcp: http://{host}:{port}/mcp", err=True)
    run(http_app(server, settings, host), settings, host, port)
