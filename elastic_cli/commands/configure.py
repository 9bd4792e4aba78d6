"""`orx-elastic configure`: write a profile of the config file."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from elastic_cli.cli import echo_message
from elastic_cli.commands.options import connection_options, settings_flags
from elastic_cli.endpoint import parse_host
from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from elastic_cli.cli import AppContext

PROMPTED = ("host", "port", "id", "api_key", "indexes")


@click.command()
@connection_options
@click.option("--default", "make_default", is_flag=True, help="Make this profile the default one.")
@click.pass_obj
def configure(app: AppContext, make_default: bool, **params: Any) -> None:
    """Write host, port, id, api_key and indexes (and TLS options) to a profile.

    Flags write only what they name; run in a terminal without flags, it asks
    for each value (the api_key hidden). The file is written atomically, mode 0600.

    \b
    Examples:
      orx-elastic configure --host https://es.example.com:9243 --id ID --api-key KEY
      orx-elastic --profile staging configure --cloud-id 'staging:ZXUt...' --indexes 'app-*'
      orx-elastic configure            # interactive
    """
    from elastic_cli import settings
    from elastic_cli.redaction import register_secret

    flags = settings_flags(params)
    register_secret(flags.get("api_key"))
    updates = {name: value for name, value in flags.items() if value is not None}
    config = app.load_config()  # a malformed file stops here, before anything is written
    profile = app.profile or config.default_profile
    if not updates:
        if not sys.stdin.isatty():
            raise UsageError("nothing to configure", "pass flags such as --host and --api-key, or run in a terminal")
        updates = _ask(config.profiles.get(profile, {}))
    if "host" in updates:
        where = parse_host(str(updates["host"]))
        updates["host"] = where.host
        if "port" not in updates:  # a new host without a port means 9200, not the port saved for the old one
            updates["port"] = where.port  # None: drop the saved port, the default applies
    if "api_key" in updates:
        key_id, secret, form = settings.split_api_key(updates.get("id"), updates["api_key"])
        updates["api_key"] = secret
        if key_id is not None:  # a raw secret alone replaces just the secret
            updates["id"] = key_id
        if form == "encoded":
            app.info("the api_key was the encoded id:key form; stored its id and secret separately")
    # validate every value before touching the file
    try:
        for name, value in updates.items():
            if value is not None:
                settings.KEYS_BY_NAME[name].parse(value)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{name} {exc}") from None
    settings.save_profile(config.path, profile, updates, make_default=make_default)
    if not app.quiet:
        echo_message(f"saved profile '{profile}' to {config.path}")
        echo_message("next: orx-elastic check")


def _ask(current: dict[str, Any]) -> dict[str, Any]:
    from elastic_cli import settings
    from elastic_cli.redaction import register_secret

    answers: dict[str, Any] = {}
    for name in PROMPTED:
        key = settings.KEYS_BY_NAME[name]
        default = current.get(name, key.default)
        if key.secret:
            shown = " (leave empty to keep the current one)" if current.get(name) else ""
            value = click.prompt(f"{name}{shown}", hide_input=True, default="", show_default=False)
            register_secret(value)
        else:
            value = click.prompt(name, default=default if default is not None else "", show_default=default is not None)
        if value not in ("", None):
            answers[name] = value
    return answers
