"""What the commands that manage API keys (create-key, keys) share: the admin credential
options, asking for the password, and how a new key is shown."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable

import click

from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from elastic_cli.keys.admin import AdminCredentials

# one rule for every command that makes a key (create-key, keys rotate): the new secret is shown
# in full once, by that command, because Elasticsearch cannot show it again; after that only
# `config show --reveal` prints it.
SHOWN_ONCE = "The api_key is shown only this once:\nElasticsearch cannot show it again."


def admin_auth_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = (
        click.option("--username", "-u", envvar="ORX_ELASTIC_USERNAME",
                     help="User allowed to manage API keys (env ORX_ELASTIC_USERNAME)."),
        click.option("--password", envvar="ORX_ELASTIC_PASSWORD",
                     help="Its password; asked (hidden) when missing on a terminal (env ORX_ELASTIC_PASSWORD)."),
        click.option("--admin-api-key", envvar="ORX_ELASTIC_ADMIN_API_KEY",
                     help="An API key allowed to manage API keys, encoded or id:key (env ORX_ELASTIC_ADMIN_API_KEY); "
                          "Elasticsearch lets it list and invalidate keys, not create keys with privileges."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def admin_from_params(params: dict[str, Any], need_password: bool = True) -> AdminCredentials:
    """The admin credentials from the options (removed from params); asks for a missing password on a terminal."""
    from elastic_cli.redaction import register_secret

    username, password = params.pop("username", None), params.pop("password", None)
    admin_api_key = params.pop("admin_api_key", None)
    register_secret(password)
    register_secret(admin_api_key)
    from elastic_cli.keys.admin import AdminCredentials

    admin = AdminCredentials(username, password, admin_api_key)  # refuses --username with --admin-api-key
    if password and not username and need_password:  # a dry run sends nothing: no credentials needed
        raise UsageError("--password without --username", "pass --username too (env ORX_ELASTIC_USERNAME)")
    if username and not password and need_password:
        if not sys.stdin.isatty():
            raise UsageError(f"no password for user '{username}'",
                             "set ORX_ELASTIC_PASSWORD or run in a terminal to be asked (never pass it in a script's argv)")
        password = click.prompt(f"password for {username}", hide_input=True, err=True)
        register_secret(password)
        admin = AdminCredentials(username, password, None)
    return admin


def show_created_key(app: Any, created: Any, output: str, saved_to: str | None, title: str = "API key created",
                     extra: dict[str, Any] | None = None) -> None:
    """The new key, in full (see SHOWN_ONCE), as a panel or JSON (with `extra` keys added)."""
    from elastic_cli import output as out

    if output == "json":
        data = created.as_dict()
        if saved_to:
            data["saved_to"] = saved_to
        data.update(extra or {})
        out.print_json(data)
        return
    rows = [("id", created.id), ("name", created.name), ("api_key", created.api_key), ("encoded", created.encoded),
            ("expiration", created.expiration or "never")]
    note = SHOWN_ONCE
    if saved_to:
        note += f"\nSaved to {saved_to}.\nNext: orx-elastic check"
    else:
        note += "\nKeep it with --save, or paste id and api_key\ninto OpenReplay's form now."
    from elastic_cli.commands.hints import with_profile

    out.print_panel(title, rows, color=app.color, note=with_profile(note, app.profile))
