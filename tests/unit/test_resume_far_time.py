"""A time the display calls implausible is still the time the cluster sorted by: the resume point
keeps it in order, so no dated line after it is taken for one already written (issue 35, item 1)."""

from __future__ import annotations

from elastic_cli.openreplay.session_token import markers, parse_session_ref
from elastic_cli.search.lines import hit_time_ms
from elastic_cli.search.query import LogQuery
from elastic_cli.search.resume import ResumePoint
from elastic_cli.search.session_line import SessionLine

FAR = 1706063400000000  # microseconds read as milliseconds: year ~56,000
DAY = 1706063400000


def line(name: str, ms: int | None, sort: list | None = None) -> SessionLine:
    """A line as `search.lines` makes it of a hit sorted by its time and a tiebreaker."""
    hit = {"_index": "app", "_id": name, "sort": sort if sort is not None else [ms, 7]}
    return SessionLine(hit, hit_time_ms(hit), None, "app", None)


def test_newest_first_a_far_future_line_then_the_others_all_taken():
    point = ResumePoint(reverse=True)
    page = [line("far", FAR), line("b", DAY + 2000), line("a", DAY + 1000)]
    assert [h.hit["_id"] for h in point.take(page)] == ["far", "b", "a"]
    assert point.undated is None and point.last_ms == DAY + 1000


def test_oldest_first_the_far_line_comes_last_and_a_page_read_again_gives_nothing_twice():
    point = ResumePoint()
    page = [line("a", DAY + 1000), line("b", DAY + 2000), line("far", FAR)]
    assert [h.hit["_id"] for h in point.take(page)] == ["a", "b", "far"]
    assert point.take(page) == []


def test_a_line_without_a_time_is_still_undated():
    # (an undated stream, sorted by the tiebreaker alone, is never read for a time: lines._describe)
    assert line("m", None, sort=[2**63 - 1, 3]).time_ms is None  # missing, oldest first
    assert line("m", None, sort=[-(2**63), 3]).time_ms is None  # missing, newest first
    assert line("far", FAR).time_ms == FAR


def test_a_resume_after_a_time_no_datetime_can_hold_reads_from_the_start_and_skips_what_was_written():
    query = LogQuery(markers=tuple(markers(parse_session_ref("2618307011354435587"))), reverse=True)
    point = ResumePoint(reverse=True)
    point.take([line("far", FAR)])
    assert point.query(query) == query  # no bound: year 56,000 is beyond datetime
    again = [line("far", FAR), line("a", DAY)]
    assert [h.hit["_id"] for h in point.take(again)] == ["a"]


def test_a_far_line_gets_no_offset_on_the_replays_timeline():
    from elastic_cli.search.lines import _describe
    from elastic_cli.search.plan import IndexGroup

    group = IndexGroup(target="app", indices=("app",), time_field="utc_time", level_fields=())
    far, near = _describe([{"_index": "app", "_id": "f", "sort": [FAR, 1]},
                           {"_index": "app", "_id": "n", "sort": [DAY, 2]}], group, DAY - 1000)
    assert far.time_ms == FAR and far.offset_ms is None
    assert near.offset_ms == 1000
