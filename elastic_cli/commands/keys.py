"""`orx-elastic keys list|invalidate|rotate`: the API keys orx-elastic created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.app import say
from elastic_cli.commands.key_options import admin_auth_options, admin_from_params, show_created_key
from elastic_cli.commands.options import DescribedArgument, endpoint_options, output_option, settings_flags
from elastic_cli.errors import UsageError, new_key_command, plural

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext
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
    # which profiles read with each key: the ones to rotate, the ones not to invalidate
    used_by = _profiles_by_key(app, settings)
    if output == "json":
        out.print_json([{**asdict(row), "state": row.state,
                         "used_by_profile": settings.profile if row.id and row.id == settings.id else None,
                         "used_by_profiles": used_by.get(row.id or "", [])} for row in rows])
        return
    columns = ("name", "id", "created", "expires", "state", "used by")
    out.print_table(columns, [[row.name or "", row.id or "", row.created or "", row.expires or "never",
                               _state_text(row), ", ".join(used_by.get(row.id or "", []))] for row in rows],
                    color=app.color, free_text=("name", "used by"))
    if not rows and not app.quiet:
        say("", "no API key created by orx-elastic" + ("" if everything else " (--all shows every key)"))


def _profiles_by_key(app: AppContext, settings: Any) -> dict[str, list[str]]:
    """key id -> every profile of the config file that holds it (the active one as resolved, with
    its flags and variables), in the file's order."""
    found: dict[str, list[str]] = {}
    for name, profile in app.load_config().profiles.items():
        key_id = settings.id if name == settings.profile else (profile or {}).get("id")
        if key_id:
            found.setdefault(str(key_id), []).append(name)
    if settings.id and settings.profile not in found.get(settings.id, []):
        found.setdefault(settings.id, []).append(settings.profile)
    return found


def _state_text(row: Any) -> str:
    if row.invalidated:
        return "invalidated" + (f" {row.invalidated_at}" if row.invalidated_at else "")
    return "expired" if row.expired else "active"


@keys.command()
@click.argument("key_id", required=False, metavar="[ID]", cls=DescribedArgument,
                help="The key's id (see `orx-elastic keys list`); or give --name.")
@click.option("--name", help="Invalidate every key with this name instead of one id.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before invalidating a key a profile uses.")
@endpoint_options("--id")
@admin_auth_options
@click.pass_obj
def invalidate(app: AppContext, key_id: str | None, name: str | None, yes: bool, **params: Any) -> None:
    """Invalidate a key by its id, or every key with a name: it stops working at once.

    A key that a profile of the config file reads with is invalidated only after you
    confirm (--yes: without asking; off a terminal, --yes is required). A key that is
    already invalidated is said so, and is no error.

    \b
    Examples:
      orx-elastic keys invalidate VuaCfGcBCdbkQm-e5aOx --username elastic
      orx-elastic keys invalidate --name openreplay-api-key --username elastic --yes
    """
    from elastic_cli.keys import api_keys
    from elastic_cli.keys.admin import admin_client, key_errors

    if bool(key_id) == bool(name):
        raise UsageError("give either an ID or --name", "e.g. `orx-elastic keys invalidate ID` (see `keys list`)")
    admin = admin_from_params(params)
    settings = app.settings(settings_flags(params))
    what = key_id or f"named {name!r}"
    with key_errors(settings, "invalidate API keys", admin):
        client = admin_client(settings, admin)
        known = api_keys.find_keys(client, ids=[key_id] if key_id else None, name=name)
        active = [row for row in known if not row.invalidated]
        if known and not active:  # done before: the state asked for holds, nothing to do
            _already_invalidated(app, known)
            return
        used_by = _profiles_by_key(app, settings)
        in_use = {row.id: used_by[row.id] for row in active if row.id and row.id in used_by}
        if in_use and not yes:
            _confirm(in_use)
        result = api_keys.invalidate_keys(client, ids=[key_id] if key_id else None, name=name)
    _report_invalidation(app, result, what)
    for used_id, profiles in in_use.items():
        if used_id in result.invalidated:
            names = ", ".join(f"'{p}'" for p in profiles)
            app.warn(f"profile {names} used this key: create a new one with `{new_key_command()}`")


def _confirm(in_use: dict[str, list[str]]) -> None:
    """Ask before invalidating a key a profile reads with; off a terminal, refuse (exit 2)."""
    import sys

    profiles = sorted({name for names in in_use.values() for name in names})
    shown = ", ".join(f"'{p}'" for p in profiles)
    what = f"{', '.join(in_use)} is the key of profile {shown}"
    if not sys.stdin.isatty():
        raise UsageError(f"not invalidated: {what}, which would stop working at once",
                         "add --yes to invalidate it anyway (then make a new key for the profile)")
    if not click.confirm(f"{what}: invalidate it (the profile stops working)?", default=False, err=True):
        raise click.Abort()


def _already_invalidated(app: AppContext, rows: list[Any]) -> None:
    from elastic_cli.output import inert

    if app.quiet:
        return
    for row in rows:
        when = f" at {row.invalidated_at}" if row.invalidated_at else ""
        say("", f"{inert(row.id or '')} was already invalidated{when}: nothing to do")


def _report_invalidation(app: AppContext, result: Invalidation, what: str) -> None:
    from elastic_cli.errors import RequestRejected
    from elastic_cli.output import inert

    if result.errors:
        raise RequestRejected(f"Elasticsearch could not invalidate {plural(len(result.errors), 'key')}: {result.errors[0]}",
                              "check the id with `orx-elastic keys list`, then try again")
    if not result.invalidated and not result.previously_invalidated:
        raise UsageError(f"no API key {what}", "see `orx-elastic keys list --all` for ids and names")
    for key_id in result.invalidated:
        app.print(inert(key_id))  # the server's ids: data, shown inert
    if not app.quiet:
        if result.invalidated:
            say("", f"invalidated {plural(len(result.invalidated), 'key')}")
        for key_id in result.previously_invalidated:
            say("", f"{key_id} was already invalidated")


@keys.command()
@endpoint_options("--indexes")
@admin_auth_options
@click.option("--keep-privileges", is_flag=True,
              help="Copy the old key's role descriptors as they are (default: least privilege on its patterns).")
@click.option("--keep-old", is_flag=True, help="Do not invalidate the old key (invalidate it later, "
              "once OpenReplay's form has the new one).")
@click.option("--grace", metavar="DURATION",
              help="Let the old key work this long (e.g. 24h), then expire, instead of invalidating it now: time "
                   "to paste the new key into OpenReplay's form.")
@output_option()
@click.pass_obj
def rotate(app: AppContext, keep_privileges: bool, keep_old: bool, grace: str | None, output: str,
           **params: Any) -> None:
    """Replace the profile's key with a new one, then invalidate the old one.

    In order: read the old key (name, patterns, lifetime), create the new key,
    save it to the profile, check that it authenticates, and only then
    invalidate the old key. If the save or the check fails, the new key is
    invalidated and the profile keeps the old one. A key kept in the keychain
    or in a file ($(keychain:...), $(file:...)) is replaced there, in place.

    OpenReplay's dashboard holds the old key: invalidated at once, the integration
    fails until the form has the new one. --grace 24h sets the old key to expire
    in 24 hours instead (the update API key API, as the key's owner), and prints
    the form values for both generations and when the old key stops working.

    \b
    Examples:
      orx-elastic keys rotate --username elastic
      orx-elastic --profile prod keys rotate --admin-api-key "$ADMIN_KEY" --keep-old
      orx-elastic keys rotate --username elastic --grace 24h
    """
    from elastic_cli.keys import api_keys
    from elastic_cli.keys.admin import admin_client, key_errors

    if grace is not None:
        if keep_old:
            raise UsageError("--grace and --keep-old do not go together",
                             "--grace lets the old key expire after it; --keep-old never ends it")
        given = grace
        try:
            grace = api_keys.validate_expiration(given)
        except UsageError:
            raise UsageError(f"invalid --grace {given[:40]!r}", "a whole number and a unit: 24h, 2d, 90m") from None
    admin = admin_from_params(params)
    flags = settings_flags(params)  # no --id/--api-key: rotate replaces the key stored in the profile
    settings = app.settings(flags, require_profile=True)
    store = api_keys.ProfileKeyStore.of(settings)
    old_id = store.key_id
    with key_errors(settings, "rotate API keys", admin):
        rotation = api_keys.rotate(admin_client(settings, admin), old_id, store,
                                   fallback_patterns=settings.index_patterns, keep_privileges=keep_privileges,
                                   keep_old=keep_old, grace=grace, warn=app.warn)
    for note in rotation.notes:
        app.warn(note)
    app.info(f"saved the new key {rotation.new.id} to {settings.path} and checked that it authenticates")
    forms = _forms(settings, rotation.new)
    extra = {"old_id": old_id, "old_invalidated": rotation.old_invalidated,
             "old_expires_at": rotation.old_expires_at, "openreplay_forms": forms}
    show_created_key(app, rotation.new, output, f"{settings.path} (profile {settings.profile})", title="API key rotated",
                     extra=extra)
    if output != "json":
        from elastic_cli.output import print_panel

        for generation, values in forms.items():
            print_panel(f"paste into {generation}", list(values.items()), color=app.color)
    if app.quiet:
        return
    invalidated = f" ({old_id} invalidated)" if rotation.old_invalidated else ""
    say("", f"rotated: {old_id} -> {rotation.new.id}{invalidated}")
    if rotation.old_expires_at:
        say("", f"the old key {old_id} keeps working until {rotation.old_expires_at}: paste the new id and api_key "
                "into OpenReplay's Elasticsearch form before then")
    elif rotation.old_invalidated:
        say("", f"OpenReplay needs the new key now: its form still holds {old_id}, which no longer works "
                "(--grace 24h leaves time to paste it next time)")
    else:
        say("", "paste the new id and api_key into OpenReplay's Elasticsearch form")


def _forms(settings: Any, new: Any) -> dict[str, dict[str, Any]]:
    """Both generations' form values with the new key; its api_key is the one shown above (once)."""
    from dataclasses import replace

    from elastic_cli.openreplay.form import dashboard_forms

    forms = dashboard_forms(replace(settings, id=new.id, api_key=new.api_key))
    for values in forms.values():
        for name in ("apiKey", "api_key"):
            if name in values:
                values[name] = "the api_key shown above"
    return forms
