"""The one way hits are walked: a point in time, search_after, `_shard_doc` as the tiebreaker.

Every mode of `logs` (a limit, --all, each --follow poll) goes through `walk`.
A point in time keeps the view stable while search_after moves through it, and
`_shard_doc` makes every sort key unique, so lines that share a millisecond are
never skipped at a page boundary. The client-side check (`keep`) runs inside:
a page from which it drops hits is followed by the next page, never by silence.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Sequence, TypeVar

from elastic_cli.cluster.retry_rules import status_of
from elastic_cli.search.retry import PointInTimeLost, ShardsLost, shards_were_lost

__all__ = ["PointInTimeLost", "ShardsLost"]  # raised by the walk; defined beside the rule that retries them

# Each request keeps the point in time for this long; a walk that sits idle (a reader paused
# in `less`, one stream of a merge waiting while another drains) has it kept alive by a
# background touch well before then, so a slow reader never loses it. A process that dies
# leaves it to expire after this.
PIT_KEEP_ALIVE = "5m"
PIT_CLOSE_TIMEOUT = 2.0  # seconds: one round trip even far away; past it the point in time just expires
# idle this long, a walk touches its point in time (a size-0 search that renews the keep-alive)
PIT_TOUCH_AFTER_SECONDS = 60.0
# 5000 per page: fewer round trips for --all (measured: 100k hits 5.7 s -> 4.8 s), memory still flat
PAGE_SIZE = 5000
# a single search may return at most this many hits (index.max_result_window)
MAX_PAGE_SIZE = 10_000
# how long the reader lets a request it just queued leave before it decodes a page
SEND_GRACE_SECONDS = 0.001
# an export whose point in time took this long to open (a remote cluster; on loopback it takes a few
# ms) walks 2 slices of it side by side, one more per 100 ms, at most MAX_SLICES (each slice holds a
# page and one asked ahead)
SLICE_FROM_SECONDS = 0.03
MAX_SLICES = 3

Hit = dict[str, Any]  # a search hit as Elasticsearch answers it
Item = TypeVar("Item")


@dataclass(frozen=True)
class PagedSearch:
    """One sorted stream: where to look, what to look for, in which order."""

    index: str  # comma-separated names or patterns the point in time is opened on
    body: dict[str, Any]  # query, sort (without the tiebreaker), size, fields...
    descending: bool = False


@dataclass
class WalkStats:
    """What the server said about the walk, for -v and for tests."""

    pages: int = 0
    hits_read: int = 0
    kept: int = 0
    shards_total: int = 0
    shards_skipped: int = 0
    took_ms: int = 0
    shards_failed: int = 0  # the most any page reported: their lines are missing
    failure: str = ""  # the first failure's index, shard and reason
    timed_out: int = 0  # pages answered with timed_out: a shard stopped early, its lines may be missing
    asked_ahead: int = 0  # pages asked for from the bytes of the page before, and rightly
    thrown_away: int = 0  # requests sent ahead whose answer was never read (a wrong guess, or past the end)
    # hits the query matched that carry no _source (the index stores none): never checked or shown
    sourceless: dict[str, int] = field(default_factory=dict)
    # the page size an index allowed (its index.max_result_window) when it refused the one asked: the
    # walk then asked pages of this size
    page_window: int | None = None
    target: str = ""  # what was searched: streams of one target search the same shards (`shard_counts`)
    failed_shards: set[tuple[str, str]] = field(default_factory=set)  # (index, shard) of each failure named

    def add_page(self, response: dict[str, Any], hits: int) -> None:
        shards = response.get("_shards") or {}
        if self.pages == 0:
            self.shards_total = int(shards.get("total") or 0)
            self.shards_skipped = int(shards.get("skipped") or 0)
        failed = int(shards.get("failed") or 0)
        if failed:
            self.shards_failed = max(self.shards_failed, failed)
            self.failure = self.failure or describe_failure(shards)
            self.failed_shards.update((str(f.get("index")), str(f.get("shard"))) for f in shards.get("failures") or ()
                                      if isinstance(f, dict))
        if response.get("timed_out"):
            # a shard that ran out of time answers with what it had: a short page that looks whole
            self.timed_out += 1
        self.pages += 1
        self.hits_read += hits
        self.took_ms += int(response.get("took") or 0)


def shard_counts(streams: Sequence[WalkStats]) -> tuple[int, int, int]:
    """How many distinct shards the streams searched, skipped and lost (total, skipped, failed).

    Each shape's stream searches the user's patterns (its indices picked in the body), so the streams
    of one target search the same shards: counted once, not once a stream ("1 of 6" for one shard of
    three). A failure is counted once however many streams met it: by its (index, shard) where
    Elasticsearch names it (it groups failures of one cause and index), never fewer than one stream
    counted."""
    by_target: dict[str, list[WalkStats]] = {}
    for stream in streams:
        by_target.setdefault(stream.target, []).append(stream)
    total = skipped = failed = 0
    for same in by_target.values():
        most = max(s.shards_total for s in same)
        total += most
        skipped += max(s.shards_skipped for s in same)
        named = set().union(*(s.failed_shards for s in same))
        failed += min(most or len(named), max(len(named), *(s.shards_failed for s in same)))
    return total, skipped, failed


def describe_failure(shards: dict[str, Any]) -> str:
    """`index[shard]: type: reason` of the first failure in a response's `_shards`, as plain text
    (a reason may quote a document)."""
    failure = (shards.get("failures") or [{}])[0]
    reason = failure.get("reason") or {}
    if isinstance(reason, dict):
        reason = ": ".join(str(reason[k]) for k in ("type", "reason") if reason.get(k))
    where = f"{failure.get('index') or '?'}[{failure.get('shard', '?')}]"
    text = f"{where}: {reason or 'no reason given'}"
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= 300 else text[:299] + "…"


def is_lost_point_in_time(exc: BaseException) -> bool:
    """An API error whose cause is a missing search context (an expired or dropped point in time)."""
    body = getattr(exc, "body", None)
    return "search_context_missing_exception" in json.dumps(body, default=str) if isinstance(body, dict) else False


class _PointInTime:
    """A walk's point in time: the newest id, and a background touch that keeps it alive while
    the walk is idle (the caller is slow, or another stream of a merge is being read)."""

    def __init__(self, es: Any, pit_id: str, touch_after: float = 0.0):
        self.es = es
        self.id = pit_id
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        self.stop = threading.Event()
        self.touch_after = touch_after or PIT_TOUCH_AFTER_SECONDS
        self.touches = 0
        self.thread = threading.Thread(target=self._keep_alive, name="pit-keep-alive", daemon=True)
        self.thread.start()

    def used(self, answered_id: str | None) -> None:
        with self.lock:
            self.last_used = time.monotonic()
            if answered_id:
                self.id = answered_id

    def _keep_alive(self) -> None:
        while not self.stop.wait(self.touch_after / 4):
            with self.lock:
                idle = time.monotonic() - self.last_used
                pit_id = self.id
            if idle < self.touch_after:
                continue
            try:
                response = self.es.search(body={"pit": {"id": pit_id, "keep_alive": PIT_KEEP_ALIVE}, "size": 0,
                                                "track_total_hits": False, "query": {"match_all": {}}})
            except Exception:  # noqa: BLE001 — the walk's own next request says what is wrong
                continue
            self.touches += 1
            self.used(getattr(response, "get", lambda *_: None)("pit_id"))

    def close(self) -> None:
        self.stop.set()


def page_body(search: PagedSearch, pit_id: str, search_after: list[Any] | None = None) -> dict[str, Any]:
    """The body of one page's request, exactly as the walk sends it (`logs --explain` prints it):
    the search's sort with `_shard_doc` last, the point in time and its keep-alive."""
    order = "desc" if search.descending else "asc"
    sort = list(search.body.get("sort") or []) + [{"_shard_doc": {"order": order}}]
    body = {**search.body, "sort": sort, "size": int(search.body.get("size") or PAGE_SIZE),
            "pit": {"id": pit_id, "keep_alive": PIT_KEEP_ALIVE}}
    if search_after is not None:
        body["search_after"] = search_after
    return body


def first_page_body(search: PagedSearch) -> dict[str, Any]:
    """The first page's request without a point in time, for every search that asks one first (a
    lookup's streams in one `_msearch`, `sessions`' groups, `walk_pages(look_first=True)`): the
    search's sort with `_doc` last, the order of a point in time's first page within a shard
    (across shards the orders differ, which `lines.limited_from_first_pages` checks for)."""
    order = "desc" if search.descending else "asc"
    sort = list(search.body.get("sort") or []) + [{"_doc": {"order": order}}]
    return {**search.body, "sort": sort, "size": int(search.body.get("size") or PAGE_SIZE)}


def walk(es: Any, search: PagedSearch, keep: Callable[[Hit], bool] = lambda hit: True,
         prefetch: bool = False, stats: WalkStats | None = None,
         on_page: Callable[[int], None] | None = None, slices: int | None = None,
         look_first: bool = False, looked: dict[str, Any] | None = None) -> Generator[Hit, None, None]:
    """Every hit of `search` that `keep` accepts, in sort order, exactly once (one at a time)."""
    return each_hit(walk_pages(es, search, keep, prefetch=prefetch, stats=stats, on_page=on_page, slices=slices,
                               look_first=look_first, looked=looked))


def each_hit(pages: Generator[list[Item], None, None]) -> Generator[Item, None, None]:
    """The hits (or lines) of a stream of pages, one at a time; closing it closes the pages' walk."""
    try:
        for page in pages:
            yield from page
    finally:
        pages.close()


def walk_pages(es: Any, search: PagedSearch, keep: Callable[[Hit], bool] = lambda hit: True,
               prefetch: bool = False, stats: WalkStats | None = None,
               on_page: Callable[[int], None] | None = None,
               slices: int | None = None, look_first: bool = False, looked: dict[str, Any] | None = None
               ) -> Generator[list[Hit], None, None]:
    """Every hit of `search` that `keep` accepts, in sort order, exactly once, a page at a time
    (a page whose hits `keep` all refuses is not yielded; the walk goes on).

    Handing on whole pages keeps the per-hit cost of an export down: one call per page
    instead of a generator step per hit at each layer.

    `prefetch`: ask for the next page while the caller handles this one (for
    exports; a caller that stops early would waste a request). Far from the
    cluster (opening the point in time took a round trip of 30 ms or more) a
    prefetching walk reads `slices_for` slices of it side by side, merged back
    into the one order; `slices` sets how many. The point in time is closed
    however the walk ends.

    `look_first`: ask for the first page without a point in time. When it is not full it holds
    every hit, and that is the walk: no point in time opened or closed (two round trips fewer, which
    far from the cluster is most of a small walk). A full one is set aside and the walk starts over on
    a point in time, so its pages stay one consistent view (one round trip more for a big walk).
    `looked`: that first look's answer when the caller already asked `first_page_body(search)` (beside
    another request); it is not asked again.

    An index whose `index.max_result_window` is below the page size refuses the first request
    (HTTP 400): the walk starts over with pages of the size it allows, before any line was handed on.
    """
    pages = _walk_pages(es, search, keep, prefetch, stats, on_page, slices, look_first, looked)
    try:
        first = next(pages)
    except StopIteration:
        return
    except Exception as exc:
        allowed = result_window(exc)
        size = int(search.body.get("size") or PAGE_SIZE)
        if allowed is None or not 0 < allowed < size:
            raise
        smaller = PagedSearch(index=search.index, body={**search.body, "size": allowed}, descending=search.descending)
        if stats is not None:
            stats.page_window = allowed
        yield from _walk_pages(es, smaller, keep, prefetch, stats, on_page, slices, look_first, None)
        return
    try:
        yield first
        yield from pages
    finally:
        pages.close()


_RESULT_WINDOW = re.compile(r"less than or equal to: \[(\d+)\]")


def result_window(exc: BaseException) -> int | None:
    """The page size an index allows, from its refusal of a bigger one (HTTP 400 naming
    `index.max_result_window`: "from + size must be less than or equal to: [1000]"), else None."""
    body = getattr(exc, "body", None)
    if getattr(getattr(exc, "meta", None), "status", None) != 400 or not isinstance(body, dict):
        return None
    error = body.get("error")
    causes = [error, *(error.get("root_cause") or []), error.get("caused_by")] if isinstance(error, dict) else []
    for cause in causes:
        reason = str(cause.get("reason") or "") if isinstance(cause, dict) else ""
        found = _RESULT_WINDOW.search(reason) if "max_result_window" in reason else None
        if found:
            return int(found.group(1))
    return None


def _walk_pages(es: Any, search: PagedSearch, keep: Callable[[Hit], bool], prefetch: bool, stats: WalkStats | None,
                on_page: Callable[[int], None] | None, slices: int | None, look_first: bool,
                looked: dict[str, Any] | None) -> Generator[list[Hit], None, None]:
    stats = stats if stats is not None else WalkStats()
    stats.target = search.index
    page_size = int(search.body.get("size") or PAGE_SIZE)
    if look_first:
        look = looked if looked is not None else _answer(
            lambda: es.search(index=search.index, body=first_page_body(search), ignore_unavailable=True), stats)
        if len(look["hits"]["hits"]) < page_size:
            if shards_were_lost(look):
                raise ShardsLost(stats.hits_read, describe_failure(look.get("_shards") or {}))
            hits = look["hits"]["hits"]
            stats.add_page(look, len(hits))
            if on_page and hits:
                on_page(stats.hits_read)
            kept = [hit for hit in hits if keep(hit)]
            stats.kept += len(kept)
            if kept:
                yield kept
            return
    asked = time.monotonic()
    pit = es.open_point_in_time(index=search.index, keep_alive=PIT_KEEP_ALIVE, ignore_unavailable=True)
    pit_id: str = pit["id"]
    keeper = _PointInTime(es, pit_id)
    if slices is None:
        slices = slices_for(time.monotonic() - asked) if prefetch else 1
    if slices > 1:
        yield from _sliced_pages(es, search, keep, keeper, slices, page_size, stats, on_page)
        return

    def body_for(search_after: list[Any] | None, pit_id: str) -> dict[str, Any]:
        return page_body(search, pit_id, search_after)

    ahead = _PagesAhead(es, body_for, page_size, stats) if prefetch else None
    try:
        if ahead is not None:
            ahead.ask(None, pit_id)
        response = _first_pit_answer(lambda: ahead.next_page() if ahead is not None
                                     else es.search(body=body_for(None, pit_id)), stats, search.index)
        while True:
            kept, last_sort = _take_page(response, keeper, page_size, stats, keep, on_page,
                                         ahead.ask if ahead is not None else None)
            if kept:
                yield kept
            if last_sort is None:
                return
            pit_id = keeper.id  # touched while the caller held the page, maybe
            after = last_sort
            response = _answer(ahead.next_page if ahead is not None
                               else functools.partial(es.search, body=body_for(after, pit_id)), stats)
    finally:
        keeper.close()
        pit_id = keeper.id
        if ahead is not None:
            # waits for a request still out, so the point in time is closed last, by its newest id
            pit_id = ahead.close() or pit_id
        close_point_in_time(es, pit_id)


def close_point_in_time(es: Any, pit_id: str) -> None:
    """Free the point in time, as a courtesy: it expires by itself (keep_alive), so one short try,
    never retried, and never an error. A walk ends here on Ctrl-C too: a slow or loaded cluster
    must not hold the exit for a request timeout and its retries."""
    with contextlib.suppress(Exception):  # never hide the error that ended the walk
        es.options(request_timeout=PIT_CLOSE_TIMEOUT, max_retries=0).close_point_in_time(body={"id": pit_id})


def _first_pit_answer(request: Callable[[], dict[str, Any]], stats: WalkStats, target: str) -> dict[str, Any]:
    try:
        return _answer(request, stats)
    except Exception as exc:
        if status_of(exc) == 403:
            raise point_in_time_refused(target) from exc
        raise


def point_in_time_refused(target: str) -> Exception:
    """A point in time opened, then its first page refused (HTTP 403): Elasticsearch checks a point
    in time's searches against the concrete indices behind it, so a key that may read an alias
    alone can open one on the alias and never read through it (a scroll, or one page, it may)."""
    from elastic_cli.errors import PrivilegeMissing

    return PrivilegeMissing(
        f"not allowed to page through {target}: the key may read it, but Elasticsearch checks paging (a point "
        "in time) against the indices behind an alias, and the key may not read those",
        "grant the key `read` on the indices behind the alias too (a new key, with admin credentials: "
        "`orx-elastic create-key --username USER --indexes ... --save`), or ask for fewer lines than one page "
        "(--limit N), which needs no point in time")


def _answer(request: Callable[[], dict[str, Any]], stats: WalkStats) -> dict[str, Any]:
    """A page's answer; a point in time gone missing is said as such (`PointInTimeLost`)."""
    try:
        return request()
    except Exception as exc:
        if is_lost_point_in_time(exc):
            raise PointInTimeLost(stats.hits_read) from exc
        raise


def _take_page(response: dict[str, Any], keeper: _PointInTime, page_size: int, stats: WalkStats, keep: Callable[[Hit], bool],
               on_page: Callable[[int], None] | None, ask: Callable[[list[Any], str], None] | None
               ) -> tuple[list[Hit], list[Any] | None]:
    """The hits of one answer that `keep` accepts, and the sort key to page on from (None: the last
    page). A full page has the next one asked for (`ask`) before this one is handled."""
    keeper.used(response.get("pit_id"))
    if shards_were_lost(response):
        # the copy being read went away (a node left): a new point in time reads its replica, so
        # this is not a partial answer to keep but a walk to resume (`session_logs`)
        raise ShardsLost(stats.hits_read, describe_failure(response.get("_shards") or {}))
    hits = response["hits"]["hits"]
    full = len(hits) == page_size
    if ask is not None and full:
        ask(hits[-1]["sort"], keeper.id)  # before this page is handled (or already on its way)
    stats.add_page(response, len(hits))
    if on_page and hits:
        on_page(stats.hits_read)
    kept = [hit for hit in hits if keep(hit)]
    stats.kept += len(kept)
    return kept, hits[-1]["sort"] if full else None


def slices_for(round_trip: float) -> int:
    """How many slices of the point in time an export walks side by side, from how long opening it
    took (about one round trip). Near the cluster one stream keeps the node busy (the next page is
    asked for as soon as a page's last bytes arrive); far from it each page also waits a round trip,
    during which the node is idle unless other slices' pages are being worked on."""
    if round_trip < SLICE_FROM_SECONDS:
        return 1
    return min(MAX_SLICES, 2 + int(round_trip / 0.1))


def _sliced_pages(es: Any, search: PagedSearch, keep: Callable[[Hit], bool], keeper: _PointInTime, slices: int,
                  page_size: int, stats: WalkStats, on_page: Callable[[int], None] | None
                  ) -> Generator[list[Hit], None, None]:
    """`walk_pages` over `slices` slices of one point in time, each asked ahead, merged back into the
    one sort order on the full sort key (time, then `_shard_doc`: unique, so each hit comes once
    and in the place the unsliced walk gives it)."""
    import heapq

    # every slice's first page is asked for before any is waited on (the merge reads them in turn)
    aheads = [_slice_ahead(es, search, keeper, i, slices, page_size, stats) for i in range(slices)]
    streams = [_slice_pages(ahead, keep, keeper, page_size, stats, on_page) for ahead in aheads]
    merged = heapq.merge(*(each_hit(s) for s in streams), key=lambda hit: hit["sort"], reverse=search.descending)
    try:
        page: list[Hit] = []
        for hit in merged:
            page.append(hit)
            if len(page) >= page_size:
                yield page
                page = []
        if page:
            yield page
    finally:
        for stream in streams:
            stream.close()
        for ahead in aheads:  # a slice whose pages were never read
            ahead.close()
        keeper.close()
        close_point_in_time(es, keeper.id)


def _slice_ahead(es: Any, search: PagedSearch, keeper: _PointInTime, slice_id: int, slices: int, page_size: int,
                 stats: WalkStats) -> _PagesAhead:
    """One slice's pages, its first one already asked for."""
    def body_for(search_after: list[Any] | None, pit_id: str) -> dict[str, Any]:
        return {**page_body(search, pit_id, search_after), "slice": {"id": slice_id, "max": slices}}

    ahead = _PagesAhead(es, body_for, page_size, stats)
    ahead.ask(None, keeper.id)
    return ahead


def _slice_pages(ahead: _PagesAhead, keep: Callable[[Hit], bool], keeper: _PointInTime, page_size: int,
                 stats: WalkStats, on_page: Callable[[int], None] | None) -> Generator[list[Hit], None, None]:
    """The kept hits of one slice, a page at a time, each page asked for ahead."""
    try:
        while True:
            response = _answer(ahead.next_page, stats)
            kept, last_sort = _take_page(response, keeper, page_size, stats, keep, on_page, ahead.ask)
            if kept:
                yield kept
            if last_sort is None:
                return
    finally:
        ahead.close()


class _PagesAhead:
    """The pages of one walk, each asked for while the caller handles the one before.

    `ask(search_after, pit_id)` makes sure the request for the next page is on its
    way; `next_page()` waits for it and gives it decoded. When the client hands a page
    over as bytes (`raw_pages.RawPage`), `next_page` sends the request for the page after
    it at once, with the last sort key read from the bytes, and decodes while the server
    works. The next `ask` checks that guess against the decoded page: a wrong guess (or a
    new point in time id) only means the page is asked for again.
    """

    def __init__(self, es: Any, body_for: Callable[[list[Any] | None, str], dict[str, Any]], page_size: int,
                 stats: WalkStats):
        self.es = es
        self.body_for = body_for
        self.page_size = page_size
        self.stats = stats
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: Future[Any] | None = None
        self.guess: tuple[list[Any], str] | None = None
        self.sending = threading.Event()
        self.pit_id = ""  # the point in time id of the last request sent
        self.newest_pit_id = ""  # the id in the last answer, read or not (set by the worker)

    def _request(self, search_after: list[Any] | None, pit_id: str) -> Any:
        from elastic_cli.cluster.raw_pages import RawPage, raw_pit_id, raw_search_pages

        self.sending.set()
        with raw_search_pages():
            response = self.es.search(body=self.body_for(search_after, pit_id))
        body = getattr(response, "body", response)  # the client's response object wraps the body
        answered = raw_pit_id(body.data) if isinstance(body, RawPage) else body.get("pit_id")
        self.newest_pit_id = answered or self.newest_pit_id
        return body

    def _submit(self, search_after: list[Any] | None, pit_id: str) -> None:
        self.sending.clear()
        self.pit_id = pit_id
        self.pending = self.pool.submit(self._request, search_after, pit_id)

    def _discard(self) -> None:
        """Forget the request out; its answer is never read (it is sent unless it had not started)."""
        if self.pending is not None and not self.pending.cancel():
            self.stats.thrown_away += 1
        self.pending = None

    def ask(self, search_after: list[Any] | None, pit_id: str) -> None:
        # compared as the JSON they are sent as: 1 and 1.0 are equal in Python, not on the wire
        if self.guess is not None and json.dumps(self.guess) == json.dumps((search_after, pit_id)):
            self.stats.asked_ahead += 1
        else:
            if self.guess is not None:
                self._discard()
            self._submit(search_after, pit_id)
        self.guess = None

    def next_page(self) -> dict[str, Any]:
        from elastic_cli.cluster import raw_pages

        assert self.pending is not None, "ask() first"
        body = self.pending.result()
        self.pending = None
        if not isinstance(body, raw_pages.RawPage):
            return body
        data = body.data
        after = raw_pages.last_sort_key(data) if raw_pages.may_be_full(data, self.page_size) else None
        if after is not None:
            self.guess = (after, self.pit_id)
            self._submit(after, self.pit_id)
            # let the request leave before this thread holds the interpreter to decode (~10 ms a page)
            self.sending.wait(timeout=0.1)
            time.sleep(SEND_GRACE_SECONDS)
        return body.decode()

    def close(self) -> str:
        """Stop; wait for a request still out. Returns the newest point in time id answered."""
        self._discard()  # a page after the last one, or after the caller stopped
        self.pool.shutdown(wait=True, cancel_futures=True)
        return self.newest_pit_id
