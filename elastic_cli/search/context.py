"""Lines around each error line, as `grep -A/-B/-C` prints them: `logs -A/-B/-C N`.

What "around" means: the session's own lines of any level (the same markers, the same window
and indices as the lookup, as `--all-levels` reads them), in the order they are printed: `-B N`
is the N lines printed before an error line (older; newer with --reverse), `-A N` the N after.
The session's lines are the useful reading: another session's lines at the same moment say
nothing of this one, and a number of lines (not a time span) is what grep users expect; the
lookup already reads every level, so "around" is its own lines.

How: the error lines are read first (the lookup as asked: a limit, or every one); then the
session's lines of every level are walked in the same order, each error line recognised by its
identity (index and `_id`, so both searches agree on what a match is, whatever the level field
holds), and the walk stops once the last error line's after-lines are out. A line is printed once
even where two error lines' contexts overlap; `gap` marks the first line of a group that does not
follow the previous group (grep's `--`). An error line the walk did not meet (deleted meanwhile,
or the walk cut short) is still printed, after the others, without context: never lost.

With `--follow` (as `tail -f | grep -C N`): the session's lines of every level are followed, and the
lines around each error line are those printed before and after it in the order they arrive (`-A`
lines are printed as they come). Which lines are errors the cluster decides, as for the error lines
of a lookup: after each poll that brought lines, one `_msearch` asks, for each group of indices, which
of those ids its error filter matches (the level fields and rule `logs` uses without context).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from elastic_cli.search.lines import SearchStats
from elastic_cli.search.session_line import SessionLine
from elastic_cli.search.session_logs import Export, Follow, SessionLogs

if TYPE_CHECKING:
    from elastic_cli.search.lookup import SessionSearch


@dataclass(frozen=True)
class Context:
    """How many lines to print before and after each error line (`-B`, `-A`; `-C` sets both)."""

    before: int = 0
    after: int = 0

    def __post_init__(self) -> None:
        if self.before < 0 or self.after < 0:
            raise ValueError("context line counts cannot be negative")

    def __bool__(self) -> bool:
        return bool(self.before or self.after)


def around(matches: Sequence[SessionLine], pages: Iterable[Sequence[SessionLine]], context: Context
           ) -> Iterator[list[SessionLine]]:
    """The lines to print, a page for each page of `pages` that gives some (pure).

    `matches`: the error lines, in the order printed; `pages`: every line of the session in that
    same order (the error lines among them). Each line yielded is marked `context` (not an error
    line) and `gap` (a line was skipped before it since the previous one printed). Reading of
    `pages` stops as soon as nothing more can be printed from it; error lines it never gave
    follow at the end, each a group of its own."""
    wanted = {line.id: line for line in matches}
    left = dict(wanted)  # the error lines not met yet
    if not wanted:
        return
    held: deque[tuple[int, SessionLine]] = deque(maxlen=context.before)  # the last lines passed over
    after_left = 0
    last = None  # the position of the last line printed
    position = -1
    out: list[SessionLine] = []

    def put(at: int, line: SessionLine, is_context: bool) -> None:
        nonlocal last
        out.append(line._replace(context=is_context, gap=last is not None and at > last + 1))
        last = at

    for page in pages:
        for line in page:
            position += 1
            if line.id in left:
                del left[line.id]
                for at, held_line in held:
                    put(at, held_line, True)
                held.clear()
                put(position, wanted[line.id], False)
                after_left = context.after
            elif line.id in wanted:
                position -= 1  # an error line given twice (a resumed read): printed already
            elif after_left:
                put(position, line, True)
                after_left -= 1
            elif context.before:
                held.append((position, line))
        if out:
            yield out
            out = []
        if not left and not after_left:
            return
    rest = [line._replace(context=False, gap=last is not None or i > 0)
            for i, line in enumerate(line for line in matches if line.id in left)]
    if rest:
        yield rest


@dataclass
class ContextLogs(SessionLogs):
    """A lookup's error lines with the lines around them: `pages()` reads the error lines (the
    lookup as asked), then walks the session's lines of every level. The coverage is the error
    lines' and, where the walk missed lines, the walk's too (context lines may be missing)."""

    context: Context = Context()
    walk: Callable[[], SessionLogs] | None = None  # the lookup of every level, run once the error lines are read

    def pages(self) -> Iterator[list[SessionLine]]:
        matches = [line for page in super().pages() for line in page]
        if not matches:
            return
        assert self.walk is not None
        walk = self.walk()
        pages = walk.pages()
        try:
            yield from around(matches, pages, self.context)
        finally:
            close = getattr(pages, "close", None)
            if close:
                close()
            self.stats = SearchStats(streams=[*self.stats.streams, *walk.stats.streams],
                                     undated=[*self.stats.undated, *walk.stats.undated])
            self._fold(walk.coverage)
            self.lines = len(matches)

    def _fold(self, walk: Any) -> None:
        """What the walk missed: context lines may be missing, said as any missing line is."""
        cov = self.coverage
        if walk.shards_failed > cov.shards_failed:
            cov.shards_total = max(cov.shards_total, walk.shards_total)
            cov.shards_failed, cov.failure = walk.shards_failed, cov.failure or walk.failure
        cov.timed_out += walk.timed_out
        if walk.gave_up and not cov.gave_up:
            cov.gave_up = replace(walk.gave_up, lacking="the context lines after those are missing (every error "
                                                        "line is printed)")


class StreamAround:
    """`around` for lines that arrive (a follow): fed batch by batch in the order printed, with the
    ids of the error lines among them; gives what to print of each batch, marked as `around` marks
    it. Fed a whole session in any cut, it prints what `around` prints (pure)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.held: deque[tuple[int, SessionLine]] = deque(maxlen=context.before)
        self.after_left = 0
        self.last: int | None = None
        self.position = -1

    def feed(self, lines: Sequence[SessionLine], errors: set[tuple[str, str]]) -> list[SessionLine]:
        out: list[SessionLine] = []

        def put(at: int, line: SessionLine, is_context: bool) -> None:
            out.append(line._replace(context=is_context, gap=self.last is not None and at > self.last + 1))
            self.last = at

        for line in lines:
            self.position += 1
            if line.id in errors:
                for at, held_line in self.held:
                    put(at, held_line, True)
                self.held.clear()
                put(self.position, line, False)
                self.after_left = self.context.after
            elif self.after_left:
                put(self.position, line, True)
                self.after_left -= 1
            elif self.context.before:
                self.held.append((self.position, line))
        return out


def error_requests(plan: Any, lines: Sequence[SessionLine]) -> list[tuple[str, dict[str, Any]]]:
    """For each group of indices with a level field that holds some of `lines`: a search of those ids
    with the group's error filter, the rule the lookup's own error search applies (pure)."""
    from elastic_cli.search.fields import error_filter
    from elastic_cli.search.query import index_filter

    requests = []
    for group in plan.groups:
        if not group.level_fields:
            continue
        ids = sorted({line.id[1] for line in lines if line.id[0] in group.indices})
        if ids:
            indices = sorted({line.id[0] for line in lines if line.id[0] in group.indices})
            query = {"bool": {"filter": [{"ids": {"values": ids}}, index_filter(indices),
                                         error_filter(group.level_fields)]}}
            requests.append((group.target, {"query": query, "_source": False, "size": len(ids)}))
    return requests


@dataclass
class FollowContextLogs(SessionLogs):
    """`--follow` with -A/-B/-C: the session's lines of every level as they arrive, of which the error
    lines and those around them are printed (`StreamAround`); the cluster says which are errors."""

    context: Context = Context()

    def pages(self) -> Iterator[list[SessionLine]]:
        from elastic_cli.errors import RequestRejected
        from elastic_cli.search import follow as search_follow
        from elastic_cli.search.lines import msearch_requests

        assert isinstance(self.mode, Follow)
        mode, stream = self.mode, StreamAround(self.context)
        current = self.plan  # replanned while following: new indices, with their level fields

        def replan() -> Any:
            nonlocal current
            current = self._replanned()
            return current

        def errors_among(batch: list[SessionLine]) -> set[tuple[str, str]]:
            retrier = self._retrier()
            while True:
                try:
                    answers = msearch_requests(self.es, error_requests(current, batch))
                except Exception as exc:  # noqa: BLE001 — a transient failure waits, any other is raised
                    retrier.failed(exc)
                    continue
                if answers is None:
                    raise RequestRejected("the cluster did not say which of the followed lines are errors (a search "
                                          "of their ids failed)", "run it again with --debug to see the answer")
                return {(h.get("_index") or "", h.get("_id") or "") for a in answers for h in a["hits"]["hits"]}

        self._count_left_out()
        for batch in search_follow.follow_polls(self.es, self.plan, lag=mode.lag, interval=mode.interval,
                                                polls=mode.polls, on_stats=self._poll_observer(),
                                                retrier=self._retrier(),
                                                replan=replan if self.patterns else None,
                                                replan_every=mode.replan_every):
            errors = errors_among(batch)
            self.lines += sum(line.id in errors for line in batch)
            out = stream.feed(batch, errors)
            if out:
                yield out


def context_lookup(search: SessionSearch, lookup: Callable[[SessionSearch], SessionLogs]) -> SessionLogs:
    """`lookup` with context: the error lines as `search` asks (read by `lookup`, the one lookup
    without context), then the session's other lines around them (`ContextLogs`). The walk of every
    level is planned once the error lines are read, and only when there is one. Following, the lines
    of every level are followed and the errors among them asked after each poll (`FollowContextLogs`)."""
    assert search.context, "context_lookup needs a search with context"
    if isinstance(search.mode, Follow):
        every = lookup(replace(search, context=None, query=replace(search.query, errors_only=False)))
        copied = {f.name: getattr(every, f.name) for f in fields(SessionLogs)}
        return FollowContextLogs(**copied, context=search.context)
    matches = lookup(replace(search, context=None))
    every_level = replace(search, context=None, mode=Export(page_size=getattr(search.mode, "page_size", None)),
                          query=replace(search.query, errors_only=False))
    copied = {f.name: getattr(matches, f.name) for f in fields(SessionLogs)}
    return ContextLogs(**copied, context=search.context, walk=lambda: lookup(every_level))
