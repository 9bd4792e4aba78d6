"""`orx-elastic create-key`: a least-privilege API key for OpenReplay, optionally saved to the profile.

Also holds what `keys` shares with it: the admin credential options, the admin
client, and the error refinement for API key requests.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable

import click

from elastic_cli.commands.options import connection_options, settings_flags
from elastic_cli.errors import UsageError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from elasticsearch import Elasticsearch

    from elastic_cli.api_keys import CreatedKey
    from elastic_cli.cli import AppContext
    from elastic_cli.errors import OrxError
    from elastic_cli.settings import Settings

ADMIN_HINT = ("pass --username (the password is asked, or env ORX_ELASTIC_PASSWORD) or --admin-api-key "
              "for a user with the manage_api_key or manage_own_api_key privilege")


def admin_auth_options(func: Callable) -> Callable:
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


class Admin:
    """How the admin connects: kept apart from the profile's own key."""

    def __init__(self, username: str | None, password: str | None, admin_api_key: str | None):
        self.username, self.password, self.admin_api_key = username, password, admin_api_key

    @property
    def label(self) -> str:
        if self.username:
            return f"user '{self.username}'"
        if self.admin_api_key:
            return "the admin API key"
        return "the profile's API key"

    @property
    def curl_auth(self) -> str | None:
        from elastic_cli.api_keys import ADMIN_API_KEY_ENV

        return ADMIN_API_KEY_ENV if self.admin_api_key and not self.username else self.username


def admin_from_params(params: dict[str, Any], need_password: bool = True) -> Admin:
    from elastic_cli.redaction import register_secret

    username, password = params.pop("username", None), params.pop("password", None)
    admin_api_key = params.pop("admin_api_key", None)
    register_secret(password)
    register_secret(admin_api_key)
    if username and admin_api_key:
        raise UsageError("--username and --admin-api-key exclude each other", "pass only one of them")
    if password and not username and need_password:  # a dry run sends nothing: no credentials needed
        raise UsageError("--password without --username", "pass --username too (env ORX_ELASTIC_USERNAME)")
    if username and not password and need_password:
        if not sys.stdin.isatty():
            raise UsageError(f"no password for user '{username}'",
                             "set ORX_ELASTIC_PASSWORD or run in a terminal to be asked (never pass it in a script's argv)")
        password = click.prompt(f"password for {username}", hide_input=True, err=True)
        register_secret(password)
    return Admin(username, password, admin_api_key)


def admin_client(settings: Settings, admin: Admin) -> Elasticsearch:
    """A client authenticated as the admin: user + password, the admin key, or the profile's own key."""
    from dataclasses import replace

    from elastic_cli.connection import build_client
    from elastic_cli.redaction import register_secret
    from elastic_cli.settings import split_api_key

    if admin.username:
        return build_client(settings, basic_auth=(admin.username, admin.password or ""))
    if admin.admin_api_key:
        key_id: str | None
        secret: str | None
        text = admin.admin_api_key.strip()
        if ":" in text:
            key_id, _, secret = text.partition(":")
        else:
            key_id, secret, form = split_api_key(None, text)
            if form != "encoded":
                raise UsageError("--admin-api-key is neither id:key nor the encoded form",
                                 "pass the `encoded` value Elasticsearch returned, or id:api_key")
        if not key_id or not secret:
            raise UsageError("--admin-api-key is missing its id or its secret", "pass id:api_key or the encoded form")
        register_secret(secret)
        return build_client(replace(settings, id=key_id, api_key=secret))
    if not settings.api_key:
        raise UsageError("no credentials that may create API keys", ADMIN_HINT)
    return build_client(settings)


def key_errors(settings: Settings, action: str, who: str) -> AbstractContextManager[None]:
    """translated_errors, with messages and fixes that fit API key requests."""
    from elastic_cli.connection import translated_errors

    return translated_errors(settings, action,
                             refine=lambda mapped, exc: refine_error(mapped, exc, settings, action, who))


def refine_error(mapped: Any, exc: Any, settings: Settings, action: str, who: str) -> OrxError:
    from elastic_cli import errors
    from elastic_cli.api_keys import server_reason

    where = settings.url
    if isinstance(mapped, errors.AuthenticationFailed):
        if who == "the new key":
            return errors.AuthenticationFailed(f"{where} does not accept the new key", "run `orx-elastic keys rotate` again")
        return errors.AuthenticationFailed(
            f"{where} rejected the credentials of {who}",
            "check --username/--password or --admin-api-key (env ORX_ELASTIC_USERNAME, ORX_ELASTIC_PASSWORD, "
            "ORX_ELASTIC_ADMIN_API_KEY)")
    if isinstance(mapped, errors.PrivilegeMissing):
        return errors.PrivilegeMissing(
            f"{who} is not allowed to {action} on {where}",
            "grant it the cluster privilege manage_api_key or manage_own_api_key (superuser has both), "
            "or use another user")
    if isinstance(mapped, errors.RequestRejected):
        reason = server_reason(exc)
        lowered = reason.lower()
        if "api keys are not enabled" in lowered or "api key service is disabled" in lowered:
            return _disabled(where)
        if "derived api keys" in lowered:
            return errors.RequestRejected(
                f"Elasticsearch lets {who} create only keys without privileges (a key made by an API key)",
                "create the key as a user: --username with manage_api_key or manage_own_api_key")
        if "expiration" in lowered or "time value" in lowered:
            return errors.RequestRejected(f"Elasticsearch rejected the expiration: {reason}",
                                          "use a whole number and a unit, e.g. --expiration 90d")
        if "index name" in lowered or "regular expression" in lowered or "indices privileges" in lowered:
            return errors.RequestRejected(f"Elasticsearch rejected the index patterns: {reason}",
                                          "fix --indexes, e.g. --indexes 'app-logs,*log*'")
        return errors.RequestRejected(f"Elasticsearch rejected the request to {action}: {reason}",
                                      "check the values passed; run with --debug for the full answer")
    if isinstance(mapped, errors.ClusterUnavailable) and "api keys" in mapped.message.lower():
        return _disabled(where)
    return mapped


def _disabled(where: str) -> OrxError:
    from elastic_cli import errors

    return errors.ClusterUnavailable(f"API keys are disabled on {where}",
                                     "set xpack.security.authc.api_key.enabled: true on every node (the default), "
                                     "and restart them")


@click.command("create-key")
@connection_options
@admin_auth_options
@click.option("--name", default=None, help="Key name [default: openreplay-api-key].")
@click.option("--expiration", help="Lifetime in Elasticsearch units, e.g. 90d, 12h, 30m [default: never expires].")
@click.option("--guide-body", is_flag=True,
              help="Use the setup guide's body (cluster privilege 'all'): broader than OpenReplay needs.")
@click.option("--dry-run", is_flag=True, help="Print the request (Dev Tools and curl) and exit, without connecting.")
@click.option("--save", is_flag=True, help="Write id, api_key, host, port and indexes to the profile.")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_obj
def create_key(app: AppContext, name: str | None, expiration: str | None, guide_body: bool, dry_run: bool, save: bool,
               output: str, **params: Any) -> None:
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
    from elastic_cli import api_keys

    admin = admin_from_params(params, need_password=not dry_run)
    flags = settings_flags(params)
    settings = app.settings(flags, require_profile=not save and app.profile is not None)
    patterns = api_keys.validate_patterns(settings.indexes)
    body = api_keys.create_key_body(api_keys.DEFAULT_KEY_NAME if name is None else name, patterns, expiration, guide=guide_body)
    if guide_body:
        app.warn(api_keys.GUIDE_WARNING)
    if dry_run:
        click.echo("# Kibana Dev Tools > Console:")
        click.echo(api_keys.console_request(body))
        click.echo("# or curl (asks for the password):" if admin.curl_auth != api_keys.ADMIN_API_KEY_ENV
                   else f"# or curl (reads ${api_keys.ADMIN_API_KEY_ENV}):")
        click.echo(api_keys.curl_command(settings.url, body, admin.curl_auth, ca_certs=settings.ca_certs,
                                         insecure=not settings.verify_certs), nl=False)
        return
    if save:
        app.load_config()  # a malformed config file stops here, before a key is created
    client = admin_client(settings, admin)
    with key_errors(settings, "create API keys", admin.label):
        created = api_keys.create_key(client, body)
    from elastic_cli.redaction import register_secret

    register_secret(created.api_key)
    register_secret(created.encoded)
    saved_to = None
    if save:
        saved_to = _save(app, settings, created, patterns)
    _show(app, created, output, saved_to)


def _save(app: AppContext, settings: Settings, created: CreatedKey, patterns: list[str]) -> str:
    from elastic_cli.settings import save_profile

    updates = {"host": settings.host, "port": settings.port, "id": created.id, "api_key": created.api_key,
               "indexes": ",".join(patterns)}
    for name in ("ca_certs", "fingerprint", "verify_certs", "timeout"):  # what this connection needed
        if settings.sources.get(name, "default") != "default" and not settings.sources[name].startswith("file"):
            updates[name] = settings.values[name]
    try:
        save_profile(settings.path, settings.profile, updates)
    except Exception:
        app.warn(f"the key {created.id} was created but could not be saved: copy the api_key shown below")
        _show(app, created, "table", None)
        raise
    return f"{settings.path} (profile {settings.profile})"


def _show(app: AppContext, created: CreatedKey, output: str, saved_to: str | None) -> None:
    from elastic_cli import output as out

    if output == "json":
        data = created.as_dict()
        if saved_to:
            data["saved_to"] = saved_to
        out.print_json(data)
        return
    rows = [("id", created.id), ("name", created.name), ("api_key", created.api_key), ("encoded", created.encoded),
            ("expiration", created.expiration or "never")]
    note = "The api_key is shown only this once:\nElasticsearch cannot show it again."
    if saved_to:
        note += f"\nSaved to {saved_to}.\nNext: orx-elastic check"
    else:
        note += "\nKeep it with --save, or paste id and api_key\ninto OpenReplay's form now."
    out.print_panel("API key created", rows, color=app.color, note=note)
