"""A search's first pages sent beside the `_field_caps` request that plans it (one round trip, not two).

Far from the cluster each sequential request costs a round trip. The first pages are planned from
the shapes a `ShapeCache` last saw (never seen: from the configured fields) and sent in one
`_msearch` while `_field_caps` answers; their answers are kept only when the fresh shapes plan
exactly the same requests, so a stale guess costs a round trip, never a wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from elastic_cli.search import analysis
from elastic_cli.search.fields import FieldPolicy, IndexShape
from elastic_cli.search.lines import msearch_requests, same_wire
from elastic_cli.search.plan import fetch_shapes, guessed_shapes
from elastic_cli.search.shape_cache import ShapeCache

Planned = TypeVar("Planned")


@dataclass
class EarlyPages(Generic[Planned]):
    """The fresh shapes, what `plan` made of them (the first pages among it), and those pages'
    answers when the early requests were exactly these (else None: ask again)."""

    shapes: list[IndexShape]
    planned: Planned
    answers: list[dict[str, Any]] | None


def shapes_with_first_pages(es: Any, patterns: Sequence[str], policy: FieldPolicy, cache: ShapeCache | None,
                            plan: Callable[[Sequence[IndexShape]], Planned],
                            wire: Callable[[Planned], list[tuple[str, dict[str, Any]]]]) -> EarlyPages[Planned]:
    """`_field_caps` for `patterns`, and beside it the first pages `plan` makes of the last known
    shapes (`wire` gives the pages' targets and bodies). Planned once more only when the fresh shapes
    differ from the known ones (else the plan is reused: planning is pure). The `_field_caps`
    request's error is this call's error, as when it is sent alone; a failed early search is only a
    guess that did not pay."""
    from concurrent.futures import ThreadPoolExecutor

    known = cache.load() if cache is not None else None
    guessed = known if known is not None else guessed_shapes(patterns, policy)
    sent_plan = plan(guessed)
    sent = wire(sent_plan)
    pool = ThreadPoolExecutor(max_workers=2)
    # what the cache names but has not learnt (a new daily index): asked beside, for the next lookup;
    # this one plans as the cache says (unknown: every form), so nothing waits on it
    unlearnt = analysis.to_learn(known)
    learning = pool.submit(analysis.learn, es, unlearnt, policy.message_field) if unlearnt else None
    try:
        fresh = pool.submit(fetch_shapes, es, patterns, policy, known, False)
        answers: list[dict[str, Any]] | None
        try:
            # sent once (a busy cluster gets the `_field_caps` request's retries, not two sets of them)
            answers = msearch_requests(es.options(max_retries=0) if hasattr(es, "options") else es, sent)
        except Exception:  # noqa: BLE001 — the `_field_caps` answer, or the usual path, says what is wrong
            answers = None
        shapes = fresh.result()
        learnt = learning.result() if learning is not None else []
    finally:
        pool.shutdown(wait=False)
    if cache is not None:  # what may be searched: an index closed or blocked now may not be next time
        kept = analysis.with_analysis(es, [s for s in shapes if not s.blocked], policy.message_field,
                                      [*shapes, *learnt], probe=False)
        if kept != known:
            cache.save(kept)
    planned = sent_plan if list(shapes) == list(guessed) else plan(shapes)
    if answers is not None and not same_wire(wire(planned), sent):
        answers = None  # planned from shapes the cluster no longer has: never a stale answer
    return EarlyPages(shapes=list(shapes), planned=planned, answers=answers)
