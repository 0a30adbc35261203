"""`policybot serve`: the chat page, the HTTP API and the widget. Imports only click at the top, so that
`policybot --help` stays fast; the web stack is imported when the command runs."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

if TYPE_CHECKING:
    from ..settings import Settings

_ANY_ADDRESS = ("0.0.0.0", "::", "")


def _cpus() -> int:
    """The CPUs this process may run on (a container's or taskset's limit, not the machine's)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _check_workers(ctx: click.Context, param: click.Parameter, value: int) -> int:
    cpus = _cpus()
    if not 1 <= value <= 2 * cpus:
        given = (
            "POLICYBOT_WORKERS="
            if ctx.get_parameter_source(param.name or "") == ParameterSource.ENVIRONMENT
            else ""
        )
        raise click.BadParameter(
            f"{given}{value} is not between 1 and {2 * cpus} (twice the {cpus} CPUs here): each worker loads its own "
            "model and index, and more workers than that only compete for the CPUs; try --workers "
            f"{min(max(value, 1), cpus)}"
        )
    return value


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part for value in values for part in value.replace(",", " ").split())


def _with(settings: Settings, option: str, field: str, added: tuple[str, ...]) -> Settings:
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
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    envvar="POLICYBOT_WORKERS",
    callback=_check_workers,
    help="Worker processes answering on the same port (1 to twice the CPUs), each with its own copy of the "
    "model and index. Above 1 needs --no-chat: the chat page keeps each conversation in one process's memory. "
    "Limits are counted per worker: the rate limits (POLICYBOT_RATE_LIMIT_PER_MINUTE and the others) let a client "
    "ask up to N times as often with N workers, and POLICYBOT_MAX_CONNECTIONS holds for each. Env: POLICYBOT_WORKERS.",
)
@click.pass_obj
def serve(
    obj: Any,
    host: str,
    port: int,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    forwarded_allow_ips: tuple[str, ...],
    no_chat: bool,
    workers: int,
) -> None:
    """Serve the chat page at /, the HTTP API under /api, the OpenAI-compatible chat API under /v1 (model
    `policybot`; POLICYBOT_API_KEYS, when set, lists the bearer keys it accepts) and the widget at /widget.js.

    \b
    Embed the widget on any page whose origin is allowed:
      <script src="http://HOST:PORT/widget.js" data-platform="SoundCloud" defer></script>
    API reference: http://HOST:PORT/api/docs
    """
    if workers > 1 and not no_chat:
        raise click.UsageError(
            f"--workers {workers} needs --no-chat: the chat page keeps each conversation in the memory of the "
            "process that started it, and with several workers its requests land on any of them. Serve the "
            "chat page from its own `policybot serve --workers 1` on another port, or use --workers 1"
        )
    # Offline: no model hub, no Gradio telemetry or version check, no Chroma telemetry. Set before any worker
    # starts: the workers inherit the environment.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    _few_malloc_arenas()

    settings = _served_settings(obj.settings, host, cors_origins, allowed_hosts, forwarded_allow_ips)
    (_open_index if workers == 1 else _open_index_apart)(settings)
    shown = "localhost" if host in ("127.0.0.1", *_ANY_ADDRESS) else host
    click.echo(f"policybot: chat page http://{shown}:{port}/  ·  API http://{shown}:{port}/api/docs")
    if workers == 1:
        from ..web.app import create_app
        from ..web.server import run

        run(create_app(settings, chat=not no_chat), settings, host, port)
        return
    from ..web.server import run_workers

    click.echo(f"policybot: {workers} worker processes")
    status = run_workers(settings, host, port, workers, chat=not no_chat)
    if status:
        click.echo("policybot: error: a worker could not start (its error is above); stopped", err=True)
        sys.exit(status)


MALLOC_ARENAS = 2


def _few_malloc_arenas() -> None:
    """Two malloc arenas instead of glibc's eight per core: answers run on a pool of threads, and with an
    arena each their freed memory is held apart and RSS climbs for a minute under load. Set for this process
    (mallopt, before its threads start) and, through the environment, for the workers it starts."""
    import ctypes
    import ctypes.util

    os.environ.setdefault("MALLOC_ARENA_MAX", str(MALLOC_ARENAS))
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(name).mallopt(-8, MALLOC_ARENAS)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: its allocator has its own rules
        return


def _served_settings(
    settings: Settings,
    host: str,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    forwarded_allow_ips: tuple[str, ...],
) -> Settings:
    """The settings with the command line's origins, hosts (the bound address among them) and proxies added."""
    settings = _with(settings, "--cors-origin", "cors_origins", cors_origins)
    bound = () if host in _ANY_ADDRESS else (host,)  # the bound address is always allowed
    settings = _with(settings, "--allowed-host", "allowed_hosts", (*_split(allowed_hosts), *bound))
    return _with(settings, "--forwarded-allow-ips", "forwarded_allow_ips", _split(forwarded_allow_ips))


def _open_index(settings: Settings) -> None:
    """Load the model and the index and do what first questions would do (`get_ready`) now, not on the first
    questions, and say what is served."""
    from ..answer.ready import get_ready
    from ..errors import PolicybotError

    try:
        searcher = get_ready(settings)
        click.echo(f"policybot: {len(searcher.documents)} documents of {', '.join(searcher.services)}")
    except PolicybotError as exc:
        click.echo(f"policybot: warning: {exc}; the page will answer once an index exists", err=True)


def _open_index_apart(settings: Settings) -> None:
    """`_open_index` for the parent of workers, which only supervises: in a short-lived process of its own, so
    that the parent never holds a copy of the model and the index (dropping them after loading would still
    leave it about 130 MB larger). It runs before any worker starts all the same: the first process to open
    a generation writes its start-up snapshot under DATA_DIR/snapshots (and the first to need the ONNX export
    writes that), and one writer beats N workers racing to write the same files."""
    import multiprocessing

    warm = multiprocessing.get_context("spawn").Process(target=_open_index, args=(settings,), name="warm-up")
    warm.start()
    try:
        warm.join()
    except KeyboardInterrupt:
        warm.terminate()
        sys.exit(130)
    if warm.exitcode:
        click.echo(
            f"policybot: warning: opening the index failed (exit status {warm.exitcode}, its error is above); "
            "each worker will try again",
            err=True,
        )
