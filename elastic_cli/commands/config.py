"""`orx-elastic config show|path`: what the other commands will use, and where it lives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import connection_options, output_option, settings_flags

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext


@click.group()
def config() -> None:
    """Show the active settings, or the config file's path.

    \b
    Examples:
      orx-elastic config show
      orx-elastic config path
    """


@config.command()
@connection_options
@click.option("--reveal", is_flag=True, help="Show the api_key in full (read from where it is kept).")
@output_option()
@click.pass_obj
def show(app: AppContext, reveal: bool, output: str, **params: Any) -> None:
    """Print the active settings, where each came from, and OpenReplay's form values.

    The api_key is masked unless --reveal; `kept in` says where it lives (the config
    file, the keychain, an environment variable or a file) and why it cannot be read.

    \b
    Examples:
      orx-elastic config show
      orx-elastic --profile staging config show -o json
    """
    from elastic_cli import output as out
    from elastic_cli.config.secret_store import kept_in
    from elastic_cli.config.settings import KEYS, mask_secret
    from elastic_cli.openreplay.form import dashboard_forms
    from elastic_cli.redaction import register_secret

    resolved = app.settings(settings_flags(params))
    register_secret(resolved.api_key)

    problem = resolved.api_key_problem

    def shown(name: str) -> Any:
        value = resolved.values[name]
        if name == "api_key" and problem is not None:
            return f"(cannot be read: {problem.message.split(': ', 1)[-1]})"
        return mask_secret(value) if name == "api_key" and not reveal else value

    kept = kept_in(resolved)
    forms = dashboard_forms(resolved, reveal=reveal)
    if output == "json":
        described = {k.name: {"value": shown(k.name), "source": resolved.sources[k.name]} for k in KEYS}
        described["api_key"]["kept_in"] = kept
        described["api_key"]["reference"] = resolved.api_key_ref.text if resolved.api_key_ref else None
        if problem is not None:
            described["api_key"]["problem"] = {"message": problem.message, "fix": problem.hint}
        out.print_json({
            "profile": resolved.profile,
            "path": str(resolved.path),
            "settings": described,
            "openreplay": forms,
        })
        return
    rows = []
    for k in KEYS:
        value = shown(k.name)
        rows.append((k.name, or_not_set(", ".join(value) if isinstance(value, list) else value),
                     resolved.sources[k.name]))
        if k.name == "api_key" and kept:
            rows.append(("  kept in", kept, problem.hint if problem is not None and problem.hint else ""))
    out.print_panel(f"profile {resolved.profile} — {resolved.path}", rows, color=app.color)
    for title, form in forms.items():
        out.print_panel(title, [(name, or_not_set(value)) for name, value in form.items()], color=app.color)


NOT_SET = "(not set)"


def or_not_set(value: Any) -> Any:
    """An empty value said in words: a blank cell reads as a rendering bug."""
    return NOT_SET if value is None or value == "" else value


@config.command()
@click.pass_obj
def path(app: AppContext) -> None:
    """Print the config file's path (it may not exist yet).

    \b
    Example:
      orx-elastic config path
    """
    from elastic_cli.config.file import default_config_path

    app.print(str(app.config_path or default_config_path()))
