"""`policybot corpus …`: sync documents from Open Terms Archive, list what is indexed, diff two versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..ingest.lineage import VersionDiff
    from ..retrieve.documents import DocumentEntry, VersionEntry
    from ..types import Clause
    from .context import Context


@click.group()
def corpus() -> None:
    """Keep the terms current and look at them: sync, list, diff."""


@corpus.command()
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A local folder in Open Terms Archive's layout <collection>/<Service>/<Terms type>/<date>.md (offline). "
    "Default: OTA's public git repositories listed in corpus/sources.toml (online).",
)
@click.option(
    "--service", "services", multiple=True, help="Only this service (repeatable). Default: all listed."
)
@click.option("--no-index", is_flag=True, help="Do not re-index after syncing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (no progress display).")
@click.pass_obj
def sync(obj: Context, source: Path | None, services: tuple[str, ...], no_index: bool, as_json: bool) -> None:
    """Bring the listed documents' versions into the data dir, then re-index what changed.

    Idempotent: a version already synced, or identical to the version before it, is not recorded again.
    Nothing synced before is deleted or overwritten, so a network failure keeps what was there. The
    re-index embeds only new clause text.
    """
    from ..index.build import build_index
    from ..ingest.sync import default_corpus_dirs, sync_from_folder, sync_from_git
    from ..progress import TerminalProgress
    from .changes import news_after_index, news_json
    from .context import run
    from .render import report_json

    def action() -> None:
        settings = obj.settings
        progress = TerminalProgress(enabled=False if as_json else None)
        if source is not None:
            report = sync_from_folder(source, settings, services, progress=progress)
        else:
            report = sync_from_git(settings, services, progress=progress)
        progress.done()
        result: dict[str, Any] = {
            "added": report.added,
            "unchanged": report.unchanged,
            "identical_skipped": report.identical_skipped,
            "missing": report.missing,
            "conflicts": report.conflicts,
            "errors": report.errors,
            "seconds": round(report.seconds, 2),
        }
        index = None
        if not no_index:
            index = build_index(default_corpus_dirs(settings), settings, progress=progress)
            progress.done()
            result["index"] = report_json(index)
            news = news_after_index(settings, index)
            result["changes"] = news_json(news)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
            return
        _echo_sync(report, index, news if index is not None else None)
        if report.errors:
            raise SystemExit(1)

    run(action)


def _echo_sync(report: Any, index: Any, news: Any) -> None:
    """The sync report for a person: what came in, what clashed, what the re-index did and what changed."""
    from .changes import news_lines
    from .render import report_text

    click.echo(
        f"Synced {len(report.added)} new version(s) in {report.seconds:.1f} s; {report.unchanged} already here, "
        f"{report.identical_skipped} identical to the version before (recorded once)."
    )
    for path in report.added:
        click.echo(f"  + {path}")
    for conflict in report.conflicts:
        click.echo(f"  ! {conflict}")
    for error in report.errors:
        click.echo(f"policybot: error: {error}", err=True)
    if report.missing:
        click.echo(
            f"{len(report.missing)} listed document(s) not found at the source (see --json for the list)."
        )
    if index is not None:
        click.echo(report_text(index))
        click.echo("\n".join(news_lines(news)))


def _version_json(entry: VersionEntry) -> dict[str, Any]:
    p = entry.provenance
    return {
        "date": p.version_date.isoformat(),
        "date_statement": p.date_statement or None,
        "recorded": p.recorded.isoformat() if p.recorded else None,
        "clauses": entry.clauses,
        "chunks": entry.chunks,
        "version_id": entry.version_id,
    }


def _document_json(doc: DocumentEntry) -> dict[str, Any]:
    return {
        "service": doc.service,
        "document": doc.document,
        "region": doc.region,
        "title": doc.title,
        "kind": doc.kind,
        "url": doc.url or None,
        "versions": [_version_json(v) for v in doc.versions],
    }


@corpus.command(name="list")
@click.option(
    "--json", "as_json", is_flag=True, help='Print a list of {"service","document","region","versions"}.'
)
@click.pass_obj
def list_(obj: Context, as_json: bool) -> None:
    """Services, documents, regions and versions (with dates and clause counts) in the index."""
    from ..retrieve.searcher import open_searcher
    from .context import run

    def action() -> None:
        documents = open_searcher(obj.settings).documents
        if as_json:
            click.echo(json.dumps([_document_json(d) for d in documents], ensure_ascii=False))
            return
        current = ""
        for doc in documents:
            if doc.service != current:
                click.echo(doc.service)
                current = doc.service
            kind = "" if doc.kind == "terms" else f" [{doc.kind}]"
            click.echo(f"  {doc.document} ({doc.title}; {doc.region}){kind}: {len(doc.versions)} version(s)")
            for v in doc.versions:
                p = v.provenance
                recorded = f", recorded {p.recorded.isoformat()}" if p.recorded else ""
                click.echo(f"    {p.version_date.isoformat()}  {p.date_label}{recorded}  {v.clauses} clauses")

    run(action)


@corpus.command()
@click.argument("service")
@click.argument("document")
@click.option(
    "--from",
    "from_",
    help="Compare the version in force on this date (YYYY-MM-DD). Default: the one before --to.",
)
@click.option("--to", "to", help="…with the version in force on this date. Default: the latest.")
@click.option("--region", help="Which region's document, when there are several (e.g. US, EEA).")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@click.pass_obj
def diff(
    obj: Context,
    service: str,
    document: str,
    from_: str | None,
    to: str | None,
    region: str | None,
    as_json: bool,
) -> None:
    """Clause-level diff of DOCUMENT of SERVICE between the versions in force at two dates.

    Lists clauses added, removed and changed (removed words as [-…-], added words as {+…+}), not a
    line diff of the Markdown. DOCUMENT is the document type ("Terms of Service") or its title ("Terms of
    Use"), any case.
    """
    from ..errors import BadQuestion
    from ..ingest.lineage import diff_clauses
    from ..retrieve.searcher import open_searcher
    from .context import parse_date, run

    def action() -> None:
        searcher = open_searcher(obj.settings)
        doc = searcher.find_document(service, document, region)
        new = doc.in_force(parse_date(to))
        if new is None:
            raise BadQuestion(f"no version of {doc.service} {doc.document} was in force on {to}")
        if from_ is not None:
            old = doc.in_force(parse_date(from_))
            if old is None:
                first = doc.versions[0].provenance.version_date.isoformat()
                raise BadQuestion(
                    f"no version of {doc.service} {doc.document} was in force on {from_}; the first is {first}"
                )
        else:
            earlier = [v for v in doc.versions if v.provenance.version_date < new.provenance.version_date]
            old = earlier[-1] if earlier else doc.versions[0]
        result = diff_clauses(
            searcher.clauses(old.version_id),
            searcher.clauses(new.version_id),
        )
        if as_json:
            click.echo(json.dumps(_diff_json(doc, old, new, result), ensure_ascii=False))
        else:
            click.echo(_diff_text(doc, old, new, result))

    run(action)


def _diff_json(
    doc: DocumentEntry, old: VersionEntry, new: VersionEntry, result: VersionDiff
) -> dict[str, Any]:
    return {
        "service": doc.service,
        "document": doc.document,
        "region": doc.region,
        "from": _version_json(old),
        "to": _version_json(new),
        "unchanged": result.unchanged,
        "changes": [
            {
                "kind": c.kind,
                "section": _section(c.new or c.old),
                "old": c.old.text if c.old else None,
                "new": c.new.text if c.new else None,
                "marked": c.marked,
            }
            for c in result.changes
        ],
    }


def _section(clause: Clause | None) -> str:
    return clause.section_path if clause is not None else ""


def _diff_text(doc: DocumentEntry, old: VersionEntry, new: VersionEntry, result: VersionDiff) -> str:
    lines = [
        f"{doc.service} {doc.title} ({doc.region}): {old.provenance.date_label} → {new.provenance.date_label}",
        f"{len(result.of_kind('changed'))} changed, {len(result.of_kind('added'))} added, "
        f"{len(result.of_kind('removed'))} removed, {result.unchanged} unchanged clauses",
    ]
    if old.version_id == new.version_id:
        lines.append("(the same version: nothing to compare)")
    symbol = {"added": "+", "removed": "-", "changed": "~"}
    for change in result.changes:
        lines.append("")
        lines.append(f"{symbol[change.kind]} {change.kind} · {_section(change.new or change.old)}")
        lines.append(f"  {change.marked}")
    return "\n".join(lines)


@corpus.command()
@click.option("--json", "as_json", is_flag=True, help="Print each note's status as JSON.")
@click.pass_obj
def check(obj: Context, as_json: bool) -> None:
    """Check policybot's notes against the current documents; exits 1 when a note is stale.

    A note is stale when the phrase it summarises is no longer in the latest version of its document (the
    document changed since the note was written): answers then quote the clause alone until the note is
    rewritten. A note whose document is not in the index is listed as unchecked.
    """
    from ..answer.notes import is_fresh, load_notes
    from ..errors import BadQuestion
    from ..retrieve.searcher import open_searcher
    from .context import run

    def action() -> None:
        searcher = open_searcher(obj.settings)
        results: list[dict[str, Any]] = []
        for note in load_notes(obj.settings.notes_dir):
            entry: dict[str, Any] = {
                "service": note.service,
                "document": note.document,
                "region": note.region,
                "topic": note.topic,
                "stance": note.stance,
                "anchor": note.anchor,
                "file": note.path,
            }
            try:
                document = searcher.find_document(note.service, note.document, note.region)
            except BadQuestion:
                results.append({**entry, "status": "unchecked", "version": None})
                continue
            latest = document.latest
            fresh = is_fresh(note, searcher.version_document(latest.version_id))
            results.append(
                {**entry, "status": "fresh" if fresh else "stale", "version": latest.provenance.date_label}
            )
        stale = [r for r in results if r["status"] == "stale"]
        if as_json:
            click.echo(json.dumps(results, ensure_ascii=False))
        else:
            counts = {s: sum(r["status"] == s for r in results) for s in ("fresh", "stale", "unchecked")}
            click.echo(
                f"{len(results)} notes: {counts['fresh']} fresh, {counts['stale']} stale, {counts['unchecked']} unchecked"
            )
            for r in results:
                if r["status"] != "fresh":
                    where = f" (latest: {r['version']})" if r["version"] else " (document not in the index)"
                    click.echo(f"  {r['status']}: {r['service']} · {r['document']} · {r['topic']}{where}")
                    if r["status"] == "stale":
                        click.echo(
                            f"    anchor no longer found: “{r['anchor']}” — rewrite the note in {r['file']}"
                        )
        if stale:
            raise SystemExit(1)

    run(action)
