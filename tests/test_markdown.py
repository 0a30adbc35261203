import pytest

from bot.ingest.markdown import clean_inline

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("**Last Amended:** May 21, 2025", "Last Amended: May 21, 2025"),
        ("See [Assignment](#assignment-to-third-parties) below", "See Assignment below"),
        ("__Bold__ and _italic_ and *emphasis*", "Bold and italic and emphasis"),
        ("window.__pwned = 1 and snake_case_name", "window.__pwned = 1 and snake_case_name"),  # not emphasis
        (r"a literal \* star and \_underscores\_", "a literal * star and _underscores_"),
        ("`code` and\u00a0non-breaking  spaces\n", "code and non-breaking spaces"),
        ("### Heading ###", "Heading"),
    ],
)
def test_what_a_person_reads_of_markdown(raw: str, shown: str) -> None:
    assert clean_inline(raw) == shown
