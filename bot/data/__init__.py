"""policybot's domain knowledge as data: topics, words, platforms, examples and patterns, one TOML file each.

Each file is read once and validated by a pydantic model with `extra="forbid"`, so a misspelt key or a
value of the wrong shape fails at once with the file and field named, instead of quietly changing answers.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from ..errors import CorpusError

DATA_DIR = Path(__file__).resolve().parent


class Data(BaseModel):
    """Base of every data file's model: unknown keys are errors, values are frozen once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc}): {pattern[:80]!r}") from None
    return pattern


def _join(value: object) -> object:
    """A long pattern may be written as a list of alternatives, one per line: they are joined with "|"."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "|".join(value)
    return value


Pattern = Annotated[str, BeforeValidator(_join), AfterValidator(_compiles)]
"""A regular expression (or a list of alternatives), checked to compile when the file is loaded."""

M = TypeVar("M", bound=Data)


def read_toml(path: Path, model: type[M]) -> M:
    """`path` validated as `model`; CorpusError naming the file, the field and what is wrong."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(
            f"{path}: cannot be read as TOML ({exc}); fix the file or restore it from git"
        ) from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {_message(e['msg'])}" for e in exc.errors())
        raise CorpusError(f"{path}: {problems}") from None


def _where(loc: tuple[int | str, ...]) -> str:
    """pydantic's location as a person counts: ("notes", 0, "stance") → "notes[1].stance"."""
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(msg: str) -> str:
    return msg.removeprefix("Value error, ")


_loaded: dict[tuple[str, type[Data]], Data] = {}


def load(name: str, model: type[M]) -> M:
    """The package's data file `name` (e.g. "topics.toml"), validated as `model`, read once per process."""
    held = _loaded.get((name, model))
    if not isinstance(held, model):
        held = _loaded[(name, model)] = read_toml(DATA_DIR / name, model)
    return held
