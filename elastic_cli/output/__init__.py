"""The output layer: the only module that uses rich.

Data goes to stdout, messages and progress to stderr. Colour only on a terminal
and never with NO_COLOR/--no-color. Text that comes from Elasticsearch (log lines,
index names, error reasons) is untrusted: it is always rendered as plain text,
never as rich markup, and control characters are made visible.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import datetime, timezone
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status
    from rich.text import Text

from elastic_cli.output import log_table
from elastic_cli.search.fields import get_field, level_of  # noqa: F401 — callers read hits through the output layer too

# C0/C1 controls except tab and newline; ESC sequences are made visible, not executed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inert(text: Any) -> str:
    """Untrusted text made safe for a terminal: control characters shown as \\xNN."""
    text = "" if text is None else str(text)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8", "replace") if _has_surrogates(text) else text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def safe_text(text: Any) -> str:
    """A message as it may reach a terminal: secrets masked, then `inert`. Every message path
    (warnings, -v chatter, errors and their fixes, --debug lines and tracebacks) goes through it;
    data goes through `inert` (text formats) or `json_text` (JSON)."""
    from elastic_cli.redaction import redact

    return inert(redact("" if text is None else str(text)))


def json_text(data: Any, indent: int | None = None) -> str:
    """`data` as JSON that is inert on a terminal: JSON escapes C0 controls, this escapes C1
    controls, DEL and lone surrogates as \\u0080 too (`_escape_c1`). Every JSON writer uses it
    or `_json_line`, which escapes the same way."""
    if indent is None:
        return _json_line(data)
    return _escape_c1(json.dumps(data, indent=indent, ensure_ascii=False, default=str))


def is_terminal(stream: IO | None = None) -> bool:
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console(stderr: bool = False, color: bool | None = None, stream: IO[str] | None = None) -> Console:
    """A rich Console for stdout or stderr; colour only on a terminal and when allowed."""
    from rich.console import Console

    stream = stream or (sys.stderr if stderr else sys.stdout)
    use_color = is_terminal(stream) if color is None else color
    on_terminal = is_terminal(stream)
    # piped: wide enough that no id or line is cut or wrapped for the reader's tools
    return Console(file=stream, no_color=not use_color, highlight=False, markup=False,
                   emoji=False, force_terminal=use_color if use_color else None,
                   width=None if on_terminal else 4096)


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
    (stream or sys.stdout).write(json_text(data, indent=2) + "\n")


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], color: bool | None = None,
                title: str | None = None) -> None:
    from rich.table import Table

    table = Table(title=_text(title) if title else None, header_style="bold", expand=False)
    for column in columns:
        table.add_column(inert(column), overflow="fold")  # never cut an id: wrap it
    for row in rows:
        table.add_row(*[_text(_display(cell)) for cell in row])
    console(False, color).print(table)


# ---------------------------------------------------------------- check findings

_STATUS_STYLE = {"ok": ("✔", "green"), "warning": ("!", "yellow"), "failure": ("✘", "red"), "skipped": ("-", "dim")}


def print_findings(findings: Sequence[Mapping[str, Any]], color: bool | None = None) -> None:
    """The `check` checklist: one line per finding, then its explanation and fix."""
    from rich.text import Text

    out = console(False, color)
    for finding in findings:
        mark, style = _STATUS_STYLE.get(finding["status"], ("?", ""))
        line = Text()
        line.append(f"{mark} ", style=style)
        line.append(inert(finding["title"]), style="bold")
        if finding.get("detail"):
            line.append(" — " + inert(finding["detail"]))
        out.print(line)
        if finding.get("fix") and finding["status"] != "ok":
            out.print(Text("    fix: " + inert(finding["fix"]), style=style))


# ---------------------------------------------------------------- log hits

# compact, as orjson writes it: the same text with or without orjson (but for the spelling
# of small exponents: 1e-7 against 1e-07, the same value)
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))
# JSON escapes C0 controls itself; C1 (e.g. U+009B, a one-character CSI) must be escaped too,
# and a lone surrogate (from invalid UTF-8) as well: written raw it cannot be encoded at all
_C1 = re.compile("[\x7f-\x9f\ud800-\udfff]")

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
                 max_message_chars: int = log_table.MAX_MESSAGE_CHARS, width: int | None = None,
                 replay_url: str | None = None):
        self.fmt = fmt
        self.replay_url = replay_url  # the session's replay, opened at each line's moment in json records
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
        from elastic_cli.search.lines import message_of

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
        """The JSON record of a line (README: "The JSON record"): keys may be added, never renamed."""
        if self.fields:
            return {"_index": hit.get("_index"), "_id": hit.get("_id"), **self._flat(hit)}
        from elastic_cli.search.lines import message_of

        moment = hit.get("_time_ms")
        offset_ms = hit.get("_offset_ms")
        record = {
            "_index": hit.get("_index"), "_id": hit.get("_id"),
            "time": _iso_ms(moment) if moment is not None else None,
            "index": hit.get("_data_stream") or hit.get("_index"),
            "level": level_of(hit["_level"]) if hit.get("_level") is not None else None,
            "message": message_of(hit, self.message_field),
        }
        if "_offset" in hit:
            record["offset"] = hit["_offset"]
            record["offset_ms"] = offset_ms
        if self.replay_url:
            # the player reads a jumpto no larger than the session's start as an offset from it
            record["replay_url"] = (f"{self.replay_url}?jumpto={max(offset_ms, 0)}" if offset_ms is not None
                                    else self.replay_url)
        record["_source"] = hit.get("_source")
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


@lru_cache(maxsize=65_536)
def _iso_second(seconds: int) -> str:
    # an export's lines come in time order: thousands share each second
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC with milliseconds: 2024-01-24T03:00:00.123Z."""
    seconds, millis = divmod(int(ms), 1000)
    try:
        return f"{_iso_second(seconds)}.{millis:03d}Z"
    except (OverflowError, OSError, ValueError):
        return str(ms)


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
    # a cell starting with = + - @ is a formula to spreadsheets: keep it text
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


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


def print_records(fmt: str, columns: Sequence[str], records: Sequence[Mapping[str, Any]],
                  color: bool | None = None, stream: IO | None = None) -> None:
    """Rows of plain values: a table, a JSON array, NDJSON or CSV (cells from logs made inert or defused)."""
    out = stream or sys.stdout
    if fmt == "json":
        out.write(json_text([dict(r) for r in records], indent=2) + "\n")
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
        print_table(columns, ([_display(record.get(k)) for k in columns] for record in records), color=color)
