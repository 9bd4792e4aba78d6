"""`orx-elastic configure`: write a profile of the config file."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.app import say
from elastic_cli.commands.options import connection_options, settings_flags
from elastic_cli.config.endpoint import UNENCRYPTED, UNENCRYPTED_FIX, parse_host, scheme_note
from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext

PROMPTED = ("host", "port", "id", "api_key", "indexes")


@click.command()
@connection_options
@click.option("--session-margin", help="How far before a session's start `logs` searches, e.g. 1d, 6h.")
@click.option("--default", "make_default", is_flag=True, help="Make this profile the default one.")
@click.option("--keychain/--no-keychain", default=None,
              help="Keep the api_key in the OS keychain (needs orx-elastic[keychain]) or in this file; without "
                   "--api-key, move the current one there [default: the secret_store setting, else where it is now].")
@click.pass_obj
def configure(app: AppContext, make_default: bool, keychain: bool | None, **params: Any) -> None:  # noqa: C901 — flags, prompts and the key's move in one flow; splitting it is open work
    """Write host (or hosts), port, id, api_key and indexes (and TLS options) to a profile.

    Flags write only what they name; run in a terminal without flags, it asks
    for each value (the api_key hidden). The file is written atomically, mode 0600.
    With --keychain the api_key goes into the OS keychain and the file holds
    only `$(keychain:PROFILE/api_key)`.

    \b
    Examples:
      orx-elastic configure --host https://es.example.com:9243 --id ID --api-key -   # key from stdin
      orx-elastic --profile staging configure --cloud-id 'staging:ZXUt...' --indexes 'app-*'
      orx-elastic configure --hosts https://es1:9200,https://es2:9200,https://es3:9200
      orx-elastic configure            # interactive
      orx-elastic configure --keychain # move the saved api_key into the keychain
    """
    from elastic_cli.config import file as config_file
    from elastic_cli.config import secret_store, settings

    flags = settings_flags(params)
    if flags.get("api_key") == "-":  # the secret from stdin or a hidden prompt: not in argv nor history
        flags["api_key"] = _read_secret()
    secret_store.register_key(flags.get("api_key"))
    updates = {name: value for name, value in flags.items() if value is not None}
    if updates.get("verify_certs") is True:  # --no-insecure: drop the saved `false`, the default verifies
        updates["verify_certs"] = None
    config = app.load_config()  # a malformed file stops here, before anything is written
    profile = app.profile or config.default_profile
    stored = config.profiles.get(profile, {})
    current = stored.get("api_key")
    if keychain is not None and "api_key" not in updates:
        updates.update(_moving(app, config.path, current, keychain))  # the saved key, or one typed now
        if not updates:
            return
    elif not updates:
        if not sys.stdin.isatty():
            raise UsageError("nothing to configure", "pass flags such as --host and --api-key, or run in a terminal")
        updates = _ask(stored)
    if "hosts" in updates:  # several nodes: the list replaces a saved host and port
        if "host" in updates or "port" in updates:
            raise UsageError("--hosts and --host/--port/--cloud-id name the cluster twice",
                             "give the nodes in --hosts only (each URL with its port)")
        for entry in str(updates["hosts"]).split(","):
            assumed = scheme_note(entry)
            if assumed:  # as for --host: said now, not at the first TLS error
                app.warn(assumed)
                break
        try:
            updates["hosts"] = settings.KEYS_BY_NAME["hosts"].parse(updates["hosts"])
        except (ValueError, TypeError) as exc:
            raise UsageError(f"hosts {exc}", "e.g. --hosts https://es1:9200,https://es2:9200") from None
        updates["host"] = updates["port"] = None
    elif "host" in updates:
        updates["hosts"] = None  # one node now: a saved list would win over it
        where = parse_host(str(updates["host"]))
        assumed = scheme_note(str(updates["host"]))
        if assumed:  # 127.0.0.1 saved as https://127.0.0.1: say so now, not at the first TLS error
            app.warn(assumed)
        updates["host"] = where.host
        if "port" not in updates:  # a new host without a port means 9200, not the port saved for the old one
            updates["port"] = where.port  # None: drop the saved port, the default applies
    if "host" in updates or "hosts" in updates or "api_key" in updates:
        nodes = updates["hosts"] if updates.get("hosts") else [updates["host"]] if updates.get("host") else \
            list(stored.get("hosts") or [stored.get("host")])
        in_clear = [str(node) for node in nodes if node and parse_host(str(node)).in_clear_off_machine]
        if in_clear:
            app.warn(f"{UNENCRYPTED} ({', '.join(in_clear)}); {UNENCRYPTED_FIX}")
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
    kept, undo = "", lambda: None
    if updates.get("api_key") is not None and secret_store.parse_ref(updates["api_key"]) is None:
        setting = settings.KEYS_BY_NAME["secret_store"]
        chosen = os.environ.get(setting.env) or stored.get("secret_store")
        try:
            default_store = setting.parse(chosen) if chosen else "file"
        except ValueError as exc:
            raise UsageError(f"secret_store from {setting.env} {exc}", f"fix {setting.env} ({setting.help})") from None
        store = secret_store.choose(keychain, default_store, bool(chosen), current, app.warn)
        updates["api_key"], undo = secret_store.place(profile, updates["api_key"], store, current)
        if store == "keychain":
            kept = f" (api_key in the keychain: {updates['api_key']})"
    stale = secret_store.stale_entry(profile, current, updates.get("api_key", current))
    try:
        saved = config_file.save_profile(config.path, profile, updates, make_default=make_default)
    except BaseException:
        undo()  # the keychain as it was: the file still refers to it with the old id
        raise
    if stale:  # the key moved out of the keychain: no copy left behind
        secret_store.keychain_delete(stale)
        app.info(f"removed the keychain entry '{stale}'")
    lacking = _lacking_key(saved.profiles.get(profile, {}))
    if lacking:  # saved, but `check` and `logs` cannot authenticate with it yet
        app.warn(f"profile '{profile}' has no {lacking}: check, logs and sessions need an API key")
    if not app.quiet:
        say("", f"saved profile '{profile}' to {config.path}{kept}")
        if lacking:  # with the profile's --profile when one was chosen
            say("next: ", "a new read-only key: `orx-elastic create-key --username USER --save`; or yours "
                          "(read from stdin): `orx-elastic configure --id ID --api-key -`")
        else:
            say("next: ", "orx-elastic check")


def _lacking_key(profile: dict[str, Any]) -> str:
    """'id and api_key', 'id', 'api_key' or '' : what of the API key neither the profile nor the
    environment (ORX_ELASTIC_ID, ORX_ELASTIC_API_KEY) holds."""
    from elastic_cli.config import settings

    missing = [name for name in ("id", "api_key")
               if profile.get(name) is None and not os.environ.get(settings.KEYS_BY_NAME[name].env)]
    return " and ".join(missing)


def _read_secret() -> str:
    secret = click.prompt("api_key", hide_input=True, err=True) if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not secret:
        raise UsageError("--api-key - read an empty api_key from stdin",
                         "pipe it in: `printf %s \"$KEY\" | orx-elastic configure --id ID --api-key -`")
    return str(secret)


def _moving(app: AppContext, path: Any, current: str | None, keychain: bool) -> dict[str, Any]:
    """`configure --keychain` / `--no-keychain` alone: the current api_key, to be stored again where
    asked; {} when it is there already. A key that cannot be read is asked for, on a terminal."""
    from elastic_cli.config import secret_store

    ref = secret_store.parse_ref(current) if current else None
    in_keychain = ref is not None and ref.kind == "keychain"
    if current is None:
        if not sys.stdin.isatty():
            raise UsageError("the profile has no api_key to move", "pass --api-key, or run in a terminal to type it")
        return _ask_key()
    if in_keychain == keychain and (keychain or ref is None):
        if ref is not None:
            try:  # already in the keychain: only a missing entry needs the key typed again
                secret_store.resolve(ref, path.parent)
            except secret_store.SecretUnavailable:
                if not sys.stdin.isatty():
                    raise
                return _ask_key()
        if not app.quiet:
            say("", f"the api_key is already kept in the {ref.where if ref else 'config file'}")
        return {}
    if ref is not None and not keychain and not in_keychain:
        if not app.quiet:
            say("", f"the api_key is read from the {ref.where}, not the keychain: left as it is")
        return {}
    return {"api_key": secret_store.resolve(ref, path.parent) if ref is not None else current}


def _ask_key() -> dict[str, Any]:
    from elastic_cli.redaction import register_secret

    value = click.prompt("api_key", hide_input=True, err=True)
    register_secret(value)
    return {"api_key": value}


def _ask(current: dict[str, Any]) -> dict[str, Any]:
    from elastic_cli.config import secret_store, settings

    answers: dict[str, Any] = {}
    nodes = current.get("hosts")
    if nodes:  # several nodes saved: asked as a list, never replaced by a single default host
        listed = ",".join(str(node) for node in nodes)
        value = click.prompt("hosts (comma separated)", default=listed)
        if value not in ("", None) and value != listed:
            answers["hosts"] = value
    for name in PROMPTED:
        if nodes and name in ("host", "port"):
            continue
        key = settings.KEYS_BY_NAME[name]
        default = current.get(name, key.default)
        if name == "port" and "host" in answers:
            url_port = parse_host(str(answers["host"])).port
            if url_port is not None:  # `http://127.0.0.1:32925`: its port, not a second question
                click.echo(f"port: {url_port} (from the host)")
                answers["port"] = url_port
                continue
            if answers["host"] != current.get("host"):
                default = key.default  # a new host without a port: 9200, not the old host's port
        if key.secret:
            shown = " (leave empty to keep the current one)" if current.get(name) else ""
            value = click.prompt(f"{name}{shown}", hide_input=True, default="", show_default=False)
            secret_store.register_key(value)
        else:
            value = click.prompt(name, default=default if default is not None else "", show_default=default is not None)
        if value not in ("", None):
            answers[name] = value
    return answers
