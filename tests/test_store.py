from pathlib import Path

import pytest

from bot.errors import IndexMissing, StoreUnavailable
from bot.index.store import IndexStore, open_store
from bot.settings import Settings
from bot.types import text_sha256

pytestmark = pytest.mark.integration


# Each test taking `store_settings` runs twice: on the embedded store and on a `chroma run` server.


def test_stored_texts_round_trip_in_parts_and_are_hash_checked(store_settings: Settings) -> None:
    store = IndexStore(store_settings)
    big = "terms " * 400_000  # 2.4 MB: stored in three parts
    small = "short terms"
    assert store.put_texts({text_sha256(big): big, text_sha256(small): small}) == 2
    assert store.put_texts({text_sha256(small): small}) == 0
    fresh = IndexStore(store_settings)
    assert fresh.text(text_sha256(big)) == big
    assert fresh.text(text_sha256("never stored")) is None


def test_a_text_cut_off_before_its_first_part_is_written_again(store_settings: Settings) -> None:
    big = "clause " * 300_000  # three parts; part 0 is written last and marks the text as stored
    sha = text_sha256(big)
    store = IndexStore(store_settings)
    texts = store.client.get_or_create_collection("policybot_texts", embedding_function=None)
    texts.upsert(
        ids=[f"{sha}:1"], documents=["half"], embeddings=[[1.0]], metadatas=[{"sha": sha, "part": 1}]
    )
    assert store.text(sha) is None
    assert store.put_texts({sha: big}) == 1
    assert IndexStore(store_settings).text(sha) == big


def test_no_index_yet_says_what_to_run(store_settings: Settings) -> None:
    with pytest.raises(IndexMissing, match="policybot index"):
        open_store(store_settings).require_current()


def test_unreachable_chroma_server_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:9") as caught:
        IndexStore(Settings(data_dir=tmp_path, chroma_url="http://127.0.0.1:9"))
    assert "\n" not in str(caught.value)
