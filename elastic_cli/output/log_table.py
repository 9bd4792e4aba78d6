"""How log lines are laid out as a table on a terminal (pure: strings in, lines out).

Rules a reader notices:
- a long message is cut (lines, then characters) with a "… N more" marker; other formats keep it whole;
- time is compact (HH:MM:SS.mmm, UTC or with --local-time this machine's zone) with a date line
  whenever the day changes;
- the index column appears only when lines come from more than one index, the offset from
  session start only when the search knows it;
- a word is never split if it fits the message width (a 69-character token is copied from
  the terminal), and a marker breaks after its `=`; on a narrow terminal the message goes on
  its own full-width lines under a one-line header;
- once printed, column widths stay (a follow poll or the next page lines up with the first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone, tzinfo
from typing import Any, Iterable, Mapping, Sequence

MAX_MESSAGE_LINES = 40
MAX_MESSAGE_CHARS = 4000
# a session token is 69 characters; with room to spare the message sits beside the other columns
MIN_SIDE_BY_SIDE_MESSAGE = 72
GAP = "  "
# widths that fit every value of these columns, so a later poll never shifts the message
MIN_WIDTHS = {"time": len("00:00:00.000"), "offset": len("+00:00.000"), "level": len("warning")}
INDENT = "  "  # the message under its header line, on a narrow terminal
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
    parsed = parse_time(value)
    if parsed is None:
        return ("" if value is None else str(value)), None
    if zone is not None:
        parsed = parsed.astimezone(zone)
    return parsed.strftime("%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}", parsed.strftime("%Y-%m-%d")


def local_zone() -> tuple[tzinfo, str]:
    """This machine's zone, and how a date line names it (`JST`, or `UTC+05:30` when it has no name)."""
    now = datetime.now().astimezone()
    zone = now.tzinfo or timezone.utc
    name = now.tzname() or ""
    if not name or name[0] in "+-":
        offset = now.strftime("%z")
        name = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return zone, name


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
    widths = {c: max([len(c), floors.get(c, 0)] + [len(r.cells.get(c, "")) for r in rows]) for c in columns}
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
    fixed = GAP.join(c.ljust(layout.widths[c]) for c in layout.columns)
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
    """Each row with the date line to print before it (None when the day did not change)."""
    for row in rows:
        if row.date is not None and row.date != last_date:
            yield row, f"── {row.date} ({zone_name}) ──"
            last_date = row.date
        else:
            yield row, None
