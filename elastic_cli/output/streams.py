"""Where a run writes, decided once at its start (as httpie's `Environment` and gh's `IOStreams`):
stdout and stderr, whether each (and stdin) is a terminal, the width a piped table may use, colour.

Commands write through it: data on `out` (`print`), messages on `err` (`say`, inert and wrapped
at the terminal's width so that words, ids and commands are never cut in two)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO

from elastic_cli.output.progress import erase_progress
from elastic_cli.output.text import is_terminal, piped_columns, safe_text


@dataclass
class Streams:
    out: IO[str]
    err: IO[str]
    out_is_terminal: bool
    err_is_terminal: bool
    stdin_is_terminal: bool
    color: bool | None = None  # False: --no-color or NO_COLOR; None: on a terminal only
    columns: int | None = None  # COLUMNS, when set: the width of a piped table

    @classmethod
    def of_process(cls, color: bool | None = None) -> Streams:
        """The process's own streams, as they are now (a test's in-process run replaces them first)."""
        return cls(out=sys.stdout, err=sys.stderr, out_is_terminal=is_terminal(sys.stdout),
                   err_is_terminal=is_terminal(sys.stderr), stdin_is_terminal=is_terminal(sys.stdin),
                   color=color, columns=piped_columns())

    def print(self, text: str = "", end: str = "\n") -> None:
        """Data (or a command's own report) on stdout."""
        if self.out_is_terminal:
            erase_progress()  # the status line (`following: ...`) on this terminal goes first
        self.out.write(text + end)

    def say(self, prefix: str, message: str) -> None:
        """A message on stderr, inert and with secrets masked (messages quote the server: an index
        name may hold ESC and BEL). On a terminal a line too long for it wraps at spaces, under the
        text after the prefix; a word longer than the line (a URL, a quoted pattern) stays whole."""
        message = safe_text(message)
        width = self.err_width()
        if width is None or len(prefix) + len(message) <= width:
            text = prefix + message
        else:
            import textwrap

            lines = textwrap.wrap(message, max(width - len(prefix), 20), break_long_words=False,
                                  break_on_hyphens=False)
            pad = " " * len(prefix)
            text = "\n".join((prefix if i == 0 else pad) + line for i, line in enumerate(lines)) or prefix
        if self.err_is_terminal:
            erase_progress()  # a warning while --follow waits: on its own line, not after the status
        self.err.write(text + "\n")
        self.err.flush()

    def err_width(self) -> int | None:
        """The width messages wrap at: the terminal's (COLUMNS first); None when stderr is no terminal."""
        if not self.err_is_terminal:
            return None
        import shutil

        return shutil.get_terminal_size().columns
