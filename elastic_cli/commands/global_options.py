"""The root's options (--config, --profile, --debug, -v, -q, --no-color), accepted after any
subcommand too (`orx-elastic check -q`) and listed in its --help apart from its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from elastic_cli.commands.app import AppContext
from elastic_cli.commands.debug_log import enable_debug_logging

# The one place these two are read: click fills --config and --profile from them.
CONFIG_ENV = "ORX_ELASTIC_CONFIG"
PROFILE_ENV = "ORX_ELASTIC_PROFILE"


def _set_on_app(apply: Callable[[AppContext, Any], None]) -> Callable[..., Any]:
    """An option callback that hands a value given after the subcommand to the AppContext."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        app = ctx.find_object(AppContext)
        if app is not None and value not in (None, False, 0):
            apply(app, value)

    return callback


def _enable_debug(app: AppContext, value: Any) -> None:
    if not app.debug:
        app.debug = True
        enable_debug_logging()


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
            if record is not None and not isinstance(param, click.Argument):  # click lists them apart
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
