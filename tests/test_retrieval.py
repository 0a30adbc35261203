from datetime import date

import pytest

from bot.retrieve.searcher import open_searcher

pytestmark = pytest.mark.integration


def test_versions_in_force(test_index) -> None:  # type: ignore[no-untyped-def]
    searcher = open_searcher(test_index)
    terms = next(d for d in searcher.documents if d.document == "Terms of Service" and d.region == "global")
    assert [v.provenance.version_date for v in terms.versions] == [date(2024, 3, 1), date(2025, 7, 1)]
    assert terms.in_force(date(2024, 12, 31)).provenance.version_date == date(2024, 3, 1)  # type: ignore[union-attr]
    assert terms.in_force(None).provenance.version_date == date(2025, 7, 1)  # type: ignore[union-attr]
    assert terms.in_force(date(2020, 1, 1)) is None


def test_latest_by_default_and_the_version_in_force_at_a_date(test_index) -> None:  # type: ignore[no-untyped-def]
    searcher = open_searcher(test_index)

    def terms(hits):  # type: ignore[no-untyped-def]
        return [
            h for h in hits if h.provenance.document == "Terms of Service" and h.provenance.region == "global"
        ]

    latest = terms(searcher.retrieve("train AI on my music", services=["Loudwave"], k=3))
    assert latest[0].provenance.version_date == date(2025, 7, 1)
    assert "opt in" in latest[0].text
    then = searcher.retrieve("train AI on my music", services=["Loudwave"], as_of=date(2024, 6, 1), k=3)
    # The statement of June 2025 did not exist yet in June 2024.
    assert all(h.provenance.version_date <= date(2024, 6, 1) for h in then)
    assert terms(then)[0].provenance.version_date == date(2024, 3, 1)
    assert "explicitly agree" in terms(then)[0].text


def test_platform_filter_and_scores(test_index) -> None:  # type: ignore[no-untyped-def]
    searcher = open_searcher(test_index)
    hits = searcher.retrieve("how much do artists get paid", services=["Tunebox"], k=5)
    assert hits and all(h.provenance.service == "Tunebox" for h in hits)
    assert "80% of net revenue" in hits[0].text
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert len({h.clause_key for h in hits}) == len(hits)  # one hit per clause


def test_headings_count_for_ranking(test_index) -> None:  # type: ignore[no-untyped-def]
    searcher = open_searcher(test_index)
    hits = searcher.retrieve("governing law", services=["Loudwave"], k=1)
    assert hits[0].section == ("Governing law",)
