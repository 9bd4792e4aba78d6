"""Which indices hold a session's lines and how to read each: one `_field_caps` answer split into
groups that sort and filter by time alike (the same time field, level fields and kind of message),
and the session window a search starts from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Sequence

from elastic_cli.cluster.connection import body_of
from elastic_cli.search.fields import FieldPolicy, IndexShape, display_index, resolve_shapes
from elastic_cli.search.query import LogQuery

if TYPE_CHECKING:
    from elastic_cli.search.shape_cache import ShapeCache

# why an index is left out of an errors-only search (its lines may be errors: counted by the caller)
NO_LEVEL = "no level field, so its errors cannot be told (--all-levels shows them)"


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
    if cache is not None and shapes != known:
        cache.save(shapes)
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
    return SearchPlan(query=query, groups=groups, indices=tuple(s.index for s in shapes),
                      message_types=message_types, session_start=session_start, shapes=tuple(shapes),
                      left_out=left_out)


def fetch_shapes(es: Any, patterns: Sequence[str], policy: FieldPolicy,
                 known: Sequence[IndexShape] | None = None, probe: bool = True) -> list[IndexShape]:
    """Each matched index's message type, time field and level field (`_field_caps`), and how each
    text index analyses a marked line (learnt once an index: `known` holds what was learnt; else
    asked now with `probe`, else unknown: every query form is sent)."""
    from elastic_cli.search.analysis import with_analysis

    response = es.field_caps(index=",".join(patterns), fields=policy.fields_to_ask(),
                             include_unmapped=True, ignore_unavailable=True, allow_no_indices=True)
    return with_analysis(es, resolve_shapes(body_of(response), policy), policy.message_field, known, probe)


def group_indices(shapes: Sequence[IndexShape], patterns: Sequence[str], policy: FieldPolicy, errors_only: bool
                  ) -> tuple[tuple[IndexGroup, ...], tuple[tuple[str, str], ...]]:
    """Indices grouped by time field, level field and message kind: each group is one sorted
    stream. An index without the message field cannot hold a line, and one without a level
    field cannot tell errors: both are left out, with the reason."""
    from elastic_cli.search.analysis import NONE, UNSEARCHABLE

    members: dict[tuple[str, tuple[str, ...], bool, str], list[str]] = {}
    keys: dict[tuple[str, tuple[str, ...], bool, str], tuple[str | None, tuple[str, ...], bool, str | None]] = {}
    left_out: list[tuple[str, str]] = []
    for shape in shapes:
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
        groups.append(IndexGroup(target=",".join(patterns), indices=tuple(names), time_field=time_field,
                                 level_fields=level_fields, message_is_keyword=is_keyword, message_terms=terms,
                                 picked=len(names) != len(shapes)))
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
