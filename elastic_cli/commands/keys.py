"""`orx-elastic keys list|invalidate|rotate`: the API keys orx-elastic created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.cli import say
from elastic_cli.commands.key_options import admin_auth_options, admin_from_params, show_created_key
from elastic_cli.commands.options import endpoint_options, output_option, settings_flags
from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from elastic_cli.cli import AppContext
    from elastic_cli.keys.api_keys import Invalidation


@click.group()
def keys() -> None:
    """List, invalidate and rotate the API keys orx-elastic created.

    Each needs credentials that may manage API keys (--username or
    --admin-api-key), like create-key.

    \b
    Examples:
      orx-elastic keys list --username elastic
      orx-elastic keys rotate --username elastic
    """


@keys.command("list")
@endpoint_options("--id")
@admin_auth_options
@click.option("--all", "everything", is_flag=True, help="Every API key visible to you, not only orx-elastic's.")
@output_option()
@click.pass_obj
def list_(app: AppContext, everything: bool, output: str, **params: Any) -> None:
    """List the keys whose metadata says created_by: orx-elastic (newest first).

    \b
    Examples:
      orx-elastic keys list --username elastic
      orx-elastic keys list --admin-api-key "$ADMIN_KEY" -o json
    """
    from dataclasses import asdict

    from elastic_cli import output as out
    from elastic_cli.keys import api_keys
    from elastic_cli.keys.admin import admin_client, key_errors

    admin = admin_from_params(params)
    settings = app.settings(settings_flags(params))
    with key_errors(settings, "list API keys", admin):
        rows = api_keys.list_keys(admin_client(settings, admin), everything=everything)
    # which key the active profile reads with: the one to rotate, the one not to invalidate
    in_use = {settings.id: settings.profile} if settings.id else {}
    if output == "json":
        out.print_json([{**asdict(row), "used_by_profile": in_use.get(row.id or "")} for row in rows])
        return
    columns = ("name", "id", "created", "expires", "invalidated", "used by")
    out.print_table(columns, [[row.name or "", row.id or "", row.created or "", row.expires or "never",
                               "yes" if row.invalidated else "no", in_use.get(row.id or "", "")] for row in rows],
                    color=app.color, free_text=("name",))
    if not rows and not app.quiet:
        say("", "no API key created by orx-elastic" + ("" if everything else " (--all shows every key)"))


@keys.command()
@click.argument("key_id", required=False, metavar="[ID]")
@click.option("--name", help="Invalidate every key with this name instead of one id.")
@endpoint_options("--id")
@admin_auth_options
@click.pass_obj
def invalidate(app: AppContext, key_id: str | None, name: str | None, **params: Any) -> None:
    """Invalidate a key by its id, or every key with a name: it stops working at once.

    \b
    Examples:
      orx-elastic keys invalidate VuaCfGcBCdbkQm-e5aOx --username elastic
      orx-elastic keys invalidate --name openreplay-api-key --username elastic
    """
    from elastic_cli.keys import api_keys
    from elastic_cli.keys.admin import admin_client, key_errors

    if bool(key_id) == bool(name):
        raise UsageError("give either an ID or --name", "e.g. `orx-elastic keys invalidate ID` (see `keys list`)")
    admin = admin_from_params(params)
    settings = app.settings(settings_flags(params))
    with key_errors(settings, "invalidate API keys", admin):
        result = api_keys.invalidate_keys(admin_client(settings, admin), ids=[key_id] if key_id else None, name=name)
    _report_invalidation(app, result, key_id or f"named {name!r}")
    if settings.id and settings.id in result.invalidated:
        app.warn(f"profile '{settings.profile}' used this key: create a new one with `orx-elastic create-key --save`")


def _report_invalidation(app: AppContext, result: Invalidation, what: str) -> None:
    from elastic_cli.errors import RequestRejected
    from elastic_cli.output import inert

    if result.errors:
        raise RequestRejected(f"Elasticsearch could not invalidate {len(result.errors)} key(s): {result.errors[0]}",
                              "check the id with `orx-elastic keys list`, then try again")
    if not result.invalidated and not result.previously_invalidated:
        raise UsageError(f"no API key {what}", "see `orx-elastic keys list --all` for ids and names")
    for key_id in result.invalidated:
        click.echo(inert(key_id))  # the server's ids: data, shown inert
    if not app.quiet:
        if result.invalidated:
            say("", f"invalidated {len(result.invalidated)} key(s)")
        for key_id in result.previously_invalidated:
            say("", f"{key_id} was already invalidated")


@keys.command()
@endpoint_options("--indexes")
@admin_auth_options
@click.option("--keep-privileges", is_flag=True,
              help="Copy the old key's role descriptors as they are (default: least privilege on its patterns).")
@click.option("--keep-old", is_flag=True, help="Do not invalidate the old key (invalidate it later, "
              "once OpenReplay's form has the new one).")
@output_option()
@click.pass_obj
def rotate(app: AppContext, keep_privileges: bool, keep_old: bool, output: str, **params: Any) -> None:
    """Replace the profile's key with a new one, then invalidate the old one.

    In order: read the old key (name, patterns, lifetime), create the new key,
    save it to the profile, check that it authenticates, and only then
    invalidate the old key. If the save or the check fails, the new key is
    invalidated and the profile keeps the old one. A key kept in the keychain
    or in a file ($(keychain:...), $(file:...)) is replaced there, in place.

    \b
    Examples:
      orx-elastic keys rotate --username elastic
      orx-elastic --profile prod keys rotate --admin-api-key "$ADMIN_KEY" --keep-old
    """
    from elastic_cli.keys import api_keys
    from elastic_cli.keys.admin import admin_client, key_errors

    admin = admin_from_params(params)
    flags = settings_flags(params)  # no --id/--api-key: rotate replaces the key stored in the profile
    settings = app.settings(flags, require_profile=True)
    store = api_keys.ProfileKeyStore.of(settings)
    old_id = store.key_id
    with key_errors(settings, "rotate API keys", admin):
        rotation = api_keys.rotate(admin_client(settings, admin), old_id, store,
                                   fallback_patterns=settings.index_patterns, keep_privileges=keep_privileges,
                                   keep_old=keep_old, warn=app.warn)
    for note in rotation.notes:
        app.warn(note)
    app.info(f"saved the new key {rotation.new.id} to {settings.path} and checked that it authenticates")
    show_created_key(app, rotation.new, output, f"{settings.path} (profile {settings.profile})", title="API key rotated")
    if not app.quiet:
        invalidated = f" ({old_id} invalidated)" if rotation.old_invalidated else ""
        say("", f"rotated: {old_id} -> {rotation.new.id}{invalidated}; "
                     "paste the new id and api_key into OpenReplay's Elasticsearch form")
