"""Pages asked for from the raw bytes of the page before: guesses that are checked, never trusted.

The pager reads the next search_after from the end of a page's bytes and sends the
next request before it decodes the page. These tests hold it to one promise: the
lines are exactly those of the plain walk, in the same order, whatever the pages
contain; a wrong guess costs one request and nothing else.
"""

from __future__ import annotations

import json
import threading

import pytest
from elastic_cli.cluster import raw_pages
from elastic_cli.cluster.serializer import PageKeepingJsonSerializer
from elastic_cli.search.pager import PagedSearch, WalkStats, walk
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pager import T0_MS, Doc, FakeES

from walk_fixtures import one_slice  # noqa: F401 — an autouse fixture

OURS = "openReplaySession.id=2618307011354435587"
SERIALIZER = PageKeepingJsonSerializer()


class RawFakeES(FakeES):
    """The fake's answers go through the tool's serializer as JSON bytes, as on a real client.

    `extra_source` adds fields to the documents it names (hostile shapes); `sort_first`
    writes each hit's sort values before its source (Elasticsearch writes them last, so a
    source field named "sort" then ends the page); `new_pit_every` makes the server hand
    out a new point in time id on every answer.
    """

    def __init__(self, docs: list[Doc], extra_source: dict[str, dict] | None = None, sort_first: bool = False,
                 new_pit_every: bool = False):
        super().__init__(docs)
        self.extra_source = extra_source or {}
        self.sort_first = sort_first
        self.new_pit_every = new_pit_every
        self.raw_answers = 0
        self.latest_pit = ""
        self.closed_with: list[str] = []
        self.fail_on_search: int | None = None  # the n-th search (from 1) answers with an error

    def search(self, body: dict):  # type: ignore[override]
        if self.fail_on_search == len(self.searches) + 1:
            self.searches.append(body)
            raise RuntimeError("search_phase_execution_exception")
        answer = super().search(body)
        hits = answer["hits"]["hits"]
        for hit in hits:
            hit["_source"].update(self.extra_source.get(hit["_id"], {}))
        if self.sort_first:
            hits[:] = [{"_index": h["_index"], "_id": h["_id"], "sort": h["sort"], "_source": h["_source"]}
                       for h in hits]
        if self.new_pit_every:
            fresh = body["pit"]["id"].rstrip("+") + "+" * len(self.searches)  # newer than any before
            self._pits[fresh] = self._pits[body["pit"]["id"]]  # the same point in time, a new id
            answer["pit_id"] = fresh
        self.latest_pit = answer["pit_id"]
        decoded = SERIALIZER.loads(json.dumps(answer, separators=(",", ":")).encode())
        self.raw_answers += isinstance(decoded, raw_pages.RawPage)
        return decoded

    def close_point_in_time(self, body: dict) -> None:
        self.closed_with.append(body["id"])
        super().close_point_in_time({"id": body["id"].rstrip("+")})


def docs(n: int, same_ms_every: int = 3) -> list[Doc]:
    return [Doc("app", f"d{i}", T0_MS + i // same_ms_every, f"{OURS} line {i}") for i in range(n)]


def search(page_size: int) -> PagedSearch:
    return PagedSearch(index="app", body={"query": {"bool": {"filter": []}},
                                          "sort": [{"utc_time": {"order": "asc"}}], "size": page_size})


def plain_ids(documents: list[Doc], page_size: int) -> list[str]:
    return [h["_id"] for h in walk(FakeES(documents), search(page_size))]


def raw_walk(es: RawFakeES, page_size: int) -> tuple[list[str], WalkStats]:
    stats = WalkStats()
    ids = [h["_id"] for h in walk(es, search(page_size), prefetch=True, stats=stats)]
    return ids, stats


@pytest.mark.parametrize("n, page_size", [(25, 5), (26, 5), (24, 5), (3, 1), (0, 4), (7, 100)])
def test_every_page_after_the_first_is_asked_for_from_the_bytes_and_the_lines_are_the_plain_walks(n, page_size):
    es = RawFakeES(docs(n))
    ids, stats = raw_walk(es, page_size)
    assert ids == plain_ids(docs(n), page_size) and len(ids) == n
    assert stats.asked_ahead == stats.pages - 1 and stats.thrown_away == 0
    assert len(es.searches) == stats.pages  # no request thrown away
    assert es.raw_answers == stats.pages and not es.open_pits


@pytest.mark.parametrize("sort_first", [False, True])
def test_a_sort_field_in_a_documents_source_costs_at_most_a_request_and_never_a_line(sort_first):
    hostile = {f"d{i}": {"sort": [T0_MS + 10_000, 0], "detail": {"_id": "x", "sort": [1, 2]}} for i in range(30)}
    es = RawFakeES(docs(30), extra_source=hostile, sort_first=sort_first)
    ids, stats = raw_walk(es, 5)
    assert ids == plain_ids(docs(30), 5)
    # written last, the hit's own sort values are what the end of the page shows: every guess is right
    assert stats.asked_ahead == (0 if sort_first else stats.pages - 1)
    # a wrong guess costs at most one request (whether it left before it was dropped is the threads' timing)
    assert stats.pages <= len(es.searches) <= stats.pages + (stats.pages - 1 - stats.asked_ahead)


def test_a_guess_taken_from_a_forged_sort_in_the_message_text_is_never_trusted():
    forged = json.dumps({"sort": [T0_MS + 99_999, 7]})  # escaped inside the message string
    documents = [Doc("app", f"d{i}", T0_MS + i, f"{OURS} {forged}") for i in range(20)]
    es = RawFakeES(documents)
    ids, stats = raw_walk(es, 4)
    assert ids == [f"d{i}" for i in range(20)]
    assert stats.thrown_away == 0 and stats.asked_ahead == stats.pages - 1  # text never looks like a key


def test_a_new_point_in_time_id_throws_the_guess_away_and_asks_again_with_the_new_id():
    es = RawFakeES(docs(12), new_pit_every=True)
    ids, stats = raw_walk(es, 3)
    assert ids == plain_ids(docs(12), 3)
    assert stats.asked_ahead == 0
    assert stats.pages <= len(es.searches) <= 2 * stats.pages - 1


@pytest.mark.parametrize("new_pit", [False, True])
def test_stopping_early_waits_for_the_request_out_and_closes_the_point_in_time_by_its_newest_id(new_pit):
    es = RawFakeES(docs(50), new_pit_every=new_pit)
    pages = walk(es, search(5), prefetch=True)
    assert [next(pages)["_id"] for _ in range(7)] == [f"d{i}" for i in range(7)]
    pages.close()
    assert not es.open_pits
    # the answer still on its way when the caller stopped may carry a newer id: that is the one closed
    assert es.closed_with == [es.latest_pit]


@pytest.mark.parametrize("failing", [1, 2, 3, 4])
def test_an_error_on_any_request_reaches_the_caller_and_the_point_in_time_is_closed(failing):
    es = RawFakeES(docs(20))
    es.fail_on_search = failing
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="search_phase_execution_exception"):
        for hit in walk(es, search(5), prefetch=True):
            seen.append(hit["_id"])
    assert seen == [f"d{i}" for i in range(5 * (failing - 1))]  # every page before the error, none after
    assert not es.open_pits


def test_a_guess_equal_in_python_but_not_on_the_wire_is_not_taken():
    # each source holds its hit's sort values as floats, read last (sort written first):
    # [t.0, n.0] == [t, n] in Python, but the request would carry other JSON than the page's
    documents = docs(20)
    floats = {d.id: {"sort": [float(d.time_ms or 0), float(n)]} for n, d in enumerate(documents)}
    es = RawFakeES(documents, extra_source=floats, sort_first=True)
    ids, stats = raw_walk(es, 5)
    assert ids == plain_ids(documents, 5)
    assert stats.asked_ahead == 0
    sent_floats = [s for s in es.searches if any(type(v) is float for v in s.get("search_after", []))]
    assert len(sent_floats) <= stats.pages - 1  # only guesses carried them, and no page came from one


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), page_size=st.integers(1, 9), same_ms=st.integers(1, 6),
       hostile=st.sets(st.integers(0, 39), max_size=8), sort_first=st.booleans(), new_pit=st.booleans())
def test_the_raw_walk_returns_the_plain_walks_lines_whatever_the_pages_hold(n, page_size, same_ms, hostile,
                                                                            sort_first, new_pit):
    documents = docs(n, same_ms)
    extra = {f"d{i}": {"sort": [T0_MS + i, i], "x": {"_id": "forged"}} for i in hostile}
    es = RawFakeES(documents, extra_source=extra, sort_first=sort_first, new_pit_every=new_pit)
    ids, stats = raw_walk(es, page_size)
    assert ids == plain_ids(documents, page_size)
    assert stats.pages <= len(es.searches) <= 2 * stats.pages  # a page and at most one wrong guess after it
    assert not es.open_pits


def test_last_sort_key_reads_the_last_hits_sort_values():
    body = b'{"pit_id":"p","hits":{"hits":[{"_id":"a","_source":{},"sort":[1,2]},{"_id":"b","sort":[3,"x"]}]}}'
    assert raw_pages.last_sort_key(body) == [3, "x"]
    assert raw_pages.last_sort_key(b'{"pit_id":"p","hits":{"hits":[]}}') is None
    assert raw_pages.last_sort_key(b'{"sort":["a]b"]}') is None  # cut short at the bracket: no guess
    assert raw_pages.last_sort_key(b'{"sort":[]}') is None


def test_may_be_full_counts_hit_ids_and_never_text():
    two = b'{"pit_id":"p","hits":{"hits":[{"_id":"a","_source":{"m":"\\"_id\\":"}},{"_id":"b"}]}}'
    assert raw_pages.may_be_full(two, 2) and not raw_pages.may_be_full(two, 3)


def test_only_a_point_in_time_page_asked_for_raw_in_this_thread_stays_raw():
    page = b'{"pit_id":"p","took":1,"hits":{"hits":[]}}'
    error = b'{"error":{"type":"search_phase_execution_exception"},"status":400}'
    assert SERIALIZER.loads(page) == {"pit_id": "p", "took": 1, "hits": {"hits": []}}
    seen_elsewhere: list = []
    with raw_pages.raw_search_pages():
        assert SERIALIZER.loads(page) == raw_pages.RawPage(page)
        assert SERIALIZER.loads(error)["status"] == 400  # errors are decoded for the client's error
        other = threading.Thread(target=lambda: seen_elsewhere.append(SERIALIZER.loads(page)))
        other.start()
        other.join()
    assert isinstance(seen_elsewhere[0], dict)  # another thread is not affected
    assert isinstance(SERIALIZER.loads(page), dict)
    assert raw_pages.RawPage(page).decode() == SERIALIZER.loads(page)
