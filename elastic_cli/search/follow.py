"""`--follow`: a session's new lines as they are indexed, like `tail -f`."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from elastic_cli.search.lines import SearchStats, session_lines
from elastic_cli.search.plan import SearchPlan


def follow_lines(es: Any, plan: SearchPlan, lag: timedelta, interval: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], datetime] | None = None,
                 polls: int | None = None, on_stats: Callable[[SearchStats], None] | None = None
                 ) -> Iterator[dict]:
    """New lines as they are indexed, like `tail -f`.

    The first poll reads the session as `session_lines` does. Each later poll asks
    again for every line whose time is at most `lag` behind the wall clock, and skips
    what was printed (by index and id). So a line from a host whose clock runs ahead
    never hides later lines, and a line indexed late is still shown if it arrives
    within `lag` of its own time. What can be missed: a line that reaches
    Elasticsearch more than `lag` after the time it carries; and the lines of a shard
    that fails or times out, which `on_stats` is told of after each poll.
    """
    clock = clock or (lambda: datetime.now(timezone.utc))
    printed: dict[tuple[str, str], int | None] = {}
    poll_plan = replace(plan, query=replace(plan.query, reverse=False))
    done = 0
    while polls is None or done < polls:
        poll_stats = SearchStats()
        for hit in session_lines(es, poll_plan, stats=poll_stats):
            key = (hit["_index"], hit["_id"])
            if key in printed:
                continue
            printed[key] = hit.get("_time_ms")
            yield hit
        if on_stats:
            on_stats(poll_stats)
        since = clock() - lag
        if plan.query.since is not None:
            since = max(since, plan.query.since)
        poll_plan = replace(poll_plan, query=replace(poll_plan.query, since=since))
        # a line older than the next poll's bound cannot come back: forget it (bounded memory)
        horizon = int(since.timestamp() * 1000)
        for key in [k for k, t in printed.items() if t is not None and t < horizon]:
            del printed[key]
        done += 1
        if polls is None or done < polls:
            sleep(interval)
