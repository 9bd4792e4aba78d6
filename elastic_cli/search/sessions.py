"""Which recorded sessions had backend errors in a time window (`orx-elastic sessions`).

Every marked line in the window is read once with the pager (point in time,
search_after) and folded into one row per session as it streams: memory grows
with the number of sessions, not of lines. Both markers count: the v1.21+ id
directly, a v1.20 token through the session id it starts with. The same literal
check as `logs` applies, so a prefix of another id never makes a row; a marker
whose value is not a token or an id is counted as unparsed, never a crash.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from elastic_cli.cluster.connection import body_of
from elastic_cli.errors import plural
from elastic_cli.openreplay.session_token import (
    SESSION_ID_MARKER_PREFIX,
    TOKEN_MARKER_PREFIX,
    parse_session_ref,
    session_start,
)
from elastic_cli.search.coverage import Coverage, GaveUp, LeftOut
from elastic_cli.search.early_pages import shapes_with_first_pages
from elastic_cli.search.fields import FieldPolicy, IndexShape, error_filter
from elastic_cli.search.lines import message_of, request_key
from elastic_cli.search.pager import PAGE_SIZE, PagedSearch, WalkStats, first_page_body, shard_counts, walk
from elastic_cli.search.plan import IndexGroup, group_indices
from elastic_cli.search.query import escape_lucene_regexp, index_filter
from elastic_cli.search.retry import Retrier, Retrying, RetryPolicy
from elastic_cli.search.shape_cache import ShapeCache

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

DEFAULT_MAX_SESSIONS = 50_000
GENERATION_TOKEN = "v1.20"  # openReplaySessionToken=<token>
GENERATION_ID = "v1.21"  # openReplaySession.id=<id>

# a marker and the run of token characters after it; what the run means is decided below
_MARKER_RE = re.compile(r"(openReplaySessionToken=|openReplaySession\.id=)([0-9A-Za-z.\-]*)")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class SessionSummary:
    """One row: a session whose backend logged lines in the window."""

    session_id: str
    started: datetime | None  # decoded from the id
    first_line: datetime | None
    last_line: datetime | None
    lines: int
    generations: tuple[str, ...]  # which markers were seen: v1.20 (token), v1.21 (id)
    latest_message: str  # the first line of the most recent message
    replay_url: str | None


@dataclass(frozen=True)
class SessionsReport:
    rows: tuple[SessionSummary, ...]
    sessions_found: int  # before --limit
    lines_read: int
    unparsed_markers: int  # a marker whose value is neither a token nor an id
    stopped_at_max: bool  # more sessions than --max-sessions (or lines than max_lines): the rest were not counted
    left_out: tuple[tuple[str, str], ...] = ()  # indices not searched, and why
    unread: tuple[int | None, ...] = ()  # for each of left_out: its marked lines not counted (None: unknown)
    indices_matched: int = 0
    shards_total: int = 0
    shards_failed: int = 0  # shards that answered with an error: their lines were not counted
    failure: str = ""  # the first failure's index, shard and reason
    timed_out: int = 0  # pages a shard answered after running out of time: lines may be uncounted
    gave_up: GaveUp | None = None  # reading stopped on a failure waited out too long

    def coverage(self, max_sessions: int) -> Coverage:
        """What the rows lack, in the terms every command reports."""
        stopped = ""
        if self.stopped_at_max and self.gave_up is None:
            stopped = f"stopped counting at {plural(max_sessions, 'session')} (--max-sessions): the counts are partial"
        return Coverage(indices_searched=self.indices_matched - len(self.left_out),
                        left_out=[LeftOut(index, why, lines=unread, of_session=False) for (index, why), unread
                                  in zip(self.left_out, self.unread or (0,) * len(self.left_out))],
                        shards_total=self.shards_total, shards_failed=self.shards_failed, failure=self.failure,
                        timed_out=self.timed_out, stopped=stopped, gave_up=self.gave_up)


@dataclass
class _Tally:
    first_ms: int | None = None
    last_ms: int | None = None
    lines: int = 0
    generations: set[str] = field(default_factory=set)
    latest_ms: int | None = None
    latest: str = ""  # the whole latest message: cut to its first line once, in the summary

    def add(self, moment: int | None, generation: str, message: str) -> None:
        self.lines += 1
        self.generations.add(generation)
        if moment is not None:
            if self.first_ms is None or moment < self.first_ms:
                self.first_ms = moment
            if self.last_ms is None or moment > self.last_ms:
                self.last_ms = moment
        if not self.latest or (moment is not None and (self.latest_ms is None or moment >= self.latest_ms)):
            self.latest_ms, self.latest = moment, message


@dataclass
class _Counts:
    """What `find_sessions` has counted so far: a tally per session, and when it stopped counting."""

    max_sessions: int
    max_lines: int | None
    tallies: dict[str, _Tally] = field(default_factory=dict)
    unparsed: int = 0
    lines_read: int = 0
    stopped: bool = False  # more sessions than max_sessions, or lines than max_lines

    def add(self, message: Any, moment: int | None) -> bool:
        """Count one line's sessions; False once counting must stop."""
        self.lines_read += 1
        if isinstance(message, list):
            message = "\n".join(str(m) for m in message)
        if not isinstance(message, str):
            return True
        if self.max_lines is not None and self.lines_read > self.max_lines:
            self.stopped = True  # a sample, for `check`: the counts are a lower bound
            return False
        named, bad = sessions_in_line(message)
        self.unparsed += bad
        for session_id, generation in named.items():
            tally = self.tallies.get(session_id)
            if tally is None:
                if len(self.tallies) >= self.max_sessions:
                    self.stopped = True
                    continue
                tally = self.tallies[session_id] = _Tally()
            tally.add(moment, generation, message)
        return not self.stopped

    def copy(self) -> _Counts:
        return copy.deepcopy(self)


def _first_line(message: str) -> str:
    return message.strip().split("\n", 1)[0][:300]


def sessions_in_line(message: str) -> tuple[dict[str, str], int]:
    """The sessions a line names ({session id: generation}) and how many markers did not parse.

    The value after a marker ends where token characters end; a lone '.' or '-' at its
    end closes a sentence, as `contains_marker` reads it.
    """
    found: dict[str, str] = {}
    unparsed = 0
    for match in _MARKER_RE.finditer(message):
        marker, value = match.group(1), match.group(2)
        session_id = _session_of(marker, value)
        if session_id is None:
            unparsed += 1
            continue
        # one line under both markers counts once, as the newer generation's
        if found.get(session_id) != GENERATION_ID:
            found[session_id] = GENERATION_ID if marker == SESSION_ID_MARKER_PREFIX else GENERATION_TOKEN
    return found, unparsed


@lru_cache(maxsize=65_536)  # a session's token repeats on each of its lines: decode it once
def _session_of(marker: str, value: str) -> str | None:
    candidates = [value] + ([value[:-1]] if value[-1:] in (".", "-") else [])
    for candidate in candidates:
        if marker == SESSION_ID_MARKER_PREFIX:
            if _DIGITS.fullmatch(candidate) and int(candidate) < 2**64:
                return str(int(candidate))
            continue
        try:
            ref = parse_session_ref(candidate)
        except Exception:  # noqa: BLE001 — a UsageError: not a token
            continue
        if ref.token is not None:
            return ref.session_id
    return None


def marked_lines_query(message_field: str, message_is_keyword: bool) -> dict[str, Any]:
    """Lines carrying either marker, the cheap way for each mapping.

    On text the standard analyzer keeps each marker word as one term
    (`openreplaysessiontoken`, `openreplaysession.id`): two term lookups. A keyword
    field holds the whole line as one term, so only a regexp over its values can
    look inside it (slower; `logs --explain` says why).
    """
    if message_is_keyword:
        words = "|".join(escape_lucene_regexp(p) for p in (TOKEN_MARKER_PREFIX, SESSION_ID_MARKER_PREFIX))
        return {"regexp": {message_field: {"value": f".*({words}).*", "flags": "NONE"}}}
    return {"bool": {"should": [{"match_phrase": {message_field: p.rstrip("=")}}
                                for p in (TOKEN_MARKER_PREFIX, SESSION_ID_MARKER_PREFIX)],
                     "minimum_should_match": 1}}


def search_body(group: IndexGroup, message_field: str, since: datetime, until: datetime | None,
                errors_only: bool, page_size: int) -> dict[str, Any]:
    """One group's request: marked lines in the window, only the message and the time read."""
    bounds: dict[str, Any] = {"gte": _iso(since), "format": "strict_date_optional_time"}
    if until is not None:
        bounds["lte"] = _iso(until)
    filters = [marked_lines_query(message_field, group.message_is_keyword),
               {"range": {group.time_field: bounds}}]
    if group.only_indices:
        filters.append(index_filter(group.only_indices))
    if errors_only and group.level_fields:
        filters.append(error_filter(group.level_fields))
    return {
        "query": {"bool": {"filter": filters}},
        "sort": [],  # index order (_shard_doc alone): the cheapest walk; rows are sorted after
        "size": page_size,
        "track_total_hits": False,
        "_source": False,
        "fields": [message_field],
        "docvalue_fields": [{"field": group.time_field, "format": "epoch_millis"}],
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def find_sessions(es: Any, patterns: Sequence[str], policy: FieldPolicy, since: datetime,
                  until: datetime | None = None, errors_only: bool = True, sort: str = "recent",
                  limit: int | None = None, max_sessions: int = DEFAULT_MAX_SESSIONS,
                  replay_url: Callable[[str], str | None] = lambda session_id: None,
                  max_lines: int | None = None, shapes: Sequence[IndexShape] | None = None,
                  page_size: int = PAGE_SIZE, now: datetime | None = None,
                  on_page: Callable[[int], None] | None = None, retry: RetryPolicy | None = None,
                  on_retry: Callable[[Retrying], None] | None = None,
                  cache: ShapeCache | None = None) -> SessionsReport:
    """The sessions with (error) lines between `since` and `until`, one row each.

    Without `shapes`, each group's first page goes beside the `_field_caps` request, planned from
    the shapes `cache` last saw (`early_pages`). A failure that waiting may fix (a lost connection
    or point in time, a node that left) is waited out by `retry` (none when not given), and the
    group being read is counted again from its start."""
    now = now or datetime.now(timezone.utc)

    def first_page(group: IndexGroup) -> tuple[str, dict[str, Any]]:
        body = search_body(group, policy.message_field, since, until, errors_only, page_size)
        return group.target, first_page_body(PagedSearch(index=group.target, body=body))

    def first_pages(candidate: Sequence[IndexShape]) -> list[tuple[str, dict[str, Any]]]:
        groups = group_indices(candidate, patterns, policy, errors_only=errors_only)[0]
        return [first_page(g) for g in groups if g.time_field is not None]

    # each group's first page answered beside `_field_caps`, by its exact request; None when the page
    # was full: the group is walked on a point in time, its first page not asked again nor kept
    looked: dict[str, dict[str, Any] | None] = {}
    if shapes is None:
        early = shapes_with_first_pages(es, patterns, policy, cache, first_pages, lambda requests: requests)
        shapes = early.shapes
        for request, answer in zip(early.planned, early.answers or []):
            looked[request_key(*request)] = answer if len(answer["hits"]["hits"]) < page_size else None
    groups, left_out = group_indices(shapes, patterns, policy, errors_only=errors_only)
    # a window needs a time: indices without one cannot be asked about the last hour
    left_out += tuple((i, "no date field, so no time window") for g in groups if g.time_field is None
                      for i in g.indices)
    counts = _Counts(max_sessions=max_sessions, max_lines=max_lines)
    gave_up: GaveUp | None = None
    streams: list[WalkStats] = []
    retrier = Retrier(retry or RetryPolicy(retry_for=0), on_retry=on_retry)
    for group in (g for g in groups if g.time_field is not None):
        # a group read again after a failure (its point in time lost, a node gone) starts over
        # from these, so no line is counted twice: its walk's order does not survive a new one
        before = counts.copy()
        while True:
            body = search_body(group, policy.message_field, since, until, errors_only, page_size)
            read_before = sum(s.hits_read for s in streams)
            stats = WalkStats()
            counted = (lambda n, before=read_before: on_page(before + n)) if on_page else None  # over every group
            # one slice: a window's lines mostly fit a page or two, and slices cost a round trip (and over
            # TLS a handshake) each: measured +7.6 RTT at 150 ms against +5.3 unsliced (bench/RESULTS.md)
            # and a window that one page holds needs no point in time (look_first: two round trips fewer)
            key = request_key(*first_page(group))
            full = key in looked and looked[key] is None
            early_page = looked.pop(key, None)  # a group read again asks anew
            lines = walk(es, PagedSearch(index=group.target, body=body), stats=stats, prefetch=True, on_page=counted,
                         slices=1, look_first=not full, looked=early_page)
            try:
                for hit in lines:
                    if not counts.add(message_of(hit, policy.message_field), _time_ms(hit, group.time_field)):
                        break
            except Exception as exc:  # noqa: BLE001 — wait_out re-raises what waiting cannot fix
                reason = retrier.wait_out(exc)  # raises what waiting cannot fix: the error says what to do
                if reason:  # waited out too long: the counts are partial
                    gave_up = GaveUp(reason, counts.lines_read, "the counts leave out the lines after those")
                    counts.stopped = True
                else:
                    counts = before.copy()
                    continue
            finally:
                lines.close()
            retrier.succeeded()
            streams.append(stats)
            break
        if counts.stopped:
            break
    unread = _unread_marked_lines(es, shapes, left_out, policy.message_field, since, until)
    rows = [_summary(session_id, tally, replay_url(session_id), now) for session_id, tally in counts.tallies.items()]
    if sort == "count":
        rows.sort(key=lambda r: (-r.lines, -_ms(r.last_line)))
    else:
        rows.sort(key=lambda r: -_ms(r.last_line))
    return SessionsReport(rows=tuple(rows[:limit] if limit else rows), sessions_found=len(rows),
                          lines_read=counts.lines_read, unparsed_markers=counts.unparsed, stopped_at_max=counts.stopped,
                          left_out=left_out, unread=unread, indices_matched=len(shapes),
                          shards_total=shard_counts(streams)[0], shards_failed=shard_counts(streams)[2],
                          failure=next((s.failure for s in streams if s.failure), ""),
                          timed_out=sum(s.timed_out for s in streams), gave_up=gave_up)


def _unread_marked_lines(es: Any, shapes: Sequence[IndexShape], left_out: Sequence[tuple[str, str]],
                         message_field: str, since: datetime, until: datetime | None) -> tuple[int | None, ...]:
    """How many marked lines (of any session, any level) each left-out index holds in the window
    (an undated index: at all), so the counts say what they leave out. One size-0 search per kind of
    index, and none when nothing is left out; None where the count failed."""
    by_index = {s.index: s for s in shapes}
    kinds: dict[tuple[str | None, bool], list[str]] = {}
    found: dict[str, int | None] = {}
    for index, _ in left_out:
        shape = by_index.get(index)
        if shape is not None and shape.blocked:  # closed, or a read block: no search can count them
            found[index] = None
        elif shape is not None and shape.message_type is not None:  # without the message, no line at all
            kinds.setdefault((shape.time_field, shape.message_is_keyword), []).append(index)
    for (time_field, keyword), names in kinds.items():
        filters = [marked_lines_query(message_field, keyword)]
        if time_field is not None:
            bounds: dict[str, Any] = {"gte": _iso(since), "format": "strict_date_optional_time"}
            if until is not None:
                bounds["lte"] = _iso(until)
            filters.append({"range": {time_field: bounds}})
        try:
            body = body_of(es.search(index=",".join(names), size=0, query={"bool": {"filter": filters}},
                                     aggs={"by_index": {"terms": {"field": "_index", "size": len(names)}}},
                                     ignore_unavailable=True, allow_no_indices=True))
        except Exception:  # noqa: BLE001 — cannot tell: said as "may hold", never as none
            found.update((name, None) for name in names)
            continue
        buckets = ((body.get("aggregations") or {}).get("by_index") or {}).get("buckets") or []
        counts = {b["key"]: int(b["doc_count"]) for b in buckets}
        found.update((name, counts.get(name, 0)) for name in names)
    return tuple(found.get(index, 0) for index, _ in left_out)


def _ms(moment: datetime | None) -> float:
    return moment.timestamp() * 1000 if moment else float("-inf")


def _time_ms(hit: dict[str, Any], time_field: str | None) -> int | None:
    values = (hit.get("fields") or {}).get(time_field or "") or []
    if not values:
        return None
    try:
        return int(values[0])  # epoch_millis: "1706066859324"
    except (TypeError, ValueError):
        try:
            return int(float(values[0]))  # date_nanos: "1706066859324.123456"
        except (TypeError, ValueError):
            return None


def _at(ms: int | None) -> datetime | None:
    return None if ms is None else datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)


def _summary(session_id: str, tally: _Tally, link: str | None, now: datetime) -> SessionSummary:
    return SessionSummary(
        session_id=session_id, started=session_start(session_id, now), first_line=_at(tally.first_ms),
        last_line=_at(tally.last_ms), lines=tally.lines, generations=tuple(sorted(tally.generations)),
        latest_message=_first_line(tally.latest), replay_url=link)


def iter_rows(report: SessionsReport) -> Iterator[dict[str, Any]]:
    """Rows as plain values for json, ndjson, csv and the table (times in ISO 8601 UTC)."""
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None

    for row in report.rows:
        yield {"session_id": row.session_id, "session_start": iso(row.started), "first_line": iso(row.first_line),
               "last_line": iso(row.last_line), "lines": row.lines, "markers": " ".join(row.generations),
               "latest_message": row.latest_message, "replay_url": row.replay_url}


def sessions_of_settings(es: Any, settings: Settings, since: datetime, until: datetime | None = None,
                         errors_only: bool = True, sort: str = "recent", limit: int | None = None,
                         max_sessions: int = DEFAULT_MAX_SESSIONS, retry_for: float = 0.0,
                         on_page: Callable[[int], None] | None = None,
                         on_retry: Callable[[Retrying], None] | None = None) -> SessionsReport:
    """`find_sessions` over the configured indices, fields and replay links: the one call of
    `orx-elastic sessions` and the MCP server's sessions tool. Raises IndexNotFound when the
    patterns match no index (an empty answer would read as "no session had errors")."""
    from elastic_cli.errors import IndexNotFound

    patterns = settings.index_patterns
    policy = FieldPolicy.from_settings(settings)
    report = find_sessions(es, patterns, policy, since, until, errors_only=errors_only, sort=sort, limit=limit,
                           max_sessions=max_sessions, replay_url=settings.replay_url, on_page=on_page,
                           retry=RetryPolicy(retry_for=retry_for), on_retry=on_retry,
                           cache=ShapeCache.for_settings(settings, patterns, policy))
    if not report.indices_matched:
        raise IndexNotFound(f"no index matches {settings.indexes!r} on {settings.url}",
                            "check `indexes` (orx-elastic configure --indexes ...) or run `orx-elastic check`")
    return report
