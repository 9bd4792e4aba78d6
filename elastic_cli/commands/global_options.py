"""The root's options (--config, --profile, --debug, -v, -q, --color, --no-color), accepted after any
subcommand too (`orx-elastic check -q`) and listed in its --help apart from its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

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
    "--color": "Colour: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR or CLICOLOR_FORCE colour "
               "piped output too), always (also piped: less -R), never (no escape sequence at all).",
    "--no-color": "Same as --color never.",
}
COLOR_CHOICES = ("auto", "always", "never")


def color_choice(flag: str | None, environ: Mapping[str, str]) -> bool | None:
    """Whether to colour (True, False; None: where the output is a terminal), from `--color` and
    the conventions, first that speaks: the flag (`always`, `never`; `auto` defers); FORCE_COLOR
    (force-color.org: set and not empty forces colour, `0` or `false` turns it off, and it wins over
    NO_COLOR, as in Node: it is usually set for one run, NO_COLOR in a profile); NO_COLOR
    (no-color.org: set and not empty); CLICOLOR_FORCE (set and not `0`)."""
    if flag == "always":
        return True
    if flag == "never":
        return False
    force = environ.get("FORCE_COLOR")
    if force:
        return force.strip().lower() not in ("0", "false")
    if environ.get("NO_COLOR"):
        return False
    clicolor_force = environ.get("CLICOLOR_FORCE")
    if clicolor_force and clicolor_force != "0":
        return True
    return None


def chosen_color(flag: str | None) -> bool | None:
    """The colour the flag and this process's environment ask for."""
    import os

    return color_choice(flag, os.environ)


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
        option("--color", type=click.Choice(COLOR_CHOICES), metavar="auto|always|never",
               apply=lambda app, v: setattr(app, "color", chosen_color(v))),
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
        from elastic_cli.commands.options import CONNECTION_FLAGS

        own: list[tuple[str, str]] = []
        connection: list[tuple[str, str]] = []  # where and how to connect: the profile's, mostly; listed after
        shared: list[tuple[str, str]] = []
        for param in command.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and not isinstance(param, click.Argument):  # click lists them apart
                if getattr(param, "_orx_global", False):
                    shared.append(record)
                elif param.opts and param.opts[0] in CONNECTION_FLAGS:
                    connection.append(record)
                else:
                    own.append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if connection:
            with formatter.section("Connection options (each overrides the profile's setting)"):
                formatter.write_dl(connection)
        if shared:
            with formatter.section("Global options (before or after the command)"):
                formatter.write_dl(shared)
        if isinstance(command, click.Group):
            command.format_commands(ctx, formatter)

    return format_options
