"""What is worth asking again and how long to wait: one set of statuses, one backoff, one reader of
a status, for the transport's quick retries of a read (`transport`) and for the outer wait of a
read that has begun (`search.retry`). Light on purpose: no client is imported here."""

from __future__ import annotations

import random
from typing import Callable

# statuses a proxy or a cluster in trouble answers, which a later request may not get
RETRY_STATUSES = (429, 502, 503, 504)
BACKOFF_SECONDS = 0.5  # the transport's first wait
MAX_WAIT_SECONDS = 30.0  # no wait is longer; a Retry-After beyond it is not waited for by the transport


def backoff_seconds(attempt: int, first: float = BACKOFF_SECONDS, cap: float = MAX_WAIT_SECONDS,
                    rand: Callable[[], float] = random.random) -> float:
    """The wait before retry `attempt` + 1: doubling from `first` (attempt 0), capped at `cap`, up
    to half less at random so that many clients do not retry in step."""
    return min(cap, first * 2 ** attempt) * (0.5 + rand() / 2)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a client error (ApiError), or None for a transport error."""
    meta = getattr(exc, "meta", None)
    status = getattr(meta, "status", None) or getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None
