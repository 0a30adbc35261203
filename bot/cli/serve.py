"""`policybot serve`: the chat page, the HTTP API and the widget. Imports only click at the top, so that
`policybot --help` stays fast; the web stack is imported when the command runs."""

from __future__ import annotations

import os
from typing import Any

import click

_ANY_ADDRESS = ("0.0.0.0", "::", "")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part for value in values for part in value.replace(",", " ").split())


def _with(settings: Any, option: str, field: str, added: tuple[str, ...]) -> Any:
    """`settings` with `added` appended to `field`, validated like the environment variable."""
    if not added:
        return settings
    try:
        return type(settings)(**{**settings.model_dump(), field: (*getattr(settings, field), *added)})
    except ValueError as exc:
        raise click.BadParameter(str(exc).splitlines()[-2].strip(), param_hint=option) from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=7860, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on."
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="An origin whose pages may embed the widget, e.g. https://help.example.com (repeatable). "
    "Adds to POLICYBOT_CORS_ORIGINS (comma-separated). Default: same origin only.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="A host name the server answers to, e.g. bot.example.com, *.example.com (repeatable). Adds to "
    "POLICYBOT_ALLOWED_HOSTS. Always allowed: localhost and the address a request came in on.",
)
@click.option(
    "--forwarded-allow-ips",
    "forwarded_allow_ips",
    multiple=True,
    help="Addresses or networks of the proxies whose X-Forwarded-For/-Proto/-Host to believe, e.g. 127.0.0.1 "
    "(comma-separated or repeated; * = any). Adds to POLICYBOT_FORWARDED_ALLOW_IPS. Default: none.",
)
@click.option("--no-chat", is_flag=True, help="Serve the API and the widget only, without the chat page.")
@click.pass_obj
def serve(
    obj: Any,
    host: str,
    port: int,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    forwarded_allow_ips: tuple[str, ...],
    no_chat: bool,
) -> None:
    """Serve the chat page at /, the HTTP API under /api, the OpenAI-compatible chat API under /v1 (model
    `policybot`; POLICYBOT_API_KEYS, when set, lists the bearer keys it accepts) and the widget at /widget.js.

    \b
    Embed the widget on any page whose origin is allowed:
      <script src="http://HOST:PORT/widget.js" data-platform="SoundCloud" defer></script>
    API reference: http://HOST:PORT/api/docs
    """
    # Offline: no model hub, no Gradio telemetry or version check, no Chroma telemetry.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

    from ..errors import PolicybotError
    from ..retrieve.searcher import open_searcher
    from ..web.app import create_app
    from ..web.server import run

    settings = _with(obj.settings, "--cors-origin", "cors_origins", cors_origins)
    bound = () if host in _ANY_ADDRESS else (host,)  # the bound address is always allowed
    settings = _with(settings, "--allowed-host", "allowed_hosts", (*_split(allowed_hosts), *bound))
    settings = _with(settings, "--forwarded-allow-ips", "forwarded_allow_ips", _split(forwarded_allow_ips))
    try:
        searcher = open_searcher(settings)  # load the model and index now, not on the first question
        click.echo(f"policybot: {len(searcher.documents)} documents of {', '.join(searcher.services)}")
    except PolicybotError as exc:
        click.echo(f"policybot: warning: {exc}; the page will answer once an index exists", err=True)
    app = create_app(settings, chat=not no_chat)
    shown = "localhost" if host in ("127.0.0.1", *_ANY_ADDRESS) else host
    click.echo(f"policybot: chat page http://{shown}:{port}/  ·  API http://{shown}:{port}/api/docs")
    run(app, settings, host, port)
