"""`orx-elastic logs`: the backend error logs of one recorded session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import (
    OUTPUT_FORMATS,
    connection_options,
    default_help,
    output_option,
    retry_option,
    session_argument,
    settings_flags,
)

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext

DEFAULT_LIMIT = 100  # as search.lookup's: not imported, so --help stays light


@click.command()
@session_argument()
@connection_options
@output_option(OUTPUT_FORMATS, piped="ndjson")
@click.option("--all-levels", is_flag=True, help="Every level, not only lines tagged 'error'.")
@click.option("--since", help="Only lines at or after: ISO time (UTC unless it names a zone) or a duration ago (15m, 2h, 7d).")
@click.option("--until", help="Only lines at or before: ISO time (UTC unless it names a zone) or a duration ago.")
@click.option("--reverse", is_flag=True, help="Newest first.")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="At most this many lines (see --all).")
@click.option("--all", "every", is_flag=True, help="Every line, paged with a point in time (streams).")
@click.option("--tail", type=click.IntRange(min=0), metavar="N",
              help="Only the last N lines; with --follow, the last N, then new ones (as kubectl logs -f --tail).")
@click.option("-A", "--after-context", "after", type=click.IntRange(min=0), metavar="N",
              help="Also print the N lines after each error line: the session's lines of any level, marked as "
                   "context ('>' marks the error lines; JSON: \"context\"), '--' between groups, as grep.")
@click.option("-B", "--before-context", "before", type=click.IntRange(min=0), metavar="N",
              help="Also print the N lines before each error line (as -A).")
@click.option("-C", "--context", "around", type=click.IntRange(min=0), metavar="N",
              help="-A N and -B N (-A or -B beside it wins for its side).")
@click.option("--fields", help="Source fields to show, comma separated (e.g. offset,utc_time,host,message).")
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing new lines as they arrive, from new indices too (Ctrl-C stops). A line indexed "
                   "more than --lag after its time is missed; a lost connection is waited out (--retry-for).")
@click.option("--interval", type=click.FloatRange(0.2, 3600), default=2.0, show_default=True,
              help="Seconds between polls with --follow.")
# shippers (Filebeat, Elastic Agent, Logstash) deliver within seconds; minutes cover a backlog
@click.option("--lag", default="10m", show_default=True, metavar="DURATION",
              help="With --follow: how late a line may be indexed after the time it carries and still be shown.")
@click.option("--session-margin", metavar="DURATION",
              help="Search from the session's start (decoded from its id) minus this much"
                   + default_help("session_margin") + ".")
@click.option("--no-session-window", is_flag=True,
              help="Search all time, not only from the session's start (--since overrides the window too).")
@click.option("--page-size", type=click.IntRange(1, 10_000), metavar="N",
              help="Hits per request [default: 5000 with --all, else the limit + 1].")
@click.option("--local-time", is_flag=True,
              help="Show the table's times in this machine's time zone (json, ndjson and csv stay UTC).")
@retry_option
@click.option("--explain", "--dry-run", "explain", is_flag=True,
              help="Print the query that would be sent, and exit without connecting.")
@click.pass_obj
def logs(app: AppContext, session: str, output: str, all_levels: bool, since: str | None, until: str | None,
         reverse: bool, limit: int, every: bool, tail: int | None, after: int | None, before: int | None, around: int | None,
         fields: str | None, follow: bool, interval: float,
         lag: str, session_margin: str | None, no_session_window: bool, page_size: int | None,
         local_time: bool, retry_for: str, explain: bool, **params: Any) -> None:
    """Print the log lines of one session, found by its token, its session id or a replay link.

    A token or an id finds the lines of both OpenReplay generations:
    openReplaySessionToken=<token> (up to v1.20; any token of the session) and
    openReplaySession.id=<session id> (v1.21+).

    The search starts a day before the session's start, which its id encodes
    (--session-margin, --no-session-window, --since), and each line shows its
    offset from that start: the position on the replay's timeline.

    \b
    Examples:
      orx-elastic logs jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q
      orx-elastic logs 2618307011354435587 --all-levels --since 2h
      orx-elastic logs TOKEN --all -o ndjson > session.ndjson
      orx-elastic logs TOKEN -C 3
      orx-elastic logs TOKEN --follow --tail 20
      orx-elastic logs TOKEN --explain
      orx-elastic logs 'https://openreplay.example.com/3/session/2618307011354435587?jumpto=1000'
    """
    from datetime import datetime, timezone

    from elastic_cli.commands.logs_flags import context_from_flags, refuse_conflicts
    from elastic_cli.openreplay.session_token import parse_session_ref
    from elastic_cli.search.query import output_source_fields, parse_duration, parse_time

    refuse_conflicts(every=every, follow=follow, reverse=reverse, tail=tail)
    context = context_from_flags(after, before, around, all_levels=all_levels, tail=tail)
    ref = parse_session_ref(session)
    lag_for = parse_duration(lag) if follow else None
    retry_budget = parse_duration(retry_for)
    settings = app.settings({**settings_flags(params), "session_margin": session_margin})
    if not explain:
        from elastic_cli.cluster.connection import open_early

        open_early(settings)  # the connections' round trips pass while the rest is imported

    from elastic_cli.commands.lookup_output import print_explain, print_lines, say_what_is_searched
    from elastic_cli.output.writer import LogWriter
    from elastic_cli.search.lookup import LookupRequest, prepare
    from elastic_cli.search.session_logs import Export, Follow, Limited

    mode = (Follow(lag=lag_for, interval=interval) if lag_for is not None else Export(page_size=page_size) if every
            else Limited(limit=tail or limit, page_size=page_size))
    if tail is not None and not follow:
        reverse = True  # the last N: read newest first, printed oldest first
    now = datetime.now(timezone.utc)
    shown = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    request = LookupRequest(
        mode=mode, errors_only=not all_levels, reverse=reverse, retry_for=retry_budget,
        since=parse_time(since, now) if since else None, until=parse_time(until, now) if until else None,
        session_window=not no_session_window, context=context,
        source_fields=output_source_fields(output, shown, settings.message_field, settings.time_field,
                                           settings.tags_field))
    search = prepare(settings, ref, request, now)
    replay = settings.replay_url(ref.session_id)
    say_what_is_searched(app, ref, search, replay)
    if explain:  # the body as it would be sent, _source included
        print_explain(app, search)
        return
    writer = LogWriter(output, shown, settings.message_field, markers=[m.text for m in search.query.markers],
                       color=app.color, replay_url=replay, local_time=local_time, context=context is not None)
    print_lines(app, settings, search, writer, tail=tail)
