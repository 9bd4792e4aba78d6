"""Run the real CLI in a real pseudo-terminal of a given width, or with stdout's reader gone.

What a user sees in a terminal of 80 or 120 columns: the process asks the kernel for the
window size (COLUMNS is removed from its environment), so rich, click and the tool's own
wrapping all meet the width a real terminal reports.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

CLI = [sys.executable, "-m", "elastic_cli"]


@dataclass(frozen=True)
class Screen:
    exit_code: int
    raw: str  # what the terminal showed (stdout and stderr mixed, as on a screen), \n line ends

    @property
    def text(self) -> str:
        """The screen's characters: without the bold rich keeps under NO_COLOR, nor trailing padding."""
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.raw)
        # what stays on screen: a carriage return's line from its last \r on; the progress spinner
        # (a braille frame, erased by cursor moves) leaves nothing
        lines = [line.rsplit("\r", 1)[-1].rstrip() for line in plain.split("\n")]
        return "\n".join(line for line in lines if not ("\u2800" <= line[:1] <= "\u28ff"))

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ORX_ELASTIC_")
           and k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS", "LINES")}
    env["NO_COLOR"] = "1"  # plain text to assert on; the layout is the same in colour
    env.update(extra or {})
    return env


def run_in_terminal(args: Sequence[str], columns: int, env: Mapping[str, str] | None = None,
                    rows: int = 50, timeout: float = 120, stdin: str = "",
                    program: Sequence[str] = tuple(CLI), replies: Sequence[tuple[str, str]] = ()) -> Screen:
    """`orx-elastic ARGS` (or `program ARGS`) in a pseudo-terminal `columns` wide. `replies`:
    (text, answer) in order: once the screen shows the text, the answer is typed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        full_env = base_env(env)
        os.execvpe(program[0], [*program, *args], full_env)
    if stdin:
        os.write(fd, stdin.encode())
    output = b""
    waiting = list(replies)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            while waiting and waiting[0][0].encode() in output:
                os.write(fd, waiting.pop(0)[1].encode())
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return Screen(os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace").replace("\r\n", "\n"))


def run_with_reader_gone(args: Sequence[str], env: Mapping[str, str] | None = None,
                         timeout: float = 120) -> subprocess.CompletedProcess:
    """`orx-elastic ARGS | head -0`: stdout is a pipe whose reader closed before anything was written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([*CLI, *args], stdout=write_end, stderr=subprocess.PIPE, text=True,
                              env=base_env(env), timeout=timeout)
    finally:
        os.close(write_end)
