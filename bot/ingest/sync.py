"""Keeping the terms current: bringing the listed documents' versions from Open Terms Archive into the data
directory, from its public git repositories or from a local folder in its dataset layout.

Synced versions land in `<data dir>/corpus/<collection>/<Service>/<Terms type>/<date>.md`, the layout the
loader reads. Nothing already synced is ever deleted or overwritten, so a failure keeps what was there; a
version identical to the one before it is recorded once, so syncing again changes nothing.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import CorpusError, PolicybotError
from ..settings import Settings, bundled_corpus_dir
from .catalog import Catalog, ServiceInfo, load_catalog
from .dates import parse_file_date

Progress = Callable[[str, int, int], None]
GIT_TIMEOUT = 600


class SyncError(PolicybotError):
    """Syncing failed (network, git); what was synced before is kept."""


@dataclass(frozen=True, slots=True)
class Wanted:
    """One document to follow: where it lives in an OTA collection."""

    service: str
    collection: str
    folders: tuple[str, ...]
    """The service's folder names in the collection (OTA spells some differently: "Soundcloud")."""
    terms_type: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A version found at the source: the date it was recorded and its text."""

    recorded: str
    """YYYY-MM-DD, or a longer sortable stamp when several versions share a day."""
    text: str
    origin: str


@dataclass(slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    identical_skipped: int = 0
    missing: list[str] = field(default_factory=list)
    """Listed documents the source does not have."""
    conflicts: list[str] = field(default_factory=list)
    """A different text already synced under the same date: kept, not overwritten."""
    errors: list[str] = field(default_factory=list)
    """Sources that could not be reached; what they had before is kept."""
    seconds: float = 0.0


def synced_dir(settings: Settings) -> Path:
    return settings.data_dir / "corpus"


def default_corpus_dirs(settings: Settings) -> list[Path]:
    """What `policybot index` reads without --corpus: the bundled corpus plus everything synced."""
    dirs = [bundled_corpus_dir()]
    if synced_dir(settings).is_dir():
        dirs.append(synced_dir(settings))
    return dirs


def wanted_documents(catalog: Catalog, services: Sequence[str] = ()) -> list[Wanted]:
    """The documents sources.toml lists, for `services` (all when empty); unknown names are an error."""
    chosen: list[ServiceInfo] = []
    for name in services:
        info = catalog.service(name)
        if info is None:
            known = ", ".join(s.name for s in catalog.services)
            raise CorpusError(f"{name!r} is not in corpus/sources.toml; known services: {known}")
        chosen.append(info)
    wanted: list[Wanted] = []
    for info in chosen or list(catalog.services):
        folders = tuple(dict.fromkeys((*info.ota_names, info.name)))
        for doc in info.documents:
            for collection in doc.collections:
                wanted.append(Wanted(info.name, collection, folders, doc.type))
    return list(dict.fromkeys(wanted))


# --- writing versions ---------------------------------------------------------------------------------------


def _existing(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def record_versions(target: Path, candidates: Iterable[Candidate], report: SyncReport) -> None:
    """Write new versions of one document into `target`, oldest first, skipping repeats."""
    existing = _existing(target)
    merged = dict(existing)
    for candidate in sorted(candidates, key=lambda c: c.recorded):
        stamp = candidate.recorded
        if stamp in merged:
            if merged[stamp] == candidate.text:
                report.unchanged += 1
            else:
                report.conflicts.append(
                    f"{target / (stamp + '.md')}: a different text is already synced; kept it"
                )
            continue
        before = [s for s in merged if s < stamp]
        if before and merged[max(before)] == candidate.text:
            report.identical_skipped += 1  # the same text as the version before: recorded once
            continue
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{stamp}.md"
        _write_atomically(path, candidate.text)
        merged[stamp] = candidate.text
        report.added.append(str(path))


def _write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".sync-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# --- from a local folder in OTA's dataset layout ----------------------------------------------------------


def _folder_candidates(source: Path, want: Wanted) -> dict[str, list[Candidate]]:
    """Versions found under each of the service's folder names (kept apart: the archive's paths stay)."""
    found: dict[str, list[Candidate]] = {}
    for folder in want.folders:
        directory = source / want.collection / folder / want.terms_type
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.md")):
            day = parse_file_date(path.name)
            if day is None:
                continue
            try:
                text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
            except UnicodeDecodeError:
                continue  # not text: the loader would refuse it too
            found.setdefault(folder, []).append(Candidate(day.isoformat(), text, str(path)))
    return found


def sync_from_folder(
    source: Path,
    settings: Settings,
    services: Sequence[str] = (),
    *,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Bring the listed documents' versions from a local folder in OTA's layout (offline)."""
    began = time.perf_counter()
    if not source.is_dir():
        raise CorpusError(
            f"{source} is not a folder; give a folder in OTA's layout <collection>/<Service>/<Type>/"
        )
    catalog = catalog or load_catalog()
    report = SyncReport()
    wanted = wanted_documents(catalog, services)
    for i, want in enumerate(wanted, start=1):
        if progress:
            progress("sync", i - 1, len(wanted))
        groups = _folder_candidates(source, want)
        if not groups:
            report.missing.append(f"{want.service} / {want.terms_type} ({want.collection})")
        for folder, candidates in groups.items():
            record_versions(
                synced_dir(settings) / want.collection / folder / want.terms_type, candidates, report
            )
    if progress:
        progress("sync", len(wanted), len(wanted))
    report.seconds = time.perf_counter() - began
    return report


# --- from OTA's public git repositories ------------------------------------------------------------------


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise SyncError("git is not installed: install git, or sync offline with --from DIR") from None
    except subprocess.TimeoutExpired:
        raise SyncError(f"git {args[0]} took more than {GIT_TIMEOUT} s; try again later") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise SyncError(lines[-1] if lines else f"git {args[0]} failed with code {done.returncode}")
    return done.stdout


def mirror_repository(url: str, settings: Settings) -> Path:
    """A local bare mirror of a versions repository: cloned once (without file contents), then fetched."""
    cache = settings.data_dir / "cache" / "git"
    cache.mkdir(parents=True, exist_ok=True)
    name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "repository"
    mirror = cache / f"{name}.git"
    try:
        if (mirror / "HEAD").exists():
            _git("fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*", cwd=mirror)
        else:
            temp = cache / f".{name}.partial"
            if temp.exists():
                _remove_tree(temp)
            _git("clone", "--quiet", "--bare", "--filter=blob:none", url, str(temp))
            os.replace(temp, mirror)
    except SyncError as exc:
        raise SyncError(f"could not sync from {url}: {exc}. Nothing synced before was changed.") from None
    return mirror


def _remove_tree(path: Path) -> None:
    for child in sorted(path.rglob("*"), reverse=True):
        child.unlink() if child.is_file() or child.is_symlink() else child.rmdir()
    path.rmdir()


def _git_candidates(mirror: Path, want: Wanted) -> tuple[str, list[Candidate]]:
    """Every recorded version of `<Service>/<Terms type>.md`: one per day (the day's last), dated by commit."""
    for folder in want.folders:
        path = f"{folder}/{want.terms_type}.md"
        log = _git("log", "--reverse", "--format=%H%x09%cI", "HEAD", "--", path, cwd=mirror)
        commits = [line.split("\t") for line in log.splitlines() if "\t" in line]
        if not commits:
            continue
        by_day: dict[str, str] = {}
        for sha, stamp in commits:
            day = datetime.fromisoformat(stamp).astimezone(UTC).date().isoformat()
            by_day[day] = sha  # later commits of the same day replace earlier ones
        return folder, [
            Candidate(
                day, _git("show", f"{sha}:{path}", cwd=mirror).replace("\r\n", "\n"), f"{mirror}:{sha}:{path}"
            )
            for day, sha in by_day.items()
        ]
    return "", []


def sync_from_git(
    settings: Settings,
    services: Sequence[str] = (),
    *,
    catalog: Catalog | None = None,
    repositories: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Bring the listed documents' versions from OTA's public versions repositories (online).

    `repositories` maps collections to git URLs and then only those collections are synced (instead of
    sources.toml's list; tests use local repositories). A repository that cannot be reached is reported in
    `errors` and the others are still synced; when none can be reached, SyncError.
    """
    began = time.perf_counter()
    catalog = catalog or load_catalog()
    urls = (
        dict(repositories)
        if repositories
        else {name: c.repository for name, c in catalog.collections if c.repository}
    )
    report = SyncReport()
    wanted = [w for w in wanted_documents(catalog, services) if w.collection in urls]
    mirrors: dict[str, Path] = {}
    failed: set[str] = set()
    for i, want in enumerate(wanted, start=1):
        if progress:
            progress("sync", i - 1, len(wanted))
        if want.collection in failed:
            continue
        if want.collection not in mirrors:
            try:
                mirrors[want.collection] = mirror_repository(urls[want.collection], settings)
            except SyncError as exc:
                failed.add(want.collection)
                report.errors.append(str(exc))
                continue
        folder, candidates = _git_candidates(mirrors[want.collection], want)
        if not candidates:
            report.missing.append(f"{want.service} / {want.terms_type} ({want.collection})")
            continue
        record_versions(synced_dir(settings) / want.collection / folder / want.terms_type, candidates, report)
    if progress:
        progress("sync", len(wanted), len(wanted))
    report.seconds = time.perf_counter() - began
    if failed and not mirrors:
        raise SyncError(" ".join(report.errors))
    return report


def synced_files(settings: Settings) -> Iterator[Path]:
    root = synced_dir(settings)
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*.md") if not p.name.startswith("."))
