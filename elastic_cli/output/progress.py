"""The status line on stderr (a spinner and a count, `following: ...`), only on a terminal.

It sits on the last line of the screen: whatever is printed on the same terminal must erase it
first (`erase_progress`, which the log writer calls), or the printed text would start where the
status line ends (`following: 5 lines, last poll 17:09:46time  offset`). The next update draws
it again, under what was printed.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from elastic_cli.output.text import console, inert, is_terminal

if TYPE_CHECKING:
    from rich.live import Live
    from rich.spinner import Spinner


class Progress:
    """A spinner with a count on stderr, only when stderr is a terminal (nothing when piped).

    It stays on the last line of the screen: whatever is printed on the same terminal must
    erase it first (`erase_progress`, which the log writer calls), or the printed text would
    start where the status line ends. The next update draws it again, under what was printed."""

    def __init__(self, enabled: bool = True, color: bool | None = None):
        self._live: Live | None = None
        self._spinner: Spinner | None = None
        self.color = color
        self.enabled = enabled and is_terminal(sys.stderr)

    def update(self, seen: int) -> None:
        self.show(f"{seen} line{'s' if seen != 1 else ''} read")

    def show(self, text: str) -> None:
        global _on_screen
        if not self.enabled:
            return
        from rich.text import Text

        shown = Text(text)  # plain text: never read as markup
        if self._live is None or self._spinner is None:
            from rich.live import Live
            from rich.spinner import Spinner

            self._spinner = Spinner("dots", text=shown, style="status.spinner")
            self._live = Live(self._spinner, console=console(stderr=True, color=self.color), transient=True,
                              refresh_per_second=12.5)
            self._live.start(refresh=True)  # on screen now, not at the first tick
            _on_screen = self
        else:
            self._spinner.update(text=shown)
            self._live.refresh()

    def stop(self) -> None:
        """Erase the status line (the cursor stays at the start of that line)."""
        global _on_screen
        if self._live is not None:
            self._live.stop()
            self._live = self._spinner = None
        if _on_screen is self:
            _on_screen = None


_on_screen: Progress | None = None  # the status line drawn now, if any


def erase_progress() -> None:
    """Before printing on the terminal the status line is on: erase it (drawn again at its next update)."""
    if _on_screen is not None:
        _on_screen.stop()


class FollowStatus(Progress):
    """`--follow` on a terminal: that it is following, how many lines so far, the last poll, and
    while a failure is waited out, that it is retrying (stderr only: never in piped data)."""

    def __init__(self, enabled: bool = True, color: bool | None = None):
        super().__init__(enabled, color)
        self.lines = 0
        self.last_poll = ""
        self.retrying = ""

    def polled(self, lines: int) -> None:
        from datetime import datetime

        self.lines, self.last_poll, self.retrying = lines, datetime.now().strftime("%H:%M:%S"), ""
        self._render()

    def retry(self, text: str) -> None:
        self.retrying = text
        self._render()

    def _render(self) -> None:
        text = f"following: {self.lines} line{'s' if self.lines != 1 else ''}"
        if self.last_poll:
            text += f", last poll {self.last_poll}"
        if self.retrying:
            text += f"; {self.retrying}"
        self.show(inert(text))
