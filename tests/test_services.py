import pytest

from bot.ingest.catalog import load_catalog
from bot.retrieve.platforms import find_services

pytestmark = pytest.mark.unit

AVAILABLE = [
    "SoundCloud",
    "Bandcamp",
    "Spotify",
    "YouTube",
    "TikTok",
    "Instagram",
    "Apple",
    "Apple Media Services",
]


def names(question: str) -> tuple[list[str], list[str]]:
    known, unknown = find_services(question, AVAILABLE)
    return [m.name for m in known], [m.name for m in unknown]


@pytest.mark.parametrize(
    ("question", "known", "unknown"),
    [
        ("Can SoundCloud train AI on my tracks?", ["SoundCloud"], []),
        ("can soundcloud train ai", ["SoundCloud"], []),
        ("can soundclod train ai", ["SoundCloud"], []),  # a typo
        ("Is my sound cloud music safe?", ["SoundCloud"], []),
        ("spotfy for artists payouts", ["Spotify"], []),
        ("Compare Spotify and Bandcamp on ownership", ["Spotify", "Bandcamp"], []),
        ("tik tok and insta", ["TikTok", "Instagram"], []),
        ("apple music royalties", ["Apple Media Services"], []),  # the longer name wins over "apple"
        ("Does Mixcloud own my mixes?", [], ["Mixcloud"]),
        ("I went to band camp last summer", [], []),
        ("Do the artists get paid?", [], []),  # "artists" is not the platform Artlist
        ("Can Deezer use my songs?", [], ["Deezer"]),  # in the catalog but not in this index
        ("can twich kick me off", [], ["Twitch"]),  # a short name with a typo; "kick" is a verb, not Kick
        ("my video got removed", [], []),  # not Vimeo
        ("amazon musik royalties", [], ["Amazon Music"]),  # a typo in a two-word name
    ],
)
def test_find_services(question: str, known: list[str], unknown: list[str]) -> None:
    assert names(question) == (known, unknown)


EVERYDAY = ["SoundCloud", "Kick", "Threads", "Discord", "X", "Twitch", "DeviantArt", "Midjourney", "OpenAI"]


@pytest.mark.parametrize(
    ("question", "known"),
    [
        # Names that are everyday words: the platform only when capitalised, possessive or beside a cue.
        ("can kick take down my dj set", ["Kick"]),
        ("my kick drum keeps clipping", []),
        ("can twich kick me off", ["Twitch"]),
        ("does X use my posts to train its AI models", ["X"]),
        ("a 2 x 3 grid of photos", []),
        ("is my art safe on threads", ["Threads"]),
        ("my guitar threads are stripped", []),
        ("there is discord in the band", []),
        ("what are kick's rules on music", ["Kick"]),
        ("Threads licence to my posts", ["Threads"]),
        # Nicknames from sources.toml.
        ("does DA let ai scrape my art", ["DeviantArt"]),
        ("who owns what i make on mj", ["Midjourney"]),
        ("will twitter/x use my tweets", ["X"]),
        ("can chatgpt use my prompts", ["OpenAI"]),
        ("is sc allowed to train on my beats", ["SoundCloud"]),
    ],
)
def test_everyday_names_and_nicknames(question: str, known: list[str]) -> None:
    found, _ = find_services(question, EVERYDAY)
    assert [m.name for m in found] == known


def test_catalog_maps_ota_folder_names() -> None:
    catalog = load_catalog()
    assert catalog.canonical_name("Soundcloud") == "SoundCloud"
    assert catalog.canonical_name("Apple Media") == "Apple Media Services"
    assert catalog.canonical_name("Unheard Of") == "Unheard Of"
    source = catalog.document("TikTok", "Terms of Service", "vlopses-us-versions")
    assert source is not None and source.region == "US"
    assert catalog.collection_region("acme-us-versions") == "US"
