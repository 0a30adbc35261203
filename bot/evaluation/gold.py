"""The gold question sets (`eval/questions.jsonl`, `eval/test_questions.jsonl`, ...; see eval/README.md):
loading, validating, and checking that every gold phrase is really in the corpus, in the version it names."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import PolicybotError
from ..ingest.catalog import Catalog, load_catalog
from ..types import Corpus

EXPECTS = ("answer", "abstain")
REQUIRED = ("id", "question", "expect", "gold")


class GoldFileError(PolicybotError):
    """A gold question file cannot be used: the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class GoldPhrase:
    """Evidence that answers a question: a verbatim phrase of the deciding clause of one document."""

    service: str
    """Canonical platform name, as policybot names it (the file's spelling resolved through sources.toml)."""
    document: str
    """Document type, e.g. "Terms of Service"."""
    phrase: str
    version_date: date | None
    """When set, only that version counts (the date the text states for itself, else the file-name date)."""


@dataclass(frozen=True, slots=True)
class GoldQuestion:
    id: str
    question: str
    expect: str
    """answer | abstain"""
    gold: tuple[GoldPhrase, ...]
    style: str = ""
    abstain_reason: str = ""
    topic: str = ""
    services: tuple[str, ...] = ()
    stance: str | None = None
    as_of: date | None = None
    """The date the question's own words point at; the evaluation does not pass it to `ask()`."""
    history: tuple[str, ...] = ()
    """Earlier user questions of the conversation, oldest first."""
    note: str = ""
    kinds: tuple[str, ...] = ()
    """Failure-kind tags (date_in_words, nickname, french_document, comparison, ...): figures are broken
    down by them."""
    language: str = ""
    """The question's language ("en", "fr"); empty when the file does not say."""
    today: date | None = None
    """The day the question was written: what its relative phrases ("last year") count from. Passed to
    `ask()`, so that a question keeps its meaning whenever the evaluation runs."""

    @property
    def answerable(self) -> bool:
        return self.expect == "answer"


def normalise(text: str) -> str:
    """Whitespace runs (newlines, tabs, non-breaking and narrow spaces) as one space: how phrases are matched."""
    return " ".join(text.split())


def _date(value: Any, where: str, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise GoldFileError(f"{where}: {field} {value!r} is not a date; write YYYY-MM-DD or null") from None


def parse_question(data: Any, where: str, catalog: Catalog) -> GoldQuestion:
    """One JSON object of a gold file as a GoldQuestion, or GoldFileError naming the line and the field."""
    if not isinstance(data, dict):
        raise GoldFileError(f"{where}: expected a JSON object, got {type(data).__name__}")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise GoldFileError(
            f"{where}: missing {', '.join(missing)}; every question needs {', '.join(REQUIRED)}"
        )
    expect = data["expect"]
    if expect not in EXPECTS:
        raise GoldFileError(f"{where}: expect must be 'answer' or 'abstain', got {expect!r}")
    phrases = _phrases(data["gold"], where, catalog)
    if expect == "answer" and not phrases:
        raise GoldFileError(f"{where}: an answerable question needs at least one gold phrase")
    if expect == "abstain" and phrases:
        raise GoldFileError(
            f"{where}: a question to abstain on has no gold evidence; remove its gold phrases"
        )
    language = data.get("language") or ""
    if not isinstance(language, str):
        raise GoldFileError(f'{where}: language must be a language code such as "en" or "fr"')
    stance = data.get("stance")
    return GoldQuestion(
        id=str(data["id"]),
        question=str(data["question"]),
        expect=expect,
        gold=phrases,
        style=str(data.get("style") or ""),
        abstain_reason=str(data.get("abstain_reason") or ""),
        topic=str(data.get("topic") or ""),
        services=tuple(str(s) for s in data.get("services") or ()),
        stance=str(stance) if stance else None,
        as_of=_date(data.get("as_of"), where, "as_of"),
        history=_strings(data, "history", where, "a list of earlier questions (strings)"),
        note=str(data.get("note") or ""),
        kinds=_strings(data, "kinds", where, "a list of failure-kind tags (non-empty strings)", blank=False),
        language=language,
        today=_date(data.get("today"), where, "today"),
    )


def _phrases(gold: Any, where: str, catalog: Catalog) -> tuple[GoldPhrase, ...]:
    if not isinstance(gold, list):
        raise GoldFileError(f"{where}: gold must be a list of {{service, document, phrase, version_date}}")
    phrases = []
    for n, raw in enumerate(gold, start=1):
        if not isinstance(raw, dict) or not all(raw.get(k) for k in ("service", "document", "phrase")):
            raise GoldFileError(
                f"{where}: gold[{n}] needs non-empty service, document and phrase, got {raw!r}"
            )
        phrases.append(
            GoldPhrase(
                service=catalog.canonical_name(str(raw["service"])),
                document=str(raw["document"]),
                phrase=str(raw["phrase"]),
                version_date=_date(raw.get("version_date"), where, f"gold[{n}].version_date"),
            )
        )
    return tuple(phrases)


def _strings(data: dict[str, Any], key: str, where: str, what: str, *, blank: bool = True) -> tuple[str, ...]:
    """`data[key]` as a tuple of strings (none when absent); `blank=False` refuses empty strings."""
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and (blank or v) for v in value):
        raise GoldFileError(f"{where}: {key} must be {what}")
    return tuple(value)


def load_questions(path: Path, catalog: Catalog | None = None) -> list[GoldQuestion]:
    """Every question of a JSONL gold file, validated; ids must be unique."""
    catalog = catalog or load_catalog()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GoldFileError(
            f"cannot read the questions file {path}: {exc.strerror or exc}; give --questions FILE"
        ) from None
    questions: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldFileError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
        question = parse_question(data, where, catalog)
        if question.id in seen:
            raise GoldFileError(f"{where}: id {question.id!r} already used on line {seen[question.id]}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise GoldFileError(f"{path} holds no questions; write one JSON object per line")
    return questions


@dataclass(frozen=True, slots=True)
class QuestionSet:
    """One question file, scored on its own: the report gives every figure per set."""

    name: str
    """The file's stem ("test_questions"): how the report names the set."""
    path: str
    questions: tuple[GoldQuestion, ...]


def load_question_sets(
    paths: Sequence[Path], catalog: Catalog | None = None, *, limit: int | None = None
) -> list[QuestionSet]:
    """Each file as a set, in the order given (`limit`: that many questions of each, spread evenly); two
    files with the same name would be one key in the report, so they are refused."""
    catalog = catalog or load_catalog()
    sets: list[QuestionSet] = []
    for path in paths:
        if any(s.name == path.stem for s in sets):
            raise GoldFileError(
                f"two question files are named {path.stem!r} ({path}); the report names each set by its "
                "file name: give each file once, and rename one of two files that share a name"
            )
        questions = load_questions(path, catalog)
        if limit:
            questions = subset(questions, limit)
        sets.append(QuestionSet(path.stem, str(path), tuple(questions)))
    return sets


@dataclass(frozen=True, slots=True)
class GoldProblem:
    """A gold phrase that cannot be found where it says it is."""

    question_id: str
    phrase: GoldPhrase
    reason: str

    def __str__(self) -> str:
        return f"{self.question_id}: {self.phrase.service} · {self.phrase.document}: {self.reason}"


def check_gold(questions: Sequence[GoldQuestion], corpus: Corpus) -> list[GoldProblem]:
    """Every gold phrase that is not, after whitespace normalisation, in a version of its document (in the
    dated version when it names one), with the reason."""
    texts = [(v, normalise(v.text)) for v in corpus.versions]
    problems: list[GoldProblem] = []
    for question in questions:
        for phrase in question.gold:
            wanted = normalise(phrase.phrase)
            documents = [
                (v, text)
                for v, text in texts
                if v.provenance.service.casefold() == phrase.service.casefold()
                and v.provenance.document.casefold() == phrase.document.casefold()
            ]
            if not documents:
                problems.append(GoldProblem(question.id, phrase, "no such document in the corpus"))
                continue
            holding = [v for v, text in documents if wanted in text]
            if not holding:
                problems.append(
                    GoldProblem(question.id, phrase, f"phrase not in any version: {phrase.phrase!r}")
                )
            elif phrase.version_date and not any(
                v.provenance.version_date == phrase.version_date for v in holding
            ):
                dates = sorted({v.provenance.version_date.isoformat() for v in holding})
                problems.append(
                    GoldProblem(
                        question.id,
                        phrase,
                        f"phrase not in the version of {phrase.version_date}; it is in {', '.join(dates)}",
                    )
                )
    return problems


def subset(questions: Sequence[GoldQuestion], count: int) -> list[GoldQuestion]:
    """`count` questions spread evenly over the file (always the same ones), so that a short run still sees
    every platform, style and kind of abstention rather than the file's first topic only."""
    if count >= len(questions):
        return list(questions)
    if count <= 0:
        return []
    step = len(questions) / count
    return [questions[int(i * step)] for i in range(count)]
