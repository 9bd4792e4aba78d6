"""Which indices hold a session's lines and how to read each: one `_field_caps` answer split into
groups that sort and filter by time alike (the same time field, level fields and kind of message),
and the session window a search starts from."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Sequence

from elastic_cli.cluster.connection import body_of
from elastic_cli.errors import RequestRejected
from elastic_cli.search import coverage
from elastic_cli.search.fields import CLOSED, READ_BLOCK, FieldPolicy, IndexShape, display_index, resolve_shapes
from elastic_cli.search.query import LogQuery

if TYPE_CHECKING:
    from elastic_cli.search.shape_cache import ShapeCache

# why an index is left out of an errors-only search (its lines may be errors: counted by the caller)
NO_LEVEL = coverage.NO_LEVEL  # an index left out of an errors-only search


@dataclass(frozen=True)
class Window:
    """The lower time bound a search starts from, and where it came from (for --explain, -v)."""

    since: datetime
    origin: str


@dataclass(frozen=True)
class IndexGroup:
    """Indices searched as one sorted stream: the same time field, level field and kind of
    message (keyword or text, which decides the query clauses)."""

    target: str  # what the point in time is opened on: always the user's patterns (aliases kept)
    indices: tuple[str, ...]
    time_field: str | None
    level_fields: tuple[str, ...]  # a line is an error when any of them says so
    message_is_keyword: bool = False
    message_terms: str | None = None  # how the indices analyse a marked line (search/analysis.py)
    # the patterns match more indices than this group's: its own are picked in the body (`_index`)
    picked: bool = False

    @property
    def has_time(self) -> bool:
        return self.time_field is not None

    @property
    def only_indices(self) -> tuple[str, ...]:
        """The indices a search on the patterns is kept to (query.index_filter); () for all."""
        return self.indices if self.picked else ()


@dataclass(frozen=True)
class SearchPlan:
    query: LogQuery
    groups: tuple[IndexGroup, ...]
    indices: tuple[str, ...]
    message_types: tuple[str, ...]
    session_start: datetime | None = None
    shapes: tuple[IndexShape, ...] = ()
    # indices left out, with why: no message field, or no level field while errors only
    left_out: tuple[tuple[str, str], ...] = ()

    def query_for(self, group: IndexGroup) -> LogQuery:
        query = replace(self.query, message_is_keyword=group.message_is_keyword, message_is_mixed=False,
                        time_field=group.time_field, tags_field=None, level_fields=group.level_fields,
                        only_indices=group.only_indices, message_terms=group.message_terms)
        if group.has_time:
            return query
        # no date to filter on: a time bound would hide every line of these indices
        return replace(query, since=None, until=None)

    def undated_query_for(self, group: IndexGroup) -> LogQuery | None:
        """The lines of a dated group that lack its time field, which a time bound would hide
        (a shipper that lost the time); None when no bound applies (they are in the stream)."""
        query = self.query_for(group)
        if group.time_field is None or (query.since is None and query.until is None):
            return None
        return replace(query, time_field=None, since=None, until=None, lacking_field=group.time_field)


def session_window(session_start: datetime | None, margin: timedelta | None) -> Window | None:
    """Where a session's lines can begin: its decoded start minus a margin (None: search all time)."""
    if session_start is None or margin is None:
        return None
    start = session_start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Window(since=session_start - margin, origin=f"session start {start} minus {_duration(margin)}")


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def plan_search(es: Any, patterns: Sequence[str], query: LogQuery, policy: FieldPolicy | None = None,
                session_start: datetime | None = None, cache: ShapeCache | None = None) -> SearchPlan:
    """Which indices the patterns match and how to search each (one `_field_caps` request; how
    each text index analyses a marked line, once an index: `cache` keeps what was learnt)."""
    policy = policy or default_policy(query)
    known = cache.load() if cache is not None else None
    shapes = fetch_shapes(es, patterns, policy, known)
    searchable = [s for s in shapes if not s.blocked]  # an index closed or blocked now may not be next time
    if cache is not None and searchable != known:
        cache.save(searchable)
    return plan_from_shapes(shapes, patterns, query, policy, session_start)


def default_policy(query: LogQuery) -> FieldPolicy:
    return FieldPolicy(message_field=query.message_field, time_field=query.time_field or "utc_time",
                       tags_field=query.tags_field or "tags", time_explicit=True, level_explicit=True)


def guessed_shapes(patterns: Sequence[str], policy: FieldPolicy) -> list[IndexShape]:
    """What a cluster never seen before most likely holds: every index with the configured fields
    (text message). Only a guess to send a search early with: a fresh `_field_caps` answer decides."""
    from elastic_cli.search.analysis import UNKNOWN

    return [IndexShape(index=",".join(patterns), message_type="text", time_field=policy.time_field,
                       level_fields=(policy.tags_field,), message_terms=UNKNOWN)]


def plan_from_shapes(shapes: Sequence[IndexShape], patterns: Sequence[str], query: LogQuery,
                     policy: FieldPolicy, session_start: datetime | None = None) -> SearchPlan:
    """The plan for a `_field_caps` answer already read (or for the last known one)."""
    groups, left_out = group_indices(shapes, patterns, policy, errors_only=query.errors_only)
    message_types = tuple(sorted({s.message_type for s in shapes if s.message_type}))
    return SearchPlan(query=query, groups=groups, indices=tuple(s.index for s in shapes if not s.blocked),
                      message_types=message_types, session_start=session_start, shapes=tuple(shapes),
                      left_out=left_out)


def fetch_shapes(es: Any, patterns: Sequence[str], policy: FieldPolicy,
                 known: Sequence[IndexShape] | None = None, probe: bool = True) -> list[IndexShape]:
    """Each matched index's message type, time field and level field (`_field_caps`), and how each
    text index analyses a marked line (learnt once an index: `known` holds what was learnt; else
    asked now with `probe`, else unknown: every query form is sent). The indices the patterns match
    that no search may read (closed, or with a read block) come last, with `blocked` saying why."""
    from elastic_cli.search.analysis import with_analysis

    caps, unreadable = field_caps(es, patterns, policy.fields_to_ask())
    return with_analysis(es, resolve_shapes(caps, policy), policy.message_field, known, probe) + unreadable


# a lookup stops excluding read-blocked indices one by one after this many (each costs a round trip)
MAX_BLOCKED = 50


def field_caps(es: Any, patterns: Sequence[str], fields: Sequence[str]) -> tuple[dict[str, Any], list[IndexShape]]:
    """The `_field_caps` answer for the patterns, and the indices they match that no search may read.

    A closed index is skipped by every search without a word: `_resolve/index` (which a read key may
    call) names them, sent beside `_field_caps` (the same round trip, one more request). An index with
    a read block fails the whole request, naming it: it is left out of the patterns and the request
    sent again (a round trip per blocked index, only when there is one)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    closed = pool.submit(closed_indices, es, patterns)
    try:
        blocked: list[str] = []
        while True:
            target = search_target(patterns, blocked)
            if not target:  # every index named has a read block: asking for "" would ask for every index
                caps: dict[str, Any] = {}
                break
            try:
                caps = body_of(es.field_caps(index=target, fields=list(fields), include_unmapped=True,
                                             ignore_unavailable=True, allow_no_indices=True))
                break
            except Exception as exc:  # noqa: BLE001 — re-raised unless it names an index with a read block
                named = read_blocked(exc)
                if not named or len(blocked) >= MAX_BLOCKED:
                    raise
                if set(named) <= set(blocked):
                    raise _unexcludable(named[0], target) from exc
                blocked += [index for index in named if index not in blocked]
        found = set(caps.get("indices") or ())
        shut = [name for name in closed.result() if name not in found and name not in blocked]
    finally:
        pool.shutdown(wait=False)
    return caps, ([IndexShape(name, None, None, blocked=CLOSED) for name in shut]
                  + [IndexShape(name, None, None, blocked=READ_BLOCK) for name in sorted(blocked)])


def closed_indices(es: Any, patterns: Sequence[str]) -> list[str]:
    """The closed indices the patterns match (`_resolve/index`, which a read key may call): a search
    skips them without a word. Empty when the answer cannot be had (the search says what it can)."""
    once = es.options(max_retries=0) if hasattr(es, "options") else es  # a busy cluster: the other's retries
    try:
        answer = body_of(once.indices.resolve_index(name=",".join(patterns), expand_wildcards="closed",
                                                    ignore_unavailable=True, allow_no_indices=True))
    except Exception:  # noqa: BLE001 — cannot tell
        return []
    return sorted(str(item.get("name")) for item in answer.get("indices") or ()
                  if isinstance(item, dict) and "closed" in (item.get("attributes") or ()))


_BLOCKED_INDEX = re.compile(r"index \[(.+?)\] blocked by: \[[^\]]*read[^\]]*\]")


def read_blocked(exc: BaseException) -> list[str]:
    """The indices an error says a read block forbids (`cluster_block_exception`: Elasticsearch
    names the first it met)."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or error.get("type") != "cluster_block_exception":
        return []
    return list(dict.fromkeys(_BLOCKED_INDEX.findall(str(error.get("reason") or ""))))


def search_target(patterns: Sequence[str], blocked: Sequence[str]) -> str:
    """The patterns as a search's target, without the indices no search may read: a name given is
    dropped, one a wildcard matches is excluded (`-name`, last: Elasticsearch 8 applies an exclusion
    to the wildcards before it only). An alias or data stream over one cannot be narrowed: the
    request then fails again."""
    if not blocked:
        return ",".join(patterns)
    kept = [p for p in patterns if p not in blocked]
    if not any("*" in p for p in kept if not p.startswith("-")):
        return ",".join(kept)
    return ",".join(kept + [f"-{name}" for name in blocked if ":" not in name])


def _unexcludable(index: str, target: str) -> RequestRejected:
    return RequestRejected(
        f"{index} has a read block (index.blocks.read) and {target!r} reaches it through an alias or a data "
        "stream, which cannot be searched without it: no search of the patterns can run",
        coverage.FIXES[coverage.READ_BLOCK].format(index=index).replace(
            "leave it out of --indexes", "give --indexes without the alias"))


def group_indices(shapes: Sequence[IndexShape], patterns: Sequence[str], policy: FieldPolicy, errors_only: bool
                  ) -> tuple[tuple[IndexGroup, ...], tuple[tuple[str, str], ...]]:
    """Indices grouped by time field, level field and message kind: each group is one sorted
    stream. An index without the message field cannot hold a line, and one without a level
    field cannot tell errors: both are left out, with the reason."""
    from elastic_cli.search.analysis import NONE, UNSEARCHABLE

    members: dict[tuple[str, tuple[str, ...], bool, str], list[str]] = {}
    keys: dict[tuple[str, tuple[str, ...], bool, str], tuple[str | None, tuple[str, ...], bool, str | None]] = {}
    left_out: list[tuple[str, str]] = []
    blocked = [s.index for s in shapes if s.blocked == READ_BLOCK]
    readable = sum(1 for s in shapes if not s.blocked)
    for shape in shapes:
        if shape.blocked:
            left_out.append((shape.index, coverage.CLOSED if shape.blocked == CLOSED else coverage.READ_BLOCK))
            continue
        if shape.message_type is None:
            left_out.append((shape.index, f"no field {policy.message_field}"))
            continue
        if shape.message_terms == NONE:
            left_out.append((shape.index, UNSEARCHABLE))
            continue
        if errors_only and not shape.level_fields:
            left_out.append((shape.index, NO_LEVEL))
            continue
        key = (shape.time_field or "", shape.level_fields, shape.message_is_keyword, shape.message_terms or "")
        keys[key] = (shape.time_field, shape.level_fields, shape.message_is_keyword, shape.message_terms)
        members.setdefault(key, []).append(shape.index)
    groups = []
    for key in sorted(members, reverse=True):
        names = members[key]
        time_field, level_fields, is_keyword, terms = keys[key]
        groups.append(IndexGroup(target=search_target(patterns, blocked), indices=tuple(names),
                                 time_field=time_field, level_fields=level_fields, message_is_keyword=is_keyword,
                                 message_terms=terms, picked=len(names) != readable))
    return tuple(groups), tuple(left_out)


_TERMS_SAID = {
    "whole": "its analyzer keeps the marker inside longer terms: a wildcard on the terms, slower",
    "dropped": "its analyzer drops the id: every marked line is read and checked, slower",
    "unknown": "its analysis could not be learnt: every query form is sent, slower",
}


def describe_plan(plan: SearchPlan) -> list[str]:
    """One line a group: which fields `logs` uses for which indices (for -v)."""
    lines = []
    for group in plan.groups:
        names = sorted({display_index(i) for i in group.indices})
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        time_text = f"time {group.time_field}" if group.time_field else "no date field (searched without a time bound, shown last)"
        level_text = (f"level {' or '.join(group.level_fields)}" if group.level_fields else "no level field")
        kind = "keyword" if group.message_is_keyword else "text"
        if group.message_terms and group.message_terms != "split":
            kind += f" ({_TERMS_SAID.get(group.message_terms, group.message_terms)})"
        lines.append(f"{shown}: {time_text}; {level_text}; message as {kind}")
    return lines
