"""The use case of `logs`: one session's lines, page by page, with what they cover.

Usable from Python without click, as sqlite-utils' `Database` is:

    result = session_logs(es, ["*log*"], query, policy, session_start=start, mode=Limited(100))
    for page in result.pages():
        ...
    result.coverage.missing()   # [] when every line of the session was read

The pages come from `log_search` (plan, pager, merge, follow); this module decides what
a mode reads and records in one `Coverage` what the result lacks: shards that failed or
timed out, indices left out and how many of the session's lines they hold, a point in
time that was lost, lines beyond a limit. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Sequence, Union

from elastic_cli.errors import IndexNotFound
from elastic_cli.search import fields as search_fields
from elastic_cli.search import follow as search_follow
from elastic_cli.search import lines as log_search
from elastic_cli.search import plan as search_plan
from elastic_cli.search.coverage import Coverage, LeftOut
from elastic_cli.search.fields import FieldPolicy
from elastic_cli.search.pager import MAX_PAGE_SIZE, PIT_KEEP_ALIVE, PointInTimeLost
from elastic_cli.search.query import LogQuery
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


Mode = Union[Limited, Export, Follow]


@dataclass
class SessionLogs:
    """A session's lines (read by `pages()`, once) and their coverage (final when pages end)."""

    es: Any
    plan: search_plan.SearchPlan
    mode: Mode
    coverage: Coverage
    stats: log_search.SearchStats = field(default_factory=log_search.SearchStats)
    on_page: Callable[[int], None] | None = None  # hits read so far, after each page
    on_poll: Callable[[], None] | None = None  # --follow: after each poll
    on_partial: Callable[[Coverage], None] | None = None  # --follow: the first poll that missed lines
    lines: int = 0
    # a Limited lookup's first pages, read with the plan (one `_msearch`): the pages, their answers
    first_look: tuple[list[log_search.FirstPage], list[dict]] | None = None
    left_out_look: tuple[list[log_search.FirstPage], list[dict]] | None = None

    def pages(self) -> Iterator[list[dict]]:
        try:
            if isinstance(self.mode, Follow):
                yield from self._follow(self.mode)
            elif isinstance(self.mode, Export):
                yield from self._counted(log_search.session_pages(
                    self.es, self.plan, page_size=self.mode.page_size, prefetch=True, stats=self.stats,
                    on_page=self.on_page))
            else:
                yield from self._limited(self.mode)
        except PointInTimeLost:
            # what was read is kept and printed; the rest is named as missing (issue 23 resumes instead)
            self.coverage.stopped = (f"the search's point in time was lost after {self.lines} lines (idle past "
                                     f"its keep-alive of {PIT_KEEP_ALIVE}, or a node restarted): the lines after "
                                     "those are missing")
        finally:
            self._fold_stats(self.stats)
        if not isinstance(self.mode, Follow):
            self._count_left_out()

    def _counted(self, pages: Iterator[list[dict]]) -> Iterator[list[dict]]:
        for page in pages:
            self.lines += len(page)
            yield page

    def _limited(self, mode: Limited) -> Iterator[list[dict]]:
        left = mode.limit
        # one line more than shown says whether there are more, without another request
        wanted = mode.limit + 1
        page_size = mode.page_size or min(wanted, MAX_PAGE_SIZE)  # one page holds the answer and its one more
        first = None
        if self.first_look is not None:
            first = log_search.limited_from_first_pages(self.plan, *self.first_look, wanted=wanted,
                                                        stats=self.stats)
            if first is None:
                self.stats = log_search.SearchStats()  # paged again from the start, with a point in time
        pages = ([first] if first else []) if first is not None else log_search.session_pages(
            self.es, self.plan, limit=wanted, page_size=page_size, stats=self.stats, on_page=self.on_page)
        if first and self.on_page:
            self.on_page(self.stats.hits_read)
        for page in pages:
            if len(page) > left:
                page = page[:left]
                self.coverage.more_beyond_limit = True
            left -= len(page)
            if page:
                self.lines += len(page)
                yield page
            if left <= 0 and self.coverage.more_beyond_limit:
                return

    def _follow(self, mode: Follow) -> Iterator[list[dict]]:
        told = False

        def polled(poll: log_search.SearchStats) -> None:
            nonlocal told
            self._fold_stats(poll, into_totals=False)
            if self.on_partial and not told and (poll.shards_failed or poll.timed_out):
                told = True
                partial = Coverage(shards_total=poll.shards_total, shards_failed=poll.shards_failed,
                                   failure=poll.failure, timed_out=poll.timed_out)
                self.on_partial(partial)
            if self.on_poll:
                self.on_poll()

        self._count_left_out()  # once, before the first line: it does not change while following
        for hit in search_follow.follow_lines(self.es, self.plan, lag=mode.lag, interval=mode.interval,
                                           polls=mode.polls, on_stats=polled):
            self.lines += 1
            yield [hit]

    def _fold_stats(self, stats: log_search.SearchStats, into_totals: bool = True) -> None:
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

    def _count_left_out(self) -> None:
        """How many of the session's lines the indices left out for want of a level field hold:
        none means nothing is missing; some are named, with how many. One count request says
        whether there are candidates; only then are they read and checked like any line."""
        cov = self.coverage
        left = _left_out_plan(self.plan)
        if left is None or any(item.reason == search_plan.NO_LEVEL for item in cov.left_out):
            return
        plan, names = left
        found = log_search.counted_from_first_pages(*self.left_out_look) if self.left_out_look else None
        if found is None:
            try:
                candidates = any(_any_line(self.es, plan, g) for g in plan.groups)
                found = sum(len(page) for page in log_search.session_pages(self.es, plan)) if candidates else 0
            except Exception:  # noqa: BLE001 — cannot tell: they may hold lines, and that is said
                found = None
        if found != 0:
            cov.left_out.append(LeftOut(names, search_plan.NO_LEVEL, lines=found))


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
    return log_search.any_hit(es, group.target, plan.query_for(group))


def session_logs(es: Any, patterns: Sequence[str], query: LogQuery, policy: FieldPolicy, mode: Mode,
                 session_start: datetime | None = None, describe: str = "",
                 cache: ShapeCache | None = None) -> SessionLogs:
    """Plan the search of one session's lines (one `_field_caps` request) and return them, ready to
    read. Raises IndexNotFound when the patterns match no index (`describe` names where).

    A `Limited` lookup sends its first pages (one `_msearch`) beside the `_field_caps` request,
    planned from the shapes `cache` last saw (or, never seen, from the configured fields); they are
    kept only when the fresh answer plans exactly the same searches, else sent again."""
    if isinstance(mode, Limited):
        return _looked_up(es, patterns, query, policy, mode, session_start, describe, cache)
    plan = search_plan.plan_search(es, patterns, query, policy, session_start=session_start)
    return _result(es, plan, mode, patterns, describe)


def _result(es: Any, plan: search_plan.SearchPlan, mode: Mode, patterns: Sequence[str], describe: str
            ) -> SessionLogs:
    if not plan.indices:
        raise IndexNotFound(f"no index matches {','.join(patterns)!r}{describe}",
                            "check `indexes` (orx-elastic configure --indexes ...) or run `orx-elastic check`")
    coverage = Coverage(indices_searched=sum(len(g.indices) for g in plan.groups))
    for index, why in plan.left_out:
        if why != search_plan.NO_LEVEL:  # those are counted after the search (`_count_left_out`)
            coverage.left_out.append(LeftOut(search_fields.display_index(index), why))
    return SessionLogs(es=es, plan=plan, mode=mode, coverage=coverage)


def _first_look(plan: search_plan.SearchPlan, mode: Limited) -> tuple[list[log_search.FirstPage], int]:
    """A lookup's first pages: every stream's, then those that count the indices left out."""
    page_size = mode.page_size or min(mode.limit + 1, MAX_PAGE_SIZE)
    pages = log_search.first_pages(plan, page_size)
    left = _left_out_plan(plan)
    extra = log_search.first_pages(left[0], MAX_PAGE_SIZE) if left else []
    return pages + extra, len(pages)


def _looked_up(es: Any, patterns: Sequence[str], query: LogQuery, policy: FieldPolicy, mode: Limited,
               session_start: datetime | None, describe: str, cache: ShapeCache | None) -> SessionLogs:
    """`session_logs` for a Limited lookup: `_field_caps` and the first pages side by side."""
    from concurrent.futures import ThreadPoolExecutor

    known = cache.load() if cache is not None else None
    guess = search_plan.plan_from_shapes(known if known is not None else search_plan.guessed_shapes(patterns, policy),
                                         patterns, query, policy, session_start)
    sent, _ = _first_look(guess, mode)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        fresh = pool.submit(search_plan.fetch_shapes, es, patterns, policy)
        try:
            # sent once (a busy cluster gets the `_field_caps` request's retries, not two sets of them)
            answers = log_search.msearch(es.options(max_retries=0) if hasattr(es, "options") else es, sent)
        except Exception:  # noqa: BLE001 — the `_field_caps` answer, or the usual path, says what is wrong
            answers = None
        shapes = fresh.result()  # its error is the lookup's error, as when it was sent alone
    finally:
        pool.shutdown(wait=False)
    if cache is not None and shapes != known:
        cache.save(shapes)
    plan = search_plan.plan_from_shapes(shapes, patterns, query, policy, session_start)
    result = _result(es, plan, mode, patterns, describe)
    pages, streams = _first_look(plan, mode)
    if answers is None or not log_search.same_requests(pages, sent):
        # the plan the pages were asked with is not this answer's: ask again (never a stale answer)
        try:
            answers = log_search.msearch(es, pages)
        except Exception:  # noqa: BLE001 — the pager's own requests say what is wrong
            answers = None
    if answers is not None:
        result.first_look = (pages[:streams], answers[:streams])
        result.left_out_look = (pages[streams:], answers[streams:]) if len(pages) > streams else None
    return result
