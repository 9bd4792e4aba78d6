"""`orx-elastic configure`: write a profile of the config file."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from elastic_cli.cli import say
from elastic_cli.commands.options import connection_options, settings_flags
from elastic_cli.config.endpoint import parse_host, scheme_note
from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from elastic_cli.cli import AppContext

PROMPTED = ("host", "port", "id", "api_key", "indexes")


@click.command()
@connection_options
@click.option("--session-margin", help="How far before a session's start `logs` searches, e.g. 1d, 6h.")
@click.option("--default", "make_default", is_flag=True, help="Make this profile the default one.")
@click.pass_obj
def configure(app: AppContext, make_default: bool, **params: Any) -> None:
    """Write host, port, id, api_key and indexes (and TLS options) to a profile.

    Flags write only what they name; run in a terminal without flags, it asks
    for each value (the api_key hidden). The file is written atomically, mode 0600.

    \b
    Examples:
      orx-elastic configure --host https://es.example.com:9243 --id ID --api-key -   # key from stdin
      orx-elastic --profile staging configure --cloud-id 'staging:ZXUt...' --indexes 'app-*'
      orx-elastic configure            # interactive
    """
    from elastic_cli.config import settings
    from elastic_cli.redaction import register_secret

    flags = settings_flags(params)
    if flags.get("api_key") == "-":  # the secret from stdin or a hidden prompt: not in argv nor history
        flags["api_key"] = _read_secret()
    register_secret(flags.get("api_key"))
    updates = {name: value for name, value in flags.items() if value is not None}
    if updates.get("verify_certs") is True:  # --no-insecure: drop the saved `false`, the default verifies
        updates["verify_certs"] = None
    config = app.load_config()  # a malformed file stops here, before anything is written
    profile = app.profile or config.default_profile
    if not updates:
        if not sys.stdin.isatty():
            raise UsageError("nothing to configure", "pass flags such as --host and --api-key, or run in a terminal")
        updates = _ask(config.profiles.get(profile, {}))
    if "host" in updates:
        where = parse_host(str(updates["host"]))
        assumed = scheme_note(str(updates["host"]))
        if assumed:  # 127.0.0.1 saved as https://127.0.0.1: say so now, not at the first TLS error
            app.warn(assumed)
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
    # validate every value before touching the file (None drops a saved value)
    try:
        for name, value in updates.items():
            if value is not None:
                settings.KEYS_BY_NAME[name].parse(value)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{name} {exc}") from None
    settings.save_profile(config.path, profile, updates, make_default=make_default)
    if not app.quiet:
        say("", f"saved profile '{profile}' to {config.path}")
        say("next: ", "orx-elastic check")  # with the profile's --profile when one was chosen


def _read_secret() -> str:
    if sys.stdin.isatty():
        secret = click.prompt("api_key", hide_input=True, err=True)
    else:
        secret = sys.stdin.readline().strip()
    if not secret:
        raise UsageError("--api-key - read an empty api_key from stdin",
                         "pipe it in: `printf %s \"$KEY\" | orx-elastic configure --id ID --api-key -`")
    return str(secret)


def _ask(current: dict[str, Any]) -> dict[str, Any]:
    from elastic_cli.config import settings
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
