"""The pager and the session search on a small fake that honours sort order and search_after.

The fake stands in for the server only in what ordering means: hits sorted by
(time, _shard_doc), missing times last, `search_after` strictly after the given
key, a `range` filter on the time field. Which hits it returns as candidates is
deliberately loose (anything with "openReplay" in it), so the client-side check
is what decides, as with an analysed phrase query on a real node.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import markers, parse_session_ref, to_base36
from elastic_cli.output.records import format_offset
from elastic_cli.search import follow as search_follow
from elastic_cli.search import lines as search_lines
from elastic_cli.search import plan as search_plan
from elastic_cli.search.pager import PagedSearch, WalkStats, walk
from elastic_cli.search.query import LogQuery
from hypothesis import given, settings
from hypothesis import strategies as st

from walk_fixtures import one_slice  # noqa: F401 — an autouse fixture

OURS = "openReplaySession.id=2618307011354435587"
FOREIGN = "openReplaySession.id=26183070113544355870"  # a longer id: another session
T0 = datetime(2024, 1, 24, 3, 0, tzinfo=timezone.utc)
T0_MS = int(T0.timestamp() * 1000)
MISSING = 2**63 - 1  # what a missing date sorts as


@dataclass
class Doc:
    index: str
    id: str
    time_ms: int | None
    message: str


def _bounds(query: dict) -> tuple[int | None, int | None]:
    low = high = None
    for clause in query["bool"]["filter"]:
        if "range" in clause:
            (bounds,) = clause["range"].values()
            if "gte" in bounds:
                low = int(datetime.fromisoformat(bounds["gte"].replace("Z", "+00:00")).timestamp() * 1000)
            if "lte" in bounds:
                high = int(datetime.fromisoformat(bounds["lte"].replace("Z", "+00:00")).timestamp() * 1000)
    return low, high


def _lacks_time(query: dict) -> bool:
    """The query asks for lines without the time field (must_not exists)."""
    return any("exists" in str(clause.get("bool", {}).get("must_not", "")) for clause in query["bool"]["filter"])


def _matches(doc: Doc, query: dict) -> bool:
    if "openReplay" not in doc.message:
        return False
    low, high = _bounds(query)
    if _lacks_time(query):
        return doc.time_ms is None
    if doc.time_ms is None:
        return low is None and high is None
    return not ((low is not None and doc.time_ms < low) or (high is not None and doc.time_ms > high))


class LostContext(Exception):
    """What the client raises for an expired point in time (an ApiError with this body)."""

    def __init__(self) -> None:
        super().__init__("search_phase_execution_exception")
        self.body = {"error": {"root_cause": [{"type": "search_context_missing_exception"}],
                               "type": "search_phase_execution_exception"}, "status": 404}


class FakeES:
    """Index patterns as Elasticsearch reads them (`app-*` matches app-1, not api), points in
    time that see only what was indexed before they opened and that can expire, slices, and pages
    that can say `timed_out`."""

    def __init__(self, docs: list[Doc], timed_out_pages: set[int] = frozenset()):
        self.docs = docs
        self.open_pits: set[str] = set()
        self.expired: set[str] = set()
        self.searches: list[dict] = []
        self.timed_out_pages = set(timed_out_pages)  # which PIT searches (0-based) answer timed_out
        self._pits: dict[str, list[Doc]] = {}
        self.looks = 0  # searches sent without a point in time

    def _names(self, index: str) -> list[Doc]:
        patterns = index.split(",")
        return [d for d in self.docs if any(fnmatch.fnmatchcase(d.index, p) for p in patterns)]

    def open_point_in_time(self, index: str, keep_alive: str, ignore_unavailable: bool) -> dict:
        pit_id = f"pit{len(self._pits)}"
        # a point in time: what is indexed later is not seen through it
        self._pits[pit_id] = self._names(index)
        self.open_pits.add(pit_id)
        return {"id": pit_id}

    def close_point_in_time(self, body: dict) -> None:
        self.open_pits.discard(body["id"])

    def options(self, **params: object) -> "FakeES":  # the per-request timeout and retries: nothing to fake
        return self

    def search(self, body: dict | None = None, index: str | None = None, query: dict | None = None,
               **params: object) -> dict:
        if body is None:  # a plain search without a point in time: a count
            total = sum(1 for doc in self._names(index or "") if _matches(doc, query or {}))
            return {"took": 1, "timed_out": False, "_shards": {"total": 1, "skipped": 0},
                    "hits": {"total": {"value": min(total, 1) if params.get("terminate_after") else total},
                             "hits": []}}
        number = len(self.searches)
        self.searches.append(body)
        if "pit" not in body:  # a look without a point in time: what is indexed now, in index order
            self.looks += 1
            pit_id = f"look{number}"
            self._pits[pit_id] = self._names(index or "")
        else:
            pit_id = body["pit"]["id"]
        if pit_id in self.expired:
            raise LostContext()
        sort = body.get("sort") or [{"_shard_doc": {"order": "asc"}}]
        descending = sort[0][next(iter(sort[0]))]["order"] == "desc"
        by_time = next(iter(sort[0])) not in ("_shard_doc", "_doc")
        rows = []
        part = body.get("slice")  # a sliced walk (far from the cluster) reads its share of the documents
        for shard_doc, doc in enumerate(self._pits[pit_id]):
            if not _matches(doc, body["query"]) or (part and shard_doc % part["max"] != part["id"]):
                continue
            time_key = doc.time_ms if doc.time_ms is not None else (MISSING if not descending else -MISSING)
            rows.append(([time_key, shard_doc] if by_time else [shard_doc], doc))
        rows.sort(key=lambda row: row[0], reverse=descending)
        after = body.get("search_after")
        if after is not None:
            rows = [r for r in rows if (r[0] < after if descending else r[0] > after)]
        page = rows[: body["size"]]
        timed_out = number in self.timed_out_pages
        if timed_out:
            page = page[: len(page) // 2]  # a shard out of time answers with what it had
        hits = [{"_index": doc.index, "_id": doc.id, "_source": {"message": doc.message}, "sort": key}
                for key, doc in page]
        return {"pit_id": pit_id, "took": 1, "timed_out": timed_out, "_shards": {"total": 1, "skipped": 0},
                "hits": {"hits": hits}}


def plan_for(query: LogQuery, groups: list[tuple[str, bool]], start: datetime | None = None) -> search_plan.SearchPlan:
    return search_plan.SearchPlan(
        query=query, groups=tuple(search_plan.IndexGroup(target=name, indices=(name,),
                                                        time_field="utc_time" if dated else None, level_fields=("tags",))
                                  for name, dated in groups),
        indices=tuple(name for name, _ in groups), message_types=("text",), session_start=start)


def session_query(**kw) -> LogQuery:
    return LogQuery(markers=markers(parse_session_ref("2618307011354435587")), errors_only=False, **kw)


def same_millisecond_docs() -> list[Doc]:
    """Ten of our lines at one millisecond, with foreign lines among them."""
    docs = []
    for i in range(10):
        docs.append(Doc("app", f"ours-{i}", T0_MS, f"{OURS} line {i}"))
        if i % 3 == 0:
            docs.append(Doc("app", f"foreign-{i}", T0_MS, f"{FOREIGN} line {i}"))
    return docs


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 7, 100])
def test_lines_sharing_a_millisecond_are_all_returned_once_across_page_boundaries(page_size):
    es = FakeES(same_millisecond_docs())
    lines = list(search_lines.session_lines(es, plan_for(session_query(), [("app", True)]), page_size=page_size))
    assert [h.hit["_id"] for h in lines] == [f"ours-{i}" for i in range(10)]
    assert not es.open_pits


@pytest.mark.parametrize("page_size", [2, 3, 5])
def test_a_limit_pages_on_past_dropped_hits_until_it_has_enough(page_size):
    es = FakeES([Doc("app", f"foreign-{i}", T0_MS, FOREIGN) for i in range(40)]
                + same_millisecond_docs())
    lines = list(search_lines.session_lines(es, plan_for(session_query(), [("app", True)]), limit=3,
                                          page_size=page_size))
    assert [h.hit["_id"] for h in lines] == ["ours-0", "ours-1", "ours-2"]
    assert not es.open_pits  # stopping early still closes the point in time


def test_without_a_page_size_a_limit_asks_for_one_hit_more_than_it_shows():
    es = FakeES(same_millisecond_docs())
    list(search_lines.session_lines(es, plan_for(session_query(), [("app", True)]), limit=4))
    assert es.searches[0]["size"] == 5


def test_the_sort_ends_with_the_shard_doc_tiebreaker_in_the_same_direction():
    es = FakeES(same_millisecond_docs())
    list(walk(es, PagedSearch(index="app", body={"query": {"bool": {"filter": []}},
                                                 "sort": [{"t": {"order": "desc"}}], "size": 3},
                              descending=True)))
    assert es.searches[0]["sort"][-1] == {"_shard_doc": {"order": "desc"}}


@pytest.mark.parametrize("prefetch", [False, True])
def test_walk_reads_every_page_with_or_without_prefetch(prefetch):
    es = FakeES([Doc("app", str(i), T0_MS + i, OURS) for i in range(23)])
    hits = list(walk(es, PagedSearch(index="app", body={"query": {"bool": {"filter": []}},
                                                        "sort": [{"t": {"order": "asc"}}], "size": 5}),
                     prefetch=prefetch))
    assert [h["_id"] for h in hits] == [str(i) for i in range(23)]
    assert len(es.searches) == 5


@pytest.mark.parametrize("reverse", [False, True])
def test_indices_without_a_date_are_merged_after_the_dated_lines_in_either_order(reverse):
    docs = [Doc("dated", "d1", T0_MS + 2000, OURS), Doc("dated", "d0", T0_MS, OURS),
            Doc("plain", "p0", None, OURS)]
    es = FakeES(docs)
    plan = plan_for(session_query(reverse=reverse, since=T0 - timedelta(days=1)), [("dated", True), ("plain", False)])
    ids = [h.hit["_id"] for h in search_lines.session_lines(es, plan)]
    assert ids == (["d1", "d0", "p0"] if reverse else ["d0", "d1", "p0"])


def test_each_line_gets_its_offset_from_the_session_start():
    start = T0 - timedelta(minutes=3, seconds=12, milliseconds=450)
    es = FakeES([Doc("app", "a", T0_MS, OURS), Doc("plain", "b", None, OURS)])
    lines = list(search_lines.session_lines(es, plan_for(session_query(), [("app", True), ("plain", False)], start)))
    assert lines[0].offset_ms == 192_450
    assert lines[1].offset_ms is None  # no time, no position on the timeline


@pytest.mark.parametrize("ms, text", [(0, "+00:00.000"), (192450, "+03:12.450"), (-5000, "-00:05.000"),
                                      (3723004, "+1:02:03.004")])
def test_format_offset(ms, text):
    assert format_offset(ms) == text


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_follow_is_not_blinded_by_a_line_from_a_clock_an_hour_ahead():
    clock = Clock(T0)
    es = FakeES([Doc("app", "skewed", T0_MS + 3_600_000, f"{OURS} from the future")])
    polls: list[list[str]] = []
    lines = search_follow.follow_lines(es, plan_for(session_query(), [("app", True)]), lag=timedelta(minutes=1),
                                    clock=clock, sleep=lambda s: None, polls=3,
                                    on_stats=lambda stats: polls.append([]))

    def advance(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)

    seen = []
    for hit in lines:
        seen.append(hit.hit["_id"])
        if hit.hit["_id"] == "skewed":
            # indexed after the first poll: a normal line, and one whose own time is 40 s old
            es.docs.append(Doc("app", "normal", T0_MS + 5_000, f"{OURS} normal"))
            es.docs.append(Doc("app", "late", T0_MS - 40_000, f"{OURS} indexed late, within the lag"))
            advance(10)
    assert sorted(seen) == ["late", "normal", "skewed"]  # each exactly once over three polls


def test_follow_misses_only_a_line_indexed_later_than_the_lag():
    clock = Clock(T0)
    es = FakeES([Doc("app", "first", T0_MS, OURS)])
    seen = []
    for hit in search_follow.follow_lines(es, plan_for(session_query(), [("app", True)]), lag=timedelta(minutes=1),
                                       clock=clock, sleep=lambda s: None, polls=2):
        seen.append(hit.hit["_id"])
        es.docs.append(Doc("app", "too-late", T0_MS - 120_000, OURS))  # 2 min behind the clock
        es.docs.append(Doc("app", "in-time", T0_MS - 30_000, OURS))
    assert seen == ["first", "in-time"]


class FlakyES(FakeES):
    """The fake, with searches that fail (a dropped connection) while `down` is set."""

    down = False

    def search(self, body=None, index=None, query=None, **params):
        if self.down:
            from elastic_transport import ConnectionError

            raise ConnectionError("connection reset by peer")
        return super().search(body=body, index=index, query=query, **params)


def test_follow_rides_out_a_cut_and_prints_what_was_indexed_meanwhile_once():
    from elastic_cli.search.retry import Retrier, RetryPolicy

    clock = Clock(T0)
    es = FlakyES([Doc("app", "before", T0_MS, OURS)])
    said: list[str] = []
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:  # back after two failed polls
            es.down = False

    recovered: list[float] = []
    retrier = Retrier(RetryPolicy(retry_for=60, first_wait=0.01), on_retry=lambda r: said.append(str(r)), sleep=sleep,
                      on_recovered=recovered.append)
    seen = []
    for hit in search_follow.follow_lines(es, plan_for(session_query(), [("app", True)]), lag=timedelta(minutes=1),
                                          clock=clock, sleep=sleep, polls=3, retrier=retrier):
        seen.append(hit.hit["_id"])
        if hit.hit["_id"] == "before":
            es.docs.append(Doc("app", "meanwhile", T0_MS + 1_000, OURS))  # indexed while the link is down
            es.down = True
            clock.now += timedelta(minutes=5)  # a long cut: far past the lag
    assert seen == ["before", "meanwhile"]
    assert said and said[0].startswith("connection lost: retrying in") and recovered


def test_follow_without_a_retry_budget_raises_at_once():
    from elastic_cli.search.retry import Retrier, RetryPolicy
    from elastic_transport import ConnectionError

    es = FlakyES([])
    es.down = True
    retrier = Retrier(RetryPolicy(retry_for=0), sleep=lambda s: pytest.fail("waited"))
    with pytest.raises(ConnectionError):
        list(search_follow.follow_lines(es, plan_for(session_query(), [("app", True)]), lag=timedelta(minutes=1),
                                        sleep=lambda s: None, polls=2, retrier=retrier))


def test_follow_sees_an_index_created_after_it_started():
    clock = Clock(T0)
    es = FakeES([Doc("app-1", "old", T0_MS, OURS), Doc("api", "other-shape", T0_MS, OURS)])
    groups = [("app-1", True), ("api", True)]  # two groups: the point in time is opened on concrete names
    plans = [plan_for(session_query(), groups)]
    ticks = [0.0]

    def replan():
        plans.append(plan_for(session_query(), [("app-1,app-2", True), ("api", True)]))
        return plans[-1]

    seen = []
    for hit in search_follow.follow_lines(es, plans[0], lag=timedelta(minutes=1), clock=clock,
                                          sleep=lambda s: ticks.__setitem__(0, ticks[0] + 10), polls=3,
                                          replan=replan, replan_every=5, monotonic=lambda: ticks[0]):
        seen.append(hit.hit["_id"])
        if hit.hit["_id"] == "old":
            es.docs.append(Doc("app-2", "rolled-over", T0_MS + 1_000, OURS))  # tomorrow's index
    assert sorted(seen) == ["old", "other-shape", "rolled-over"] and len(plans) > 1


TOKEN_ID = to_base36(2618307011354435587)
FRAGMENTS = [OURS, FOREIGN, f"openReplaySessionToken={TOKEN_ID}.", f"openReplaySessionToken={TOKEN_ID}",
             "openReplaySession.id=", ".", "-", "0", "a", " ", "\n", "é"]
MESSAGES = [
    f"{OURS} failed", f"{FOREIGN} failed", f"x {OURS}. end", f"{OURS}-retry", f"{OURS}0", OURS.upper(),
    f"openReplaySessionToken={TOKEN_ID}.3az.lrraavgc.sig failed", f"openReplaySessionToken={TOKEN_ID}0.3az.x",
    f"openReplaySessionToken={TOKEN_ID.upper()}.3az.x",
    "no marker at all", "", f"{FOREIGN} and then {OURS}",
]


@pytest.mark.parametrize("message", MESSAGES + [[OURS, "second value"], ["a", "b"], None, 42, {"nested": OURS}])
@pytest.mark.parametrize("shape", ["source", "fields", "no source"])
def test_the_fast_session_check_decides_every_hit_as_the_general_one(message, shape):
    q = session_query()
    hit: dict = {"_index": "app", "_id": "1"}
    if shape == "source":
        hit["_source"] = {"message": message}
    elif shape == "fields":
        hit["_source"] = {"message": "no marker"}
        hit["fields"] = {"message": message if isinstance(message, list) else [message]}
    assert search_lines.session_check(q)(hit) == search_lines.is_session_line(hit, q)


def test_the_session_check_reads_a_dotted_message_field_as_the_general_one():
    q = session_query(message_field="log.message")
    for hit in ({"_source": {"log": {"message": OURS}}}, {"_source": {"log.message": OURS}},
                {"_source": {"log": {"message": FOREIGN}}}, {"fields": {"log.message": [OURS]}}):
        assert search_lines.session_check(q)(hit) == search_lines.is_session_line(hit, q)
    assert search_lines.session_check(q)({"_source": {"log": {"message": OURS}}})


@pytest.mark.parametrize("limit", [None, 1, 3, 9, 10, 11, 25])
@pytest.mark.parametrize("page_size", [1, 4, 100])
def test_pages_hold_the_same_lines_in_the_same_order_as_the_line_by_line_walk(limit, page_size):
    docs = same_millisecond_docs() + [Doc("plain", f"undated-{i}", None, f"{OURS} u{i}") for i in range(3)] + \
        [Doc("app", f"later-{i}", T0_MS + 1000 * i, f"{OURS} later {i}") for i in range(8)]
    plan = plan_for(session_query(), [("app", True), ("plain", False)], T0 - timedelta(seconds=5))
    pages = list(search_lines.session_pages(FakeES(docs), plan, limit=limit, page_size=page_size))
    lines = list(search_lines.session_lines(FakeES(docs), plan, limit=limit, page_size=page_size))
    assert [h.hit["_id"] for page in pages for h in page] == [h.hit["_id"] for h in lines]
    assert all(pages) and len(lines) == min(limit or 21, 21)
    if limit is None:  # undated lines come last
        assert [h.hit["_id"] for h in lines[-3:]] == ["undated-0", "undated-1", "undated-2"]
    assert all(h.offset_ms >= 0 for h in lines if h.time_ms is not None)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join))
def test_the_fast_session_check_agrees_with_the_general_one_on_any_message(message):
    q = session_query()
    hit = {"_index": "app", "_id": "1", "_source": {"message": message}}
    assert search_lines.session_check(q)(hit) == search_lines.is_session_line(hit, q)


def test_a_limit_met_by_a_page_asks_for_no_further_page():
    docs = [Doc("app", f"ours-{i}", T0_MS + i, f"{OURS} {i}") for i in range(20)]
    es = FakeES(docs)
    lines = list(search_lines.session_lines(es, plan_for(session_query(), [("app", True)]), limit=5, page_size=5))
    assert [h.hit["_id"] for h in lines] == [f"ours-{i}" for i in range(5)]
    assert len(es.searches) == 1 and not es.open_pits


def test_a_marker_without_text_does_not_shift_the_fast_check():
    from elastic_cli.openreplay.session_token import Marker

    q = LogQuery(markers=(Marker(""), Marker(OURS)), errors_only=False)
    for message in (f"{OURS} x", f"{FOREIGN} x", "nothing"):
        hit = {"_source": {"message": message}}
        assert search_lines.session_check(q)(hit) == search_lines.is_session_line(hit, q)


def test_failed_shards_are_counted_and_the_first_reason_kept_as_plain_text():
    from elastic_cli.search.pager import WalkStats

    stats = WalkStats()
    failure = {"shard": 0, "index": "app-1", "reason": {"type": "illegal_argument_exception",
                                                        "reason": "bad \x1b[31mred\x1b[0m\nline " + "x" * 400}}
    stats.add_page({"_shards": {"total": 3, "failed": 1, "failures": [failure]}}, 10)
    stats.add_page({"_shards": {"total": 3, "failed": 0}}, 10)
    stats.add_page({"_shards": {"total": 3, "failed": 1, "failures": [{"index": "app-2", "reason": "other"}]}}, 1)
    assert stats.shards_failed == 1 and stats.pages == 3
    assert stats.failure.startswith("app-1[0]: illegal_argument_exception: bad  [31mred [0m line x")
    assert stats.failure.isprintable() and len(stats.failure) <= 300  # a reason may quote a log line
    healthy = WalkStats()
    healthy.add_page({"_shards": {"total": 3, "failed": 0, "skipped": 2}}, 5)
    assert healthy.shards_failed == 0 and healthy.failure == ""


def test_a_timed_out_page_is_counted_so_a_short_answer_never_looks_whole():
    es = FakeES(same_millisecond_docs(), timed_out_pages={0})
    stats = search_lines.SearchStats()
    lines = list(search_lines.session_lines(es, plan_for(session_query(), [("app", True)]), page_size=100,
                                          stats=stats))
    assert len(lines) < 10 and stats.timed_out == 1


def test_a_lost_point_in_time_ends_the_walk_with_its_own_error():
    from elastic_cli.search.pager import PointInTimeLost

    es = FakeES(same_millisecond_docs())
    walk_lines = search_lines.session_lines(es, plan_for(session_query(), [("app", True)]), page_size=3)
    first = [next(walk_lines).hit["_id"] for _ in range(3)]
    es.expired.update(es.open_pits)
    with pytest.raises(PointInTimeLost) as lost:
        list(walk_lines)
    assert first == ["ours-0", "ours-1", "ours-2"] and lost.value.hits_read >= 3


def test_lines_without_a_time_in_a_dated_index_are_found_past_the_window_and_come_last():
    docs = [Doc("app", "dated", T0_MS + 1000, OURS), Doc("app", "timeless", None, OURS),
            Doc("app", "before-the-window", T0_MS - 3_600_000, OURS)]
    es = FakeES(docs)
    stats = search_lines.SearchStats()
    query = session_query(since=T0)
    lines = list(search_lines.session_lines(es, plan_for(query, [("app", True)]), stats=stats))
    assert [h.hit["_id"] for h in lines] == ["dated", "timeless"] and stats.undated_lines == 1
    # no line without a time: one cheap request says so, and no second stream is opened
    es = FakeES(docs[:1])
    assert [h.hit["_id"] for h in search_lines.session_lines(es, plan_for(query, [("app", True)]))] == ["dated"]
    assert len(es.searches) == 1


def test_index_patterns_match_as_elasticsearch_reads_them():
    es = FakeES([Doc("app-1", "a", T0_MS, OURS), Doc("api", "b", T0_MS, OURS)])
    plan = search_plan.SearchPlan(query=session_query(), groups=(search_plan.IndexGroup(
        target="app-*", indices=("app-1",), time_field="utc_time", level_fields=("tags",)),),
        indices=("app-1",), message_types=("text",))
    assert [h.hit["_id"] for h in search_lines.session_lines(es, plan)] == ["a"]


@pytest.mark.parametrize("descending", [False, True])
def test_a_sliced_walk_gives_the_unsliced_walks_hits_in_its_order(descending):
    """Far from the cluster an export reads slices side by side (chosen by how long opening the
    point in time took, so a loaded machine may choose it on loopback): the same hits, once each."""
    docs = same_millisecond_docs() + [Doc("app", f"later-{i}", T0_MS + i, f"{OURS} later {i}") for i in range(23)]
    es = FakeES(docs)
    body = {"query": {"bool": {"filter": []}}, "sort": [{"utc_time": {"order": "desc" if descending else "asc"}}],
            "size": 4}
    search = PagedSearch(index="app", body=body, descending=descending)
    plain = [hit["_id"] for hit in walk(es, search, prefetch=True, slices=1)]
    for slices in (2, 3):
        assert [hit["_id"] for hit in walk(es, search, prefetch=True, slices=slices)] == plain
    assert len(plain) == len(set(plain)) == len([d for d in docs if "openReplay" in d.message])


def _walk_looking_first(lines: int, page_size: int) -> tuple[FakeES, WalkStats, list[dict]]:
    """`lines` lines in index order, walked as `sessions` walks them (look_first)."""
    es = FakeES([Doc("app", str(i), T0_MS + i, OURS) for i in range(lines)])
    search = PagedSearch(index="app", body={"query": {"bool": {"filter": []}}, "sort": [], "size": page_size})
    stats = WalkStats()
    return es, stats, list(walk(es, search, stats=stats, prefetch=True, slices=1, look_first=True))


@pytest.mark.parametrize("lines,page_size", [(0, 5), (1, 5), (4, 5), (1, 1000)])
def test_a_look_first_that_holds_every_line_opens_no_point_in_time(lines, page_size):
    es, stats, hits = _walk_looking_first(lines, page_size)
    assert [h["_id"] for h in hits] == [str(i) for i in range(lines)]
    assert es.looks == 1 and len(es.searches) == 1 and not es._pits.keys() - {"look0"}  # nothing opened
    assert es.searches[0]["sort"] == [{"_doc": {"order": "asc"}}] and "pit" not in es.searches[0]
    assert stats.hits_read == lines and stats.pages == 1


@pytest.mark.parametrize("lines,page_size", [(5, 5), (6, 5), (23, 5), (10, 1)])
def test_a_full_look_first_is_set_aside_and_the_walk_reads_every_line_once_on_a_point_in_time(lines, page_size):
    es, stats, hits = _walk_looking_first(lines, page_size)
    assert [h["_id"] for h in hits] == [str(i) for i in range(lines)]  # none twice: the look's page was set aside
    assert es.looks == 1 and "pit" in es.searches[-1] and not es.open_pits
    assert stats.hits_read == lines  # the look is not counted as read


class ShapedES(FakeES):
    """FakeES with `_field_caps` (every index: text message, utc_time, tags) and `_msearch`, whose
    first search without a point in time can answer with a shard lost (a node that left)."""

    def __init__(self, docs: list[Doc], lose_first_look: bool = False):
        super().__init__(docs)
        self.lose_first_look = lose_first_look
        self.msearches = 0

    def field_caps(self, index: str, **params: object) -> dict:
        names = sorted({d.index for d in self._names(index)})
        return {"indices": names, "fields": {"message": {"text": {"type": "text"}},
                                             "utc_time": {"date": {"type": "date"}},
                                             "tags": {"keyword": {"type": "keyword"}}}}

    def msearch(self, searches: list[dict]) -> dict:
        self.msearches += 1
        return {"responses": [self.search(body=body, index=header["index"])
                              for header, body in zip(searches[::2], searches[1::2])]}

    def search(self, body: dict | None = None, index: str | None = None, query: dict | None = None,
               **params: object) -> dict:
        answer = super().search(body=body, index=index, query=query, **params)
        if body is not None and "pit" not in body and self.lose_first_look:
            self.lose_first_look = False
            answer["_shards"] = {"total": 2, "successful": 1, "failed": 1, "failures": [
                {"shard": 1, "reason": {"type": "node_disconnected_exception", "reason": "node left"}}]}
        return answer


def _sessions_of(es: ShapedES, page_size: int = 5000, retries: list | None = None):
    from elastic_cli.search.fields import FieldPolicy
    from elastic_cli.search.retry import RetryPolicy
    from elastic_cli.search.sessions import find_sessions

    report = find_sessions(es, ["app-*"], FieldPolicy(), T0 - timedelta(hours=1), T0 + timedelta(hours=1),
                           errors_only=False, page_size=page_size,
                           retry=RetryPolicy(retry_for=30, first_wait=0.01, max_wait=0.01),
                           on_retry=(retries if retries is not None else []).append)
    return report, {row.session_id: row.lines for row in report.rows}


def _marked_docs(lines: int) -> list[Doc]:
    other = "openReplaySession.id=2618307011354435588"
    return [Doc("app-1", str(i), T0_MS + i, f"{OURS if i % 3 else other} line {i}") for i in range(lines)]


@pytest.mark.parametrize("lines,page_size", [(10, 5000), (10, 4)])
def test_sessions_use_the_first_page_sent_beside_field_caps_and_walk_a_full_one_without_asking_it_again(
        lines, page_size):
    es = ShapedES(_marked_docs(lines))
    report, rows = _sessions_of(es, page_size)
    assert rows == {"2618307011354435587": sum(1 for i in range(lines) if i % 3),
                    "2618307011354435588": sum(1 for i in range(lines) if not i % 3)}
    assert es.msearches == 1 and es.looks == 1  # the guess (configured fields, the pattern) was right
    assert len(es.searches) == (1 if page_size > lines else 1 + -(-lines // page_size))
    assert not report.coverage(50_000).missing() and not es.open_pits


def test_a_group_read_again_asks_its_first_page_anew_rather_than_reusing_the_early_one():
    """The early page lost a shard: the group is read again, and that read sends its own search
    (reusing the early answer would lose the same shard's lines again, until the retries ran out)."""
    es = ShapedES(_marked_docs(10), lose_first_look=True)
    retries: list = []
    report, rows = _sessions_of(es, retries=retries)
    assert rows == {"2618307011354435587": 6, "2618307011354435588": 4}
    assert len(retries) == 1 and es.msearches == 1 and es.looks == 2
    assert not report.coverage(50_000).missing() and report.gave_up is None
