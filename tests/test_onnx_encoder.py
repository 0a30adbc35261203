"""bot/index/onnx_encoder.py: the ONNX path gives the torch path's vectors, over real chunks of the shared
corpus, and a question answered on it never imports torch (no timings here: speed is in `policybot bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, OTA, ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def onnx_embedder():  # type: ignore[no-untyped-def]
    """The ONNX model from the user's model cache (`make setup` exported it; else it is exported here, once)."""
    from bot.index.embeddings import embedder_for
    from bot.settings import Settings

    model = embedder_for(Settings(embed_backend="onnx"))
    assert model.backend == "onnx"
    return model


def real_chunks(n: int = 300) -> list[str]:
    """`n` distinct chunk texts, spread over every eighth file of the shared corpus (the test corpus without it)."""
    from bot.index.build import chunk_corpus
    from bot.ingest.load import load_corpus

    files = sorted(OTA.glob("*-versions/*/*/*.md"))[::8] if OTA.is_dir() else []
    corpus = load_corpus(files or [DATA / "ota", DATA / "frontmatter", DATA / "flat"])
    _, chunks = chunk_corpus(corpus)
    texts = sorted({chunk.embed_text for chunk in chunks})
    return texts[:: max(1, len(texts) // n)][:n]


@pytest.mark.slow
def test_onnx_vectors_match_torch_over_real_chunks(embedder, onnx_embedder) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    texts = real_chunks()
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev_questions.jsonl").open()][:60]
    assert len(texts) >= 100
    for sample in (texts, questions):
        reference = embedder.encode(sample)
        vectors = onnx_embedder.encode(sample)
        assert vectors.shape == reference.shape == (len(sample), 384)
        cosine = (vectors * reference).sum(axis=1) / (
            np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
        )
        assert float(cosine.min()) >= 0.999, sample[int(cosine.argmin())][:80]
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the same nearest chunks for each question
    chunk_ref, chunk_onnx = embedder.encode(texts), onnx_embedder.encode(texts)
    q_ref, q_onnx = embedder.encode(questions), onnx_embedder.encode(questions)
    top_ref = np.argsort(-(q_ref @ chunk_ref.T), axis=1)[:, :10]
    top_onnx = np.argsort(-(q_onnx @ chunk_onnx.T), axis=1)[:, :10]
    assert (top_ref == top_onnx).mean() >= 0.99


def test_a_vector_does_not_depend_on_its_batch(onnx_embedder) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    texts = ["Can SoundCloud use my tracks to train AI?", "Nous conservons vos données. " * 80, "ok"]
    together = onnx_embedder.encode(texts)
    alone = np.vstack([onnx_embedder.encode([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_empty_and_wrong_input(onnx_embedder) -> None:  # type: ignore[no-untyped-def]
    assert onnx_embedder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError, match="got the string"):
        onnx_embedder.onnx.encode("a question")


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    from bot.index.onnx_encoder import OnnxEncoder

    missing = tmp_path / "none.onnx"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        OnnxEncoder(missing)


def test_the_model_file_lives_in_the_model_cache(tmp_path: Path) -> None:
    from bot.index.export import onnx_path
    from bot.settings import Settings

    path = onnx_path(Settings(model_cache=tmp_path))
    assert path.parent == tmp_path and path.name.startswith("all-MiniLM-L6-v2-") and path.suffix == ".onnx"


def test_ask_on_the_onnx_path_imports_no_torch_no_chroma_and_no_web_stack(test_index) -> None:  # type: ignore[no-untyped-def]
    script = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        "    main(['ask', 'Can SoundCloud use my tracks to train AI?', '--json'])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'gradio', 'fastapi',\n"
        "    'matplotlib', 'langchain', 'langchain_chroma', 'chromadb') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {**os.environ, "POLICYBOT_DATA_DIR": str(test_index.data_dir), "POLICYBOT_EMBED_BACKEND": "onnx"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["question"].startswith("Can SoundCloud")
    assert "HEAVY []" in done.stderr, done.stderr[-2000:]


def test_shipped_texts_are_embedded_once_then_read_back(onnx_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from bot.index.embeddings import MiniLMEmbeddings

    (tmp_path / onnx_embedder.onnx_file.name).symlink_to(onnx_embedder.onnx_file)
    model = MiniLMEmbeddings(onnx_file=tmp_path / onnx_embedder.onnx_file.name)
    texts = ["Who owns my songs?", "Can they train AI on my art?"]
    first = model.encode_fixed(texts)
    assert len(list((tmp_path / "vectors").glob("*.npy"))) == 1
    assert np.array_equal(first, model.encode(texts))
    assert np.array_equal(model.encode_fixed(texts), first)
    assert model.encode_fixed(texts[:1]).shape == (1, 384)  # other texts, another file
    assert len(list((tmp_path / "vectors").glob("*.npy"))) == 2


@pytest.mark.slow
def test_the_export_is_byte_for_byte_repeatable(onnx_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.index.export import export_onnx, sha256

    again = export_onnx(tmp_path / "again.onnx")
    assert sha256(again) == sha256(onnx_embedder.onnx_file), (
        f"a new export differs from {onnx_embedder.onnx_file}: made by other torch/onnx versions? "
        "run `python -m bot.index.export --force`"
    )


def test_the_optimised_graph_is_kept_and_gives_the_same_vectors(onnx_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    import numpy as np

    from bot.index.onnx_encoder import OnnxEncoder

    model = tmp_path / "model.onnx"
    shutil.copyfile(onnx_embedder.onnx_file, model)
    texts = ["Can SoundCloud use my tracks to train AI?", "Nous pouvons supprimer votre contenu.", "refunds"]
    first = OnnxEncoder(model)  # optimises the graph and keeps it
    kept = list(tmp_path.glob("model.*.optimised.onnx"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0
    again = OnnxEncoder(model)  # opens the kept graph
    assert np.array_equal(first.encode(texts), again.encode(texts))
    kept[0].write_bytes(b"not a graph")
    mended = OnnxEncoder(model)  # a damaged cache is optimised again, not fatal
    assert np.array_equal(mended.encode(texts), first.encode(texts))
    assert kept[0].stat().st_size > 100
