"""The root command group.

Subcommands are imported only when they run (LazyGroup), so `--help` and shell
completion never import the Elasticsearch client or rich.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from elastic_cli import __version__
from elastic_cli.errors import EXIT_CODES, OrxError

if TYPE_CHECKING:
    from elastic_cli.settings import ConfigFile, Settings

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
    "sessions": ("elastic_cli.commands.sessions:sessions", "List the sessions whose backend logged errors, with replay links."),
    "completion": ("elastic_cli.commands.completion:completion", "Print the completion script for bash, zsh or fish."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

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


def _global_options() -> list[click.Option]:
    """The root's options again, for use after a subcommand (`create-key -q`). Hidden: the root's
    --help lists them once; no envvar here, so ORX_ELASTIC_* never overrides a root flag."""
    def option(*decls: str, apply: Callable[[AppContext, Any], None], **kw: Any) -> click.Option:
        return click.Option(list(decls), hidden=True, expose_value=False, callback=_set_on_app(apply), **kw)

    return [
        option("--config", type=click.Path(path_type=Path), apply=lambda app, v: setattr(app, "config_path", v)),
        option("--profile", apply=lambda app, v: setattr(app, "profile", v)),
        option("--debug", is_flag=True, apply=_enable_debug),
        option("-v", "--verbose", count=True, apply=lambda app, v: setattr(app, "verbose", app.verbose + v)),
        option("-q", "--quiet", is_flag=True, apply=lambda app, v: setattr(app, "quiet", True)),
        option("--no-color", is_flag=True, apply=lambda app, v: setattr(app, "color", False)),
    ]


def accept_global_options(command: click.Command) -> None:
    """Give a command (and a group's subcommands) the global options, once."""
    if getattr(command, "_orx_global_options", False):
        return
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
    command.params.extend(o for o in _global_options() if not taken.intersection(o.opts))
    command._orx_global_options = True  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        accept_global_options(sub)


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
        from elastic_cli import settings

        path = self.config_path or settings.default_config_path()
        config = settings.load_config_file(path)
        for warning in config.warnings:
            self.warn(warning)
        return config

    def settings(self, flags: dict[str, Any] | None = None, require_profile: bool | None = None) -> Settings:
        """Resolved settings: flags > ORX_ELASTIC_* > profile in the file > defaults.

        A profile named with --profile must exist (a typo must not fall back to the
        defaults), unless the command is about to create it (require_profile=False)."""
        from elastic_cli import settings

        if require_profile is None:
            require_profile = self.profile is not None
        return settings.resolve(self.load_config(), self.profile, flags or {}, require_profile=require_profile)

    def warn(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"warning: {message}", err=True)

    def info(self, message: str) -> None:
        if self.verbose and not self.quiet:
            click.echo(message, err=True)


@click.group(cls=LazyGroup, epilog=_exit_code_epilog(), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="orx-elastic")
@click.option("--config", "config_path", type=click.Path(path_type=Path), envvar=CONFIG_ENV,
              help=f"Config file (default: the platform's config dir; env {CONFIG_ENV}).")
@click.option("--profile", envvar=PROFILE_ENV, help=f"Profile in the config file (env {PROFILE_ENV}).")
@click.option("--debug", is_flag=True, help="Show tracebacks and HTTP requests (secrets redacted).")
@click.option("-v", "--verbose", count=True, help="Say more on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Only data and errors.")
@click.option("--no-color", is_flag=True, help="No colour (also when NO_COLOR is set to anything).")
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
    ctx.obj = AppContext(config_path=config_path, profile=profile, debug=debug, verbose=verbose,
                         quiet=quiet, color=False if no_color or os.environ.get("NO_COLOR") else None)
    if debug:
        _enable_debug_logging()


def _enable_debug_logging() -> None:
    import logging

    from elastic_cli.redaction import redacting_formatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(redacting_formatter("debug: %(name)s: %(message)s"))
    for name in ("elastic_transport", "elasticsearch"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)


SECRET_FLAGS = ("--api-key", "--password", "--admin-api-key")
SECRET_ENV = ("ORX_ELASTIC_API_KEY", "ORX_ELASTIC_PASSWORD", "ORX_ELASTIC_ADMIN_API_KEY")


def _register_secrets(args: list[str]) -> None:
    """Secrets typed on the command line or set in the environment are known before
    parsing, so even a usage error that echoes the arguments cannot show them."""
    from elastic_cli.redaction import register_secret
    from elastic_cli.secret_store import register_key

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
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    _register_secrets(args)
    try:
        result = cli.main(args=args, prog_name="orx-elastic", standalone_mode=False)
    except OrxError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        from elastic_cli.output import inert
        from elastic_cli.redaction import redact

        # messages may quote the server (index names, reasons): shown inert, secrets masked
        click.echo(f"error: {inert(redact(exc.message))}", err=True)
        if exc.hint:
            click.echo(f"  fix: {inert(redact(exc.hint))}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        import io

        from elastic_cli.redaction import redact

        shown = io.StringIO()
        exc.show(file=shown)
        click.echo(redact(shown.getvalue()), err=True, nl=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        # the reader went away (`| head`): not an error; silence the final flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 — last line of defence: one line, no traceback
        if debug:
            raise
        from elastic_cli.redaction import redact

        click.echo(f"error: unexpected {type(exc).__name__}: {redact(str(exc))[:300]}", err=True)
        click.echo("  fix: run again with --debug and report it", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


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
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            code = code or 1
    os._exit(code)
