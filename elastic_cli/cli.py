"""The root command group.

Subcommands are imported only when they run (LazyGroup), so `--help` and shell
completion never import the Elasticsearch client or rich.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from elastic_cli import __version__
from elastic_cli.errors import EXIT_CODES, OrxError, write_failed

if TYPE_CHECKING:
    from elastic_cli.config.file import ConfigFile
    from elastic_cli.config.settings import Settings

# The one place these two are read: click fills --config and --profile from them.
CONFIG_ENV = "ORX_ELASTIC_CONFIG"
PROFILE_ENV = "ORX_ELASTIC_PROFILE"

# command name -> ("module:attribute" imported on first use, short help for --help)
COMMANDS = {
    "create-key": ("elastic_cli.commands.create_key:create_key", "Create a least-privilege API key for OpenReplay."),
    "keys": ("elastic_cli.commands.keys:keys", "List, invalidate or rotate the keys orx-elastic made."),
    "configure": ("elastic_cli.commands.configure:configure", "Write host, port, id, api_key and indexes to a profile."),
    "config": ("elastic_cli.commands.config:config", "Show the active settings, or the config file's path."),
    "check": ("elastic_cli.commands.check:check", "Check connection, TLS, key, privileges, indices, fields, data."),
    "logs": ("elastic_cli.commands.logs:logs", "Print the backend logs of one session, by token or session id."),
    "shows": ("elastic_cli.commands.shows:shows", "Say which lines of a session OpenReplay v1.20 and v1.21+ show, and why not."),
    "alias": ("elastic_cli.commands.logs_alias:logs_alias", "Point an alias `logs` at your log indices, for OpenReplay v1.21+."),
    "sessions": ("elastic_cli.commands.sessions:sessions", "List the sessions whose backend logged errors, with replay links."),
    "completion": ("elastic_cli.commands.completion:completion", "Print the completion script for bash, zsh or fish."),
}


class SuggestingGroup(click.Group):
    """A group whose "No such command" suggests the closest names, closest first (`chek`: `check`)."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchCommand as exc:
            if exc.possibilities:
                raise
            # a lazy group's `commands` is empty: offer the names it lists
            raise click.NoSuchCommand(exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx) from None


class ReaderGone(Exception):
    """stdout's reader closed the pipe (`| head -1`): raised past click, which would exit 1."""


class LazyGroup(SuggestingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    # every command runs inside invoke(), --help and --version inside make_context(): a write to
    # a closed pipe, from any of them, leaves through main() as a quiet end, not click's exit 1
    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            raise ReaderGone() from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ReaderGone() from None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name][0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        accept_global_options(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # short help from the table above: --help imports no command module
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


def _set_on_app(apply: Callable[[AppContext, Any], None]) -> Callable:
    """An option callback that hands a value given after the subcommand to the AppContext."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        app = ctx.find_object(AppContext)
        if app is not None and value not in (None, False, 0):
            apply(app, value)

    return callback


def _enable_debug(app: AppContext, value: Any) -> None:
    if not app.debug:
        app.debug = True
        _enable_debug_logging()


# the root's options, and what --help says of them (the root's and every subcommand's)
GLOBAL_HELP = {
    "--config": f"Config file (default: the platform's config dir; env {CONFIG_ENV}).",
    "--profile": f"Profile in the config file (env {PROFILE_ENV}).",
    "--debug": "Show tracebacks and HTTP requests (secrets redacted).",
    "--verbose": "Say more on stderr.",
    "--quiet": "Only data and errors.",
    "--no-color": "No colour (also when NO_COLOR is set to anything).",
}


def _global_options() -> list[click.Option]:
    """The root's options again, for use after a subcommand (`create-key -q`), listed in its --help
    under "Global options"; no envvar here, so ORX_ELASTIC_* never overrides a root flag."""
    def option(*decls: str, apply: Callable[[AppContext, Any], None], **kw: Any) -> click.Option:
        made = click.Option(list(decls), expose_value=False, callback=_set_on_app(apply),
                            help=GLOBAL_HELP[decls[-1]], **kw)
        made._orx_global = True  # type: ignore[attr-defined]
        return made

    return [
        option("--config", type=click.Path(path_type=Path), apply=lambda app, v: setattr(app, "config_path", v)),
        option("--profile", apply=lambda app, v: setattr(app, "profile", v)),
        option("--debug", is_flag=True, apply=_enable_debug),
        option("-v", "--verbose", count=True, apply=lambda app, v: setattr(app, "verbose", app.verbose + v)),
        option("-q", "--quiet", is_flag=True, apply=lambda app, v: setattr(app, "quiet", True)),
        option("--no-color", is_flag=True, apply=lambda app, v: setattr(app, "color", False)),
    ]


def accept_global_options(command: click.Command) -> None:
    """Give a command (and a group's subcommands) the global options, once, and list them in its
    --help apart from its own."""
    if getattr(command, "_orx_global_options", False):
        return
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
    command.params.extend(o for o in _global_options() if not taken.intersection(o.opts))
    command._orx_global_options = True  # type: ignore[attr-defined]
    command.format_options = _options_then_globals(command)  # type: ignore[method-assign,assignment]
    for sub in getattr(command, "commands", {}).values():
        accept_global_options(sub)


def _options_then_globals(command: click.Command) -> Callable[[click.Context, click.HelpFormatter], None]:
    def format_options(ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in command.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                (shared if getattr(param, "_orx_global", False) else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section("Global options (before or after the command)"):
                formatter.write_dl(shared)
        if isinstance(command, click.Group):
            command.format_commands(ctx, formatter)

    return format_options


def _exit_code_epilog() -> str:
    lines = ["\b", "Exit codes:"]
    lines += [f"  {code:>2}  {meaning}" for code, (_, meaning) in EXIT_CODES.items()]
    return "\n".join(lines)


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


@click.group(cls=LazyGroup, epilog=_exit_code_epilog(), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="orx-elastic")
@click.option("--config", "config_path", type=click.Path(path_type=Path), envvar=CONFIG_ENV,
              help=GLOBAL_HELP["--config"])
@click.option("--profile", envvar=PROFILE_ENV, help=GLOBAL_HELP["--profile"])
@click.option("--debug", is_flag=True, help=GLOBAL_HELP["--debug"])
@click.option("-v", "--verbose", count=True, help=GLOBAL_HELP["--verbose"])
@click.option("-q", "--quiet", is_flag=True, help=GLOBAL_HELP["--quiet"])
@click.option("--no-color", is_flag=True, help=GLOBAL_HELP["--no-color"])
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, profile: str | None, debug: bool,
        verbose: int, quiet: bool, no_color: bool) -> None:
    """Set up and use OpenReplay's Elasticsearch integration.

    \b
    The options above may also follow the subcommand (orx-elastic check -q).

    \b
    Example, from nothing to a session's backend errors:
      orx-elastic create-key --host https://es.example.com:9200 --username elastic --save
      orx-elastic check
      orx-elastic logs jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q
    """
    global _current
    ctx.obj = _current = AppContext(config_path=config_path, profile=profile, debug=debug, verbose=verbose,
                                    quiet=quiet, color=False if no_color or os.environ.get("NO_COLOR") else None)
    if debug:
        _enable_debug_logging()


# logger -> the level --debug shows. The tool's transport logs each request (method, path, status,
# duration, took) and, for an error, what was sent and the server's answer (logger elastic_cli.http).
# elastic_transport's own request lines say less and would double ours, and its request logger
# (elastic_transport.node) does not propagate and dumps every body, search pages of log lines
# included: only elastic_transport's warnings are shown.
DEBUG_LOGGERS = {"elastic_cli": "DEBUG", "elasticsearch": "DEBUG", "elastic_transport": "WARNING"}


def _enable_debug_logging() -> None:
    import logging

    from elastic_cli.output import inert
    from elastic_cli.redaction import redacting_formatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(redacting_formatter("debug: %(name)s: %(message)s", then=inert))
    for name, level in DEBUG_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)


SECRET_FLAGS = ("--api-key", "--password", "--admin-api-key")
SECRET_ENV = ("ORX_ELASTIC_API_KEY", "ORX_ELASTIC_PASSWORD", "ORX_ELASTIC_ADMIN_API_KEY")


def _register_secrets(args: list[str]) -> None:
    """Secrets typed on the command line or set in the environment are known before
    parsing, so even a usage error that echoes the arguments cannot show them."""
    from elastic_cli.config.secret_store import register_key
    from elastic_cli.redaction import register_secret

    def register(flag_or_env: str, value: str | None) -> None:
        # an api_key may be a reference ($(env:X)), which is no secret and is named in messages
        (register_key if flag_or_env in ("--api-key", "ORX_ELASTIC_API_KEY") else register_secret)(value)

    for index, arg in enumerate(args):
        for flag in SECRET_FLAGS:
            if arg == flag and index + 1 < len(args):
                register(flag, args[index + 1])
            elif arg.startswith(flag + "="):
                register(flag, arg[len(flag) + 1:])
    for name in SECRET_ENV:
        register(name, os.environ.get(name))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: OrxError becomes one line on stderr and its exit code."""
    global _current
    _current = None
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    _register_secrets(args)
    try:
        result = cli.main(args=args, prog_name="orx-elastic", standalone_mode=False)
    except OrxError as exc:
        if debug:
            _print_traceback()
        # messages may quote the server (index names, reasons): shown inert, secrets masked
        say("error: ", exc.message)
        if exc.hint:
            say("  fix: ", exc.hint)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        import io

        from elastic_cli.output import safe_text

        _closest_first(exc)
        shown = io.StringIO()
        exc.show(file=shown)  # may quote the arguments: a secret, or an escape typed or pasted
        click.echo(safe_text(shown.getvalue()), err=True, nl=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except (ReaderGone, BrokenPipeError):
        # the reader went away (`| head -1`): not an error, whatever command was writing
        _discard_stdout()
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 — last line of defence: one line, no traceback
        if isinstance(exc, OSError) and exc.errno in _FULL and not debug:  # files write through OrxError
            sys.exit(_unwritten(exc))
        if debug:
            _print_traceback()
            sys.exit(1)
        from elastic_cli.redaction import redact

        # masked before it is cut (a cut secret is no longer recognised), one line, then inert
        text = " ".join(redact(str(exc))[:300].split())
        say("error: ", f"unexpected {type(exc).__name__}: {text}")
        say("  fix: ", "run again with --debug and report it")
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


def _print_traceback() -> None:
    """--debug's traceback of the exception being handled, with what it wraps (the client's error
    and the server's answer): exception texts quote the server, so masked and inert."""
    import traceback

    from elastic_cli.output import safe_text

    click.echo(safe_text(traceback.format_exc()), err=True, nl=False)


def _closest_first(exc: click.ClickException) -> None:
    """click lists the close matches of a mistyped option or command in alphabetical order
    (`--sinse`: --indexes, --insecure, --since); difflib found them closest first: keep that."""
    possibilities = getattr(exc, "possibilities", None)
    if not isinstance(exc, (click.NoSuchOption, click.NoSuchCommand)) or not possibilities:
        return
    more = f" (or one of: {', '.join(repr(n) for n in possibilities[1:])})" if len(possibilities) > 1 else ""
    exc.message = f"{exc.message} Did you mean {possibilities[0]!r}?{more}"  # type: ignore[misc]
    exc.possibilities = None  # type: ignore[misc]  # the message says it now


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # errors only a write gets


def _unwritten(exc: BaseException) -> int:
    """stdout refused the last buffered bytes (a full disk, `> /dev/full`): said, as the log writer says it."""
    if not isinstance(exc, OSError):
        return 1
    failed = write_failed("the output", exc, "free space where the output goes (or write it elsewhere), then run "
                                             "the command again")
    say("error: ", failed.message)
    say("  fix: ", failed.hint or "")
    return failed.exit_code


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the writes still buffered (and the last flush) go nowhere
    instead of raising again on the closed pipe."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return  # not a real file (a test's stream): nothing will flush to a pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def entry() -> None:
    """The console script: main(), then a quick exit without tearing down every module
    (measured: about 75 ms of a lookup), after flushing what was written."""
    import gc

    gc.disable()  # a short-lived process: collection only costs start-up time
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away before the last buffered lines (`| head -1`): a quiet end, as
        # when it goes away mid-run (main)
        _discard_stdout()
    except (ValueError, OSError) as exc:
        code = code or _unwritten(exc)
    try:
        sys.stderr.flush()
    except (ValueError, OSError):
        code = code or 1
    os._exit(code)
