"""A time the display calls implausible is still the time the cluster sorted by: the resume point
keeps it in order, so no dated line after it is taken for one already written (issue 35, item 1)."""

from __future__ import annotations

from elastic_cli.openreplay.session_token import markers, parse_session_ref
from elastic_cli.search.query import LogQuery
from elastic_cli.search.resume import ResumePoint, sorted_time_ms

FAR = 1706063400000000  # microseconds read as milliseconds: year ~56,000
DAY = 1706063400000


def line(name: str, ms: int | None, sort: list | None = None) -> dict:
    """A hit as `search.lines` annotates it: `_time_ms` None for a time past what it calls plausible."""
    shown = ms if ms is not None and ms < 10**15 else None
    return {"_index": "app", "_id": name, "_time_ms": shown, "sort": sort if sort is not None else [ms, 7]}


def test_newest_first_a_far_future_line_then_the_others_all_taken():
    point = ResumePoint(reverse=True)
    page = [line("far", FAR), line("b", DAY + 2000), line("a", DAY + 1000)]
    assert [h["_id"] for h in point.take(page)] == ["far", "b", "a"]
    assert point.undated is None and point.last_ms == DAY + 1000


def test_oldest_first_the_far_line_comes_last_and_a_page_read_again_gives_nothing_twice():
    point = ResumePoint()
    page = [line("a", DAY + 1000), line("b", DAY + 2000), line("far", FAR)]
    assert [h["_id"] for h in point.take(page)] == ["a", "b", "far"]
    assert point.take(page) == []


def test_a_line_without_a_time_is_still_undated():
    assert sorted_time_ms(line("u", None, sort=[12])) is None  # the tiebreaker alone: an undated stream
    assert sorted_time_ms(line("m", None, sort=[2**63 - 1, 3])) is None  # missing, oldest first
    assert sorted_time_ms(line("m", None, sort=[-(2**63), 3])) is None  # missing, newest first
    assert sorted_time_ms(line("far", FAR)) == FAR


def test_a_resume_after_a_time_no_datetime_can_hold_reads_from_the_start_and_skips_what_was_written():
    query = LogQuery(markers=tuple(markers(parse_session_ref("2618307011354435587"))), reverse=True)
    point = ResumePoint(reverse=True)
    point.take([line("far", FAR)])
    assert point.query(query) == query  # no bound: year 56,000 is beyond datetime
    again = [line("far", FAR), line("a", DAY)]
    assert [h["_id"] for h in point.take(again)] == ["a"]
