from pathlib import Path

import pytest

from bot.errors import IndexMissing, StoreUnavailable
from bot.settings import Settings
from bot.store import IndexStore, open_store
from bot.types import text_sha256

pytestmark = pytest.mark.integration


def test_stored_texts_round_trip_in_parts_and_are_hash_checked(tmp_path: Path) -> None:
    store = IndexStore(Settings(data_dir=tmp_path))
    big = "terms " * 400_000  # 2.4 MB: stored in three parts
    small = "short terms"
    assert store.put_texts({text_sha256(big): big, text_sha256(small): small}) == 2
    assert store.put_texts({text_sha256(small): small}) == 0
    fresh = IndexStore(Settings(data_dir=tmp_path))
    assert fresh.text(text_sha256(big)) == big
    assert fresh.text(text_sha256("never stored")) is None


def test_no_index_yet_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="policybot index"):
        open_store(Settings(data_dir=tmp_path)).require_current()


def test_unreachable_chroma_server_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:9") as caught:
        IndexStore(Settings(data_dir=tmp_path, chroma_url="http://127.0.0.1:9"))
    assert "\n" not in str(caught.value)
