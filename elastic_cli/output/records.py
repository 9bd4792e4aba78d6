"""The record of one log line: what every format writes (pure).

`LogRecord` is the JSON record README documents (keys may be added, never renamed): built once
per line from the `SessionLine` the search made of a hit (its time, level, index, offset), and read
by each format: JSON as it is, csv without `_source`, the table its columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Optional, Sequence, TypedDict

from elastic_cli.search.fields import get_field, level_of
from elastic_cli.search.lines import message_of
from elastic_cli.search.session_line import PLAUSIBLE_MS, SessionLine


class LogRecord(TypedDict, total=False):
    _index: str
    _id: str
    time: Optional[str]  # ISO 8601 UTC with milliseconds, from the line's own index's time field
    index: str  # a data stream by its name
    level: Optional[str]
    message: Any
    offset: str  # +03:12.450 on the replay's timeline
    offset_ms: Optional[int]
    time_unreadable: int  # the line's time field held this epoch-ms value, past the year ~33,600: sorted by it
    replay_url: str  # the replay opened at the line's moment
    context: bool  # with -A/-B/-C only: true for a line printed around an error line, false for an error line
    _source: Any


# --fields names that are the record's, not source fields
OWN_FIELDS = ("offset", "offset_ms", "_id", "_index", "replay_url")


@dataclass(frozen=True)
class RecordShape:
    """How the lines of one run become records: the message field, the chosen --fields, the replay."""

    message_field: str = "message"
    fields: Optional[tuple[str, ...]] = None
    replay_url: Optional[str] = None  # the session's replay link (no jumpto)
    context: bool = False  # -A/-B/-C: each record says whether it is a context line

    def record(self, line: SessionLine) -> dict[str, Any]:
        return selected_record(line, self.fields, self) if self.fields else log_record(line, self)


def log_record(line: SessionLine, shape: RecordShape) -> dict[str, Any]:
    """The whole record of a line, keys in README's order; `_source` last (the largest).

    An export's hot loop (a million lines): the usual hit (a top-level message, a level the
    search already made one word) takes the short paths."""
    hit, moment, level, index_name, offset_ms, context, _gap = line
    if type(level) is str:
        level = level.lower()  # what level_of makes of one word, without its list
    elif level is not None:
        level = level_of(level)
    source = hit.get("_source")
    field = shape.message_field
    message = (source.get(field) if "fields" not in hit and "." not in field and type(source) is dict
               else message_of(hit, field))
    record: dict[str, Any] = {
        "_index": hit.get("_index"), "_id": hit.get("_id"),
        "time": iso_ms(moment) if moment is not None and abs(moment) < PLAUSIBLE_MS else None,
        "index": index_name,
        "level": level,
        "message": message,
    }
    if moment is not None and record["time"] is None:
        record["time_unreadable"] = moment  # sorted by it, but no time a logger meant: said, not shown as a date
    if offset_ms is not None:
        record["offset"] = format_offset(offset_ms)
        record["offset_ms"] = offset_ms
    if shape.replay_url:
        record["replay_url"] = replay_moment(shape.replay_url, offset_ms)
    if shape.context:
        record["context"] = context
    record["_source"] = source
    return record


def selected_record(line: SessionLine, fields: Sequence[str], shape: RecordShape) -> dict[str, Any]:
    """`_index`, `_id` and the --fields asked for: the record's own names, else source fields."""
    hit, offset_ms = line.hit, line.offset_ms
    own = {"_index": hit.get("_index"), "_id": hit.get("_id"),
           "offset": format_offset(offset_ms) if offset_ms is not None else None, "offset_ms": offset_ms}
    if shape.replay_url:
        own["replay_url"] = replay_moment(shape.replay_url, offset_ms)
    source = hit.get("_source") or {}
    picked = {name: own.get(name) if name in OWN_FIELDS else get_field(source, name) for name in fields}
    if shape.context:
        picked["context"] = line.context
    return {"_index": own["_index"], "_id": own["_id"], **picked}


def replay_moment(replay_url: str, offset_ms: Optional[int]) -> str:
    # the player reads a jumpto no larger than the session's start as an offset from it
    return f"{replay_url}?jumpto={max(offset_ms, 0)}" if offset_ms is not None else replay_url


@lru_cache(maxsize=65_536)
def _iso_second(seconds: int) -> str:
    # an export's lines come in time order: thousands share each second
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC with milliseconds: 2024-01-24T03:00:00.123Z."""
    seconds, millis = divmod(int(ms), 1000)
    try:
        return f"{_iso_second(seconds)}.{_MILLIS[millis]}Z"
    except (OverflowError, OSError, ValueError):
        return str(ms)


_MILLIS = [f"{n:03d}" for n in range(1000)]


def format_offset(ms: int) -> str:
    """A position on the replay's timeline: +03:12.450, +1:02:03.004, -00:05.000."""
    sign = "-" if ms < 0 else "+"
    seconds, millis = divmod(abs(ms), 1000)
    return f"{_offset_seconds(sign, seconds)}.{millis:03d}"


@lru_cache(maxsize=4096)
def _offset_seconds(sign: str, seconds: int) -> str:
    # an export's lines come in time order: thousands of lines share each second
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{minutes:02d}:{seconds:02d}"
