"""The output layer: the only module that uses rich.

Data goes to stdout, messages and progress to stderr. Colour only on a terminal
and never with NO_COLOR/--no-color. Text that comes from Elasticsearch (log lines,
index names, error reasons) is untrusted: it is always rendered as plain text,
never as rich markup, and control characters are made visible.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from rich.text import Text

from elastic_cli.output.json_lines import json_text
from elastic_cli.output.progress import FollowStatus, Progress, erase_progress  # noqa: F401 — for every caller
from elastic_cli.output.text import (  # noqa: F401 — the output layer's text rules, for every caller
    _csv_cell,
    _display,
    _text,
    console,
    inert,
    is_terminal,
    safe_text,
)
from elastic_cli.search.fields import get_field, level_of  # noqa: F401 — callers read hits through the output layer too


def print_panel(title: str, rows: Sequence[Sequence[Any]], color: bool | None = None, stderr: bool = False,
                note: str | None = None) -> None:
    """A titled list of aligned `key  value [more columns]` rows (create-key result, config show), in
    the tables' one style: the title bold on its own line, the rows under it two spaces in and two
    apart, no box; a value is never cut (a long key runs on and the terminal wraps it)."""
    from rich.text import Text

    from elastic_cli.output import record_table

    out = console(stderr, color)
    cells = [[inert(_display(cell)).replace("\n", " ") for cell in row] for row in rows]
    for row in cells:  # an empty last cell is no cell (config show's `kept in` row without a problem)
        while len(row) > 1 and not row[-1]:
            row.pop()
    width = max((len(r) for r in cells), default=0)
    # a row's last cell is not padded: it does not widen its column (config show's `kept in` path)
    widths = [max((len(r[i]) for r in cells if i < len(r) - 1), default=0) for i in range(width)]
    out.print(_text(title, "bold"), soft_wrap=True)
    for row in cells:
        line = Text("  ")
        for i, cell in enumerate(row):
            style = "bold" if i == 0 else "dim" if i > 1 else ""
            if i < len(row) - 1:
                line.append(cell.ljust(widths[i]), style=style)
                line.append("  ")
                continue
            # the last cell wraps on words under its own start when the row is wider than the terminal
            room = out.width - len(line.plain)
            parts = record_table.wrap_words(cell, room) if room >= record_table.MIN_FREE_TEXT else [cell]
            line.append(parts[0], style=style)
            for part in parts[1:]:
                out.print(line, soft_wrap=True)
                line = Text(" " * (out.width - room))
                line.append(part, style=style)
        out.print(line, soft_wrap=True)
    if note:
        out.print(_text(""))
        out.print(_text(note, "yellow"), soft_wrap=False)
    out.print(_text(""))  # apart from what follows (the next panel)


def print_json(data: Any, stream: IO[str] | None = None) -> None:
    (stream or sys.stdout).write(json_text(data, indent=2) + "\n")


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], color: bool | None = None,
                title: str | None = None, free_text: Sequence[str] = (), stream: IO[str] | None = None) -> None:
    """Rows as a table that never breaks what a user copies (record_table has the rules), in the one
    style of every table (logs' too): a bold header, columns two spaces apart, no boxes. The
    `free_text` columns (a message, a name) wrap on words first; when the others alone are wider
    than the terminal, the row is stacked."""
    from elastic_cli.output import record_table

    out = console(False, color, stream)
    header = [inert(c) for c in columns]
    cells = [[inert(_display(cell)) for cell in row] for row in rows]
    if title:
        out.print(_text(title, "bold"), soft_wrap=True)
    layout = record_table.plan(header, cells, out.width, free_text)
    lines = (record_table.inline_lines(header, cells, out.width, free_text) if layout.inline
             else record_table.stacked_lines(header, cells, layout, out.width, free_text))
    styles = {"header": "bold", "row": "", "under": "", "blank": ""}
    for kind, text in lines:
        out.print(_text(text, styles[kind]), soft_wrap=True)  # soft: the terminal wraps, never a cut


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

# the columns of free text in the tables of print_records: they wrap first, never an id or a link
FREE_TEXT_COLUMNS = ("latest_message", "message", "detail")


def print_records(fmt: str, columns: Sequence[str], records: Sequence[Mapping[str, Any]],
                  color: bool | None = None, stream: IO[str] | None = None) -> None:
    """Rows of plain values (sessions, keys): JSON, NDJSON and csv by the same formats as log lines,
    a table that never breaks what a user copies."""
    if fmt == "table":
        print_table(columns, ([_display(record.get(k)) for k in columns] for record in records), color=color,
                    free_text=[c for c in columns if c in FREE_TEXT_COLUMNS], stream=stream)
        return
    from elastic_cli.output.writer import make_format

    out = make_format(fmt, stream or sys.stdout, "message", fields=columns)
    if fmt != "csv":
        records = [{k: record.get(k) for k in columns} for record in records]
    out.write(records)
    out.close(len(records))
