"""One class per output format of log lines, each fed lists of records (`records.LogRecord`).

Every format writes as records arrive, so `--all` streams with flat memory: JSON lines at once,
the table a batch at a time (a page with --all, a poll with --follow). Text from a log line is
untrusted: JSON escapes it (`json_lines`), csv defuses formulas and, on a terminal, makes it inert,
the table shows it inert.
"""

from __future__ import annotations

import csv
from datetime import tzinfo
from typing import IO, Any, Mapping, Sequence

from elastic_cli.output import log_table
from elastic_cli.output.json_lines import _json_line, _json_lines
from elastic_cli.output.text import _cell_text, _csv_cell, _display, console, inert, is_terminal, piped_columns

Record = Mapping[str, Any]
# values the tool writes itself (times, offsets, links): never a formula to defuse
OURS = frozenset({"time", "offset", "offset_ms", "replay_url"})


class NdjsonFormat:
    """One JSON record per line; a page written with one `writelines` (an export's hot path)."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, records: Sequence[Record]) -> None:
        self.stream.writelines(_json_lines(records))

    def flush(self) -> None:
        self.stream.flush()

    def close(self, count: int) -> None:
        self.stream.flush()


class JsonFormat:
    """One JSON array, a record per line, closed at the end (also when the output is partial: the
    exit code says so)."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.started = False

    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            text = ("[\n" if not self.started else ",\n") + _json_line(record)
            try:
                self.stream.write(text)
            finally:
                # a signal (Ctrl-C; SIGTERM under --follow) is raised as soon as write returns, before
                # the next statement: the array is open once write was called, so close ends it
                # rather than starting a second one ("}[]")
                self.started = True

    def flush(self) -> None:
        self.stream.flush()

    def close(self, count: int) -> None:
        self.stream.write("\n]\n" if self.started else "[]\n")
        self.stream.flush()


class CsvFormat:
    """The record's columns but `_source` (or the --fields), a header first."""

    def __init__(self, stream: IO[str], columns: Sequence[str] | None = None):
        self.stream = stream
        self.columns = list(columns) if columns else None
        self.writer: Any = None
        self.on_terminal = is_terminal(stream)  # to a file: the data as it is; to a screen: inert

    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            if self.writer is None:
                self.columns = self.columns or [k for k in record if k != "_source"]
                # every cell quoted (OWASP): a separator inside one never splits it for a reader
                self.writer = csv.DictWriter(self.stream, fieldnames=self.columns, extrasaction="ignore",
                                             quoting=csv.QUOTE_ALL)
                self.writer.writeheader()
            cells = {k: ("" if record.get(k) is None else record[k]) if k in OURS else _csv_cell(record.get(k))
                     for k in self.columns or ()}
            self.writer.writerow({k: inert(v) if self.on_terminal else v for k, v in cells.items()})

    def flush(self) -> None:
        self.stream.flush()

    def close(self, count: int) -> None:
        if self.writer is None and self.columns:  # no row: the header still says what the columns are
            csv.DictWriter(self.stream, fieldnames=self.columns, quoting=csv.QUOTE_ALL).writeheader()
        self.stream.flush()


class TableFormat:
    """Aligned columns (time, offset, index when several, level) and the message, wrapped to the
    terminal; a date line where the day changes; the session's markers highlighted."""

    def __init__(self, stream: IO[str], message_field: str, fields: Sequence[str] | None = None,
                 markers: Sequence[str] = (), color: bool | None = None, width: int | None = None,
                 max_message_lines: int = log_table.MAX_MESSAGE_LINES,
                 max_message_chars: int = log_table.MAX_MESSAGE_CHARS, local_time: bool = False,
                 context: bool = False):
        self.stream = stream
        self.context = context  # -A/-B/-C: a mark column (">" on error lines), context lines dim, "--" between groups
        # --local-time: times and date lines in this machine's zone (the table only; data stays UTC)
        self.zone: tzinfo | None = None
        self.zone_name = "UTC"
        if local_time:
            self.zone, self.zone_name = log_table.local_zone()
        self.color = color
        self.markers = [m for m in markers if m]
        self.max_message_lines, self.max_message_chars = max_message_lines, max_message_chars
        # on a terminal: its width; piped (-o table > file): COLUMNS if set, else lines are never wrapped
        self.width = width if width is not None else (
            console(stream=stream).width if is_terminal(stream) or piped_columns() else None)
        self.fields = list(fields) if fields else None
        # --fields: the message field wraps wherever it is listed; without it, the last field does
        self.wrapped = (None if not self.fields else
                        next((f for f in self.fields if f in (message_field, "message")), self.fields[-1]))
        self.rows: list[Record] = []  # and SEPARATOR where a group of lines ends
        self.layout: log_table.Layout | None = None
        self.indices: set[str] = set()
        self.has_offset = False
        self.last_date: str | None = None

    def write(self, records: Sequence[Record]) -> None:
        self.rows.extend(records)

    def separate(self) -> None:
        """The lines written next do not follow those before: grep's `--` between them."""
        self.rows.append(_SEPARATOR)

    def flush(self) -> None:
        if self.rows:
            self._print()
            self.rows = []
        self.stream.flush()

    def close(self, count: int) -> None:
        self.flush()

    def _row(self, record: Record) -> log_table.Row:
        mark = {log_table.MARK_COLUMN: "" if record.get("context") else log_table.MATCH_MARK} if self.context else {}
        if self.fields:
            cells = {name: _cell_text(record.get(name)) for name in self.fields if name != self.wrapped}
            return log_table.Row({**mark, **cells}, self._message_text(record.get(self.wrapped or "")))
        shown_time, date, zone = log_table.zoned_time(record.get("time"), self.zone)
        cells = {"time": inert(shown_time), "offset": inert(record.get("offset") or ""),
                 "index": inert(record.get("index") or ""), "level": inert(record.get("level") or "")}
        return log_table.Row({**mark, **cells}, self._message_text(record.get("message")), date, zone)

    def _message_text(self, value: Any) -> str:
        cut = log_table.cut_message(_display(value), self.max_message_lines, self.max_message_chars)
        text = inert(cut.text).expandtabs(4)
        return text + ("\n" + cut.more if cut.more else "")

    def _columns(self, records: Sequence[Record]) -> list[str]:
        mark = [log_table.MARK_COLUMN] if self.context else []
        if self.fields:
            return mark + [f for f in self.fields if f != self.wrapped]
        self.indices.update(str(r.get("index")) for r in records)
        self.has_offset = self.has_offset or any(r.get("offset") for r in records)
        return mark + ["time"] + (["offset"] if self.has_offset else []) + \
            (["index"] if len(self.indices) > 1 else []) + ["level"]

    def _print(self) -> None:
        from rich.style import Style
        from rich.text import Text

        records: list[Record] = []
        firsts: set[int] = set()  # the records a group starts with: grep's `--` before them
        for record in self.rows:
            if record is _SEPARATOR:
                firsts.add(len(records))
            else:
                records.append(record)
        rows = [self._row(record) for record in records]
        # the offset opens the replay at that moment, in terminals that show hyperlinks (OSC 8)
        links = {id(row): record.get("replay_url") for row, record in zip(rows, records)}
        after_separator = {id(rows[i]) for i in firsts if i < len(rows)}
        dim = {id(row) for row, record in zip(rows, records) if self.context and record.get("context")}
        title = self.wrapped if self.fields else "message"
        columns = self._columns(records)
        seen = {"index": max((len(inert(i)) for i in self.indices), default=0)}  # earlier polls too
        layout = log_table.choose_layout(rows, columns, self.width, title or "", previous=self.layout, floors=seen)
        out = console(color=self.color, stream=self.stream)
        # a hyperlink (OSC 8) on a terminal only: forced colour into `less -R` or a file keeps colour alone
        links_shown = is_terminal(self.stream)
        if layout != self.layout:  # the first batch, or a column appeared or widened
            out.print(Text(log_table.header_line(layout), style="bold"), soft_wrap=True)
        self.layout = layout
        for row, date_line in log_table.date_lines(rows, self.last_date, self.zone_name):
            if id(row) in after_separator:
                out.print(Text(log_table.SEPARATOR, style="dim"), soft_wrap=True)
            if date_line:
                out.print(Text(date_line, style="dim"), soft_wrap=True)
                self.last_date = log_table.day_key(row)
            link = links.get(id(row))
            for fixed, message in log_table.row_lines(row, layout, self.width):
                line = Text(fixed)
                if fixed.strip() and row.cells.get("level") == "error" and "level" in layout.columns:
                    start = _column_start(layout, "level")
                    line.stylize("red", start, start + len("error"))
                if link and links_shown and fixed.strip() and row.cells.get("offset") and "offset" in layout.columns:
                    start = _column_start(layout, "offset")
                    line.stylize(Style(link=link), start, start + len(row.cells["offset"]))
                shown = Text(message, style="dim" if message.lstrip().startswith("… ") else "")
                for marker in self.markers:
                    # a marker wrapped after its '=' is highlighted on both lines
                    shown.highlight_words([inert(marker), *_marker_halves(inert(marker))], style="bold magenta")
                line.append_text(shown)
                if id(row) in dim:
                    line.stylize("dim")
                out.print(line, soft_wrap=True)


_SEPARATOR: Record = {}  # in TableFormat.rows: grep's `--` goes here


def _column_start(layout: log_table.Layout, column: str) -> int:
    return sum(layout.widths[c] + len(log_table.GAP) for c in layout.columns[: layout.columns.index(column)])


def _marker_halves(marker: str) -> list[str]:
    name, sep, value = marker.partition("=")
    return [name + sep, value] if sep and value else []
