"""The `policybot` command line. Errors become one-line messages here, at the edge, and nowhere else."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click

from .errors import BadQuestion, PolicybotError
from .settings import Settings

EXAMPLES = """
\b
Examples:
  policybot index                                   # the bundled corpus (and anything synced)
  policybot index --corpus ../shared/corpus/open-terms-archive
  policybot ask "Can SoundCloud use my tracks to train AI?"
  policybot ask "What did SoundCloud's terms say about AI in March 2024?" --json
  policybot search "opt out of AI training" --service Bandcamp --k 3
  printf 'Can Bandcamp sell AI music?\\nWho owns my songs on Spotify?\\n' | policybot ask
"""


class Context:
    def __init__(self, data_dir: Path | None, chroma_url: str | None) -> None:
        self._overrides: dict[str, Any] = {}
        if data_dir is not None:
            self._overrides["data_dir"] = data_dir
        if chroma_url is not None:
            self._overrides["chroma_url"] = chroma_url
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings(**self._overrides)
            except Exception as exc:  # pydantic's ValidationError, with the bad value in it
                raise click.UsageError(_validation_message(exc)) from None
        return self._settings


def _validation_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})" for e in errors()
        ]
        return "invalid setting: " + "; ".join(parts)
    return f"invalid setting: {exc}"


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"policybot: error: {message}", err=True)
    sys.exit(code)


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except BadQuestion as exc:
        _fail(str(exc), 2)
    except PolicybotError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


@click.group(
    epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="POLICYBOT_DATA_DIR",
    help="Where the index and everything the bot keeps live. Env: POLICYBOT_DATA_DIR. "
    "Default: ~/.local/share/policybot.",
)
@click.option(
    "--chroma-url",
    envvar="POLICYBOT_CHROMA_URL",
    help="Use a Chroma server (`chroma run`) at http://host:port instead of the embedded store. "
    "Env: POLICYBOT_CHROMA_URL.",
)
@click.version_option(package_name="policybot")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, chroma_url: str | None) -> None:
    """Answer creators' questions about platform terms by quoting the exact, dated clause.

    Every answer quotes excerpts that are checked, in code, to be verbatim in a stored version of the
    platform's document, with its section, version date and a link. When the documents don't answer,
    policybot says so instead of guessing. Not legal advice.
    """
    ctx.obj = Context(data_dir, chroma_url)


@main.command()
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A folder to index (repeatable): Open Terms Archive's layout <collection>/<Service>/<Terms type>/<date>.md, "
    "Markdown with front matter, or a flat folder of .md/.txt files. Default: the bundled corpus/ plus "
    "everything `policybot corpus sync` brought into the data dir.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (no progress display).")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="When another indexer is at work on this data dir or Chroma server, wait up to SECONDS for it "
    "to finish (default: fail at once).",
)
@click.pass_obj
def index(obj: Context, corpora: tuple[Path, ...], as_json: bool, wait: float) -> None:
    """Build the index from the corpus: documents → clauses → chunks → embeddings.

    Only text not embedded before is embedded; an unchanged corpus is a no-op. The new index replaces
    the old one only when complete, so a failure leaves the previous index serving. Files that cannot
    be read are listed and skipped; the rest is indexed.
    """
    from .index import build_index
    from .progress import TerminalProgress
    from .render import report_json, report_text

    def action() -> None:
        from .sync import default_corpus_dirs

        folders = list(corpora) or default_corpus_dirs(obj.settings)
        progress = TerminalProgress(enabled=False if as_json else None)
        report = build_index(folders, obj.settings, progress=progress, wait=wait)
        progress.done()
        if as_json:
            click.echo(json.dumps(report_json(report), ensure_ascii=False))
        else:
            click.echo(report_text(report))

    _run(action)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2024-03-31") from None


def _stdin_lines() -> Iterator[str]:
    if sys.stdin.isatty():
        raise click.UsageError("give a QUESTION, or pipe questions on standard input (one per line)")
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a stray invalid byte must not end a batch
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield line


_SERVICE_HELP = (
    "Only this platform (repeatable; any case, e.g. soundcloud). Default: platforms named in the question."
)
_AS_OF_HELP = "Answer from the versions in force on this date (YYYY-MM-DD). Default: a date in the question, else latest."


@main.command()
@click.argument("question", required=False)
@click.option("--service", "services", multiple=True, help=_SERVICE_HELP)
@click.option("--as-of", "as_of", help=_AS_OF_HELP)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: question, answer, abstained, citations, timings_ms."
)
@click.pass_obj
def ask(
    obj: Context, question: str | None, services: tuple[str, ...], as_of: str | None, as_json: bool
) -> None:
    """Answer QUESTION with verbatim, dated citations, or say that the documents don't answer it.

    Without QUESTION, reads one question per line from standard input and prints one JSON object per
    line (loading the model once); a line that fails prints {"question", "error"} and the rest go on.
    """
    from .ask import ask as ask_question
    from .render import answer_json, answer_text

    when = _parse_date(as_of)

    def one(text: str) -> dict[str, Any]:
        return answer_json(ask_question(text, obj.settings, service=services or None, as_of=when))

    def action() -> None:
        if question is not None:
            answer = ask_question(question, obj.settings, service=services or None, as_of=when)
            click.echo(
                json.dumps(answer_json(answer), ensure_ascii=False) if as_json else answer_text(answer)
            )
            return
        _batch(_stdin_lines(), one)

    _run(action)


def _batch(lines: Iterator[str], handle: Callable[[str], dict[str, Any]]) -> None:
    for line in lines:
        try:
            result = handle(line)
        except BadQuestion as exc:
            result = {"question": line[:200], "error": str(exc)}
        click.echo(json.dumps(result, ensure_ascii=False))


@main.command()
@click.argument("query", required=False)
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="How many clauses (default 5).")
@click.option("--service", "services", multiple=True, help=_SERVICE_HELP)
@click.option("--as-of", "as_of", help=_AS_OF_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: query and ranked hits with scores.")
@click.pass_obj
def search(
    obj: Context,
    query: str | None,
    k: int | None,
    services: tuple[str, ...],
    as_of: str | None,
    as_json: bool,
) -> None:
    """Retrieval only: the best-matching clauses for QUERY, ranked, with scores.

    Without QUERY, reads one query per line from standard input and prints one JSON object per line.
    """
    from .ask import search as search_clauses
    from .render import hits_text, search_json

    when = _parse_date(as_of)

    def one(text: str) -> dict[str, Any]:
        return search_json(
            text, search_clauses(text, obj.settings, k=k, service=services or None, as_of=when)
        )

    def action() -> None:
        if query is not None:
            hits = search_clauses(query, obj.settings, k=k, service=services or None, as_of=when)
            click.echo(
                json.dumps(search_json(query, hits), ensure_ascii=False) if as_json else hits_text(hits)
            )
            return
        _batch(_stdin_lines(), one)

    _run(action)


# --- feature commands ---------------------------------------------------------------------------------
# Each lives beside its feature in a module that imports only click at its top, so `--help` stays fast.
# Add one import and one add_command line per module here.
from .corpus_cli import corpus  # noqa: E402

main.add_command(corpus)
from .web.cli import serve  # noqa: E402

main.add_command(serve)
from .evaluation.cli import bench_command, eval_command  # noqa: E402

main.add_command(eval_command)
main.add_command(bench_command)


if __name__ == "__main__":  # pragma: no cover
    main()
