"""`orx-elastic keys list|invalidate|rotate`: the API keys orx-elastic created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.create_key import admin_auth_options, admin_client, admin_from_params, key_errors
from elastic_cli.commands.options import connection_options, output_option, settings_flags
from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from elastic_cli.cli import AppContext


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
@connection_options
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
    from elastic_cli import api_keys
    from elastic_cli import output as out

    admin = admin_from_params(params)
    settings = app.settings(settings_flags(params))
    client = admin_client(settings, admin)
    with key_errors(settings, "list API keys", admin.label):
        rows = api_keys.list_keys(client, everything=everything)
    if output == "json":
        out.print_json(rows)
        return
    columns = ("name", "id", "created", "expires", "invalidated")
    out.print_table(columns, [[r[c] if r[c] is not None else ("never" if c == "expires" else "") for c in columns]
                              for r in rows], color=app.color)
    if not rows and not app.quiet:
        click.echo("no API key created by orx-elastic" + ("" if everything else " (--all shows every key)"), err=True)


@keys.command()
@click.argument("key_id", required=False, metavar="[ID]")
@click.option("--name", help="Invalidate every key with this name instead of one id.")
@connection_options
@admin_auth_options
@click.pass_obj
def invalidate(app: AppContext, key_id: str | None, name: str | None, **params: Any) -> None:
    """Invalidate a key by its id, or every key with a name: it stops working at once.

    \b
    Examples:
      orx-elastic keys invalidate VuaCfGcBCdbkQm-e5aOx --username elastic
      orx-elastic keys invalidate --name openreplay-api-key --username elastic
    """
    from elastic_cli import api_keys

    if bool(key_id) == bool(name):
        raise UsageError("give either an ID or --name", "e.g. `orx-elastic keys invalidate ID` (see `keys list`)")
    admin = admin_from_params(params)
    settings = app.settings(settings_flags(params))
    client = admin_client(settings, admin)
    with key_errors(settings, "invalidate API keys", admin.label):
        result = api_keys.invalidate_keys(client, ids=[key_id] if key_id else None, name=name)
    _report_invalidation(app, result, key_id or f"named {name!r}")
    if settings.id and settings.id in result.invalidated:
        app.warn(f"profile '{settings.profile}' used this key: create a new one with `orx-elastic create-key --save`")


def _report_invalidation(app: AppContext, result: Any, what: str) -> None:
    from elastic_cli.errors import RequestRejected

    if result.errors:
        raise RequestRejected(f"Elasticsearch could not invalidate {len(result.errors)} key(s): {result.errors[0]}",
                              "check the id with `orx-elastic keys list`, then try again")
    if not result.invalidated and not result.previously_invalidated:
        raise UsageError(f"no API key {what}", "see `orx-elastic keys list --all` for ids and names")
    for key_id in result.invalidated:
        click.echo(key_id)
    if not app.quiet:
        if result.invalidated:
            click.echo(f"invalidated {len(result.invalidated)} key(s)", err=True)
        for key_id in result.previously_invalidated:
            click.echo(f"{key_id} was already invalidated", err=True)


@keys.command()
@connection_options
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
    invalidate the old key. If anything fails before the save, the profile is
    unchanged; if the new key does not work, the old one is put back.

    \b
    Examples:
      orx-elastic keys rotate --username elastic
      orx-elastic --profile prod keys rotate --admin-api-key "$ADMIN_KEY" --keep-old
    """
    from dataclasses import replace

    from elastic_cli import api_keys
    from elastic_cli.commands.create_key import _show
    from elastic_cli.connection import build_client
    from elastic_cli.errors import ConfigError
    from elastic_cli.redaction import register_secret
    from elastic_cli.settings import load_config_file, save_profile, split_api_key

    admin = admin_from_params(params)
    flags = settings_flags(params)
    if flags.get("id") or flags.get("api_key"):
        raise UsageError("rotate replaces the key stored in the profile; --id/--api-key do not apply",
                         "run it without --id and --api-key")
    settings = app.settings(flags, require_profile=True)
    old_id, old_secret, _ = split_api_key(settings.id, settings.api_key)
    if not old_id or not settings.sources.get("api_key", "").startswith("file"):
        raise ConfigError(f"profile '{settings.profile}' has no API key to rotate in {settings.path}",
                          "create one with `orx-elastic create-key --save`")
    register_secret(old_secret)
    client = admin_client(settings, admin)
    with key_errors(settings, "read and create API keys", admin.label):
        info = api_keys.get_key(client, old_id)
    if info is None:
        raise ConfigError(f"Elasticsearch knows no API key {old_id} (the profile's key)",
                          "create a new one with `orx-elastic create-key --save`")
    if info.get("invalidated"):
        app.warn(f"the profile's key {old_id} is already invalidated; creating its replacement")
    descriptors = info.get("role_descriptors") or {}
    patterns = api_keys.patterns_of(descriptors) or settings.index_patterns
    if keep_privileges and descriptors:
        body = api_keys.create_key_body(info.get("name") or api_keys.DEFAULT_KEY_NAME, patterns,
                                        api_keys.expiration_policy(info), descriptors=descriptors,
                                        metadata={"rotated_from": old_id})
    else:
        body = api_keys.create_key_body(info.get("name") or api_keys.DEFAULT_KEY_NAME, patterns,
                                        api_keys.expiration_policy(info), metadata={"rotated_from": old_id})
        if descriptors and _privileges(descriptors) != _privileges(body["role_descriptors"]):
            app.warn("the new key gets only `read` on " + ",".join(patterns) +
                     " (the old one had more; --keep-privileges copies them)")
    with key_errors(settings, "create API keys", admin.label):
        created = api_keys.create_key(client, body)
    register_secret(created.api_key)
    register_secret(created.encoded)

    # what the file held (not what env or flags said), to put back if the new key fails
    stored_before = load_config_file(settings.path).profiles.get(settings.profile, {})
    old_values = {"id": stored_before.get("id"), "api_key": stored_before.get("api_key")}
    try:
        save_profile(settings.path, settings.profile, {"id": created.id, "api_key": created.api_key})
    except BaseException:
        _discard(client, created.id, app)
        raise
    # check what was saved, read back from the file, with the connection settings in use
    try:
        stored = load_config_file(settings.path).profiles.get(settings.profile, {})
        new_settings = replace(settings, id=stored.get("id"), api_key=stored.get("api_key"))
        with key_errors(new_settings, "authenticate", "the new key"):
            api_keys.authenticate(build_client(new_settings, max_retries=1))
    except BaseException:
        try:
            save_profile(settings.path, settings.profile, old_values)
        finally:
            _discard(client, created.id, app)
        app.warn(f"the new key did not work: profile '{settings.profile}' keeps the old key {old_id}")
        raise
    app.info(f"saved the new key {created.id} to {settings.path} and checked that it authenticates")
    if keep_old:
        app.warn(f"the old key {old_id} still works: invalidate it with `orx-elastic keys invalidate {old_id}` "
                 "once OpenReplay uses the new one")
    elif not info.get("invalidated"):
        with key_errors(settings, "invalidate API keys", admin.label):
            result = api_keys.invalidate_keys(client, ids=[old_id])
        if result.errors:
            app.warn(f"could not invalidate the old key {old_id}: {result.errors[0]}; "
                     f"run `orx-elastic keys invalidate {old_id}`")
    _show(app, created, output, f"{settings.path} (profile {settings.profile})")
    if not app.quiet:
        click.echo(f"rotated: {old_id} -> {created.id}" + ("" if keep_old else f" ({old_id} invalidated)") +
                   "; paste the new id and api_key into OpenReplay's Elasticsearch form", err=True)


def _privileges(descriptors: dict[str, Any]) -> list[Any]:
    import json

    simplified = []
    for descriptor in descriptors.values():
        indices = descriptor.get("indices") or descriptor.get("index") or []
        simplified.append((sorted(descriptor.get("cluster") or []),
                           sorted(json.dumps(sorted(i.get("privileges") or [])) for i in indices)))
    return sorted(simplified)


def _discard(client: Elasticsearch, key_id: str, app: AppContext) -> None:
    """Invalidate a key this run created and could not use: no orphan keys."""
    from elastic_cli import api_keys

    try:
        api_keys.invalidate_keys(client, ids=[key_id])
    except Exception:  # noqa: BLE001 — best effort: the caller re-raises the real error
        app.warn(f"could not invalidate the unused new key {key_id}: run `orx-elastic keys invalidate {key_id}`")
