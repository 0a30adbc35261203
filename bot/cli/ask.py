"""The commands of the answer path: `index`, `ask` and `search`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .context import AS_OF_HELP, SERVICE_HELP, Context, batch, parse_date, run, stdin_lines


@click.command()
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
    from ..index.build import build_index
    from ..progress import TerminalProgress
    from .render import report_json, report_text

    def action() -> None:
        from ..ingest.sync import default_corpus_dirs

        folders = list(corpora) or default_corpus_dirs(obj.settings)
        progress = TerminalProgress(enabled=False if as_json else None)
        report = build_index(folders, obj.settings, progress=progress, wait=wait)
        progress.done()
        if as_json:
            click.echo(json.dumps(report_json(report), ensure_ascii=False))
        else:
            click.echo(report_text(report))

    run(action)


@click.command()
@click.argument("question", required=False)
@click.option("--service", "services", multiple=True, help=SERVICE_HELP)
@click.option("--as-of", "as_of", help=AS_OF_HELP)
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
    from ..index.embeddings import preload

    preload(obj.settings)  # the model loads while the answering code is imported and the index read
    from ..answer.ask import ask as ask_question
    from ..answer.schema import answer_json
    from .render import answer_text

    when = parse_date(as_of)

    def one(text: str) -> dict[str, Any]:
        return answer_json(ask_question(text, obj.settings, service=services or None, as_of=when))

    def action() -> None:
        if question is not None:
            answer = ask_question(question, obj.settings, service=services or None, as_of=when)
            click.echo(
                json.dumps(answer_json(answer), ensure_ascii=False) if as_json else answer_text(answer)
            )
            return
        batch(stdin_lines(), one)

    run(action)


@click.command()
@click.argument("query", required=False)
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="How many clauses (default 5).")
@click.option("--service", "services", multiple=True, help=SERVICE_HELP)
@click.option("--as-of", "as_of", help=AS_OF_HELP)
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
    from ..answer.ask import search as search_clauses
    from ..answer.schema import search_json
    from .render import hits_text

    when = parse_date(as_of)

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
        batch(stdin_lines(), one)

    run(action)
