"""`orx-elastic check`: test connectivity, and explain why logs would not show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import connection_options, output_option, settings_flags

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext


@click.command()
@connection_options
@output_option()
@click.option("--deadline", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              help="Seconds for the whole run; checks left after it are skipped.")
@click.option("--session", metavar="SESSION",
              help="The session (token, id or replay link) whose lines the OpenReplay checks judge "
                   "[default: the latest that logged errors in the last day].")
@click.pass_obj
def check(app: AppContext, output: str, deadline: float, session: str | None, **params: Any) -> None:
    """Check the connection, the key, the indices and the logs, in order, and say what to fix.

    \b
    Checks, in order: TCP connection, TLS (or plain HTTP), API key, read privilege
    on the index patterns, matching indices, the message/time/tags field mappings,
    log lines carrying an OpenReplay marker, OpenReplay v1.21's `logs` index, and
    what each OpenReplay generation shows of one session (--session, or the latest).
    A check that cannot run because an earlier one failed is skipped, with the reason.

    Exit 0 when nothing failed (warnings allowed), 10 when a check failed.

    \b
    Examples:
      orx-elastic check
      orx-elastic check --host https://es.example.com:9243 --ca-certs http_ca.crt
      orx-elastic check -o json | jq '.[] | select(.status != "ok")'
      orx-elastic check --session 2618307011354435587
    """
    from elastic_cli.checks.findings import FAILURE
    from elastic_cli.checks.run import run_checks
    from elastic_cli.cluster.connection import no_configuration_yet, nothing_configured
    from elastic_cli.errors import CheckFailed
    from elastic_cli.output import print_findings, print_json

    settings = app.settings(settings_flags(params))
    if nothing_configured(settings):
        raise no_configuration_yet(settings)
    if session:
        from elastic_cli.openreplay.session_token import parse_session_ref

        parse_session_ref(session)  # a usage error (exit 2) before anything is sent
    findings = run_checks(settings, deadline, session=session)
    shown = [_with_profile(f.to_dict(), app.profile) for f in findings]
    if output == "json":
        print_json(shown)
    else:
        print_findings(shown, color=app.color)
    failed = [f for f in findings if f.status == FAILURE]
    if failed:
        names = ", ".join(f.id for f in failed)
        raise CheckFailed(f"{len(failed)} check{'s' if len(failed) > 1 else ''} failed ({names})",
                          failed[0].fix or None)


def _with_profile(finding: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """A command a finding names (in its fix, or its detail: `orx-elastic logs <latest session>`)
    names the profile checked, so it acts on the same one."""
    from elastic_cli.commands.hints import with_profile

    return {**finding, **{part: with_profile(finding[part], profile) for part in ("detail", "fix")
                          if finding.get(part)}}
