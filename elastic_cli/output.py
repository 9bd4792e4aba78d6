"""The output layer: the only module that uses rich.

Data goes to stdout, messages and progress to stderr. Colour only on a terminal
and never with NO_COLOR/--no-color. Text that comes from Elasticsearch (log lines,
index names, error reasons) is untrusted: it is always rendered as plain text,
never as rich markup, and control characters are made visible.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import sys
from typing import IO, TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status
    from rich.text import Text

from elastic_cli import log_table
from elastic_cli.log_fields import get_field  # noqa: F401 — callers read hits through the output layer too

# C0/C1 controls except tab and newline; ESC sequences are made visible, not executed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inert(text: Any) -> str:
    """Untrusted text made safe for a terminal: control characters shown as \\xNN."""
    text = "" if text is None else str(text)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8", "replace") if _has_surrogates(text) else text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def is_terminal(stream: IO | None = None) -> bool:
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@functools.lru_cache(maxsize=None)
def _console_class() -> type[Console]:
    from rich.console import Console

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1 here; the entry point ends a closed pipe quietly for every command
            self.quiet = True
            raise BrokenPipeError()

    return PipeAwareConsole


def console(stderr: bool = False, color: bool | None = None, stream: IO[str] | None = None) -> Console:
    """A rich Console for stdout or stderr; colour only on a terminal and when allowed."""
    Console = _console_class()

    stream = stream or (sys.stderr if stderr else sys.stdout)
    use_color = is_terminal(stream) if color is None else color
    on_terminal = is_terminal(stream)
    # piped: the width COLUMNS asks for (`COLUMNS=80 ... -o table | less`), else wide enough
    # that no id or line is cut or wrapped for the reader's tools
    columns = os.environ.get("COLUMNS", "")
    width = None if on_terminal else (int(columns) if columns.isdigit() and int(columns) > 0 else 4096)
    return Console(file=stream, no_color=not use_color, highlight=False, markup=False,
                   emoji=False, force_terminal=use_color if use_color else None, width=width)


def _text(value: Any, style: str | None = None) -> Text:
    from rich.text import Text

    return Text(inert(value), style=style or "")


# ---------------------------------------------------------------- key/value panels


def print_panel(title: str, rows: Sequence[Sequence[Any]], color: bool | None = None, stderr: bool = False,
                note: str | None = None) -> None:
    """A titled list of aligned `key  value [more columns]` rows (create-key result, config show)."""
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    for extra in range(max((len(r) for r in rows), default=2) - 1):
        grid.add_column(style="dim" if extra > 0 else "")
    for row in rows:
        grid.add_row(*[_text(_display(cell)) for cell in row])
    body: Any = grid
    if note:
        from rich.console import Group

        body = Group(grid, _text(""), _text(note, "yellow"))
    console(stderr, color).print(Panel(body, title=_text(title, "bold"), title_align="left", expand=False))


def print_json(data: Any, stream: IO | None = None) -> None:
    (stream or sys.stdout).write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], color: bool | None = None,
                title: str | None = None, free_text: Sequence[str] = (), stream: IO[str] | None = None) -> None:
    """Rows as a table that never breaks what a user copies (record_table has the rules): the
    `free_text` columns (a message, a name) wrap on words first; when the others alone are wider
    than the terminal, the row is stacked."""
    from rich.table import Table

    from elastic_cli import record_table

    out = console(False, color, stream)
    header = [inert(c) for c in columns]
    cells = [[inert(_display(cell)) for cell in row] for row in rows]
    layout = record_table.plan(header, cells, out.width, free_text)
    if not layout.boxed:
        styles = {"header": "bold", "row": "", "under": "", "blank": ""}
        for kind, text in record_table.stacked_lines(header, cells, layout, out.width, free_text):
            out.print(_text(text, styles[kind]), soft_wrap=True)  # soft: the terminal wraps, never a cut
        return
    table = Table(title=title, header_style="bold", expand=False)
    for column in header:
        if column in free_text:
            table.add_column(column, overflow="fold", min_width=record_table.MIN_FREE_TEXT)
        else:  # ids, times, links: whole (the plan made sure they fit)
            table.add_column(column, no_wrap=True, overflow="ignore")
    for row in cells:
        table.add_row(*[_text(cell) for cell in row])
    out.print(table)


# ---------------------------------------------------------------- check findings

_STATUS_STYLE = {"ok": ("✔", "green"), "warning": ("!", "yellow"), "failure": ("✘", "red"), "skipped": ("-", "dim")}


def print_findings(findings: Sequence[Mapping[str, Any]], color: bool | None = None,
                   stream: IO[str] | None = None) -> None:
    """The `check` checklist: one line per finding, then its explanation and fix. A line too long
    for the terminal wraps on words under its own text, never back at column 0."""
    from rich.table import Table
    from rich.text import Text

    out = console(False, color, stream)
    for finding in findings:
        mark, style = _STATUS_STYLE.get(finding["status"], ("?", ""))
        line = Text()
        line.append(inert(finding["title"]), style="bold")
        if finding.get("detail"):
            line.append(" — " + inert(finding["detail"]))
        out.print(_hanging(Table, Text(f"{mark} ", style=style), line))
        if finding.get("fix") and finding["status"] != "ok":
            out.print(_hanging(Table, Text("    fix: ", style=style), Text(inert(finding["fix"]), style=style)))


def _hanging(table_class: Any, prefix: Text, body: Text) -> Any:
    """`prefix body`, the body's wrapped lines indented under its first word (a two-column grid)."""
    grid = table_class.grid()
    grid.add_column(no_wrap=True, width=prefix.cell_len)
    grid.add_column(overflow="fold")
    grid.add_row(prefix, body)
    return grid


# ---------------------------------------------------------------- log hits

# compact, as orjson writes it: the same text with or without orjson (but for the spelling
# of small exponents: 1e-7 against 1e-07, the same value)
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))
# JSON escapes C0 controls itself; C1 (e.g. U+009B, a one-character CSI) must be escaped too
_C1 = re.compile("[\x7f-\x9f]")

_orjson_dumps: Any = None  # orjson.dumps once looked up; False when orjson is not installed


def _orjson() -> Any:
    """orjson.dumps, or False when orjson is not installed; imported on first use, so
    commands that print no hits never pay for it."""
    global _orjson_dumps
    if _orjson_dumps is None:
        try:
            from orjson import dumps as _orjson_dumps
        except ImportError:
            _orjson_dumps = False
    return _orjson_dumps


def _encode(record: Any) -> str:
    """orjson when installed (6-8x faster per line: bench/json_codec.py), else the standard
    library; both write the same compact JSON."""
    dumps = _orjson()
    if dumps:
        try:
            return dumps(record, default=str).decode()
        except TypeError:  # integers beyond 64 bits, lone surrogates, non-string keys: as json does them
            pass
    return _ENCODER.encode(record)


def _escape_c1(text: str) -> str:
    if text.isascii() and "\x7f" not in text:  # the usual text: nothing to escape, no scan
        return text
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_line(record: Any) -> str:
    return _escape_c1(_encode(record))


def _json_lines(records: Sequence[Any]) -> list[str]:
    """Records as JSON lines, each ending with a newline: `_json_line` for a page at once
    (one lookup of the encoder; written with one `writelines`, which keeps memory flat)."""
    dumps = _orjson()
    if dumps:
        try:
            return [_escape_c1(dumps(record, default=str).decode()) + "\n" for record in records]
        except TypeError:  # a value orjson refuses (see `_encode`): this page line by line
            pass
    return [_json_line(record) + "\n" for record in records]


class HitWriter:
    """Writes hits as they arrive, so `--all` streams with flat memory."""

    def __init__(self, fmt: str, fields: Sequence[str] | None, message_field: str, time_field: str,
                 tags_field: str, markers: Sequence[str] = (), color: bool | None = None,
                 stream: IO | None = None, max_message_lines: int = log_table.MAX_MESSAGE_LINES,
                 max_message_chars: int = log_table.MAX_MESSAGE_CHARS, width: int | None = None):
        self.fmt = fmt
        self.fields = list(fields) if fields else None
        self.message_field, self.time_field, self.tags_field = message_field, time_field, tags_field
        self.markers = [m for m in markers if m]
        self.color = color
        self.stream = stream or sys.stdout
        self.max_message_lines = max_message_lines
        self.max_message_chars = max_message_chars
        # on a terminal: its width; piped (-o table > file): lines are never wrapped
        self.width = width if width is not None else (console(stream=self.stream).width
                                                      if is_terminal(self.stream) else None)
        self.count = 0
        self._csv: Any = None
        self._rows: list[Mapping[str, Any]] = []
        self._layout: log_table.Layout | None = None
        self._indices: set[str] = set()
        self._has_offset = False
        self._last_date: str | None = None

    # a hit is {"_index", "_id", "_source", ...}
    def _flat(self, hit: Mapping[str, Any]) -> dict[str, Any]:
        from elastic_cli.log_search import message_of

        source = hit.get("_source") or {}
        if self.fields:  # "offset" is the one name that is not a source field
            return {name: hit.get("_offset") if name == "offset" else get_field(source, name) for name in self.fields}
        # _time, _level, _data_stream: what the search core resolved for this hit's index
        flat = {
            "time": hit["_time"] if "_time" in hit else get_field(source, self.time_field),
            "index": hit.get("_data_stream") or hit.get("_index"),
            "level": level_of(hit["_level"] if "_level" in hit else get_field(source, self.tags_field)),
            "message": message_of(hit, self.message_field),
        }
        if "_offset" in hit:  # the position on the replay's timeline
            flat = {"offset": hit["_offset"], **flat}
        return flat

    def write(self, hit: Mapping[str, Any]) -> None:
        self.count += 1
        if self.fmt == "ndjson":
            # whole lines only; --follow flushes after each poll
            self.stream.write(_json_line(self._record(hit)) + "\n")
        elif self.fmt == "json":
            prefix = "[\n" if self.count == 1 else ",\n"
            self.stream.write(prefix + _json_line(self._record(hit)))
        elif self.fmt == "csv":
            flat = self._flat(hit)
            if self._csv is None:
                self._csv = csv.DictWriter(self.stream, fieldnames=list(flat), extrasaction="ignore")
                self._csv.writeheader()
            on_terminal = is_terminal(self.stream)  # to a file: the data as it is; to a screen: inert
            # the offset is ours (+03:12.450), not text from a log line: never a formula to defuse
            cells = {k: v if k == "offset" else _csv_cell(v) for k, v in flat.items()}
            self._csv.writerow({k: inert(v) if on_terminal else v for k, v in cells.items()})
        else:
            self._rows.append(hit)

    def write_page(self, hits: Sequence[Mapping[str, Any]]) -> None:
        """Several hits at once: for ndjson one write per page (an export's hot path)."""
        if self.fmt != "ndjson" or self.fields:
            for hit in hits:
                self.write(hit)
            return
        self.count += len(hits)
        self.stream.writelines(_json_lines([self._record(hit) for hit in hits]))

    def _record(self, hit: Mapping[str, Any]) -> dict[str, Any]:
        if self.fields:
            return {"_index": hit.get("_index"), "_id": hit.get("_id"), **self._flat(hit)}
        record = {"_index": hit.get("_index"), "_id": hit.get("_id"), "_source": hit.get("_source")}
        if "_offset" in hit:
            record["offset"] = hit["_offset"]
        return record

    def flush(self) -> None:
        """Print what is buffered (a page with --all, a poll with --follow), keep streaming after."""
        if self.fmt == "table" and self._rows:
            self._print_table()
            self._rows = []
        self.stream.flush()

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.fmt == "table" and self._rows:
            self._print_table()
        self.stream.flush()

    # ------------------------------------------------------------ table

    def _table_row(self, hit: Mapping[str, Any]) -> log_table.Row:
        if self.fields:
            flat = self._flat(hit)
            names = list(flat)
            cells = {name: _cell_text(flat[name]) for name in names[:-1]}
            return log_table.Row(cells, self._message_text(flat[names[-1]]))
        flat = self._flat(hit)  # the time, level and index the search core resolved for this hit
        shown_time, date = log_table.compact_time(flat["time"])
        cells = {"time": inert(shown_time), "offset": inert(hit.get("_offset") or ""),
                 "index": inert(flat["index"] or ""), "level": inert(flat["level"])}
        return log_table.Row(cells, self._message_text(flat["message"]), date)

    def _message_text(self, value: Any) -> str:
        cut = log_table.cut_message(_display(value), self.max_message_lines, self.max_message_chars)
        text = inert(cut.text).expandtabs(4)
        return text + ("\n" + cut.more if cut.more else "")

    def _columns(self) -> list[str]:
        if self.fields:
            return self.fields[:-1]
        self._indices.update(str(h.get("_data_stream") or h.get("_index")) for h in self._rows)
        self._has_offset = self._has_offset or any(h.get("_offset") for h in self._rows)
        return ["time"] + (["offset"] if self._has_offset else []) + \
            (["index"] if len(self._indices) > 1 else []) + ["level"]

    def _print_table(self) -> None:
        from rich.text import Text

        rows = [self._table_row(hit) for hit in self._rows]
        title = self.fields[-1] if self.fields else "message"
        columns = self._columns()
        seen = {"index": max((len(inert(i)) for i in self._indices), default=0)}  # earlier polls too
        layout = log_table.choose_layout(rows, columns, self.width, title, previous=self._layout, floors=seen)
        out = console(color=self.color, stream=self.stream)
        if layout != self._layout:  # the first batch, or a column appeared or widened
            out.print(Text(log_table.header_line(layout), style="bold"), soft_wrap=True)
        self._layout = layout
        for row, date_line in log_table.date_lines(rows, self._last_date):
            if date_line:
                out.print(Text(date_line, style="dim"), soft_wrap=True)
                self._last_date = row.date
            for fixed, message in log_table.row_lines(row, layout, self.width):
                line = Text(fixed)
                if fixed.strip() and row.cells.get("level") == "error" and "level" in layout.columns:
                    start = sum(layout.widths[c] + len(log_table.GAP)
                                for c in layout.columns[: layout.columns.index("level")])
                    line.stylize("red", start, start + len("error"))
                shown = Text(message, style="dim" if message.lstrip().startswith("… ") else "")
                for marker in self.markers:
                    # a marker wrapped after its '=' is highlighted on both lines
                    shown.highlight_words([inert(marker), *_marker_halves(inert(marker))], style="bold magenta")
                line.append_text(shown)
                out.print(line, soft_wrap=True)


def _marker_halves(marker: str) -> list[str]:
    name, sep, value = marker.partition("=")
    return [name + sep, value] if sep and value else []


def _cell_text(value: Any) -> str:
    return inert(_display(value)).replace("\n", " ")


def _display(value: Any) -> str:
    """A value as a reader expects it: yes/no, a plain list, JSON only for objects; never a Python repr."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)) and not any(isinstance(v, (list, tuple, dict)) for v in value):
        return ", ".join(_display(v) for v in value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _csv_cell(value: Any) -> str:
    text = _display(value)
    # a cell starting with = + - @ is a formula to spreadsheets, and so is one after a leading tab
    # or carriage return (OWASP's CSV injection list): keep it text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def level_of(tags: Any) -> str:
    values = tags if isinstance(tags, list) else [tags]
    lowered = [str(v).lower() for v in values if v is not None]
    for level in ("error", "warning", "warn", "info", "success", "debug"):
        if level in lowered:
            return level
    return ",".join(lowered)



class Progress:
    """A spinner with a count on stderr, only when stderr is a terminal (nothing when piped)."""

    def __init__(self, enabled: bool = True, color: bool | None = None):
        self._status: Status | None = None
        self.color = color
        self.enabled = enabled and is_terminal(sys.stderr)

    def update(self, seen: int) -> None:
        if not self.enabled:
            return
        if self._status is None:
            self._status = console(stderr=True, color=self.color).status(f"{seen} lines read")
            self._status.start()
        else:
            self._status.update(f"{seen} lines read")

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


# the columns of free text in the tables of print_records: they wrap first, never an id or a link
FREE_TEXT_COLUMNS = ("latest_message", "message", "detail")


def print_records(fmt: str, columns: Sequence[str], records: Sequence[Mapping[str, Any]],
                  color: bool | None = None, stream: IO | None = None) -> None:
    """Rows of plain values: a table, a JSON array, NDJSON or CSV (cells from logs made inert or defused)."""
    out = stream or sys.stdout
    if fmt == "json":
        out.write(json.dumps([dict(r) for r in records], indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt == "ndjson":
        for record in records:
            out.write(_json_line(dict(record)) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        on_terminal = is_terminal(out)
        for record in records:
            cells = {k: _csv_cell(record.get(k)) for k in columns}
            writer.writerow({k: inert(v) if on_terminal else v for k, v in cells.items()})
    else:
        print_table(columns, ([_display(record.get(k)) for k in columns] for record in records), color=color,
                    free_text=[c for c in columns if c in FREE_TEXT_COLUMNS], stream=stream)
