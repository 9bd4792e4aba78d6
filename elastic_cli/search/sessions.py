"""Which recorded sessions had backend errors in a time window (`orx-elastic sessions`).

Every marked line in the window is read once with the pager (point in time,
search_after) and folded into one row per session as it streams: memory grows
with the number of sessions, not of lines. Both markers count: the v1.21+ id
directly, a v1.20 token through the session id it starts with. A line counts for
exactly the sessions whose `logs` shows it: the query is `logs`' own marker clauses
for any session, on each index's mapping and analysis (`query.marker_clauses`), and a
line names a session by the rules of `contains_marker` (any case and punctuation
before a v1.21+ id, a token's base36 id and its dot, never a longer id); a marker
that names no session is counted as unparsed, never a crash.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from elastic_cli.cluster.connection import body_of
from elastic_cli.errors import plural
from elastic_cli.openreplay.session_token import (
    ID_END,
    NAME_ID_SEPARATOR,
    TOKEN_MARKER_PREFIX,
    session_start,
    to_base36,
)
from elastic_cli.search.coverage import Coverage, GaveUp, LeftOut
from elastic_cli.search.early_pages import shapes_with_first_pages
from elastic_cli.search.fields import FieldPolicy, IndexShape, error_filter
from elastic_cli.search.lines import message_of, request_key
from elastic_cli.search.pager import PAGE_SIZE, PagedSearch, WalkStats, first_page_body, shard_counts, walk
from elastic_cli.search.plan import IndexGroup, group_indices
from elastic_cli.search.query import ANY_SESSION, index_filter, marker_clauses
from elastic_cli.search.retry import Retrier, Retrying, RetryPolicy
from elastic_cli.search.shape_cache import ShapeCache

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

DEFAULT_MAX_SESSIONS = 50_000
GENERATION_TOKEN = "v1.20"  # openReplaySessionToken=<token>
GENERATION_ID = "v1.21"  # openReplaySession.id=<id>

# where a marker starts, in any case (`logs` finds a v1.21+ id marker in any case); what follows it
# decides which session it names, by `contains_marker`'s rules (session_token.py)
_MARKER_RE = re.compile(r"openreplaysession(?:token=|\.id(?=[^0-9A-Za-z_]))", re.IGNORECASE)
# after a v1.21+ marker's name: any punctuation, then the id as a session id is written (no leading zero)
_ID_AFTER_NAME = re.compile(NAME_ID_SEPARATOR + r"(0|[1-9][0-9]*)" + ID_END, re.IGNORECASE)
# after a v1.20 marker: the token's first part (the base36 session id) and the dot that ends it
_BASE36_ID = re.compile(r"([0-9a-z]+)\.")
_UINT64_MAX = 2**64 - 1
_ID_DIGITS, _BASE36_DIGITS = len(str(_UINT64_MAX)), len(to_base36(_UINT64_MAX))


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
    # index -> hits the search matched that carry no message to read (`_source` disabled)
    sourceless: dict[str, int] = field(default_factory=dict)

    def add(self, message: Any, moment: int | None, index: str | None = None) -> bool:
        """Count one line's sessions; False once counting must stop. A hit without a message
        (`message` None) of `index` is counted as unreadable there."""
        self.lines_read += 1
        if message is None and index is not None:
            self.sourceless[index] = self.sourceless.get(index, 0) + 1
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
    """The sessions a line names ({session id: generation}) and how many markers named none.

    Exactly the sessions for which `logs` keeps the line (`contains_marker`): a v1.21+ id after
    its marker's name in any case and any punctuation (`openReplaySession.id: <id>`, JSON), never
    a longer id (a lone '.' or '-' after it closes a sentence); a v1.20 token's base36 session id
    after `openReplaySessionToken=` as written, up to its dot.
    """
    found: dict[str, str] = {}
    unparsed = 0
    for match in _MARKER_RE.finditer(message):
        is_token = match.group().endswith("=")
        session_id = _session_at(message, match.end(), is_token)
        if session_id is None:
            unparsed += 1
            continue
        # one line under both markers counts once, as the newer generation's
        if found.get(session_id) != GENERATION_ID:
            found[session_id] = GENERATION_TOKEN if is_token else GENERATION_ID
    return found, unparsed


def _session_at(message: str, end: int, is_token: bool) -> str | None:
    """The session the marker ending at `end` names, or None."""
    if not is_token:
        value = _ID_AFTER_NAME.match(message, end)
        # a run of digits longer than any session id is none (and never made a number: a long one would raise)
        return (value.group(1) if value and len(value.group(1)) <= _ID_DIGITS and int(value.group(1)) <= _UINT64_MAX
                else None)
    if message[end - len(TOKEN_MARKER_PREFIX):end] != TOKEN_MARKER_PREFIX:
        return None  # a v1.20 token is looked for as written: another case is not the one the tracker signed
    value = _BASE36_ID.match(message, end)
    if value is None or len(value.group(1)) > _BASE36_DIGITS:
        return None
    number = int(value.group(1), 36)
    # a base36 id as a token writes it (no leading zero), of a session id `logs` can be asked for
    return str(number) if number <= _UINT64_MAX and to_base36(number) == value.group(1) else None


def marked_lines_query(message_field: str, message_is_keyword: bool, terms: str | None = None) -> dict[str, Any]:
    """Lines carrying either marker of any session: `logs`' own marker clauses (`marker_clauses`)
    without an id, on this mapping (keyword or text) and analysis (`terms`, search/analysis.py)."""
    return {"bool": {"should": marker_clauses(message_field, ANY_SESSION, keyword=message_is_keyword, terms=terms),
                     "minimum_should_match": 1}}


def search_body(group: IndexGroup, message_field: str, since: datetime, until: datetime | None,
                errors_only: bool, page_size: int) -> dict[str, Any]:
    """One group's request: marked lines in the window, only the message and the time read."""
    bounds: dict[str, Any] = {"gte": _iso(since), "format": "strict_date_optional_time"}
    if until is not None:
        bounds["lte"] = _iso(until)
    filters = [marked_lines_query(message_field, group.message_is_keyword, group.message_terms),
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
        # the message as `logs` reads it: from `_source` (a keyword line past ignore_above is there, not in
        # `fields`), a sub-field (message.keyword) from `fields`
        "_source": [message_field],
        **({"fields": [message_field]} if "." in message_field else {}),
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
    left_out = _named_unmapped(es, left_out, policy.message_field)
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
                    if not counts.add(message_of(hit, policy.message_field), _time_ms(hit, group.time_field),
                                      hit.get("_index") or "?"):
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
    # hits the search matched whose message cannot be read (`_source` disabled): which sessions they
    # name is unknown, so the counts are partial, never silently short
    for index, hits in sorted(counts.sourceless.items()):
        left_out += ((index, f"{plural(hits, 'marked hit')} {SOURCELESS_HITS}"),)
        unread += (None,)
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


SOURCELESS_HITS = ("carry no message to read (the index stores no _source), so the sessions they name "
                   "could not be counted")


def _named_unmapped(es: Any, left_out: tuple[tuple[str, str], ...], message_field: str
                    ) -> tuple[tuple[str, str], ...]:
    """`left_out` with each index whose documents hold the message in `_source` while its mapping does
    not (dynamic: false) named as such: no search can count its lines (`logs` says the same)."""
    from elastic_cli.search.session_logs import UNMAPPED, _unmapped_but_kept

    unmapped = _unmapped_but_kept(es, [i for i, why in left_out if why.startswith("no field ")], message_field)
    return tuple((index, UNMAPPED if index in unmapped else why) for index, why in left_out)


def _unread_marked_lines(es: Any, shapes: Sequence[IndexShape], left_out: Sequence[tuple[str, str]],
                         message_field: str, since: datetime, until: datetime | None) -> tuple[int | None, ...]:
    """How many marked lines (of any session, any level) each left-out index holds in the window
    (an undated index: at all), so the counts say what they leave out. One size-0 search per kind of
    index, and none when nothing is left out; None where the count failed, or where no search can
    find them (a message not indexed, or only in `_source`)."""
    from elastic_cli.search.analysis import NONE, UNSEARCHABLE
    from elastic_cli.search.session_logs import UNMAPPED

    by_index = {s.index: s for s in shapes}
    kinds: dict[tuple[str | None, bool, str | None], list[str]] = {}
    found: dict[str, int | None] = {}
    for index, why in left_out:
        shape = by_index.get(index)
        if shape is not None and shape.blocked:  # closed, or a read block: no search can count them
            found[index] = None
        elif why in (UNMAPPED, UNSEARCHABLE) or (shape is not None and shape.message_terms == NONE):
            found[index] = None  # no query finds its lines: some may be there, uncounted
        elif shape is not None and shape.message_type is not None:  # without the message, no line at all
            kinds.setdefault((shape.time_field, shape.message_is_keyword, shape.message_terms), []).append(index)
    for (time_field, keyword, terms), names in kinds.items():
        filters = [marked_lines_query(message_field, keyword, terms)]
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
