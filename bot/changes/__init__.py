"""What changed in the platforms' terms: clause-level changes between consecutive versions of each document,
rated and tagged with the answers' topics, computed once per index generation and kept in the index.

    changes_for(settings, services=["SoundCloud"], topic="ai_training", since=date(2024, 1, 1))
"""

from __future__ import annotations

from .cite import change_hits, wording_hit
from .query import ChangeQuery, change_by_id, changes_for, latest_per_platform, make_query
from .record import current_record, record_build_changes, record_changes
from .types import Change, Excerpt, VersionRef, Wording, from_json, to_json

__all__ = [
    "Change",
    "ChangeQuery",
    "Excerpt",
    "VersionRef",
    "Wording",
    "change_by_id",
    "change_hits",
    "changes_for",
    "current_record",
    "from_json",
    "latest_per_platform",
    "make_query",
    "record_build_changes",
    "record_changes",
    "to_json",
    "wording_hit",
]
