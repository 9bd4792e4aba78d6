"""`--follow`: a session's new lines as they are indexed, like `tail -f`."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from elastic_cli.search.lines import SearchStats, session_lines
from elastic_cli.search.plan import SearchPlan
from elastic_cli.search.retry import Retrier, RetryPolicy
from elastic_cli.search.session_line import SessionLine

# how often a follow looks again for the indices its patterns match (one `_field_caps`)
REPLAN_SECONDS = 5.0


def follow_lines(es: Any, plan: SearchPlan, lag: timedelta, interval: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], datetime] | None = None,
                 polls: int | None = None, on_stats: Callable[[SearchStats], None] | None = None,
                 retrier: Retrier | None = None, replan: Callable[[], SearchPlan] | None = None,
                 replan_every: float = REPLAN_SECONDS, monotonic: Callable[[], float] = time.monotonic
                 ) -> Iterator[SessionLine]:
    """New lines as they are indexed, like `tail -f` (`follow_polls` says how)."""
    for event in _follow(es, plan, lag, interval, sleep, clock, polls, on_stats, retrier, replan, replan_every,
                         monotonic):
        if event is not None:
            yield event


def follow_polls(es: Any, plan: SearchPlan, lag: timedelta, interval: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], datetime] | None = None,
                 polls: int | None = None, on_stats: Callable[[SearchStats], None] | None = None,
                 retrier: Retrier | None = None, replan: Callable[[], SearchPlan] | None = None,
                 replan_every: float = REPLAN_SECONDS, monotonic: Callable[[], float] = time.monotonic
                 ) -> Iterator[list[SessionLine]]:
    """`follow_lines`, a list for each poll that found new lines (given once the poll is read, before
    the wait for the next one): for a reader that decides on a poll's lines together (-A/-B/-C)."""
    batch: list[SessionLine] = []
    for event in _follow(es, plan, lag, interval, sleep, clock, polls, on_stats, retrier, replan, replan_every,
                         monotonic, poll_ends=True):
        if event is not None:
            batch.append(event)
        elif batch:
            yield batch
            batch = []


def _follow(es: Any, plan: SearchPlan, lag: timedelta, interval: float, sleep: Callable[[float], None],
            clock: Callable[[], datetime] | None, polls: int | None, on_stats: Callable[[SearchStats], None] | None,
            retrier: Retrier | None, replan: Callable[[], SearchPlan] | None, replan_every: float,
            monotonic: Callable[[], float], poll_ends: bool = False) -> Iterator[SessionLine | None]:
    """New lines as they are indexed, like `tail -f`; with `poll_ends`, None after each poll's lines
    (before the wait).

    The first poll reads the session as `session_lines` does. Each later poll asks
    again for every line whose time is at most `lag` behind the wall clock, and skips
    what was printed (by index and id). So a line from a host whose clock runs ahead
    never hides later lines, and a line indexed late is still shown if it arrives
    within `lag` of its own time.

    The cluster may change under a follow: every `replan_every` seconds `replan()` says
    again which indices the patterns match (a data stream that rolled over, a new daily
    index, one deleted). A poll that fails on something waiting may fix (a lost
    connection, a node that left, a 503) is waited out by `retrier` and run again with
    the same bound, so the lines indexed meanwhile come too, none twice; a failure that
    lasts past the retrier's budget, or one waiting cannot fix (the key was revoked),
    is raised. What can be missed: a line that reaches Elasticsearch more than `lag`
    after the time it carries; and the lines of a shard that fails or times out, which
    `on_stats` is told of after each poll.
    """
    clock = clock or (lambda: datetime.now(timezone.utc))
    retrier = retrier or Retrier(RetryPolicy(retry_for=0))
    printed: dict[tuple[str, str], int | None] = {}
    poll_plan = replace(plan, query=replace(plan.query, reverse=False))
    planned_at = monotonic()
    done = 0
    while polls is None or done < polls:
        if replan is not None and monotonic() - planned_at >= replan_every:
            try:
                fresh = replan()
            except Exception as exc:  # noqa: BLE001 — a transient failure waits, any other is raised
                retrier.failed(exc)
                continue
            planned_at = monotonic()
            poll_plan = replace(fresh, query=poll_plan.query)
        poll_stats = SearchStats()
        started = clock()
        try:
            for line in session_lines(es, poll_plan, stats=poll_stats):
                key = line.id
                if key in printed:
                    continue
                printed[key] = line.time_ms
                yield line
        except Exception as exc:  # noqa: BLE001 — as above; the poll runs again with the same bound
            retrier.failed(exc)
            continue
        retrier.succeeded()  # says how long a run of failures lasted to the retrier's `on_recovered`
        if on_stats:
            on_stats(poll_stats)
        # from the poll's start: a line indexed while it ran is inside the next one's bound
        since = started - lag
        if plan.query.since is not None:
            since = max(since, plan.query.since)
        poll_plan = replace(poll_plan, query=replace(poll_plan.query, since=since))
        # a line older than the next poll's bound cannot come back: forget it (bounded memory)
        horizon = int(since.timestamp() * 1000)
        for key in [k for k, t in printed.items() if t is not None and t < horizon]:
            del printed[key]
        done += 1
        if poll_ends:
            yield None
        if polls is None or done < polls:
            sleep(interval)
