"""What every command is handed (`AppContext`, through click's ctx.obj), and the one way a command
says something on stderr (`say`): the run's settings, verbosity and colour, decided once by the
root group."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from elastic_cli.config.file import ConfigFile
    from elastic_cli.config.settings import Settings


class ReaderGone(Exception):
    """stdout's reader closed the pipe (`| head -1`): raised past click, which would exit 1."""


@dataclass
class AppContext:
    """What the root group knows, handed to every command through ctx.obj."""

    config_path: Path | None = None
    profile: str | None = None
    debug: bool = False
    verbose: int = 0
    quiet: bool = False
    color: bool | None = None

    def load_config(self) -> ConfigFile:
        from elastic_cli.config import file as config_file

        path = self.config_path or config_file.default_config_path()
        config = config_file.load_config_file(path)
        for warning in config.warnings:
            self.warn(warning)
        return config

    def settings(self, flags: dict[str, Any] | None = None, require_profile: bool | None = None) -> Settings:
        """Resolved settings: flags > ORX_ELASTIC_* > profile in the file > defaults.

        A profile named with --profile must exist (a typo must not fall back to the
        defaults), unless the command is about to create it (require_profile=False)."""
        from elastic_cli.config import settings

        if require_profile is None:
            require_profile = self.profile is not None
        from elastic_cli.config.endpoint import scheme_note

        assumed = scheme_note(str(flags["host"])) if flags and flags.get("host") else None
        if assumed:  # `--host 127.0.0.1` means https: say so before a TLS error does
            self.warn(assumed)
        return settings.resolve(self.load_config(), self.profile, flags or {}, require_profile=require_profile)

    def warn(self, message: str) -> None:
        if not self.quiet:
            say("warning: ", message)

    def notice(self, message: str) -> None:
        """What a result lacks: said even under -q (coverage is never chatter)."""
        say("warning: ", message)

    def info(self, message: str) -> None:
        if self.verbose and not self.quiet:
            say("", message)


# this run's AppContext (set by the root command), so that a hint printed after a failure still
# names the profile the user chose
_current: AppContext | None = None


def set_current(app: AppContext | None) -> None:
    global _current
    _current = app


def say(prefix: str, message: str) -> None:
    """A message on stderr. Messages quote the server (index names, reasons): Elasticsearch allows
    ESC and BEL in an index name, so every message is shown inert, with secrets masked. A command it
    names carries the active --profile (run as printed, it acts on the same profile). On a terminal,
    a line too long for it wraps at spaces, under the text after the prefix: the terminal itself
    would cut words, ids and commands (`inva` / `lidated`)."""
    from elastic_cli.commands.hints import with_profile
    from elastic_cli.output import safe_text

    message = safe_text(with_profile(message, _current.profile if _current is not None else None))
    width = _stderr_width()
    if width is None or len(prefix) + len(message) <= width:
        click.echo(prefix + message, err=True)
        return
    import textwrap

    # a word longer than the line (a URL, a command's quoted pattern) stays whole
    lines = textwrap.wrap(message, max(width - len(prefix), 20), break_long_words=False, break_on_hyphens=False)
    pad = " " * len(prefix)
    click.echo("\n".join((prefix if i == 0 else pad) + line for i, line in enumerate(lines)) or prefix, err=True)


def _stderr_width() -> int | None:
    try:
        if not sys.stderr.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    import shutil

    return shutil.get_terminal_size().columns  # COLUMNS first, then the terminal
