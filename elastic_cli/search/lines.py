"""The lines of one session in one time order: each group of a plan is one sorted stream from the
pager, each hit made a `SessionLine` with what its index's shape says (time, level, data stream,
offset on the replay's timeline), and the streams merged.

Every hit is checked on the client (`is_session_line`), because an analysed
phrase search is case-insensitive and may split a token: what reaches the user
is exactly the lines that carry the marker.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Generator, Iterator, Mapping, Sequence

from elastic_cli.cluster.connection import body_of
from elastic_cli.openreplay.session_token import contains_marker
from elastic_cli.search.fields import display_index, get_field, level_in
from elastic_cli.search.pager import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    Hit,
    PagedSearch,
    WalkStats,
    each_hit,
    first_page_body,
    shard_counts,
    walk_pages,
)
from elastic_cli.search.plan import IndexGroup, SearchPlan
from elastic_cli.search.query import LogQuery, build_search_body
from elastic_cli.search.session_line import PLAUSIBLE_MS, SessionLine

# the sort values Elasticsearch gives a line that lacks the sort field (Long.MIN_VALUE, Long.MAX_VALUE)
_MISSING = (-(2**63), 2**63 - 1)


@dataclass
class SearchStats:
    """Summed over every stream of a search."""

    streams: list[WalkStats] = field(default_factory=list)
    undated: list[WalkStats] = field(default_factory=list)  # the streams of lines without a time

    def new_stream(self) -> WalkStats:
        self.streams.append(WalkStats())
        return self.streams[-1]

    @property
    def hits_read(self) -> int:
        return sum(s.hits_read for s in self.streams)

    @property
    def page_window(self) -> int | None:
        """The smallest page size an index allowed when it refused the one asked (max_result_window)."""
        return min((s.page_window for s in self.streams + self.undated if s.page_window), default=None)

    @property
    def shards_total(self) -> int:
        return shard_counts(self.streams)[0]  # each distinct shard once, however many streams searched it

    @property
    def shards_skipped(self) -> int:
        return shard_counts(self.streams)[1]

    @property
    def shards_failed(self) -> int:
        return shard_counts(self.streams)[2]

    @property
    def failure(self) -> str:
        return next((s.failure for s in self.streams if s.failure), "")

    @property
    def timed_out(self) -> int:
        return sum(s.timed_out for s in self.streams)

    @property
    def sourceless(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for stream in self.streams:
            for index, n in stream.sourceless.items():
                counts[index] = counts.get(index, 0) + n
        return counts

    @property
    def undated_lines(self) -> int:
        return sum(s.kept for s in self.undated)


def message_of(hit: Mapping[str, Any], message_field: str) -> Any:
    """The message Elasticsearch searched: from `fields` for a sub-field (message.keyword),
    else from `_source` by its dotted name."""
    values = (hit.get("fields") or {}).get(message_field)
    if values:
        return values[0] if len(values) == 1 else "\n".join(str(v) for v in values)
    return get_field(hit.get("_source") or {}, message_field)


def is_session_line(hit: dict[str, Any], q: LogQuery) -> bool:
    message = message_of(hit, q.message_field)
    if isinstance(message, list):
        message = "\n".join(str(m) for m in message)
    return isinstance(message, str) and any(contains_marker(message, m) for m in q.markers)


def session_check(q: LogQuery) -> Callable[[dict[str, Any]], bool]:
    """`is_session_line` for one query, made cheap for the usual hit: a top-level string
    message that holds a marker's text is decided without the general path."""
    field = q.message_field
    markers = [(m.text, m) for m in q.markers if m.text]
    if "." in field:  # a sub-field or a nested name: the general path
        return partial(is_session_line, q=q)

    def check(hit: dict[str, Any]) -> bool:
        if "fields" not in hit:
            message = hit["_source"].get(field) if "_source" in hit else None
            if type(message) is str:
                for text, marker in markers:
                    if (text in message and not marker.whole) or contains_marker(message, marker):
                        return True  # exactly, or spelled as OpenReplay's searches also find it
                return False
        return is_session_line(hit, q)
    return check


def counting_sourceless(check: Callable[[dict[str, Any]], bool], stats: WalkStats
                        ) -> Callable[[dict[str, Any]], bool]:
    """`check`, counting the hits that carry no `_source` (an index with `_source` disabled): the
    client cannot check or show them, so they are a reason the result is partial, never dropped
    without a word."""
    def keep(hit: dict[str, Any]) -> bool:
        if check(hit):
            return True
        if "_source" not in hit and "fields" not in hit:
            index = hit.get("_index") or "?"
            stats.sourceless[index] = stats.sourceless.get(index, 0) + 1
        return False
    return keep


def hit_time_ms(hit: dict[str, Any]) -> int | None:
    """The hit's time: its first sort value (epoch ms), however implausible (a line's order, its resume
    point and its merge place come from it: a far-future time is a time, not none); None when it has
    none (the missing value sorts as Long.MIN/MAX)."""
    sort = hit.get("sort") or []
    if sort and isinstance(sort[0], (int, float)) and not isinstance(sort[0], bool) and sort[0] not in _MISSING:
        return int(sort[0])
    return None


def _describe(hits: list[Hit], group: IndexGroup, start_ms: int | None) -> list[SessionLine]:
    """Each hit of a page as a `SessionLine`: its time (the sort value of its index's time field),
    its level (one word, from its level fields), its index (a data stream by name) and its offset
    from the session start. The page's hot loop: names are bound once, index names displayed once
    per page."""
    level_fields, has_time = group.level_fields, group.has_time
    streams: dict[str, str] = {}
    described = []
    for hit in hits:
        level = level_in(hit.get("_source") or {}, level_fields) if level_fields else None
        index = hit.get("_index") or ""
        stream = streams.get(index)
        if stream is None:
            stream = streams[index] = display_index(index)
        moment = hit_time_ms(hit) if has_time else None  # else the sort value is _shard_doc
        # an odd time keeps its place in the order, not a place on the replay's timeline
        offset = (moment - start_ms if start_ms is not None and moment is not None and abs(moment) < PLAUSIBLE_MS
                  else None)
        described.append(SessionLine(hit, moment, level, stream, offset))
    return described


def session_lines(es: Any, plan: SearchPlan, limit: int | None = None, page_size: int | None = None,
                  prefetch: bool = False, stats: SearchStats | None = None,
                  on_page: Callable[[int], None] | None = None) -> Iterator[SessionLine]:
    """The session's lines in one time order, each exactly once; at most `limit` when given."""
    return each_hit(session_pages(es, plan, limit, page_size, prefetch, stats, on_page))


def session_pages(es: Any, plan: SearchPlan, limit: int | None = None, page_size: int | None = None,
                  prefetch: bool = False, stats: SearchStats | None = None,
                  on_page: Callable[[int], None] | None = None) -> Generator[list[SessionLine], None, None]:
    """`session_lines`, a list of lines at a time (an export's writer handles a page per call).

    Each group of indices is one sorted stream from the pager; streams are merged on
    (time, then undated last). With a limit every stream pages on until the merge has
    what it needs: dropped hits and shared milliseconds never shorten the answer.
    """
    stats = stats if stats is not None else SearchStats()
    if page_size is None:
        # one more than asked, so whether more lines exist is known without another request
        page_size = PAGE_SIZE if limit is None else min(limit + 1, MAX_PAGE_SIZE)
    reverse = plan.query.reverse
    start_ms = int(plan.session_start.timestamp() * 1000) if plan.session_start else None

    def counted(_stream_hits: int) -> None:
        if on_page:
            on_page(stats.hits_read)  # all streams together

    walks: list[Generator[list[Hit], None, None]] = []
    streams: list[Generator[list[SessionLine], None, None]] = []
    for group in plan.groups:
        q = plan.query_for(group)
        search = PagedSearch(index=group.target, body=build_search_body(q, page_size), descending=reverse)
        walk_stats = stats.new_stream()
        walks.append(walk_pages(es, search, keep=counting_sourceless(session_check(q), walk_stats), prefetch=prefetch,
                                stats=walk_stats, on_page=counted))
        streams.append(_described_pages(walks[-1], group, start_ms))
    for group in plan.groups:
        undated = plan.undated_query_for(group)
        if undated is None or not any_hit(es, group.target, undated):
            continue  # the usual case: one cheap request says there is none
        search = PagedSearch(index=group.target, body=build_search_body(undated, page_size), descending=reverse)
        walk_stats = stats.new_stream()
        stats.undated.append(walk_stats)
        walks.append(walk_pages(es, search, keep=counting_sourceless(session_check(undated), walk_stats),
                                prefetch=prefetch, stats=walk_stats,
                                on_page=counted))
        streams.append(_described_pages(walks[-1], replace(group, time_field=None), start_ms))
    try:
        if not streams:
            return
        pages: Iterator[list[SessionLine]]
        if len(streams) == 1:
            pages = streams[0]
        else:
            key = _merge_key(reverse)
            merged = heapq.merge(*(each_hit(s) for s in streams), key=lambda line: key(line.time_ms),
                                 reverse=reverse)
            pages = _chunks(merged, page_size)
        left = limit
        for page in pages:
            if left is not None:
                page = page[:left]
                left -= len(page)
            if page:
                yield page
            if left is not None and left <= 0:
                return  # before asking the pager for a page nobody needs
    finally:
        for stream in walks:
            stream.close()  # closes each point in time now, not whenever the generator is collected


def any_hit(es: Any, target: str, query: LogQuery) -> bool:
    """Whether any document matches (size 0, stops at the first): the gate for an extra stream."""
    body = body_of(es.search(index=target, query=build_search_body(query, 0)["query"], size=0,
                             terminate_after=1, track_total_hits=1, ignore_unavailable=True,
                             allow_no_indices=True))
    total = (body.get("hits") or {}).get("total") or {}
    return bool(total.get("value") if isinstance(total, dict) else total)


def _described_pages(pages: Iterator[list[Hit]], group: IndexGroup, start_ms: int | None
                     ) -> Generator[list[SessionLine], None, None]:
    for page in pages:
        yield _describe(page, group, start_ms)


def _chunks(hits: Iterator[SessionLine], size: int) -> Iterator[list[SessionLine]]:
    chunk: list[SessionLine] = []
    for hit in hits:
        chunk.append(hit)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _merge_key(reverse: bool) -> Callable[[int | None], tuple[int, int]]:
    """A line's place in the merge, from its time: undated lines come after the dated ones, in
    either direction."""
    def key(moment: int | None) -> tuple[int, int]:
        if reverse:
            return (0, 0) if moment is None else (1, moment)
        return (1, 0) if moment is None else (0, moment)
    return key


# ---------------------------------------------------------------- a lookup in one round trip
#
# A limited lookup usually fits in one page per stream. Then a point in time buys nothing (it keeps
# a view stable *between* pages) and costs two round trips (open, close): the first page of every
# stream, the lines without a time, and the count of indices left out are asked for in one
# `_msearch` instead. Only when a first page cannot tell (it is full and more lines could come
# before the ones taken) is the search run again from the start with a point in time.


@dataclass(frozen=True)
class FirstPage:
    """One stream's first page, asked for without a point in time."""

    target: str
    body: dict[str, Any]
    group: IndexGroup  # as its lines are described (no time field for the undated lines)
    query: LogQuery
    undated: bool = False

    @property
    def size(self) -> int:
        return int(self.body.get("size") or 0)


def first_pages(plan: SearchPlan, page_size: int) -> list[FirstPage]:
    """The first page of each stream `session_pages` would walk, in the same order."""
    found = []
    for group in plan.groups:
        q = plan.query_for(group)
        found.append(FirstPage(group.target, _first_body(group.target, q, page_size), group, q))
    for group in plan.groups:
        undated = plan.undated_query_for(group)
        if undated is not None:
            found.append(FirstPage(group.target, _first_body(group.target, undated, page_size),
                                   replace(group, time_field=None), undated, undated=True))
    return found


def _first_body(target: str, q: LogQuery, page_size: int) -> dict[str, Any]:
    return first_page_body(PagedSearch(index=target, body=build_search_body(q, page_size), descending=q.reverse))


def _ties_across_shards(response: dict[str, Any], hits: list[dict[str, Any]]) -> bool:
    """Whether the page could order lines that share a time otherwise than `_shard_doc` would:
    more than one shard answered and two lines share a time."""
    shards = response.get("_shards") or {}
    if int(shards.get("total") or 0) - int(shards.get("skipped") or 0) <= 1:
        return False
    times = [(hit.get("sort") or [None])[0] for hit in hits]
    return len(set(times)) < len(times)


def same_wire(a: Sequence[tuple[str, dict[str, Any]]], b: Sequence[tuple[str, dict[str, Any]]]) -> bool:
    """Whether two lists of (target, body) searches are exactly the same requests."""
    return [request_key(*r) for r in a] == [request_key(*r) for r in b]


def request_key(target: str, body: dict[str, Any]) -> str:
    """One search as text: equal exactly when two searches send the same request."""
    return json.dumps([target, body], sort_keys=True, default=str)


def msearch(es: Any, pages: list[FirstPage]) -> list[dict[str, Any]] | None:
    """Every first page in one `_msearch`; None when any of them failed (the caller then takes the
    usual path, whose own request says what is wrong)."""
    return msearch_requests(es, [(page.target, page.body) for page in pages])


def msearch_requests(es: Any, requests: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]] | None:
    """`msearch` for (target, body) searches (a missing index is no error, as for `walk_pages`)."""
    if not requests:
        return []
    searches: list[dict[str, Any]] = []
    for target, body in requests:
        searches.append({"index": target, "ignore_unavailable": True, "allow_no_indices": True})
        searches.append(body)
    responses = (body_of(es.msearch(searches=searches)) or {}).get("responses") or []
    if len(responses) != len(requests) or any("error" in r or "hits" not in r for r in responses):
        return None
    return list(responses)


def limited_from_first_pages(plan: SearchPlan, pages: list[FirstPage], responses: list[dict[str, Any]], wanted: int,
                             stats: SearchStats) -> list[SessionLine] | None:
    """The first `wanted` lines of the session in order, as `session_lines(limit=wanted)` would give
    them, from each stream's first page; None when the pages cannot tell (then page with a point in
    time). Fills `stats` as the walks would (an undated stream counts only when it has a hit, as the
    gate `any_hit` decides)."""
    reverse = plan.query.reverse
    start_ms = int(plan.session_start.timestamp() * 1000) if plan.session_start else None
    key = _merge_key(reverse)
    streams: list[list[SessionLine]] = []
    full: dict[int, tuple[int, int]] = {}  # stream -> the merge key of its last hit read (more may follow it)
    for page, response in zip(pages, responses):
        hits = response["hits"]["hits"]
        if page.undated and not hits:
            continue
        if _ties_across_shards(response, hits):
            return None
        walk_stats = stats.new_stream()
        walk_stats.target = page.target
        if page.undated:
            stats.undated.append(walk_stats)
        walk_stats.add_page(response, len(hits))
        check = counting_sourceless(session_check(page.query), walk_stats)
        kept = _describe([hit for hit in hits if check(hit)], page.group, start_ms)
        walk_stats.kept += len(kept)
        if len(hits) >= page.size:
            moment = hit_time_ms(hits[-1]) if page.group.has_time else None
            full[len(streams)] = key(moment)
        streams.append(kept)
    tagged = [[(line, i) for line in kept] for i, kept in enumerate(streams)]
    merged = list(heapq.merge(*tagged, key=lambda pair: key(pair[0].time_ms), reverse=reverse))[:wanted]
    if full:
        if len(merged) < wanted:
            return None  # the full streams' next pages are needed
        for stream, last_read in full.items():
            # a line of this stream not read yet sorts after `last_read`: every line taken from the
            # other streams must sort strictly before it (a tie could go either way)
            for line, i in merged:
                place = key(line.time_ms)
                if i != stream and ((place >= last_read) if not reverse else (place <= last_read)):
                    return None
    return [line for line, _ in merged]


def counted_from_first_pages(pages: list[FirstPage], responses: list[dict[str, Any]]) -> int | None:
    """How many session lines the pages hold, when they hold every candidate (none is full)."""
    total = 0
    for page, response in zip(pages, responses):
        hits = response["hits"]["hits"]
        if len(hits) >= page.size:
            return None
        check = session_check(page.query)
        total += sum(1 for hit in hits if check(hit))
    return total
