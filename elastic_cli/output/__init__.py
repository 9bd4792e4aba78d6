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
from typing import IO, TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status
    from rich.text import Text

from elastic_cli.output.json_lines import _json_line, json_text
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
