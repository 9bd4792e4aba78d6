"""Issue 23 without a cluster: where a cut read goes on from (every line once), which failures
are waited out, how long the waits are, and a follow that rides out a failed poll."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import Marker
from elastic_cli.search.query import LogQuery
from elastic_cli.search.resume import ResumePoint
from elastic_cli.search.retry import (
    PointInTimeLost,
    Retrier,
    RetryPolicy,
    ShardsLost,
    shards_were_lost,
    transient_reason,
)
from elastic_cli.search.session_line import SessionLine
from elastic_transport import ApiResponseMeta, ConnectionError, ConnectionTimeout, HttpHeaders, TlsError
from hypothesis import given, settings
from hypothesis import strategies as st

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MARKERS = (Marker("openReplaySession.id=2618307011354435587"),)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int((moment - EPOCH) / timedelta(milliseconds=1))


def _hit(n: int, moment: int | None) -> SessionLine:
    return SessionLine({"_index": f"i{n % 3}", "_id": str(n)}, moment, None, f"i{n % 3}", None)


class _Cut(Exception):
    pass


def _read(lines: list[SessionLine], query: LogQuery, reverse: bool, cut_after: int | None, rng: random.Random):
    """A search's answer to `query`: dated lines in time order (those sharing a millisecond in an
    order each new point in time may change), then the undated ones; cut after `cut_after`."""
    since, until = _ms(query.since), _ms(query.until)
    dated = [h for h in lines if h.time_ms is not None
             and (since is None or h.time_ms >= since) and (until is None or h.time_ms <= until)]
    rng.shuffle(dated)
    dated.sort(key=lambda h: h.time_ms, reverse=reverse)
    undated = [h for h in lines if h.time_ms is None]
    rng.shuffle(undated)
    for count, hit in enumerate(dated + undated):
        if cut_after is not None and count == cut_after:
            raise _Cut()
        yield hit._replace(hit=dict(hit.hit))


@settings(max_examples=300, deadline=None)
@given(times=st.lists(st.one_of(st.none(), st.integers(0, 6)), max_size=40),
       cuts=st.lists(st.integers(0, 12), max_size=6), reverse=st.booleans(), seed=st.integers(0, 2**16))
def test_a_read_cut_anywhere_writes_every_line_once_in_order(times, cuts, reverse, seed):
    lines = [_hit(n, t) for n, t in enumerate(times)]
    rng = random.Random(seed)
    point = ResumePoint(reverse=reverse)
    query = LogQuery(markers=MARKERS, time_field="utc_time")
    written: list[SessionLine] = []
    attempts = list(cuts) + [None]
    for cut in attempts:
        try:
            for hit in _read(lines, point.query(query), reverse, cut, rng):
                written += point.take([hit])
            break
        except _Cut:
            continue
    assert sorted(h.hit["_id"] for h in written) == sorted(h.hit["_id"] for h in lines)
    dated = [h.time_ms for h in written if h.time_ms is not None]
    assert dated == sorted(dated, reverse=reverse)
    undated_from = next((i for i, h in enumerate(written) if h.time_ms is None), len(written))
    assert all(h.time_ms is None for h in written[undated_from:])  # undated last, in either order
    assert point.written == len(lines)


def test_the_next_read_starts_at_the_last_millisecond_written():
    query = LogQuery(markers=MARKERS, since=EPOCH, until=EPOCH + timedelta(days=1))
    point = ResumePoint()
    point.take([_hit(1, 5), _hit(2, 9), _hit(3, 9)])
    assert _ms(point.query(query).since) == 9 and point.query(query).until == query.until
    assert point.take([_hit(3, 9), _hit(4, 9)]) == [_hit(4, 9)]  # that millisecond's written line is skipped
    back = ResumePoint(reverse=True)
    back.take([_hit(1, 9), _hit(2, 5)])
    # one millisecond more: a date_nanos line at 5.4 ms is not cut by a bound in milliseconds
    assert _ms(back.query(query).until) == 6 and back.query(query).since == query.since
    # a user's own bound narrower than the resume point wins
    assert point.query(replace(query, since=EPOCH + timedelta(milliseconds=20))).since == EPOCH + timedelta(milliseconds=20)


def test_once_undated_lines_began_the_dated_streams_are_bounded_past_their_end():
    point = ResumePoint()
    point.take([_hit(1, 5), _hit(2, None)])
    assert _ms(point.query(LogQuery(markers=MARKERS)).since) == 6
    assert point.take([_hit(3, 5), _hit(2, None), _hit(4, None)]) == [_hit(4, None)]


def _api_error(status: int, body: dict | None = None, headers: dict | None = None):
    from elasticsearch import ApiError

    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(headers or {}), duration=0.0,
                           node=None)  # type: ignore[arg-type]
    return ApiError("error", meta=meta, body=body or {})


@pytest.mark.parametrize("exc, reason", [
    (PointInTimeLost(10), "the search's point in time was lost"),
    (ShardsLost(10, "x"), "a node holding the search's shards went away"),
    (ConnectionError("reset"), "connection lost"),
    (ConnectionTimeout("slow"), "the cluster did not answer in time"),
    (_api_error(503), "the cluster answered HTTP 503"),
    (_api_error(429), "the cluster answered HTTP 429"),
    (_api_error(500, {"error": {"root_cause": [{"type": "node_disconnected_exception"}]}}),
     "a node holding the search's shards went away"),
])
def test_what_waiting_may_fix(exc, reason):
    assert transient_reason(exc) == reason


@pytest.mark.parametrize("exc", [
    _api_error(401), _api_error(403), _api_error(404), _api_error(400), _api_error(500, {"error": "boom"}),
    TlsError("bad certificate"), ValueError("a bug"),
])
def test_what_waiting_cannot_fix_is_not_retried(exc):
    assert transient_reason(exc) is None
    with pytest.raises(type(exc)):
        try:
            raise exc
        except Exception as caught:  # noqa: BLE001 — any error: it is the one retried (or not)
            Retrier(RetryPolicy(retry_for=600), sleep=lambda s: pytest.fail("slept")).failed(caught)


def test_a_page_whose_failures_all_say_a_copy_went_away_is_a_lost_walk():
    lost = {"_shards": {"failed": 2, "failures": [
        {"reason": {"type": "search_context_missing_exception"}},
        {"reason": {"type": "transport_exception", "caused_by": {"type": "node_disconnected_exception"}}}]}}
    broken = {"_shards": {"failed": 1, "failures": [{"reason": {"type": "query_shard_exception"}}]}}
    assert shards_were_lost(lost)
    assert not shards_were_lost(broken)  # a query that fails on an index: partial, not retried
    assert not shards_were_lost({"_shards": {"failed": 0}})


def test_waits_double_are_capped_jittered_and_honour_retry_after():
    policy = RetryPolicy(retry_for=600, first_wait=1, max_wait=30)
    assert [policy.wait(n, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5, 6, 7)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.wait(3, rand=lambda: 0.0) == 2  # up to half less, so clients do not retry in step
    assert policy.wait(1, asked=12, rand=lambda: 1.0) == 12


def test_a_run_of_failures_is_waited_out_for_the_budget_then_raised():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    said = []
    retrier = Retrier(RetryPolicy(retry_for=10, first_wait=1, max_wait=4), on_retry=said.append, sleep=sleep,
                      clock=lambda: now[0])
    with pytest.raises(ConnectionError):
        while True:
            try:
                raise ConnectionError("down")
            except ConnectionError as exc:
                retrier.failed(exc)
    assert sum(slept) <= 10 and len(slept) >= 3
    assert str(said[0]).startswith("connection lost: retrying in ")
    # a success ends the run: the next failure starts a fresh budget
    assert retrier.succeeded() is not None and retrier.succeeded() is None


def test_retry_after_is_read_from_the_answer():
    now = [0.0]
    slept: list[float] = []
    retrier = Retrier(RetryPolicy(retry_for=60, first_wait=0.1), sleep=slept.append, clock=lambda: now[0])
    try:
        raise _api_error(429, headers={"Retry-After": "7"})
    except Exception as exc:  # noqa: BLE001 — the error is the one retried
        retrier.failed(exc)
    assert slept == [7.0]
