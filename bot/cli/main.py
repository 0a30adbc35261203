"""The `policybot` command line. Errors become one-line messages here, at the edge, and nowhere else."""

from __future__ import annotations

from pathlib import Path

import click

from .ask import ask, index, search
from .changes import changes_command, watch
from .context import Context
from .corpus import corpus
from .evaluation import bench_command, eval_command
from .mcp import mcp_command
from .serve import serve

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
    INVOKED[:] = [ctx.invoked_subcommand or ""]


INVOKED: list[str] = []
"""The command the group ran (for `run`)."""
ONE_SHOT = frozenset({"ask", "search"})
"""Commands that only read and print: their process may end without tearing the interpreter down."""


def run() -> None:
    """The `policybot` program: `main`, then, after `ask` or `search` answered from the serving copy (Chroma
    never opened, so nothing is left to write), an immediate exit once the output is flushed. Tearing down a
    process that holds a loaded model and 20,000 chunks costs a quarter of a second for nothing."""
    import sys

    try:
        main.main(prog_name="policybot")
        code: object = 0
    except SystemExit as exit:
        code = exit.code
    if INVOKED[:1] and INVOKED[0] in ONE_SHOT and "chromadb" not in sys.modules:
        import contextlib
        import logging
        import os

        status = 0 if code is None else code if isinstance(code, int) else 1
        if not isinstance(code, int | None):
            print(code, file=sys.stderr)
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):  # a reader that went away (`| head`): nothing more to deliver
                stream.flush()
        os._exit(status)
    sys.exit(code)


# Each command lives in a module that imports only click at its top, so `--help` stays fast.
main.add_command(index)
main.add_command(ask)
main.add_command(search)
main.add_command(corpus)
main.add_command(serve)
main.add_command(eval_command)
main.add_command(bench_command)
main.add_command(changes_command)
main.add_command(watch)
main.add_command(mcp_command)


if __name__ == "__main__":  # pragma: no cover
    main()
