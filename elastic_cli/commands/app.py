"""What every command is handed (`AppContext`, through click's ctx.obj), and the one way a command
says something on stderr (`say`): the run's settings, verbosity and colour, decided once by the
root group."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from elastic_cli.config.file import ConfigFile
    from elastic_cli.config.settings import Settings
    from elastic_cli.output.streams import Streams


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
    _streams: Streams | None = field(default=None, repr=False, compare=False)

    @property
    def streams(self) -> Streams:
        """stdout, stderr and what they are, decided on first use (not before: --help stays light)."""
        if self._streams is None:
            from elastic_cli.output.streams import Streams

            self._streams = Streams.of_process(self.color)
        return self._streams

    def print(self, text: str = "", end: str = "\n") -> None:
        """A command's data or report on stdout."""
        self.streams.print(text, end)

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
    """A message on stderr, through the run's streams (inert, masked, wrapped: `Streams.say`). A
    command it names carries the active --profile: run as printed, it acts on the same profile."""
    from elastic_cli.commands.hints import with_profile

    app = _current
    streams = app.streams if app is not None else _process_streams()
    streams.say(prefix, with_profile(message, app.profile if app is not None else None))


def _process_streams() -> Streams:
    from elastic_cli.output.streams import Streams

    return Streams.of_process()
