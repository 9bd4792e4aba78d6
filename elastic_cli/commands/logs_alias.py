"""`orx-elastic alias`: an alias `logs` over your log indices, so OpenReplay v1.21+ finds them; undone
with --remove."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.key_options import admin_auth_options, admin_from_params
from elastic_cli.commands.options import connection_options, settings_flags
from elastic_cli.errors import plural

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext


@click.command("alias")
@connection_options
@admin_auth_options
@click.option("--remove", is_flag=True, help="Take off the alias `logs` this tool made (and only that).")
@click.option("--dry-run", "--explain", "dry_run", is_flag=True,
              help="Print the request (Dev Tools and curl) and exit, without connecting (--explain: the same).")
@click.option("--session", metavar="SESSION",
              help="Afterwards, run v1.21+'s fetch for this session (token, id or replay link) and say how many "
                   "lines it finds.")
@click.pass_obj
def logs_alias(app: AppContext, remove: bool, dry_run: bool, session: str | None, **params: Any) -> None:
    """Point an alias `logs` at your log indices or data streams (`indexes`), so that
    OpenReplay v1.21+, which searches index `logs` only, finds their lines.

    Refused when `logs` is a concrete index, when the patterns name both data
    streams and indices (an alias cannot hold both), or when the configured key
    could not read through the alias (OpenReplay would get 403). Afterwards it runs
    v1.21+'s own requests with the configured key. The alias covers the indices that
    exist now: run it again after new ones appear (daily indices), or add the alias
    to their index template. Needs credentials that may manage aliases
    (--username or --admin-api-key).

    \b
    Examples:
      orx-elastic alias --username elastic --indexes 'logs-*'
      orx-elastic alias --indexes 'app-logs-*' --dry-run
      orx-elastic alias --username elastic --session 2618307011354435587
      orx-elastic alias --username elastic --remove
    """
    from elastic_cli.commands.app import say
    from elastic_cli.openreplay import fixes

    admin = admin_from_params(params, need_password=not dry_run)
    settings = app.settings(settings_flags(params))
    patterns = settings.index_patterns
    if dry_run:
        body = fixes.remove_alias_body(patterns) if remove else fixes.add_alias_body(patterns)
        from elastic_cli.commands.dry_run import print_request

        print_request(app, settings, admin, fixes.ENDPOINT, body)
        if not remove and not app.quiet:
            say("note: ", "Elasticsearch expands the patterns when the request is sent: indices made later are not "
                          "in the alias. Sent for real, alias first refuses a concrete index `logs`, a mix of "
                          "data streams and indices, and a key that could not read `logs`.")
        return
    ref = None
    if session:
        from elastic_cli.openreplay.session_token import parse_session_ref

        ref = parse_session_ref(session)
    from elastic_cli.checks import logs_alias as alias
    from elastic_cli.cluster.connection import build_client, translated_errors
    from elastic_cli.keys.admin import admin_client, key_errors

    if remove:
        with key_errors(settings, "manage aliases", admin):
            es_admin = admin_client(settings, admin)
            ours, others = alias.our_alias_targets(es_admin)
            if ours:
                alias.remove_alias(es_admin, ours)
        if others and not app.quiet:
            say("left alone: ", f"alias `logs` on {', '.join(others)} (not made by orx-elastic)")
        app.print(f"removed alias `logs` from {', '.join(ours)}" if ours else
                   "no alias `logs` made by orx-elastic: nothing to remove")
        return
    es = build_client(settings)
    with es, translated_errors(settings, "check the key's privileges on `logs`"):
        readable = alias.key_may_read_logs(es)
    if not readable:
        from elastic_cli.errors import PrivilegeMissing, new_key_command

        command = new_key_command(f"--indexes '{settings.indexes},logs'")
        raise PrivilegeMissing(
            f"the configured key {settings.id or ''} may not read `logs`: OpenReplay would get 403 through the alias",
            f"make a key whose patterns name it: `{command}`"
            " (and paste it into OpenReplay), then run alias again")
    with key_errors(settings, "manage aliases", admin):
        es_admin = admin_client(settings, admin)
        targets = alias.resolve_targets(es_admin, patterns)
        alias.apply_alias(es_admin, patterns)
    kind = "data streams" if targets.data_streams else "indices"
    names = targets.data_streams or targets.indices
    app.print(f"alias `logs` now points at {len(names)} {kind}: {', '.join(names)}")
    with build_client(settings) as es2, translated_errors(settings, "search `logs` as OpenReplay v1.21+ does"):
        check = alias.verify(es2, ref.session_id if ref else None)
    if check.error:
        from elastic_cli.errors import PrivilegeMissing

        raise PrivilegeMissing(f"v1.21+'s search of `logs` fails with the configured key: {check.error}",
                               "run `orx-elastic check` for the key's privileges")
    app.print(f"OpenReplay v1.21+'s save-time check (a search of size 1 on `logs`) passes with the configured key: "
               f"{plural(check.documents, 'document')}")
    if ref:
        app.print(f"OpenReplay v1.21+'s fetch of session {ref.session_id} finds {plural(check.session_lines, 'line')} "
                   f"(`orx-elastic shows {ref.session_id}` says how each is shown)")
    app.print("undo: orx-elastic alias --remove" + (f" --username {admin.username}" if admin.username else ""))
