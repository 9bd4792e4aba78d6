"""`orx-elastic create-key`: a least-privilege API key for OpenReplay, optionally saved to the profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.key_options import admin_auth_options, admin_from_params, show_created_key
from elastic_cli.commands.options import connection_options, output_option, settings_flags
from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext
    from elastic_cli.config.settings import Settings
    from elastic_cli.keys.api_keys import CreatedKey


@click.command("create-key")
@connection_options
@admin_auth_options
@click.option("--name", default=None, help="Key name [default: openreplay-api-key].")
@click.option("--expiration", help="Lifetime in Elasticsearch units, e.g. 90d, 12h, 30m [default: never expires].")
@click.option("--guide-body", is_flag=True,
              help="Use the setup guide's body (cluster privilege 'all'): broader than OpenReplay needs.")
@click.option("--dry-run", "--explain", "dry_run", is_flag=True,
              help="Print the request (Dev Tools and curl) and exit, without connecting (--explain: the same).")
@click.option("--save", is_flag=True, help="Write id, api_key, host, port and indexes to the profile.")
@click.option("--keychain/--no-keychain", default=None,
              help="With --save: keep the api_key in the OS keychain (needs orx-elastic[keychain]) or in the file "
                   "[default: the secret_store setting, else where the profile keeps it now].")
@output_option()
@click.pass_obj
def create_key(app: AppContext, name: str | None, expiration: str | None, guide_body: bool, dry_run: bool, save: bool,
               keychain: bool | None, output: str, **params: Any) -> None:
    """Create an API key that can only read the log indices, for OpenReplay and for `check`/`logs`.

    Authenticates with a user or key that may create API keys (manage_api_key or
    manage_own_api_key); the new key gets the index privilege `read` on the patterns
    and no cluster privilege. The secret is shown once: use --save to keep it in
    the profile without copying it by hand.

    \b
    Examples:
      orx-elastic create-key --host https://es.example.com:9200 --username elastic --save
      orx-elastic create-key --indexes 'app-logs-*' --expiration 90d -o json
      orx-elastic create-key --dry-run        # the request for Kibana Dev Tools or curl
    """
    from elastic_cli.keys import api_keys

    if keychain is not None and not save:
        raise UsageError("--keychain/--no-keychain say where --save keeps the key", "add --save")
    admin = admin_from_params(params, need_password=not dry_run)
    flags = settings_flags(params)
    settings = app.settings(flags, require_profile=not save and app.profile is not None)
    patterns = api_keys.validate_patterns(settings.indexes)
    body = api_keys.create_key_body(api_keys.DEFAULT_KEY_NAME if name is None else name, patterns, expiration, guide=guide_body)
    if guide_body:
        app.warn(api_keys.GUIDE_WARNING)
    if dry_run:
        from elastic_cli.commands.dry_run import print_request

        print_request(app, settings, admin, api_keys.ENDPOINT, body)
        return
    store = "file"
    if save:
        config = app.load_config()  # a malformed config file stops here, before a key is created
        store = _store(app, settings, keychain, config.profiles.get(settings.profile, {}).get("api_key"))
    from elastic_cli.keys.admin import admin_client, key_errors

    with key_errors(settings, "create API keys", admin):
        created = api_keys.create_key(admin_client(settings, admin), body)
    saved_to = None
    if save:
        saved_to = _save(app, settings, created, patterns, store)
    show_created_key(app, created, output, saved_to)


def _store(app: AppContext, settings: Settings, keychain: bool | None, current: str | None) -> str:
    """Where --save keeps the new key; a keychain that cannot take it stops the command before the key exists."""
    from elastic_cli.config import secret_store

    store = secret_store.choose(keychain, settings.secret_store, settings.sources.get("secret_store") != "default",
                                current, app.warn)
    problem = secret_store.keychain_problem() if store == "keychain" else None
    if problem:
        raise secret_store.SecretUnavailable(
            f"cannot keep the new key in the keychain: {problem}",
            secret_store.INSTALL_HINT if "not installed" in problem else secret_store.NO_BACKEND_FIX)
    return store


def _save(app: AppContext, settings: Settings, created: CreatedKey, patterns: list[str], store: str) -> str:
    from elastic_cli.keys.api_keys import save_created_key

    try:
        return save_created_key(settings, created, patterns, store)
    except Exception:
        app.warn(f"the key {created.id} was created but could not be saved: copy the api_key shown below")
        show_created_key(app, created, "table", None)
        raise
