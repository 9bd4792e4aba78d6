"""Text that reaches a terminal, made safe, and the rich consoles that draw it (pure but for rich).

Text from Elasticsearch (log lines, index names, error reasons) is untrusted: `inert` shows control
characters as \\xNN, so an escape sequence is seen, never executed; `safe_text` also masks secrets.
Every writer and every message goes through them.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# C0/C1 controls except tab and newline: ESC sequences are made visible, not executed. And the
# bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which reorder
# what a terminal shows ("Trojan Source", CVE-2021-42574): a line would read other than it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: Any) -> str:
    """Untrusted text made safe for a terminal: control characters shown as \\xNN, bidirectional
    overrides and isolates as \\u202e."""
    text = "" if text is None else str(text)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8", "replace") if _has_surrogates(text) else text
    return _CONTROL.sub(_visible, text)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def safe_text(text: Any) -> str:
    """A message as it may reach a terminal: secrets masked, then `inert`. Every message path
    (warnings, -v chatter, errors and their fixes, --debug lines and tracebacks) goes through it;
    data goes through `inert` (text formats) or `json_text` (JSON)."""
    from elastic_cli.redaction import redact

    return inert(redact("" if text is None else str(text)))


def piped_columns() -> int | None:
    """The width COLUMNS asks of output that goes to no terminal (`COLUMNS=80 ... -o table | less`);
    None when it is not set. The one reader of COLUMNS."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def is_terminal(stream: IO[str] | None = None) -> bool:
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
    """A rich Console for stdout or stderr: colour on a terminal, or as `color` says (True: even
    piped, for `less -R`; False: no escape sequence at all, not even bold). Whether it is a
    terminal (the spinner, the width) is the stream's own, never read from the environment."""
    Console = _console_class()

    stream = stream or (sys.stderr if stderr else sys.stdout)
    on_terminal = is_terminal(stream)
    use_color = on_terminal if color is None else color
    # piped: the width COLUMNS asks for, else wide enough that no id or line is cut or wrapped for the
    # reader's tools
    width = None if on_terminal else (piped_columns() or 4096)
    return Console(file=stream, no_color=not use_color, highlight=False, markup=False, emoji=False,
                   force_terminal=on_terminal or use_color, color_system="auto" if use_color else None,
                   width=width)


def _text(value: Any, style: str | None = None) -> Text:
    from rich.text import Text

    return Text(inert(value), style=style or "")


# ---------------------------------------------------------------- key/value panels


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


# Where a spreadsheet may start a cell: the start, and after any separator of any convention (`,`
# `;` tab, a line break), past spaces and quotes. A cell is quoted whole, but a reader set to
# another separator splits it anyway (OWASP, CSV injection: `total;=1+1` is two cells in a `;`
# locale, the second a formula), so every such start that begins a formula gets a `'`.
_PART_START = re.compile(r"(?:^|(?<=[,;\t\r\n]))[ \"\t\r\n,;]*(?=[=+\-@])")


def _csv_cell(value: Any) -> str:
    """A cell no spreadsheet reads as a formula: = + - @ at the start of any part it could be split
    into gets a `'` before it, as does a leading tab or carriage return (OWASP's list)."""
    text = _display(value)
    if text[:1] in ("\t", "\r"):
        text = "'" + text
    return _PART_START.sub(lambda m: m.group() + "'", text)
