"""What one session's lookup reads in each mode (a limit, every line, following), page by page, with
what the result covers. The entry point is `search.lookup` (`prepare`, then `lookup`); this module
is what it returns.

The pages come from `lines` (the streams of a plan, merged), `pager` and `follow`; this module decides
what a mode reads and records in one `Coverage` what the result lacks: shards that failed or
timed out, indices left out and how many of the session's lines they hold, a point in time that
was lost, lines beyond a limit. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Generator, Iterator, Sequence, Union

from elastic_cli.cluster.connection import body_of
from elastic_cli.errors import IndexNotFound, plural
from elastic_cli.search import fields as search_fields
from elastic_cli.search import follow as search_follow
from elastic_cli.search import lines as search_lines
from elastic_cli.search import plan as search_plan
from elastic_cli.search.analysis import UNSEARCHABLE
from elastic_cli.search.coverage import CLOSED, FIXES, READ_BLOCK, Coverage, GaveUp, LeftOut
from elastic_cli.search.fields import FieldPolicy
from elastic_cli.search.pager import MAX_PAGE_SIZE
from elastic_cli.search.query import LogQuery
from elastic_cli.search.resume import ResumePoint
from elastic_cli.search.retry import (
    Retrier,
    Retrying,
    RetryPolicy,
    seconds_text,
)
from elastic_cli.search.session_line import SessionLine
from elastic_cli.search.shape_cache import ShapeCache


@dataclass(frozen=True)
class Limited:
    """At most `limit` lines (one more is read, to know whether there are more)."""

    limit: int
    page_size: int | None = None


@dataclass(frozen=True)
class Export:
    """Every line, streamed with pages asked ahead."""

    page_size: int | None = None


@dataclass(frozen=True)
class Follow:
    """The session's lines, then new ones as they are indexed (see `search_follow.follow_lines`)."""

    lag: timedelta
    interval: float = 2.0
    polls: int | None = None  # None: until interrupted
    replan_every: float = search_follow.REPLAN_SECONDS  # seconds between looks for new indices


Mode = Union[Limited, Export, Follow]


@dataclass(frozen=True)
class LookupObservers:
    """What a reader of the lines is told while they are read (each may be None)."""

    on_page: Callable[[int], None] | None = None  # hits read so far, after each page
    on_poll: Callable[[], None] | None = None  # --follow: after each poll
    on_partial: Callable[[Coverage], None] | None = None  # --follow: the first poll that missed lines
    on_retry: Callable[[Retrying], None] | None = None  # a failure waited out: "connection lost: retrying in 4 s"
    on_recovered: Callable[[float], None] | None = None  # the search goes on again, after this many seconds


@dataclass
class SessionLogs:
    """A session's lines (read by `pages()`, once) and their coverage (final when pages end)."""

    es: Any
    plan: search_plan.SearchPlan
    mode: Mode
    coverage: Coverage
    observers: LookupObservers = field(default_factory=LookupObservers)
    stats: search_lines.SearchStats = field(default_factory=search_lines.SearchStats)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    patterns: tuple[str, ...] = ()  # what the plan was made from: --follow makes it again, for new indices
    policy: FieldPolicy | None = None
    lines: int = 0
    # a Limited lookup's first pages, read with the plan (one `_msearch`): the pages, their answers
    first_answers: tuple[list[search_lines.FirstPage], list[dict[str, Any]]] | None = None
    left_out_answers: tuple[list[search_lines.FirstPage], list[dict[str, Any]]] | None = None

    def pages(self) -> Iterator[list[SessionLine]]:
        if isinstance(self.mode, Follow):
            yield from self._follow(self.mode)
            return
        if isinstance(self.mode, Export):
            page_size = self.mode.page_size
            yield from self._resumable(lambda plan, extra, stats: search_lines.session_pages(
                self.es, plan, page_size=page_size, prefetch=True, stats=stats, on_page=self._progress(stats)))
        else:
            yield from self._limited(self.mode)
        self._count_left_out()

    def _progress(self, stats: search_lines.SearchStats) -> Callable[[int], None] | None:
        """`on_page` counting the hits of earlier attempts too (a resumed read starts a new count)."""
        if self.observers.on_page is None:
            return None
        before, report = self.stats.hits_read, self.observers.on_page
        return lambda _n: report(before + stats.hits_read)

    def _resumable(self, read: Callable[[search_plan.SearchPlan, int, search_lines.SearchStats], Iterator[list[SessionLine]]]
                   ) -> Generator[list[SessionLine], None, None]:
        """The pages `read(plan, extra, stats)` gives, each line exactly once however often the read
        is cut: a failure waiting may fix (a lost connection or point in time, a node that left, a
        503) is waited out and the read goes on from the last line written (`ResumePoint`), for
        at most `retry.retry_for` seconds of failing in a row. `extra`: how many lines the next
        read may give again (they are skipped), for a caller that asks for a number of lines.

        The cluster answered the plan's `_field_caps` already, so a failure here is the cluster's
        or the network's, not the settings'. Given up, what was written stays and the rest is named
        as missing (the partial exit)."""
        point = ResumePoint(reverse=self.plan.query.reverse)
        retrier = self._retrier()
        plan = self.plan
        while True:
            stats = search_lines.SearchStats()
            pages = read(plan, _may_repeat(point), stats)
            try:
                for page in pages:
                    retrier.succeeded()
                    page = point.take(page)
                    if page:
                        self.lines += len(page)
                        yield page
                retrier.succeeded()
                return
            except Exception as exc:  # noqa: BLE001 — wait_out re-raises what waiting cannot fix
                gave_up = retrier.wait_out(exc)  # raises what waiting cannot fix: the error says what to do
                if gave_up:
                    self.coverage.gave_up = GaveUp(gave_up, point.written, "the lines after those are missing",
                                                   budget=seconds_text(self.retry.retry_for))
                    return
                plan = replace(self.plan, query=point.query(self.plan.query))
                self._name_indices_gone()
            finally:
                close = getattr(pages, "close", None)
                if close:
                    close()  # its points in time now, not when it is collected
                self._fold_stats(stats)
                self.stats = _added(self.stats, stats)

    def _name_indices_gone(self) -> None:
        """After a failure waited out: an index of the plan that no longer exists (deleted, or closed,
        while it was read) lost its lines after those written. Resuming on the patterns would read
        the others to the end and exit 0: each is named instead (the partial exit)."""
        if not self.patterns:
            return
        try:
            # the plan's target: the patterns without an index whose read block would fail the request
            target = self.plan.groups[0].target if self.plan.groups else ",".join(self.patterns)
            answer = self.es.field_caps(index=target, fields=[self.plan.query.message_field],
                                        ignore_unavailable=True, allow_no_indices=True)
            present = set(body_of(answer).get("indices") or ())
        except Exception:  # noqa: BLE001 — the resumed read says what is wrong, if anything is
            return
        searched = {index for group in self.plan.groups for index in group.indices}
        named = {left.index for left in self.coverage.left_out}
        for index in sorted(searched - present):
            name = search_fields.display_index(index)
            if name not in named:
                self.coverage.left_out.append(LeftOut(name, GONE, lines=None))

    def _retrier(self) -> Retrier:
        return Retrier(self.retry, on_retry=self.observers.on_retry, on_recovered=self.observers.on_recovered)

    def _limited(self, mode: Limited) -> Iterator[list[SessionLine]]:
        left = mode.limit
        # one line more than shown says whether there are more, without another request
        wanted = mode.limit + 1
        page_size = mode.page_size or min(wanted, MAX_PAGE_SIZE)  # one page holds the answer and its one more

        def read(plan: search_plan.SearchPlan, extra: int, stats: search_lines.SearchStats) -> Iterator[list[SessionLine]]:
            return search_lines.session_pages(self.es, plan, limit=wanted - self.lines + extra, page_size=page_size,
                                            stats=stats, on_page=self._progress(stats))

        first = None
        if self.first_answers is not None:
            first = search_lines.limited_from_first_pages(self.plan, *self.first_answers, wanted=wanted,
                                                        stats=self.stats)
            if first is None:
                self.stats = search_lines.SearchStats()  # paged again from the start, with a point in time
        pages: Iterator[list[SessionLine]]
        if first is not None:  # the one round trip held the whole answer
            self._fold_stats(self.stats)
            self.lines += len(first)
            if self.observers.on_page:
                self.observers.on_page(self.stats.hits_read)
            pages = iter([first] if first else [])
        else:
            pages = self._resumable(read)
        try:
            for page in pages:
                if len(page) > left:
                    page = page[:left]
                    self.coverage.more_beyond_limit = True
                left -= len(page)
                if page:
                    yield page
                if left <= 0 and self.coverage.more_beyond_limit:
                    return
        finally:
            close = getattr(pages, "close", None)
            if close:
                close()

    def _follow(self, mode: Follow) -> Iterator[list[SessionLine]]:
        self._count_left_out()  # once, before the first line: it does not change while following
        for line in search_follow.follow_lines(self.es, self.plan, lag=mode.lag, interval=mode.interval,
                                              polls=mode.polls, on_stats=self._poll_observer(),
                                              retrier=self._retrier(),
                                              replan=self._replanned if self.patterns else None,
                                              replan_every=mode.replan_every):
            self.lines += 1
            yield [line]

    def _poll_observer(self) -> Callable[[search_lines.SearchStats], None]:
        """What --follow does with each poll's stats: folded into the coverage, a partial poll said
        once, the observers told a poll is done."""
        told = False

        def polled(poll: search_lines.SearchStats) -> None:
            nonlocal told
            self._fold_stats(poll, into_totals=False)
            if self.observers.on_partial and not told and (poll.shards_failed or poll.timed_out):
                told = True
                partial = Coverage(shards_total=poll.shards_total, shards_failed=poll.shards_failed,
                                   failure=poll.failure, timed_out=poll.timed_out)
                self.observers.on_partial(partial)
            if self.observers.on_poll:
                self.observers.on_poll()

        return polled

    def _replanned(self) -> search_plan.SearchPlan:
        """--follow's plan made again: new indices (a rollover, tomorrow's daily index) and deleted ones,
        with their shapes."""
        fresh = search_plan.plan_search(self.es, self.patterns, self.plan.query, self.policy,
                                        session_start=self.plan.session_start)
        self.coverage.indices_searched = max(self.coverage.indices_searched,
                                             sum(len(g.indices) for g in fresh.groups))
        return fresh

    def _fold_stats(self, stats: search_lines.SearchStats, into_totals: bool = True) -> None:
        """Add what the server said of a walk (or a poll) to the coverage."""
        cov = self.coverage
        if into_totals:
            cov.shards_total = max(cov.shards_total, stats.shards_total)
            cov.shards_skipped = max(cov.shards_skipped, stats.shards_skipped)
        if stats.shards_failed:
            cov.shards_total = max(cov.shards_total, stats.shards_total)
        cov.shards_failed = max(cov.shards_failed, stats.shards_failed)
        cov.failure = cov.failure or stats.failure
        cov.timed_out += stats.timed_out
        cov.undated_lines = max(cov.undated_lines, stats.undated_lines)
        for index, hits in stats.sourceless.items():
            name = search_fields.display_index(index)
            cov.left_out[:] = [left for left in cov.left_out if not (left.index == name and left.reason.endswith(
                SOURCELESS))]
            cov.left_out.append(LeftOut(name, f"{plural(hits, 'hit')} the search matched {SOURCELESS}", lines=None))

    def _count_left_out(self) -> None:
        """How many of the session's lines the indices left out for want of a level field hold:
        none means nothing is missing; some are named, with how many. One count request says
        whether there are candidates; only then are they read and checked like any line."""
        cov = self.coverage
        left = _left_out_plan(self.plan)
        if left is None or any(item.reason == search_plan.NO_LEVEL for item in cov.left_out):
            return
        plan, names = left
        found = search_lines.counted_from_first_pages(*self.left_out_answers) if self.left_out_answers else None
        if found is None:
            try:
                candidates = any(_any_line(self.es, plan, g) for g in plan.groups)
                found = sum(len(page) for page in search_lines.session_pages(self.es, plan)) if candidates else 0
            except Exception:  # noqa: BLE001 — cannot tell: they may hold lines, and that is said
                found = None
        if found != 0:
            cov.left_out.append(LeftOut(names, search_plan.NO_LEVEL, lines=found))


GONE = ("it went away while it was read (deleted or closed): its lines after those shown are missing; "
        "the lines of every other index are shown")
SOURCELESS = "carry no _source (the index stores none), so they could not be checked or shown"


def _may_repeat(point: ResumePoint) -> int:
    """How many lines a resumed read may give again (the ones `point.take` skips)."""
    return len(point.undated) if point.undated is not None else len(point.at_last_ms)


def _added(total: search_lines.SearchStats, more: search_lines.SearchStats) -> search_lines.SearchStats:
    return search_lines.SearchStats(streams=total.streams + more.streams, undated=total.undated + more.undated)


def _left_out_plan(plan: search_plan.SearchPlan) -> tuple[search_plan.SearchPlan, str] | None:
    """The plan that reads the indices left out for want of a level field (every level, the
    message only), and their names; None when none is left out for that reason."""
    unlevelled = {i for i, why in plan.left_out if why == search_plan.NO_LEVEL}
    if not unlevelled:
        return None
    shapes = [s for s in plan.shapes if s.index in unlevelled]
    policy = FieldPolicy(message_field=plan.query.message_field)
    groups, _ = search_plan.group_indices(shapes, [s.index for s in shapes], policy, errors_only=False)
    left = replace(plan, groups=groups, query=replace(plan.query, errors_only=False,
                                                      source_fields=(plan.query.message_field,)))
    return left, ", ".join(sorted({search_fields.display_index(i) for i in unlevelled}))


def _any_line(es: Any, plan: search_plan.SearchPlan, group: search_plan.IndexGroup) -> bool:
    return search_lines.any_hit(es, group.target, plan.query_for(group))


def session_logs(es: Any, patterns: Sequence[str], query: LogQuery, policy: FieldPolicy, mode: Mode,
                 session_start: datetime | None = None, describe: str = "",
                 cache: ShapeCache | None = None, retry: RetryPolicy | None = None,
                 observers: LookupObservers | None = None) -> SessionLogs:
    """Plan the search of one session's lines (one `_field_caps` request) and return them, ready to
    read. Raises IndexNotFound when the patterns match no index (`describe` names where).

    A `Limited` lookup sends its first pages (one `_msearch`) beside the `_field_caps` request,
    planned from the shapes `cache` last saw (or, never seen, from the configured fields); they are
    kept only when the fresh answer plans exactly the same searches, else sent again."""
    if isinstance(mode, Limited):
        return _limited_lookup(es, patterns, query, policy, mode, session_start, describe, cache, retry, observers)
    plan = search_plan.plan_search(es, patterns, query, policy, session_start=session_start, cache=cache)
    return _result(es, plan, mode, patterns, describe, policy, retry, observers)


def _result(es: Any, plan: search_plan.SearchPlan, mode: Mode, patterns: Sequence[str], describe: str,
            policy: FieldPolicy, retry: RetryPolicy | None, observers: LookupObservers | None) -> SessionLogs:
    if not plan.indices:
        _no_index(plan, patterns, describe)
    coverage = Coverage(indices_searched=sum(len(g.indices) for g in plan.groups))
    for name in _named_but_unreadable(es, patterns, [shape.index for shape in plan.shapes]):  # closed: found
        coverage.left_out.append(LeftOut(name, UNREADABLE, lines=None))
    unmapped = _unmapped_but_kept(es, [i for i, why in plan.left_out if why.startswith("no field ")],
                                  plan.query.message_field)
    for index, why in plan.left_out:
        if index in unmapped:
            coverage.left_out.append(LeftOut(search_fields.display_index(index), UNMAPPED, lines=None))
        elif why != search_plan.NO_LEVEL:  # those are counted after the search (`_count_left_out`)
            # an index no search can read may hold lines, uncounted: the result is partial
            coverage.left_out.append(LeftOut(search_fields.display_index(index), why,
                                             lines=None if why in UNCOUNTED else 0))
    return SessionLogs(es=es, plan=plan, mode=mode, coverage=coverage, observers=observers or LookupObservers(),
                       retry=retry or RetryPolicy(), patterns=tuple(patterns), policy=policy)


# why an index was left out that may hold lines no search could count
UNCOUNTED = (UNSEARCHABLE, CLOSED, READ_BLOCK)


def _no_index(plan: search_plan.SearchPlan, patterns: Sequence[str], describe: str) -> None:
    """Raise IndexNotFound: no index the patterns match can be searched (none, or each closed or
    blocked: said so, with how to open it, as "no index matches" would be wrong about them)."""
    shut = [index for index, why in plan.left_out if why in (CLOSED, READ_BLOCK)]
    if shut:
        why = dict(plan.left_out)[shut[0]]
        state = "is closed: a closed index" if why == CLOSED else "has a read block (index.blocks.read): it"
        raise IndexNotFound(f"{', '.join(shut)} matches {','.join(patterns)!r}{describe} but {state} cannot be "
                            "searched", FIXES[why].format(index=shut[0]).replace(
                                "leave it out of --indexes", "search other indices (--indexes)"))
    raise IndexNotFound(f"no index matches {','.join(patterns)!r}{describe}",
                        "check `indexes` (orx-elastic configure --indexes ...) or run `orx-elastic check`")


UNMAPPED = ("its documents hold the message field in _source, but its mapping does not (dynamic: false, or a "
            "field left out of the template), so no search can find the session's lines there: map the field and "
            "reindex")


def _unmapped_but_kept(es: Any, indices: Sequence[str], message_field: str, sample: int = 20) -> set[str]:
    """The indices without the message field in their mapping whose documents still carry it in
    `_source` (a mapping with `dynamic: false`): a few documents of each are looked at, the first in
    index order and the last indexed (`_seq_no`), so an index whose older documents lack the field
    and newer ones hold it (or the reverse) is judged right; one `_msearch`, only when such an index
    is matched. An index of other documents (metrics under `*log*`) holds none and stays a plain
    "not searched". A sample: an index whose documents with the field are only in its middle can
    still be called "not searched"."""
    if not indices:
        return set()
    searches: list[dict[str, Any]] = []
    for index in indices:
        for sort in (["_doc"], [{"_seq_no": "desc"}]):
            searches += [{"index": index, "ignore_unavailable": True},
                         {"size": sample, "_source": [message_field], "query": {"match_all": {}}, "sort": sort,
                          "track_total_hits": False}]
    try:
        answer = body_of(es.msearch(searches=searches))
    except Exception:  # noqa: BLE001 — cannot tell: the plain "not searched" stands
        return set()
    kept = set()
    responses = list(answer.get("responses") or ())
    for n, index in enumerate(indices):
        for response in responses[2 * n:2 * n + 2]:
            hits = ((response or {}).get("hits") or {}).get("hits") or []
            if any(search_fields.get_field(hit.get("_source") or {}, message_field) is not None for hit in hits):
                kept.add(index)
    return kept


UNREADABLE = ("named in the index patterns, but the key may not read it (Elasticsearch leaves it out of the "
              "search without an error): grant the key `read` on it, or leave it out of --indexes")


def _named_but_unreadable(es: Any, patterns: Sequence[str], found: Sequence[str]) -> list[str]:
    """The names in `patterns` (no wildcard, not a remote cluster's) the key may not read: a search
    with ignore_unavailable leaves them out without a word. One `_has_privileges` request, which any
    key may send, only when a name is not among the indices `_field_caps` found (an alias's or a data
    stream's name too: their indices have other names); the default `*log*` costs nothing."""
    present = set(found) | {search_fields.display_index(index) for index in found}
    names = [p for p in patterns if p and p not in present and not any(c in p for c in "*?:")
             and not p.startswith(("-", "<"))]
    if not names:
        return []
    try:
        answer = body_of(es.security.has_privileges(index=[{"names": names, "privileges": ["read"]}]))
    except Exception:  # noqa: BLE001 — cannot tell: the search says what it can
        return []
    granted = answer.get("index") or {}
    return [name for name in names if (granted.get(name) or {}).get("read") is False]


def _first_pages_of(plan: search_plan.SearchPlan, mode: Limited) -> tuple[list[search_lines.FirstPage], int]:
    """A lookup's first pages: every stream's, then those that count the indices left out."""
    page_size = mode.page_size or min(mode.limit + 1, MAX_PAGE_SIZE)
    pages = search_lines.first_pages(plan, page_size)
    left = _left_out_plan(plan)
    extra = search_lines.first_pages(left[0], MAX_PAGE_SIZE) if left else []
    return pages + extra, len(pages)


def _limited_lookup(es: Any, patterns: Sequence[str], query: LogQuery, policy: FieldPolicy, mode: Limited,
                    session_start: datetime | None, describe: str, cache: ShapeCache | None,
                    retry: RetryPolicy | None, observers: LookupObservers | None) -> SessionLogs:
    """`session_logs` for a Limited lookup: `_field_caps` and the first pages side by side."""
    from elastic_cli.search.early_pages import shapes_with_first_pages

    def planned(shapes: Sequence[search_fields.IndexShape]) -> tuple[search_plan.SearchPlan,
                                                                      list[search_lines.FirstPage], int]:
        plan = search_plan.plan_from_shapes(shapes, patterns, query, policy, session_start)
        return (plan, *_first_pages_of(plan, mode))

    early = shapes_with_first_pages(es, patterns, policy, cache, planned,
                                    lambda made: [(page.target, page.body) for page in made[1]])
    plan, pages, streams = early.planned
    result = _result(es, plan, mode, patterns, describe, policy, retry, observers)
    answers = early.answers
    if answers is None:
        # the plan the pages were asked with is not this answer's, or they failed: ask again
        try:
            answers = search_lines.msearch(es, pages)
        except Exception:  # noqa: BLE001 — the pager's own requests say what is wrong
            answers = None
    if answers is not None:
        result.first_answers = (pages[:streams], answers[:streams])
        result.left_out_answers = (pages[streams:], answers[streams:]) if len(pages) > streams else None
    return result
