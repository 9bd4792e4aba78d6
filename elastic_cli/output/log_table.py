"""How log lines are laid out as a table on a terminal (pure: strings in, lines out).

Rules a reader notices:
- a long message is cut (lines, then characters) with a "… N more" marker; other formats keep it whole;
- time is compact (HH:MM:SS.mmm, UTC or with --local-time this machine's zone, with the offset in
  force on that date: a July line in summer time, a January one in winter time) with a date line
  whenever the day (or, at a daylight-saving change, the zone's name) changes;
- the index column appears only when lines come from more than one index, the offset from
  session start only when the search knows it;
- a word is never split if it fits the message width (a 69-character token is copied from
  the terminal), and a marker breaks after its `=`; on a narrow terminal the message goes on
  its own full-width lines under a one-line header;
- once printed, column widths stay (a follow poll or the next page lines up with the first).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Iterable, Mapping, Sequence

MAX_MESSAGE_LINES = 40
MAX_MESSAGE_CHARS = 4000
# a session token is 69 characters; with room to spare the message sits beside the other columns
MIN_SIDE_BY_SIDE_MESSAGE = 72
GAP = "  "
# widths that fit every value of these columns, so a later poll never shifts the message
MIN_WIDTHS = {"time": len("00:00:00.000"), "offset": len("+00:00.000"), "level": len("warning")}
INDENT = "  "  # the message under its header line, on a narrow terminal
# -A/-B/-C: a first column marks the error lines (">"); the lines around them have none (and are dim)
MARK_COLUMN, MATCH_MARK = "mark", ">"
SEPARATOR = "--"  # between groups of lines that do not follow each other, as grep prints it
TITLES = {MARK_COLUMN: ""}  # a column shown under another title than its name
MORE_HINT = "-o json shows all"

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_PIECES = re.compile(r"\s+|[^\s=]*=|[^\s=]+")  # spaces, words; a word also breaks after each '='


@dataclass(frozen=True)
class Cut:
    text: str
    more: str | None  # the marker line, or None when nothing was cut


def cut_message(text: str, max_lines: int = MAX_MESSAGE_LINES, max_chars: int = MAX_MESSAGE_CHARS) -> Cut:
    """At most max_lines lines and max_chars characters of text, and what was left out."""
    lines = text.split("\n")
    kept = "\n".join(lines[:max_lines])
    if len(kept) > max_chars:
        end = max_chars
        space = kept.rfind(" ", max_chars - 200, max_chars)  # end on a word when one is near
        kept = kept[: space if space > 0 else end]
    if len(kept) == len(text):
        return Cut(text, None)
    hidden = text[len(kept):]
    more_lines = hidden.count("\n")
    chars = f"{len(hidden):,} more characters"
    what = f"{more_lines:,} more lines, {chars}" if more_lines else chars
    return Cut(kept, f"… {what} ({MORE_HINT})")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string or epoch milliseconds as an aware UTC datetime; None when it is neither."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
        if isinstance(value, str) and _ISO.match(value):
            text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
            # Python 3.9's fromisoformat takes exactly 3 or 6 fraction digits
            text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def compact_time(value: Any, zone: tzinfo | None = None) -> tuple[str, str | None]:
    """(`03:51:12.000`, `2024-01-24`) for a time, in UTC or `zone`; (the value as text, None) for
    anything else."""
    shown, date, _name = zoned_time(value, zone)
    return shown, date


def zoned_time(value: Any, zone: tzinfo | None = None) -> tuple[str, str | None, str | None]:
    """`compact_time` and the name of the zone it is shown in on that date (`CET`, `CEST`; None
    for UTC or no time). A moment the zone's rules cannot place (far past or future for the C
    library) is shown in UTC and named so."""
    parsed = parse_time(value)
    if parsed is None:
        return ("" if value is None else str(value)), None, None
    name = None
    if zone is not None:
        try:
            parsed = parsed.astimezone(zone)
            name = zone_name(parsed)
        except (OverflowError, OSError, ValueError):
            name = "UTC"
    return parsed.strftime("%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}", parsed.strftime("%Y-%m-%d"), name


def zone_name(moment: datetime) -> str:
    """How a date line names the zone of an aware moment: `CEST`, or `UTC+05:30` when it has no name."""
    name = moment.tzname() or ""
    if not name or name[0] in "+-":
        offset = moment.strftime("%z")
        name = f"UTC{offset[:3]}:{offset[3:]}" if offset and offset != "+0000" else "UTC"
    return name


class LocalZone(tzinfo):
    """This machine's zone as the C library knows it (TZ, /etc/localtime): each moment gets the
    offset and name in force on its own date, not today's (`datetime.now().astimezone().tzinfo`
    is a fixed offset: a summer line would be shown in winter time)."""

    def fromutc(self, dt: datetime) -> datetime:
        utc = dt.replace(tzinfo=timezone.utc)
        local = time.localtime(utc.timestamp())
        return (dt.replace(tzinfo=None) + timedelta(seconds=local.tm_gmtoff)).replace(tzinfo=self)

    def _at(self, dt: datetime | None) -> time.struct_time:
        if dt is None:
            return time.localtime()
        # the local wall time read back through the zone's rules (-1: the C library decides DST)
        stamp = time.mktime((dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, -1))
        return time.localtime(stamp)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(seconds=self._at(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return self._at(dt).tm_zone

    def __repr__(self) -> str:
        return "LocalZone()"


def local_zone() -> tuple[tzinfo, str]:
    """This machine's zone (the rules, not today's offset), and how a date line names it today
    (`JST`, or `UTC+05:30` when it has no name); each date line names the zone of its own date."""
    zone = LocalZone()
    return zone, zone_name(datetime.now(timezone.utc).astimezone(zone))


def wrap(line: str, width: int | None) -> list[str]:
    """Greedy wrap on spaces (and after '='); a word is split only when it is wider than the line."""
    if width is None or len(line) <= width:
        return [line]
    out: list[str] = []
    current = ""
    for piece in _PIECES.findall(line):
        if len(current) + len(piece) <= width:
            current += piece
            continue
        if piece.isspace():
            out.append(current)
            current = ""
            continue
        if current.strip():
            out.append(current.rstrip())
            current = ""
        while len(piece) > width:  # last resort: wider than the whole line
            out.append(piece[:width])
            piece = piece[width:]
        current = piece
    out.append(current)
    return out


@dataclass(frozen=True)
class Row:
    """One hit as shown: fixed cells (time, offset, index, level, or --fields) and its message."""

    cells: Mapping[str, str]
    message: str
    date: str | None = None  # the day of its time, for the date lines
    zone: str | None = None  # the zone that day's time is shown in (None: the table's)


@dataclass(frozen=True)
class Layout:
    """Which fixed columns and how wide; once printed, only ever widened (stable under --follow)."""

    columns: tuple[str, ...]
    widths: Mapping[str, int] = field(default_factory=dict)
    message_title: str = "message"
    stacked: bool = False  # message on its own lines under a one-line header

    def fixed_width(self) -> int:
        return sum(self.widths[c] + len(GAP) for c in self.columns)


def choose_layout(rows: Sequence[Row], columns: Sequence[str], width: int | None,
                  message_title: str = "message", previous: Layout | None = None,
                  floors: Mapping[str, int] | None = None) -> Layout:
    """Widths from the rows (never narrower than before, nor than `floors`: values seen earlier);
    stacked when the message would be cramped."""
    floors = {**MIN_WIDTHS, **(floors or {})}
    widths = {c: max([len(TITLES.get(c, c)), floors.get(c, 0)] + [len(r.cells.get(c, "")) for r in rows])
              for c in columns}
    if previous is not None:
        for c in columns:
            widths[c] = max(widths[c], previous.widths.get(c, 0))
    layout = Layout(tuple(columns), widths, message_title)
    if width is not None and width - layout.fixed_width() < MIN_SIDE_BY_SIDE_MESSAGE:
        layout = replace(layout, stacked=True)
    if previous is not None and previous.stacked:
        layout = replace(layout, stacked=True)  # do not switch back and forth between polls
    return layout


def header_line(layout: Layout) -> str:
    fixed = GAP.join(TITLES.get(c, c).ljust(layout.widths[c]) for c in layout.columns)
    if layout.stacked:
        return fixed.rstrip()
    return (fixed + GAP + layout.message_title) if fixed else layout.message_title


def row_lines(row: Row, layout: Layout, width: int | None) -> list[tuple[str, str]]:
    """The lines of one row as (fixed part, message part); the caller styles each part."""
    fixed = GAP.join(row.cells.get(c, "").ljust(layout.widths[c]) for c in layout.columns)
    if layout.stacked:
        room = None if width is None else max(width - len(INDENT), 1)
        message = [INDENT + part for line in row.message.split("\n") for part in wrap(line, room)]
        return [(fixed.rstrip(), "")] + [("", line) for line in message]
    room = None if width is None else max(width - layout.fixed_width(), 1)
    message = [part for line in row.message.split("\n") for part in wrap(line, room)]
    pad = " " * (len(fixed) + len(GAP)) if fixed else ""
    first = (fixed + GAP) if fixed else ""
    return [(first if i == 0 else pad, part) for i, part in enumerate(message)]


def date_lines(rows: Iterable[Row], last_date: str | None, zone_name: str = "UTC"
               ) -> Iterable[tuple[Row, str | None]]:
    """Each row with the date line to print before it (None when the day did not change, nor the
    zone's name: a daylight-saving change names the new zone on a line of its own)."""
    for row in rows:
        if row.date is not None and day_key(row) != last_date:
            yield row, f"── {row.date} ({row.zone or zone_name}) ──"
            last_date = day_key(row)
        else:
            yield row, None


def day_key(row: Row) -> str | None:
    """What a new date line is printed for: the day, and the zone's name when it has one."""
    if row.date is None:
        return None
    return f"{row.date} {row.zone}" if row.zone else row.date
