"""Which failures of a running search are worth waiting out, and how long to wait.

A follow or an export that has started runs for minutes or hours against a cluster that
changes under it: a connection drops, a node restarts, a proxy answers 503 while a node
is elected. The transport already sends a failed read again a few times within seconds
(`cluster.transport`); this is the outer rule, for failures that outlast those: wait
with a jittered, capped backoff (at least what `Retry-After` asks), say so, and go on,
for at most a budget of time failing in a row. Credentials that stop working, a
refused request, a missing index: those are not transient, and end the search at once.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from elastic_cli.cluster.retry_rules import MAX_WAIT_SECONDS, RETRY_STATUSES, backoff_seconds, status_of
from elastic_cli.errors import plural

# shard failure types meaning the copy the search was reading went away (a node left or
# restarted): the same search on a new point in time reads the promoted replica
LOST_SHARD_TYPES = frozenset({
    "search_context_missing_exception", "node_disconnected_exception", "node_not_connected_exception",
    "connect_transport_exception", "no_shard_available_action_exception", "node_closed_exception",
    "send_request_transport_exception", "shard_not_found_exception", "index_shard_closed_exception",
    "already_closed_exception", "node_shutdown_exception", "task_cancelled_exception",
})
FIRST_WAIT_SECONDS = 1.0  # the outer wait starts longer than the transport's (`retry_rules.BACKOFF_SECONDS`)
DEFAULT_RETRY_FOR = "5m"


class PointInTimeLost(Exception):
    """The point in time is gone (expired, or a node holding it restarted): the walk cannot go on."""

    def __init__(self, hits_read: int):
        super().__init__(f"the point in time was lost after {plural(hits_read, 'hit')}")
        self.hits_read = hits_read


class ShardsLost(Exception):
    """A page came back without some shards whose copy went away mid-walk (a node left)."""

    def __init__(self, hits_read: int, failure: str):
        super().__init__(f"shards lost after {plural(hits_read, 'hit')}: {failure}")
        self.hits_read = hits_read
        self.failure = failure


def failure_types(response: Any) -> set[str]:
    """Every error type named in a search answer's shard failures (and their causes)."""
    shards = (response.get("_shards") or {}) if hasattr(response, "get") else {}
    found: set[str] = set()
    for failure in shards.get("failures") or []:
        _collect_types(failure.get("reason"), found)
    return found


def _collect_types(reason: Any, found: set[str]) -> None:
    if isinstance(reason, dict):
        if isinstance(reason.get("type"), str):
            found.add(reason["type"])
        for key in ("caused_by", "root_cause"):
            value = reason.get(key)
            for item in value if isinstance(value, list) else [value]:
                _collect_types(item, found)


def shards_were_lost(response: Any) -> bool:
    """True when a page's shard failures all say the copy being read went away."""
    types = failure_types(response)
    return bool(types) and all(t in LOST_SHARD_TYPES or t.endswith("transport_exception") for t in types)


def transient_reason(exc: BaseException) -> str | None:
    """What went wrong, in words, when waiting may fix it; None when it cannot (credentials,
    a refused request, a bad certificate: retrying gives the same answer)."""
    from elastic_transport import ConnectionError, ConnectionTimeout, TlsError

    if isinstance(exc, PointInTimeLost):
        return "the search's point in time was lost"
    if isinstance(exc, ShardsLost):
        return "a node holding the search's shards went away"
    if isinstance(exc, TlsError):
        return None
    if isinstance(exc, ConnectionTimeout):
        return "the cluster did not answer in time"
    if isinstance(exc, ConnectionError):
        return "connection lost"
    status = status_of(exc)
    if status in RETRY_STATUSES:
        return f"the cluster answered HTTP {status}"
    if status is not None and status >= 500 and _names_lost_shards(exc):
        return "a node holding the search's shards went away"
    return None


def _names_lost_shards(exc: BaseException) -> bool:
    body = getattr(exc, "body", None)
    text = json.dumps(body, default=str) if isinstance(body, dict) else ""
    return any(t in text for t in LOST_SHARD_TYPES)


def retry_after(exc: BaseException) -> float | None:
    """What the server's `Retry-After` asked for, in seconds (None when it did not)."""
    from elastic_cli.cluster.transport import retry_after_seconds

    headers = getattr(getattr(exc, "meta", None), "headers", None)
    if not headers:
        return None
    try:
        return retry_after_seconds(headers)
    except Exception:  # noqa: BLE001 — an odd header is no reason to stop
        return None


@dataclass(frozen=True)
class Retrying:
    """One wait, as a command says it: "connection lost: retrying in 4 s"."""

    reason: str
    wait: float
    attempt: int  # 1 for the first retry of a run of failures
    failing_for: float  # seconds since the first failure of this run

    def __str__(self) -> str:
        return f"{self.reason}: retrying in {self.wait:.0f} s"


@dataclass(frozen=True)
class RetryPolicy:
    """For how long a run of failures is waited out (0: not at all), and the waits."""

    retry_for: float = 300.0
    first_wait: float = FIRST_WAIT_SECONDS
    max_wait: float = MAX_WAIT_SECONDS

    def wait(self, attempt: int, asked: float | None = None, rand: Callable[[], float] = random.random) -> float:
        """The wait before retry `attempt` (1, 2, ...): doubling from `first_wait`, capped at
        `max_wait`, up to half less at random so that many clients do not retry in step; never
        less than a `Retry-After` asked for."""
        return max(backoff_seconds(attempt - 1, self.first_wait, self.max_wait, rand), asked or 0.0)


class Retrier:
    """The one runner of waits for every read that outlives failures (an export, a limited lookup,
    `--follow`, `sessions`): counts a run of failures; `failed(exc)` waits or raises, `wait_out(exc)`
    waits or says why it gave up, `succeeded()` ends the run (and tells `on_recovered` how long
    it lasted)."""

    def __init__(self, policy: RetryPolicy, on_retry: Callable[[Retrying], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 on_recovered: Callable[[float], None] | None = None):
        self.policy = policy
        self.on_retry = on_retry
        self.on_recovered = on_recovered
        self.sleep = sleep
        self.clock = clock
        self.attempt = 0
        self.first_failure: float | None = None

    def failed(self, exc: BaseException) -> None:
        """Wait before the next try; re-raise `exc` when it is not transient or the budget is spent."""
        reason = transient_reason(exc)
        if reason is None:
            raise exc
        now = self.clock()
        if self.first_failure is None:
            self.first_failure = now
        failing_for = now - self.first_failure
        self.attempt += 1
        wait = self.policy.wait(self.attempt, retry_after(exc))
        if failing_for + wait > self.policy.retry_for:
            raise exc
        if self.on_retry:
            self.on_retry(Retrying(reason, wait, self.attempt, failing_for))
        self.sleep(wait)

    def wait_out(self, exc: BaseException) -> str | None:
        """Wait before the next try and return None; or, when failures of this kind lasted past the
        budget, return what went wrong in words (the read is then partial). Re-raises `exc` when
        waiting cannot fix it (credentials, a refused request)."""
        reason = transient_reason(exc)
        if reason is None:
            raise exc
        try:
            self.failed(exc)
        except Exception:  # noqa: BLE001 — the same transient failure, for too long
            return reason
        return None

    def succeeded(self) -> float | None:
        """End a run of failures; returns how long it lasted (None when there was none), and says it
        to `on_recovered`."""
        if self.first_failure is None:
            return None
        lasted = self.clock() - self.first_failure
        self.first_failure = None
        self.attempt = 0
        if self.on_recovered:
            self.on_recovered(lasted)
        return lasted


def seconds_text(seconds: float) -> str:
    """A budget as a person says it: 5 min, 30 s."""
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
