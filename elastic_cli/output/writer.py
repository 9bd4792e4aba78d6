"""The one writer of log lines: hits in, one record per line, out through the chosen format.

As httpie hands its stream of messages to one writer, `logs` hands pages of annotated hits to a
`LogWriter`: it makes each hit a record (`records.RecordShape`) and passes the page to the format
(`formats`), counting lines. Nothing here knows a format's details.
"""

from __future__ import annotations

import sys
from typing import IO, Any, Callable, Sequence

from elastic_cli.errors import write_failed
from elastic_cli.output import formats
from elastic_cli.output.progress import erase_progress
from elastic_cli.output.records import RecordShape
from elastic_cli.output.text import is_terminal
from elastic_cli.search.session_line import SessionLine


def make_format(fmt: str, stream: IO[str], message_field: str, fields: Sequence[str] | None = None,
                markers: Sequence[str] = (), color: bool | None = None, width: int | None = None,
                context: bool = False, **table: Any) -> Any:
    if fmt != "table":
        table.pop("local_time", None)  # the data formats keep UTC whatever the display asks
    if fmt == "ndjson":
        return formats.NdjsonFormat(stream)
    if fmt == "json":
        return formats.JsonFormat(stream)
    if fmt == "csv":  # with -A/-B/-C the records' "context" is a column too
        return formats.CsvFormat(stream, columns=[*fields, "context"] if fields and context else fields)
    return formats.TableFormat(stream, message_field, fields=fields, markers=markers, color=color, width=width,
                               context=context, **table)


class LogWriter:
    """Writes a session's lines as they arrive, so `--all` streams with flat memory."""

    def __init__(self, fmt: str, fields: Sequence[str] | None = None, message_field: str = "message",
                 markers: Sequence[str] = (), color: bool | None = None, stream: IO[str] | None = None,
                 replay_url: str | None = None, width: int | None = None, context: bool = False, **table: Any):
        self.fmt = fmt
        self.stream = stream or sys.stdout
        # context: -A/-B/-C; each record says whether it is a context line, the table marks them
        self.shape = RecordShape(message_field=message_field, fields=tuple(fields) if fields else None,
                                 replay_url=replay_url, context=context)
        self.format = make_format(fmt, self.stream, message_field, fields=fields, markers=markers, color=color,
                                  width=width, context=context, **table)
        self.count = 0  # lines handed to the format; after a failed write, those known to be out
        self.flushed = 0  # lines out to the system at the last flush that worked
        self.failed = False
        self.unflushed = 0  # lines written since the last flush (a table prints them at the flush)
        self.on_terminal = is_terminal(self.stream)

    def write_page(self, lines: Sequence[SessionLine]) -> None:
        record = self.shape.record
        if lines:
            self._make_room()
        self.count += len(lines)
        self.unflushed += len(lines)
        separate = getattr(self.format, "separate", None) if self.shape.context else None
        if separate is None or not any(line.gap for line in lines):
            self._guarded(lambda: self.format.write([record(line) for line in lines]))
            return
        # grep's `--` where a group of lines does not follow the previous one (the table only)
        for group in _groups(lines):
            if group[0].gap:
                self._guarded(separate)
            records = [record(line) for line in group]
            self._guarded(lambda: self.format.write(records))  # noqa: B023 — called at once

    def flush(self) -> None:
        """Print what is buffered (a page with --all, a poll with --follow), keep streaming after."""
        if self.unflushed:
            self._make_room()
            self.unflushed = 0
        self._guarded(self.format.flush)
        self.flushed = self.count

    def close(self) -> None:
        if self.failed:  # the stream already refused: a last flush would fail again, past the first error
            return
        self._make_room()  # a JSON array's end, a table's last rows
        self._guarded(lambda: self.format.close(self.count))
        self.flushed = self.count

    def _make_room(self) -> None:
        """Lines for the terminal the status line (`following: ...`) is on: erase it first."""
        if self.on_terminal:
            erase_progress()

    def _guarded(self, act: Callable[[], None]) -> None:
        """A stream that refuses bytes (a full disk, `> /dev/full`) ends the output with one error
        saying so, and `count` says how many lines surely went out, not how many were handed over."""
        if self.failed:
            return
        try:
            act()
        except BrokenPipeError:
            raise  # the reader left: the entry point ends quietly
        except OSError as exc:
            self.failed = True
            self.count = self.flushed
            _drop_buffered(self.stream)
            raise write_failed("the output", exc, "free space where the output goes (or write it elsewhere), "
                                                  "then run the command again") from exc


def _groups(lines: Sequence[SessionLine]) -> list[list[SessionLine]]:
    """Lines cut where a `gap` starts a new group."""
    groups: list[list[SessionLine]] = []
    for line in lines:
        if line.gap or not groups:
            groups.append([])
        groups[-1].append(line)
    return groups


def _drop_buffered(stream: IO[str]) -> None:
    """Point the stream's file at /dev/null, so what is still buffered cannot fail again at exit."""
    import os

    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    os.dup2(devnull, fd)
    os.close(devnull)
