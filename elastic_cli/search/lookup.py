"""One session's lines from a session reference: the core call of `logs`, `shows` and
`check --session`, usable from Python without click.

    search = prepare(settings, parse_session_ref(text), LookupRequest(mode=Limited(100)))
    result = lookup(es, search, LookupObservers(on_page=...))
    for page in result.pages():
        ...
    result.coverage.missing()   # [] when every line asked for was read

`prepare` is pure: what the flags and the settings ask for (the query, the session window, the
mode), so `--explain` shows it without connecting. `lookup` plans the search once (one
`_field_caps`, the first pages beside it) and returns the result, ready to read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from elastic_cli.errors import UsageError
from elastic_cli.openreplay.session_token import Marker, SessionRef, markers, session_start
from elastic_cli.search.fields import FieldPolicy
from elastic_cli.search.plan import Window, session_window
from elastic_cli.search.query import LogQuery, parse_duration
from elastic_cli.search.retry import RetryPolicy
from elastic_cli.search.session_logs import Limited, LookupObservers, Mode, SessionLogs, session_logs
from elastic_cli.search.shape_cache import ShapeCache

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings
    from elastic_cli.search.context import Context

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class LookupRequest:
    """What to read of a session: the flags of `logs`, as values."""

    mode: Mode = Limited(DEFAULT_LIMIT)
    errors_only: bool = True
    since: datetime | None = None  # an explicit lower bound, instead of the session window
    until: datetime | None = None
    reverse: bool = False
    session_window: bool = True  # start from the session's decoded start minus the margin
    source_fields: tuple[str, ...] | None = None  # None: the whole _source
    retry_for: timedelta | None = None  # None: the default policy
    shape_cache: bool = True  # plan from the shapes seen last time (a file under ~/.cache)
    also: tuple[str, ...] = ()  # texts a line may carry instead of the session's markers (the canary's nonce)
    context: Context | None = None  # -A/-B/-C: the session's lines around each error line (search.context)


@dataclass(frozen=True)
class SessionSearch:
    """A lookup as planned before anything is sent: what `lookup` runs and `--explain` prints."""

    ref: SessionRef
    query: LogQuery
    started: datetime | None  # decoded from the id; None when implausible
    window: Window | None  # where the search starts from, when the session window applies
    patterns: tuple[str, ...]
    policy: FieldPolicy
    mode: Mode
    retry: RetryPolicy | None
    where: str  # " on https://…", for "no index matches …"
    cache: ShapeCache | None  # the shapes seen last time, to send the first pages at once
    context: Context | None = None


def prepare(settings: Settings, ref: SessionRef, request: LookupRequest, now: datetime | None = None
            ) -> SessionSearch:
    """The query and window one session's lookup sends, from the settings and the request."""
    now = now or datetime.now(timezone.utc)
    started = session_start(ref.session_id, now)
    window = None
    if request.session_window and request.since is None:
        window = session_window(started, parse_duration(settings.session_margin))
    if window is not None and request.until is not None and _utc(request.until) < window.since:
        # the bound the user did not give must not be blamed: say where it came from
        raise UsageError(f"--until ({_iso(request.until)}) is before the session window, which starts at "
                         f"{_iso(window.since)} ({window.origin})",
                         "give --since too, or --no-session-window to search all time up to --until")
    query = LogQuery(
        markers=(*markers(ref), *(Marker(text) for text in request.also)),
        message_field=settings.message_field,
        time_field=settings.time_field,
        tags_field=settings.tags_field,
        errors_only=request.errors_only,
        since=request.since or (window.since if window else None),
        until=request.until,
        reverse=request.reverse,
        source_fields=request.source_fields,
    )
    retry = RetryPolicy(retry_for=request.retry_for.total_seconds()) if request.retry_for is not None else None
    patterns, policy = tuple(settings.index_patterns), FieldPolicy.from_settings(settings)
    return SessionSearch(ref=ref, query=query, started=started, window=window, patterns=patterns, policy=policy,
                         mode=request.mode, retry=retry, where=f" on {settings.url}",
                         cache=ShapeCache.for_settings(settings, patterns, policy) if request.shape_cache else None,
                         context=request.context or None)


def lookup(es: Any, search: SessionSearch, observers: LookupObservers | None = None) -> SessionLogs:
    """Plan the search (one `_field_caps`; a limited lookup's first pages beside it) and return the
    session's lines, ready to read with `pages()`. Raises IndexNotFound when the patterns match no
    index, and what the cluster's answers raise."""
    if search.context:  # -A/-B/-C: the error lines, then the session's lines around them
        from elastic_cli.search.context import context_lookup

        return context_lookup(search, lambda plain: lookup(es, plain, observers))
    return session_logs(es, search.patterns, search.query, search.policy, search.mode,
                        session_start=search.started, describe=search.where, cache=search.cache, retry=search.retry,
                        observers=observers)


def explain(search: SessionSearch) -> dict[str, Any]:
    """The first request as it would be sent (`logs --explain`), with the body an index whose
    message is a keyword field gets, and where the window came from. Sends nothing."""
    from elastic_cli.search.pager import (
        MAX_PAGE_SIZE,
        PAGE_SIZE,
        PIT_KEEP_ALIVE,
        PagedSearch,
        first_page_body,
        page_body,
    )
    from elastic_cli.search.query import build_search_body
    from elastic_cli.search.session_logs import Export, Follow

    index = ",".join(search.patterns)
    every = isinstance(search.mode, Export)  # --follow's first request is explained as a lookup's
    page_size = None if isinstance(search.mode, Follow) else search.mode.page_size
    limit = search.mode.limit if isinstance(search.mode, Limited) else DEFAULT_LIMIT
    pit = "<the id POST /_pit answered>"

    # as it is sent: a lookup's pages hold one line more than the limit (to know whether there are more)
    size = page_size or (PAGE_SIZE if every else min(limit + 1, MAX_PAGE_SIZE))

    def first_page(q: LogQuery) -> dict[str, Any]:
        search = PagedSearch(index=index, body=build_search_body(q, size), descending=q.reverse)
        # a lookup's first page goes in one _msearch beside _field_caps, without a point in time
        return page_body(search, pit) if every else first_page_body(search)

    pit_request = f"POST /{index}/_pit?keep_alive={PIT_KEEP_ALIVE}&ignore_unavailable=true"
    how = ({"point_in_time": pit_request, "request": "POST /_search"} if every
           else {"request": "POST /_msearch",
                 "header": {"index": index, "ignore_unavailable": True, "allow_no_indices": True},
                 "if_one_page_cannot_hold_the_answer": f"{pit_request}, then POST /_search with the point in time, "
                                                       "_shard_doc last in the sort, and search_after"})
    window = search.window
    return {
        **how,
        "body": first_page(search.query),
        "body_if_message_is_keyword": first_page(replace(search.query, message_is_keyword=True)),
        "window": ({"since": window.since.isoformat().replace("+00:00", "Z"), "from": window.origin}
                   if window else None),
        "page_size": size,  # every page's; an index that allows fewer (max_result_window) gets pages of that size
    }


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")
