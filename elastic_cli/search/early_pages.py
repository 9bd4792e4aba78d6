"""A search's first pages sent beside the `_field_caps` request that plans it (one round trip, not two).

Far from the cluster each sequential request costs a round trip. The first pages are planned from
the shapes a `ShapeCache` last saw (never seen: from the configured fields) and sent in one
`_msearch` while `_field_caps` answers; their answers are kept only when the fresh shapes plan
exactly the same requests, so a stale guess costs a round trip, never a wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from elastic_cli.search.fields import FieldPolicy, IndexShape
from elastic_cli.search.lines import msearch_requests, same_wire
from elastic_cli.search.plan import fetch_shapes, guessed_shapes
from elastic_cli.search.shape_cache import ShapeCache

Request = TypeVar("Request")


@dataclass
class EarlyPages(Generic[Request]):
    """The fresh shapes, the first pages they plan, and those pages' answers when the early
    requests were exactly these (else None: ask again)."""

    shapes: list[IndexShape]
    requests: list[Request]
    answers: list[dict[str, Any]] | None


def shapes_with_first_pages(es: Any, patterns: Sequence[str], policy: FieldPolicy, cache: ShapeCache | None,
                            plan: Callable[[Sequence[IndexShape]], list[Request]],
                            wire: Callable[[Request], tuple[str, dict[str, Any]]]) -> EarlyPages[Request]:
    """`_field_caps` for `patterns`, and beside it the first pages `plan` makes of the last known
    shapes (`wire` gives a page's target and body). The `_field_caps` request's error is this call's
    error, as when it is sent alone; a failed early search is only a guess that did not pay."""
    from concurrent.futures import ThreadPoolExecutor

    known = cache.load() if cache is not None else None
    sent = plan(known if known is not None else guessed_shapes(patterns, policy))
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        fresh = pool.submit(fetch_shapes, es, patterns, policy)
        answers: list[dict[str, Any]] | None
        try:
            # sent once (a busy cluster gets the `_field_caps` request's retries, not two sets of them)
            answers = msearch_requests(es.options(max_retries=0) if hasattr(es, "options") else es,
                                       [wire(r) for r in sent])
        except Exception:  # noqa: BLE001 — the `_field_caps` answer, or the usual path, says what is wrong
            answers = None
        shapes = fresh.result()
    finally:
        pool.shutdown(wait=False)
    if cache is not None and shapes != known:
        cache.save(shapes)
    requests = plan(shapes)
    if answers is not None and not same_wire([wire(r) for r in requests], [wire(r) for r in sent]):
        answers = None  # planned from shapes the cluster no longer has: never a stale answer
    return EarlyPages(shapes=list(shapes), requests=requests, answers=answers)
