import shutil
from pathlib import Path

import pytest

from bot.errors import IndexBusy
from bot.index.build import build_index
from bot.index.store import open_store
from bot.settings import Settings

from .conftest import DATA

pytestmark = pytest.mark.integration


def test_reindex_is_idempotent_and_embeds_only_new_text(
    tmp_path: Path, store_settings: Settings, embedder
) -> None:  # type: ignore[no-untyped-def]
    """On the embedded store and on a `chroma run` server."""
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "ota", corpus)
    settings = store_settings

    first = build_index([corpus], settings, embedder=embedder)
    assert not first.unchanged and first.embedded > 0
    assert (first.documents, first.versions) == (3, 4)

    again = build_index([corpus], settings, embedder=embedder)
    assert again.unchanged and again.embedded == 0
    assert again.generation == first.generation

    new_version = corpus / "contrib-versions" / "Loudwave" / "Terms of Service" / "2026-01-05.md"
    text = (corpus / "contrib-versions" / "Loudwave" / "Terms of Service" / "2025-07-10.md").read_text()
    new_version.write_text(
        text.replace("Ireland", "the Netherlands").replace("July 1, 2025", "January 5, 2026")
    )
    third = build_index([corpus], settings, embedder=embedder)
    assert not third.unchanged
    assert third.versions == 5
    # Only the changed paragraph is new text (the changed date line is metadata, never chunked); every other
    # chunk reuses its vector.
    assert third.embedded == 1
    store = open_store(settings)
    assert store.current() is not None and store.current().name == third.generation  # type: ignore[union-attr]
    # The generation before stays for queries in flight; older ones are dropped.
    assert set(store.generations()) == {first.generation, third.generation}


def test_a_second_indexer_fails_clearly(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from filelock import FileLock

    settings = Settings(data_dir=tmp_path)
    with FileLock(str(tmp_path / "index.lock")), pytest.raises(IndexBusy, match="another `policybot index`"):
        build_index([DATA / "flat"], settings, embedder=embedder)


def test_bad_files_are_reported_and_the_rest_is_indexed(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "flat", corpus)
    (corpus / "broken_2025-01-01.md").write_bytes(b"\xff\xfe not utf8 \x00")
    report = build_index([corpus], Settings(data_dir=tmp_path / "data"), embedder=embedder)
    assert report.documents == 2
    (problem,) = report.problems
    assert problem.path.endswith("broken_2025-01-01.md") and "binary" in problem.reason


def test_an_unchanged_source_is_known_without_chunking_or_chroma(
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The same files and code as the serving generation's: answered from the pointer file and the serving
    copy's counts. Other code giving the same chunks: chunked once, unchanged, and that source remembered."""
    from bot.index import build
    from bot.index.pointer import pointer_path, read_pointer

    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "ota", corpus)
    settings = Settings(data_dir=tmp_path / "data")
    first = build_index([corpus], settings, embedder=embedder)
    assert read_pointer(settings).source == build.source_fingerprint(build.load_corpus([corpus]))  # type: ignore[union-attr]

    def forbidden(*_: object) -> None:
        raise AssertionError("an unchanged source was chunked or Chroma opened")

    with monkeypatch.context() as patched:
        patched.setattr(build, "chunk_corpus", forbidden)
        patched.setattr(build, "open_store", forbidden)
        again = build_index([corpus], settings, embedder=embedder)
    assert again.unchanged and (again.clauses, again.chunks) == (first.clauses, first.chunks)

    real = build.source_fingerprint
    monkeypatch.setattr(build, "source_fingerprint", lambda corpus: "other code" + real(corpus))
    third = build_index([corpus], settings, embedder=embedder)
    assert third.unchanged and third.generation == first.generation
    assert read_pointer(settings).source.startswith("other code")  # type: ignore[union-attr]
    assert open_store(settings).current().source.startswith("other code")  # type: ignore[union-attr]

    pointer_path(settings).unlink()  # no pointer file: Chroma's pointer decides, and it is unchanged too
    fourth = build_index([corpus], settings, embedder=embedder)
    assert fourth.unchanged and fourth.generation == first.generation

    (corpus / "contrib-versions" / "Loudwave" / "Terms of Service" / "2025-07-10.md").write_text(
        "# Terms\n\nA new paragraph about refunds within fourteen days of purchase.\n"
    )
    assert not build_index([corpus], settings, embedder=embedder).unchanged
