"""`policybot changes` (what changed in the terms, newest first) and `policybot watch …` (saved watches)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..changes.news import News
    from ..changes.types import Change
    from ..settings import Settings
    from ..types import IndexReport
    from .context import Context

SERVICE_HELP = "Only this platform (repeatable; any case or alias, e.g. soundcloud)."
TOPIC_HELP = (
    "Only changes touching this topic: a taxonomy id (ai_training, licence, ownership, termination, …)."
)


@click.command(name="changes")
@click.option("--service", "services", multiple=True, help=SERVICE_HELP)
@click.option(
    "--document", "documents", multiple=True, help="Only this document, by type or title (repeatable)."
)
@click.option("--topic", help=TOPIC_HELP)
@click.option("--since", help="Only changes in versions dated on or after this day (YYYY-MM-DD).")
@click.option("--until", help="Only changes in versions dated on or before this day (YYYY-MM-DD).")
@click.option(
    "--all", "include_editorial", is_flag=True, help="Editorial changes too (default: substantive only)."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many changes (the newest).")
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"generation", "filters", "count", "changes": [...]}.'
)
@click.pass_obj
def changes_command(
    obj: Context,
    services: tuple[str, ...],
    documents: tuple[str, ...],
    topic: str | None,
    since: str | None,
    until: str | None,
    include_editorial: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """What changed in the platforms' documents, newest first: platform, document, date, topics, and the old
    and the new wording quoted with their version dates.

    Changes are computed clause by clause between consecutive versions of each document when the index is
    built (re-paragraphing, punctuation, page chrome and the "Last updated" line are not changes) and rated
    substantive (a right, a permission, a duty or a figure changed) or editorial.
    """
    from ..changes.query import make_query, record_for, select
    from ..changes.types import changes_json
    from .context import parse_date, run

    def action() -> None:
        settings = obj.settings
        query = make_query(
            settings,
            services=services,
            documents=documents,
            topic=topic,
            since=parse_date(since),
            until=parse_date(until),
            include_editorial=include_editorial,
        )
        record = record_for(settings)
        found = select(record, query, limit)
        if as_json:
            click.echo(
                json.dumps(changes_json(record.generation, query.as_json(), found), ensure_ascii=False)
            )
            return
        click.echo(_changes_text(found, query.topic, include_editorial))

    run(action)


def _changes_text(found: list[Change], topic: str, include_editorial: bool) -> str:
    from ..changes.describe import change_lines

    kind = "change(s)" if include_editorial else "substantive change(s)"
    if not found:
        hint = "" if include_editorial else " (--all shows editorial changes too)"
        return f"No {kind} recorded for this selection{hint}."
    lines = [f"{len(found)} {kind}, newest first:"]
    for change in found:
        lines.append("")
        lines.extend(change_lines(change, topic))
    return "\n".join(lines)


# --- watches --------------------------------------------------------------------------------------------------


@click.group()
def watch() -> None:
    """Saved watches: know when a platform changes what matters to you (kept in the data dir)."""


@watch.command(name="add")
@click.option("--service", help="The platform to watch (any case). Default: every platform.")
@click.option("--topic", help=TOPIC_HELP + " Default: any topic.")
@click.option(
    "--all", "include_editorial", is_flag=True, help="Editorial changes too (default: substantive only)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the watch as JSON.")
@click.pass_obj
def watch_add(
    obj: Context, service: str | None, topic: str | None, include_editorial: bool, as_json: bool
) -> None:
    """Watch SERVICE's changes on TOPIC; `policybot watch check` then lists the ones that are new.

    Changes already recorded when the watch is added count as seen; `policybot changes` shows them.
    """
    from ..changes.news import watch_matches
    from ..changes.query import indexed_services, record_for, resolve_services, resolve_topic
    from ..changes.watches import Watch, open_watches, watch_id
    from ..errors import IndexMissing
    from .context import run

    def action() -> None:
        settings = obj.settings
        topic_id = resolve_topic(topic)
        name = (service or "").strip()
        try:
            if name:
                name = resolve_services([name], indexed_services(settings))[0]
            changes = record_for(settings).changes
        except IndexMissing:
            changes = ()  # no index yet: the watch is kept as typed and sees everything later as new
        wanted = Watch(watch_id(name, topic_id, include_editorial), name, topic_id, include_editorial, "")
        matching = watch_matches(wanted, changes)
        added, created = open_watches(settings.data_dir).add(
            name, topic_id, include_editorial, seen=[c.id for c in matching]
        )
        if as_json:
            click.echo(json.dumps({**_watch_json(added), "created": created, "matching": len(matching)}))
            return
        verb = "Watching" if created else "Already watching"
        click.echo(f"{verb} {added.describe()} (id {added.id}).")
        click.echo(
            f"  {len(matching)} such change(s) recorded so far; `policybot watch check` lists new ones."
        )
        click.echo(f"  Feed on `policybot serve`: {added.feed_path}")

    run(action)


def _watch_json(w: Any, new: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": w.id,
        "service": w.service or None,
        "topic": w.topic or None,
        "include_editorial": w.include_editorial,
        "since": w.created,
        "feed": w.feed_path,
    }
    if new is not None:
        data["new"] = new
    return data


@watch.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the watches as JSON.")
@click.pass_obj
def watch_list(obj: Context, as_json: bool) -> None:
    """The saved watches, with how many changes are new for each."""
    from ..changes.news import all_changes, unseen
    from ..changes.watches import open_watches
    from ..errors import IndexMissing
    from .context import run

    def action() -> None:
        store = open_watches(obj.settings.data_dir)
        watches = store.list()
        try:
            changes = all_changes(obj.settings) if watches else ()
        except IndexMissing:
            changes = ()
        rows = [(w, len(unseen(store, w, changes))) for w in watches]
        if as_json:
            click.echo(json.dumps([_watch_json(w, n) for w, n in rows], ensure_ascii=False))
            return
        if not rows:
            click.echo("No watches yet: `policybot watch add --service SoundCloud --topic ai_training`.")
        for w, n in rows:
            click.echo(f"{w.id}  {w.describe()} · since {w.created[:10]} · {n} new · feed {w.feed_path}")

    run(action)


@watch.command(name="remove")
@click.argument("watch_id")
@click.pass_obj
def watch_remove(obj: Context, watch_id: str) -> None:
    """Forget the watch WATCH_ID (see `policybot watch list`)."""
    from ..changes.watches import open_watches
    from .context import run

    def action() -> None:
        removed = open_watches(obj.settings.data_dir).remove(watch_id.strip())
        click.echo(f"Removed watch {removed.id} ({removed.describe()}).")

    run(action)


@watch.command(name="check")
@click.argument("watch_id", required=False)
@click.option("--keep", is_flag=True, help="Do not mark what is listed as seen.")
@click.option("--json", "as_json", is_flag=True, help="Print the new changes per watch as JSON.")
@click.pass_obj
def watch_check(obj: Context, watch_id: str | None, keep: bool, as_json: bool) -> None:
    """The changes that are new for each watch (or for WATCH_ID) since it last listed them."""
    from ..changes.describe import change_lines
    from ..changes.news import all_changes, unseen
    from ..changes.types import to_json
    from ..changes.watches import open_watches
    from .context import run

    def action() -> None:
        store = open_watches(obj.settings.data_dir)
        watches = [store.get(watch_id.strip())] if watch_id else store.list()
        changes = all_changes(obj.settings) if watches else ()
        results = [(w, unseen(store, w, changes)) for w in watches]
        if not keep:
            for w, new in results:
                store.mark_seen(w.id, [c.id for c in new])
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {**_watch_json(w, len(new)), "changes": [to_json(c) for c in new]}
                        for w, new in results
                    ],
                    ensure_ascii=False,
                )
            )
            return
        if not results:
            click.echo("No watches yet: `policybot watch add --service SoundCloud --topic ai_training`.")
        for w, new in results:
            click.echo(f"{w.id}  {w.describe()}: {len(new)} new change(s)")
            for change in new:
                click.echo("")
                click.echo("\n".join(change_lines(change, w.topic)))

    run(action)


# --- the end of `policybot corpus sync` / `policybot index` -------------------------------------------------


def news_after_index(settings: Settings, report: IndexReport) -> News:
    """What the run that produced `report` recorded for the first time (see `bot.changes.news`)."""
    from ..changes.news import news_after_index as news

    return news(settings, report, mark_seen=False)


def news_json(news: News) -> dict[str, Any]:
    """For `corpus sync --json`: {"new": n, "substantive": n, "changes": [...], "watches": [...]}."""
    from ..changes.types import to_json

    return {
        "new": len(news.new),
        "substantive": len(news.substantive),
        "changes": [to_json(c) for c in news.substantive],
        "watches": [
            {**_watch_json(w, len(hits)), "changes": [c.id for c in hits]} for w, hits in news.watched
        ],
    }


def news_lines(news: News) -> list[str]:
    """For `corpus sync`: one line on what changed, one per watch that has news, and the substantive changes."""
    from ..changes.describe import entry_title

    if not news.new:
        return ["No new changes in the terms."]
    lines = [
        f"Recorded {len(news.new)} new change(s) in the terms, {len(news.substantive)} substantive "
        "(`policybot changes` lists them):"
    ]
    lines.extend(f"  * {entry_title(c)} — {c.section_path}" for c in news.substantive[:20])
    if len(news.substantive) > 20:
        lines.append(f"  … and {len(news.substantive) - 20} more")
    for w, hits in news.watched:
        lines.append(f"  Watch {w.id} ({w.describe()}): {len(hits)} new — `policybot watch check {w.id}`")
    return lines
