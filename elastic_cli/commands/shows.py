"""`orx-elastic shows`: what OpenReplay (v1.20 and v1.21+) will show of one session's lines, and why not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import connection_options, output_option, session_argument, settings_flags
from elastic_cli.errors import plural

if TYPE_CHECKING:
    from elastic_cli.checks.shows import SessionView
    from elastic_cli.commands.app import AppContext
    from elastic_cli.config.settings import Settings

@click.command()
@session_argument()
@connection_options
@output_option(("table", "json"), piped="json")
@click.option("--limit", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Judge at most this many of the session's lines.")
@click.option("--since", help="Only lines at or after (ISO time or a duration ago) [default: the session's start "
                              "minus --session-margin]; also where the v1.20 poller's utc_time range starts.")
@click.option("--fetched-at", metavar="TIME",
              help="When the replay was first opened on v1.21+ (it fetched the logs then, once): later lines are "
                   "never shown. ISO time or a duration ago.")
@click.option("--explain", "--dry-run", "explain", is_flag=True,
              help="Print each generation's request, and exit without connecting (--dry-run: the same).")
@click.pass_obj
def shows(app: AppContext, session: str, output: str, limit: int, since: str | None, fetched_at: str | None,
          explain: bool, **params: Any) -> None:
    """Say what OpenReplay shows of one session's lines: for every line `logs` finds
    (every level), whether OpenReplay up to v1.20 and v1.21+ show it, and if not why.

    It runs each generation's own request with your key and reads each hit as OpenReplay
    does, in order: v1.21+'s search of index `logs` (match_phrase openReplaySession.id=<id>,
    1000 hits; a first hit without `message`, or any without `level`, breaks its panel),
    and the v1.20 poller's search of `indexes` (token lines tagged error, utc_time range,
    sorted by utc_time; a utc_time or message that is not text crashes it for every
    session). One summary line per generation (a hit that ruins others first), then the
    lines; -v prints the shipper snippets of the advice.

    \b
    Examples:
      orx-elastic shows jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q
      orx-elastic shows 2618307011354435587 -o json
      orx-elastic shows 'https://openreplay.example.com/3/session/2618307011354435587' --fetched-at 2024-01-24T03:00:00Z
      orx-elastic shows 2618307011354435587 --explain
    """
    from datetime import datetime, timezone

    from elastic_cli.commands.app import say
    from elastic_cli.openreplay.session_token import parse_session_ref
    from elastic_cli.search.query import parse_time

    ref = parse_session_ref(session)
    if ref.from_url and not app.quiet:
        say("replay link: ", f"session {ref.session_id}")
    now = datetime.now(timezone.utc)
    since_at = parse_time(since, now) if since else None
    fetched = parse_time(fetched_at, now) if fetched_at else None
    settings = app.settings(settings_flags(params))
    if explain:
        _explain(settings, ref.session_id, since_at)
        return
    from elastic_cli.checks.shows import session_view
    from elastic_cli.cluster.connection import build_client, translated_errors

    es = build_client(settings)
    with es, translated_errors(settings, f"search {settings.indexes}"):
        view = session_view(es, settings, ref, limit=limit, fetched_at=fetched, since=since_at, now=now)
    _print(app, settings, view, output)
    _finish(app, view, limit)


def _explain(settings: Settings, session_id: str, since: Any) -> None:
    from elastic_cli.openreplay.verdicts import V120, V121, v120_request, v121_request
    from elastic_cli.output import print_json

    since_ms = int(since.timestamp() * 1000) if since else 0
    requests = {V121: v121_request(session_id), V120: v120_request(settings.indexes, since_ms)}
    print_json({g: {"method": r.method, "path": r.path, "params": dict(r.params), "body": r.body}
                for g, r in requests.items()})


def _print(app: AppContext, settings: Settings, view: SessionView, fmt: str) -> None:
    from elastic_cli.checks.shows import report
    from elastic_cli.output import print_json
    from elastic_cli.output.records import RecordShape
    from elastic_cli.output.session_view import view_document, view_records

    shape = RecordShape(message_field=settings.message_field, replay_url=settings.replay_url(view.ref.session_id))
    records = view_records(view, shape)
    said = _for_profile(report(view), app.profile)
    if fmt == "json":
        print_json(view_document(view, records, said))
        return
    from elastic_cli.output.shows_text import view_text

    for line in view_text(view, records, said, _width(app), verbose=bool(app.verbose)):
        app.print(line)


def _for_profile(said: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """The fixes and the hint name commands to run (`orx-elastic alias ...`): as check's do, they carry
    the profile the user chose, so pasted they act on it."""
    from elastic_cli.commands.hints import with_profile

    return {**said, "fixes": [{**fix, "fix": with_profile(fix["fix"], profile)} for fix in said["fixes"]],
            "hint": with_profile(said["hint"], profile) if said["hint"] else said["hint"]}


def _width(app: AppContext) -> int:
    import shutil

    return app.streams.columns or shutil.get_terminal_size((120, 24)).columns


def _finish(app: AppContext, view: SessionView, limit: int) -> None:
    from elastic_cli.commands.coverage_report import finish
    from elastic_cli.errors import NoHits

    more = ((f"judged the first {plural(limit, 'line')}" if limit != 1 else "judged the first line")
            + "; there are more: use --limit N" if view.coverage.more_beyond_limit
            else None)
    finish(app, view.coverage, more=more)
    if not view.lines:
        raise NoHits(f"no line of session {view.ref.session_id} in the indices `indexes` matches",
                     "the backend may not log the marker: `orx-elastic canary URL` tells why, "
                     "`orx-elastic instrument STACK` prints the code that logs it")
