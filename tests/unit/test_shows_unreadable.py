"""`shows` judges the hits v1.21+ returns that the lookup cannot read a marker in (no text `message`)."""

from __future__ import annotations

from datetime import datetime, timezone

from elastic_cli.checks.shows import with_unreadable
from elastic_cli.openreplay.verdicts import Answer
from elastic_cli.search.session_line import SessionLine

START = datetime(2024, 1, 24, 2, 27, 39, 324000, tzinfo=timezone.utc)
START_MS = int(START.timestamp() * 1000)


def found(_id: str, moment: int) -> SessionLine:
    return SessionLine({"_index": "logs", "_id": _id, "_source": {"message": "m"}}, moment, None, "logs", None)


def test_a_returned_hit_without_text_message_is_judged_in_time_order():
    lines = [found("a", START_MS + 1000), found("c", START_MS + 3000)]
    answer = {"hits": {"hits": [
        {"_index": "logs", "_id": "a", "_source": {"message": "m"}},  # found already: once
        {"_index": "logs", "_id": "b", "_source": {"msg": "x", "@timestamp": "2024-01-24T02:27:41.324Z"}},
        {"_index": "logs", "_id": "n", "_source": {"message": None}},  # no time: last
        {"_index": "logs", "_id": "l", "_source": {"message": ["a list is read by the lookup"]}},
    ]}}
    merged = with_unreadable(lines, answer, START)
    assert [ln.hit["_id"] for ln in merged] == ["a", "b", "c", "n"]
    assert merged[1].time_ms == START_MS + 2000 and merged[1].offset_ms == 2000
    assert merged[3].time_ms is None and merged[3].offset_ms is None


def test_nothing_to_add_when_the_fetch_failed():
    lines = [found("a", START_MS)]
    assert with_unreadable(lines, Answer(error="no-logs-index"), START) is lines
