"""The entry point: the root command group, and how a run ends (an error as one line and its exit
code, a closed pipe as a quiet end, a quick exit).

Subcommands are imported only when they run (`commands.group.LazyGroup`, from
`commands.registry`), so `--help` and shell completion never import the Elasticsearch
client or rich. What commands share lives in `commands/`: `app` (AppContext, `say`),
`global_options`, `secret_args`, `debug_log`.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import click

from elastic_cli import __version__
from elastic_cli.commands import app as app_state
from elastic_cli.commands.app import AppContext, ReaderGone, say
from elastic_cli.commands.debug_log import disable_debug_logging, enable_debug_logging
from elastic_cli.commands.global_options import COLOR_CHOICES, CONFIG_ENV, GLOBAL_HELP, PROFILE_ENV, chosen_color
from elastic_cli.commands.group import LazyGroup
from elastic_cli.commands.secret_args import register_secrets
from elastic_cli.errors import EXIT_CODES, OrxError, write_failed


def _exit_code_epilog(width: int = 76) -> str:
    """The table of exit codes, wrapped at words under its text: help indents it by 2, so at 80
    columns and wider a terminal never breaks a word (`with/out`)."""
    import textwrap

    lines = ["\b", "Exit codes:"]
    for code, (_, meaning) in EXIT_CODES.items():
        lines += textwrap.wrap(meaning, width, initial_indent=f"  {code:>2}  ", subsequent_indent=" " * 6,
                               break_on_hyphens=False)
    return "\n".join(lines)


@click.group(cls=LazyGroup, epilog=_exit_code_epilog(), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="orx-elastic")
@click.option("--config", "config_path", type=click.Path(path_type=Path), envvar=CONFIG_ENV,
              help=GLOBAL_HELP["--config"])
@click.option("--profile", envvar=PROFILE_ENV, help=GLOBAL_HELP["--profile"])
@click.option("--debug", is_flag=True, help=GLOBAL_HELP["--debug"])
@click.option("-v", "--verbose", count=True, help=GLOBAL_HELP["--verbose"])
@click.option("-q", "--quiet", is_flag=True, help=GLOBAL_HELP["--quiet"])
@click.option("--color", type=click.Choice(COLOR_CHOICES), metavar="auto|always|never", help=GLOBAL_HELP["--color"])
@click.option("--no-color", is_flag=True, help=GLOBAL_HELP["--no-color"])
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, profile: str | None, debug: bool,
        verbose: int, quiet: bool, color: str | None, no_color: bool) -> None:
    """Set up and use OpenReplay's Elasticsearch integration.

    \b
    The options above may also follow the subcommand (orx-elastic check -q).

    \b
    Example, from nothing to a session's backend errors:
      orx-elastic create-key --host https://es.example.com:9200 --username elastic --save
      orx-elastic check
      orx-elastic logs jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q
    """
    ctx.obj = AppContext(config_path=config_path, profile=profile, debug=debug, verbose=verbose,
                         quiet=quiet, color=chosen_color("never" if no_color else color))
    app_state.set_current(ctx.obj)
    if debug:
        enable_debug_logging()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: OrxError becomes one line on stderr and its exit code."""
    app_state.set_current(None)
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    if not debug:
        disable_debug_logging()
    register_secrets(args)
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
        from elastic_cli.commands.usage_errors import usage_error_lines

        _closest_first(exc)
        message, fix = usage_error_lines(exc)  # may quote the arguments: say() masks and makes them inert
        say("error: ", message)
        if fix:
            say("  fix: ", fix)
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
