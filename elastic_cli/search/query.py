"""The Elasticsearch search body for one session's log lines (pure: no I/O).

Kept apart from the code that runs the search so that `--explain` and the tests
can show exactly what is sent, and so the query semantics live in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from elastic_cli.errors import UsageError
from elastic_cli.openreplay.session_token import SESSION_ID_MARKER_PREFIX, TOKEN_MARKER_PREFIX, Marker
from elastic_cli.search.fields import error_filter

# Lucene regexp operators (https://www.elastic.co/guide/en/elasticsearch/reference/current/regexp-syntax.html).
# Letters are never escaped: newer Lucene reads `\d`, `\w`, `\s` as classes.
_LUCENE_REGEXP_RESERVED = frozenset('.?+*|{}[]()"\\#@&<>~')

# Whatever may follow the marker: nothing, or a character that cannot continue
# a token or an id. Same boundary as session_token.contains_marker.
# A lone '.' or '-' may end a sentence right after the marker ("... id=123.").
_MARKER_BOUNDARY = r"([.\-]?([^0-9A-Za-z.\-].*)?)"


@dataclass(frozen=True)
class LogQuery:
    """What to look for; field names default to Kibana's sample web logs, as OpenReplay does."""

    markers: tuple[Marker, ...]
    message_field: str = "message"
    time_field: str | None = "utc_time"  # None: the index has no date to sort or filter on
    tags_field: str | None = "tags"  # the level field
    # the level fields of one index group (any of them may say error); replaces tags_field
    level_fields: tuple[str, ...] = ()
    errors_only: bool = True
    since: datetime | None = None
    until: datetime | None = None
    reverse: bool = False
    message_is_keyword: bool = False
    # some matched indices map the message as text, others as keyword: send both clauses
    message_is_mixed: bool = False
    # the source fields the output shows (table, csv, --fields); None: the whole _source
    source_fields: tuple[str, ...] | None = None
    # only lines that lack this (time) field: a dated index's lines a time bound would hide
    lacking_field: str | None = None
    # keeps a search on the user's patterns to one group's indices (plan.IndexGroup.picked)
    only_indices: tuple[str, ...] = ()
    # how a text message is analysed (search/analysis.py); None: as the standard analyzer does
    message_terms: str | None = None

    @property
    def levels(self) -> tuple[str, ...]:
        """The fields the error filter reads."""
        return self.level_fields or ((self.tags_field,) if self.tags_field else ())

    def __post_init__(self) -> None:
        # Accept a list from callers but keep the dataclass hashable.
        object.__setattr__(self, "markers", tuple(m if isinstance(m, Marker) else Marker(m) for m in self.markers))
        if self.source_fields is not None:
            object.__setattr__(self, "source_fields", tuple(self.source_fields))
        object.__setattr__(self, "level_fields", tuple(self.level_fields))
        object.__setattr__(self, "only_indices", tuple(self.only_indices))
        if not self.markers:
            # An empty `should` would match every line of every session.
            raise ValueError("LogQuery needs at least one marker")
        if self.since is not None and self.until is not None and _as_utc(self.since) > _as_utc(self.until):
            raise UsageError(
                f"--since ({_iso(self.since)}) is after --until ({_iso(self.until)})",
                hint="Swap the two values, or leave one out.",
            )


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC, so the tool never depends on the machine's zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return _as_utc(moment).isoformat().replace("+00:00", "Z")


def escape_lucene_regexp(text: str) -> str:
    """Escape `text` so a Lucene regexp matches it literally."""
    return "".join("\\" + c if c in _LUCENE_REGEXP_RESERVED else c for c in text)


def marker_regexp(marker: Marker | str) -> str:
    """A whole-value regexp for a keyword field: the marker anywhere, then (for a whole
    marker) no token character; a prefix marker may be followed by anything."""
    if isinstance(marker, str):
        marker = Marker(marker)
    tail = _MARKER_BOUNDARY if marker.whole else ".*"
    name, equals, value = marker.text.rpartition("=")
    if marker.whole and equals and name and value:
        # any punctuation between the name and the id, as OpenReplay's match_phrase reads it
        # (`openReplaySession.id: <id>`, `= <id>`); case is the query's `case_insensitive`
        return ".*" + escape_lucene_regexp(name) + "[^0-9A-Za-z_]+" + escape_lucene_regexp(value) + tail
    if marker.whole and equals and name:
        # any session's (ANY_SESSION): the name, then whatever separates it from an id
        return ".*" + escape_lucene_regexp(name) + "[^0-9A-Za-z_].*"
    return ".*" + escape_lucene_regexp(marker.text) + tail


# the marker of any session (no id): what `sessions` looks for, through the same clauses as one session's
ANY_SESSION = (Marker(SESSION_ID_MARKER_PREFIX), Marker(TOKEN_MARKER_PREFIX, whole=False))
# the word both markers start with, inside whatever term an analyzer keeps it in (lower case)
MARKER_WORD = "openreplaysession"


def marker_clauses(message_field: str, markers: Sequence[Marker], keyword: bool = False, mixed: bool = False,
                   terms: str | None = None) -> list[dict[str, Any]]:
    """The `should` clauses that find every line carrying one of `markers` (any of them may be a
    marker without its id, `ANY_SESSION`: every session's) on a message field of this mapping
    (`keyword`, or `mixed` keyword and text) and analysis (`terms`, search/analysis.py): the one
    place `logs` and `sessions` get their marker query from."""
    clauses: list[dict[str, Any]] = []
    for marker in markers:
        for clause in _marker_clauses(message_field, marker, keyword, mixed, terms):
            if clause not in clauses:
                clauses.append(clause)
    if keyword or mixed:
        # a line longer than the field's ignore_above has no term, but is named in `_ignored`: those are
        # read too (the client-side check keeps the session's)
        clauses.append({"term": {"_ignored": message_field}})
    return clauses


def _marker_clauses(field: str, marker: Marker, keyword: bool, mixed: bool, terms: str | None
                    ) -> list[dict[str, Any]]:
    if mixed:
        return [*_phrase_clauses(field, marker), _regexp_clause(field, marker)]
    if keyword:
        return [_regexp_clause(field, marker)]
    terms = terms or "split"
    clauses: list[dict[str, Any]] = []
    if terms in ("split", "dropped", "unknown"):
        clauses += _phrase_clauses(field, marker)
    session_id = _id_of(marker)
    if session_id and terms in ("split", "unknown"):
        # the id is a term of its own even when a logger glued a word before the marker
        # (`ctx:openReplaySession.id=<id>` is analysed as `ctx:openreplaysession.id`, `<id>`)
        clauses.append({"prefix": {field: {"value": session_id.lower()}}})
    if session_id and terms in ("whole", "unknown"):
        # whitespace or keyword analysis: the marker lies inside a longer term
        clauses.append({"wildcard": {field: {"value": f"*{_escape_wildcard(session_id)}*",
                                             "case_insensitive": True}}})
    if not session_id and terms in ("split", "whole", "unknown"):
        # any session's marker: without an id to look for, the marker's word inside whatever term the
        # analysis keeps it in (glued to a word before it: `ctx:openreplaysession.id`; the whole line)
        clauses.append({"wildcard": {field: {"value": f"*{MARKER_WORD}*", "case_insensitive": True}}})
    return clauses


def _id_of(marker: Marker) -> str:
    """The session's own part of a marker (`<id>` of `openReplaySession.id=<id>`, the base36 id of
    `openReplaySessionToken=<id>.`); empty for a marker of another form, or of any session."""
    _, _, value = marker.text.rpartition("=")
    return value.rstrip(".") if "=" in marker.text else ""


def _escape_wildcard(text: str) -> str:
    return "".join("\\" + c if c in "*?\\" else c for c in text)


def _phrase_clauses(field: str, marker: Marker) -> list[dict[str, Any]]:
    if marker.text.endswith("=") and not _id_of(marker):
        # any session's: the marker's name (`openreplaysession.id`, `openreplaysessiontoken` as terms)
        return [{"match_phrase": {field: marker.text.rstrip("=")}}]
    if marker.whole:
        return [{"match_phrase": {field: marker.text}}]
    # `openReplaySessionToken=<base36 id>.`: the analyzer keeps the id as a term of its
    # own ("jw4wdfpgqhoj") or joins it with the delay when both sides of the dot are
    # digits ("k1.3az.…"), so the id is a prefix of the last term. Terms are expanded
    # in order and "<id>." sorts before "<id>0…", so this session's come first.
    phrase = marker.text.rstrip(".")
    return [{"match_phrase_prefix": {field: {"query": phrase, "max_expansions": 1000}}}]


def _regexp_clause(field: str, marker: Marker) -> dict[str, Any]:
    # A keyword field holds the whole line as one term: a phrase would only
    # match a line that *is* the marker, so match the whole value instead.
    # flags NONE: only the core syntax; the optional operators stay literal.
    return {"regexp": {field: {"value": marker_regexp(marker), "flags": "NONE", "case_insensitive": True}}}


def index_filter(indices: Sequence[str]) -> dict[str, Any]:
    """Keeps a search on the user's patterns to these of the indices they match. The request still
    names the patterns, never the concrete indices: a key that may read only an alias reads through
    it, a filtered alias keeps its filter, and a URL stays short with any number of indices."""
    return {"terms": {"_index": list(indices)}}


def build_query(q: LogQuery) -> dict[str, Any]:
    """The `query` clause: any marker, optionally errors only and a time range; filters, no scoring."""
    filters: list[dict[str, Any]] = [
        {
            "bool": {
                "should": marker_clauses(q.message_field, q.markers, q.message_is_keyword, q.message_is_mixed,
                                         q.message_terms),
                "minimum_should_match": 1,
            }
        }
    ]
    if q.only_indices:
        filters.append(index_filter(q.only_indices))
    if q.errors_only and q.levels:
        filters.append(error_filter(q.levels))
    if q.lacking_field is not None:
        filters.append({"bool": {"must_not": [{"exists": {"field": q.lacking_field}}]}})
    if q.time_field is not None and (q.since is not None or q.until is not None):
        bounds: dict[str, Any] = {}
        if q.since is not None:
            bounds["gte"] = _iso(q.since)
        if q.until is not None:
            bounds["lte"] = _iso(q.until)
        bounds["format"] = "strict_date_optional_time"
        filters.append({"range": {q.time_field: bounds}})
    return {"bool": {"filter": filters}}


def build_sort(q: LogQuery) -> list[Any]:
    """Oldest first (newest first with reverse); unmapped_type so indexes without the field
    don't fail; numeric_type so date_nanos fields sort in milliseconds like date fields."""
    if q.time_field is None:
        return []  # the pager's _shard_doc tiebreaker alone: index order
    order = "desc" if q.reverse else "asc"
    return [{q.time_field: {"order": order, "unmapped_type": "date", "numeric_type": "date"}}]


def build_search_body(q: LogQuery, size: int) -> dict[str, Any]:
    """The whole search request body for one page (without the point in time the pager adds)."""
    body: dict[str, Any] = {
        "query": build_query(q),
        "sort": build_sort(q),
        "size": size,
        # We page with search_after and never show a total: counting every hit
        # would make Elasticsearch visit all matches instead of stopping early.
        "track_total_hits": False,
    }
    if q.source_fields is not None:
        # only what the output shows, and the message the client-side check reads:
        # a log document with dozens of fields costs less to send, decode and hold
        # (and the time and level fields this index group resolved to: @timestamp, log.level ...)
        resolved = [f for f in (q.time_field, q.lacking_field, *q.levels) if f]
        body["_source"] = list(dict.fromkeys((*q.source_fields, q.message_field, *resolved)))
    if "." in q.message_field:
        # a sub-field (message.keyword) or a dotted path: read the value Elasticsearch
        # searched, which _source may not hold under that name
        body["fields"] = [q.message_field]
    return body


def output_source_fields(fmt: str, fields: Sequence[str] | None, message_field: str, time_field: str,
                         tags_field: str) -> tuple[str, ...] | None:
    """The source fields an output needs: the --fields (but `offset`, which is ours), or the
    table's and csv's fixed columns; None (the whole source) for json and ndjson."""
    if fields:
        return tuple(name for name in fields if name != "offset")
    if fmt in ("table", "csv"):
        return (time_field, tags_field, message_field)
    return None


def explain_cost(q: LogQuery) -> str:
    """One sentence for `--explain`: why this query is cheap or expensive."""
    if q.message_is_keyword or q.message_is_mixed:
        return (
            f"`{q.message_field}` is a keyword field, so each marker is a regexp that must scan "
            "every distinct value of the field (the cost grows with the number of distinct "
            "log lines, and lines longer than the field's ignore_above are not indexed); map "
            f"`{q.message_field}` as `text` to make this a cheap phrase query."
        )
    return (
        f"`{q.message_field}` is a text field, so each marker is a phrase query answered from "
        "the inverted index (cheap), then checked exactly on the client."
    )


_DURATION_RE = re.compile(r"([0-9]{1,9})([smhdw])")
_DURATION_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
# Explicit, version-independent ISO 8601 subset (datetime.fromisoformat differs
# between Python 3.9 and 3.11, e.g. on "Z" and compact forms).
_ISO_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<tz>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_TIME_HINT = (
    "Use an ISO 8601 date or time (2024-01-24, 2024-01-24T04:27:39Z, "
    "2024-01-24T06:27:39+02:00; no zone means UTC) or a duration back from now "
    "(30s, 15m, 2h, 7d, 1w)."
)


def _parse_offset(tz: str) -> timezone:
    if tz in ("Z", "z"):
        return timezone.utc
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or "0")
    if minutes >= 60:
        raise ValueError("offset minutes out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))  # ValueError if >= 24h


def parse_duration(text: str) -> timedelta:
    """A duration such as 30s, 15m, 2h, 1d, 1w; UsageError for anything else."""
    value = text.strip() if isinstance(text, str) else ""
    duration = _DURATION_RE.fullmatch(value)
    if not duration:
        raise UsageError(f"not a duration: {value[:40]!r}", hint="Use a number and a unit: 30s, 15m, 2h, 1d, 1w.")
    try:
        return int(duration.group(1)) * _DURATION_UNITS[duration.group(2)]
    except OverflowError:
        raise UsageError(f"duration too long: {value!r}", hint="Use at most a few years.") from None


def parse_time(text: str, now: datetime) -> datetime:
    """Parse an absolute ISO 8601 time or a duration back from `now`; always returns aware UTC."""
    value = text.strip() if isinstance(text, str) else ""
    shown = repr(value[:40]) + ("..." if len(value) > 40 else "")
    invalid = UsageError(f"not a time or duration: {shown}", hint=_TIME_HINT)

    duration = _DURATION_RE.fullmatch(value)
    if duration:
        try:
            return _as_utc(now) - int(duration.group(1)) * _DURATION_UNITS[duration.group(2)]
        except OverflowError:
            raise invalid from None

    iso = _ISO_RE.fullmatch(value)
    if not iso:
        raise invalid
    fraction = (iso.group("fraction") or "").ljust(6, "0")[:6]
    try:
        moment = datetime(
            int(iso.group("year")),
            int(iso.group("month")),
            int(iso.group("day")),
            int(iso.group("hour") or 0),
            int(iso.group("minute") or 0),
            int(iso.group("second") or 0),
            int(fraction),
            tzinfo=_parse_offset(iso.group("tz")) if iso.group("tz") else timezone.utc,
        )
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise invalid from None
