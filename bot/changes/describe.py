"""How a change is named and told: the feed's entry titles, the command line's lines, the phrases for topics.
Plain text only; the feed and the chat page escape it."""

from __future__ import annotations

from ..retrieve.topics import BY_ID
from .types import Change, Wording

TOPIC_PHRASES = {
    "ai_training": "AI training",
    "ai_uploads": "AI-generated uploads",
    "voice_likeness": "voice and likeness",
    "ownership": "ownership",
    "licence": "the licence you grant",
    "deletion": "deleting content",
    "termination": "account termination",
    "changes": "changes to its terms",
    "disputes": "disputes and governing law",
    "downloads": "downloads",
    "labels": "labels and distributors",
    "payouts": "payouts",
    "ai_outputs": "who owns AI outputs",
    "ai_labelling": "labelling AI content",
    "style_imitation": "imitating artists' styles",
    "scraping": "scraping and AI crawlers",
    "content_removal": "removing content",
    "copyright_claims": "copyright claims",
    "monetisation": "monetisation",
    "purchases": "purchases and refunds",
    "privacy": "personal data",
    "age": "age limits",
    "prohibited_content": "what may not be posted",
    "liability": "liability",
    "account": "accounts",
}
"""How a title names a topic: "SoundCloud changed its Terms of Use on AI training"."""

REASONS = {
    "right": "a right",
    "permission": "a permission",
    "duty": "a duty",
    "figure": "a figure",
    "rewritten": "most of the clause",
}
KIND_WORDS = {"added": "added", "removed": "removed", "reworded": "reworded"}


def topic_phrase(topic: str) -> str:
    if topic in TOPIC_PHRASES:
        return TOPIC_PHRASES[topic]
    label = BY_ID[topic].label if topic in BY_ID else topic.replace("_", " ")
    return label[:1].lower() + label[1:]


def topic_label(topic: str) -> str:
    return BY_ID[topic].label if topic in BY_ID else topic.replace("_", " ")


def entry_title(change: Change, topic: str = "") -> str:
    """ "SoundCloud changed its Terms of Use on AI training (May 21, 2025)": on `topic` when the change
    touches it, else on the first topic it touches, else in its section."""
    chosen = topic if topic and topic in change.topics else (change.topics[0] if change.topics else "")
    document = change.title if change.binding else f"{change.title} ({change.kind})"
    where = f" on {topic_phrase(chosen)}" if chosen else (f": {_heading(change)}" if _heading(change) else "")
    return f"{change.service} changed its {document}{where} ({change.after.human_date})"


def _heading(change: Change) -> str:
    side = change.new or change.old
    return side.section[-1] if side is not None and side.section else ""


def rating_text(change: Change) -> str:
    """ "substantive: a right, a permission changed" or "editorial"."""
    if not change.substantive:
        return "editorial"
    return "substantive: " + ", ".join(REASONS[r] for r in change.reasons) + " changed"


def binding_note(change: Change) -> str:
    """For a document that does not bind: which one does."""
    if change.binding:
        return ""
    what = "a statement" if change.kind == "statement" else f"a {change.kind} document"
    binds = change.binds or f"{change.service}'s terms"
    return f"This is {what}, not the terms: it changes no contract; {binds} is what binds."


def side_heading(wording: Wording, old: bool) -> str:
    """ "Before — version of February 7, 2024 (Last Amended: February 7, 2024)"."""
    v = wording.version
    label = (
        f" ({v.date_label})"
        if v.date_label and v.date_label != f"version of {v.version_date.isoformat()}"
        else ""
    )
    return f"{'Before' if old else 'After'} — version of {v.human_date}{label}"


def marked_text(wording: Wording, old: bool) -> str:
    """The clause with the changed words marked: [-removed-] on the old side, {+added+} on the new."""
    out, at = [], wording.clause_start
    text = wording.clause_text
    for start, end in wording.marks:
        out.append(text[at - wording.clause_start : start - wording.clause_start])
        piece = text[start - wording.clause_start : end - wording.clause_start]
        out.append(f"[-{piece}-]" if old else f"{{+{piece}+}}")
        at = end
    out.append(text[at - wording.clause_start :])
    return "".join(out)


def change_lines(change: Change, topic: str = "") -> list[str]:
    """The command line's text for one change."""
    topics = ", ".join(topic_label(t) for t in change.topics) or "no topic"
    lines = [
        f"{change.date.isoformat()}  {entry_title(change, topic)}",
        f"    {change.service} · {change.title} ({change.region}) · {change.section_path} · "
        f"{KIND_WORDS[change.change]} · {rating_text(change)} · {topics}",
    ]
    note = binding_note(change)
    if note:
        lines.append(f"    {note}")
    if change.old is not None:
        lines.append(f"    - “{change.old.quote}” ({change.before.date_label})")
    else:
        lines.append(f"    - (not in the version of {change.before.human_date})")
    if change.new is not None:
        lines.append(f"    + “{change.new.quote}” ({change.after.date_label})")
    else:
        lines.append(f"    + (gone from the version of {change.after.human_date})")
    lines.append(f"    id {change.id}")
    return lines
