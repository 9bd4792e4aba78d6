"""`orx-elastic logs`: the backend error logs of one recorded session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import OUTPUT_FORMATS, connection_options, default_help, output_option, settings_flags

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from elastic_cli.cli import AppContext
    from elastic_cli.errors import PartialResults
    from elastic_cli.log_query import LogQuery
    from elastic_cli.log_search import SearchStats, Window
    from elastic_cli.settings import Settings

DEFAULT_LIMIT = 100


@click.command()
@click.argument("session")
@connection_options
@output_option(OUTPUT_FORMATS, piped="ndjson")
@click.option("--all-levels", is_flag=True, help="Every level, not only lines tagged 'error'.")
@click.option("--since", help="Only lines at or after: ISO time (UTC unless it names a zone) or a duration ago (15m, 2h, 7d).")
@click.option("--until", help="Only lines at or before: ISO time (UTC unless it names a zone) or a duration ago.")
@click.option("--reverse", is_flag=True, help="Newest first.")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="At most this many lines (see --all).")
@click.option("--all", "every", is_flag=True, help="Every line, paged with a point in time (streams).")
@click.option("--fields", help="Source fields to show, comma separated (e.g. offset,utc_time,host,message).")
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing new lines as they arrive (Ctrl-C stops). Each poll asks again for lines up "
                   "to --lag behind the clock; a line that reaches Elasticsearch later than that is missed.")
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
@click.option("--explain", is_flag=True, help="Print the query that would be sent, and exit without connecting.")
@click.pass_obj
def logs(app: AppContext, session: str, output: str, all_levels: bool, since: str | None, until: str | None,
         reverse: bool, limit: int, every: bool, fields: str | None, follow: bool, interval: float,
         lag: str, session_margin: str | None, no_session_window: bool, page_size: int | None,
         explain: bool, **params: Any) -> None:
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
      orx-elastic logs TOKEN --follow --lag 30m
      orx-elastic logs TOKEN --explain
      orx-elastic logs 'https://openreplay.example.com/3/session/2618307011354435587?jumpto=1000'
    """
    from dataclasses import replace
    from datetime import datetime, timezone

    from elastic_cli.log_query import LogQuery, output_source_fields, parse_duration, parse_time
    from elastic_cli.log_search import session_window
    from elastic_cli.session_token import markers, parse_session_ref, session_start

    ref = parse_session_ref(session)
    if ref.from_url and not app.quiet:
        click.echo(f"replay link: session {ref.session_id}", err=True)
    follow_lag = parse_duration(lag)
    settings = app.settings({**settings_flags(params), "session_margin": session_margin})
    margin = parse_duration(settings.session_margin)
    now = datetime.now(timezone.utc)
    started = session_start(ref.session_id, now)
    if started is None:
        app.info(f"session {ref.session_id}: its id does not encode a plausible start time; searching all time")
    window = None if (since or no_session_window) else session_window(started, margin)
    query = LogQuery(
        markers=markers(ref),
        message_field=settings.message_field,
        time_field=settings.time_field,
        tags_field=settings.tags_field,
        errors_only=not all_levels,
        since=parse_time(since, now) if since else (window.since if window else None),
        until=parse_time(until, now) if until else None,
        reverse=reverse,
    )
    replay = settings.replay_url(ref.session_id)
    if replay and not app.quiet:
        click.echo(f"replay: {replay}", err=True)  # stderr: never in piped data
    if ref.token and ref.expires_at:
        app.info(f"token of session {ref.session_id}, expires {ref.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if window:
        app.info(f"searching from {window.since:%Y-%m-%d %H:%M:%S} UTC: {window.origin}")
    shown = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    query = replace(query, source_fields=output_source_fields(output, shown, settings.message_field,
                                                              settings.time_field, settings.tags_field))
    if explain:  # the body as it would be sent, _source included
        _explain(app, settings, query, limit, window)
        return
    _run(app, settings, query, started, output, limit, every, follow, interval, follow_lag, page_size, fields)


def _explain(app: AppContext, settings: Settings, query: LogQuery, limit: int, window: Window | None) -> None:
    from dataclasses import replace

    from elastic_cli.log_query import build_search_body, explain_cost
    from elastic_cli.output import print_json

    index = ",".join(settings.index_patterns)
    print_json({
        "request": f"GET /{index}/_search",
        "body": build_search_body(query, limit),
        "body_if_message_is_keyword": build_search_body(replace(query, message_is_keyword=True), limit),
        "window": ({"since": window.since.isoformat().replace("+00:00", "Z"), "from": window.origin}
                   if window else None),
    })
    if not app.quiet:
        click.echo("cost: " + explain_cost(query), err=True)
        click.echo("cost if keyword: " + explain_cost(replace(query, message_is_keyword=True)), err=True)
        click.echo("logs asks _field_caps for the message field's type and sends the matching body,"
                   " paged with a point in time (sorted by time, then _shard_doc).", err=True)
        click.echo("window: " + (window.origin if window else "none (all time, or --since/--until as given)"),
                   err=True)


def _run(app: AppContext, settings: Settings, query: LogQuery, started: datetime | None, fmt: str, limit: int,
         every: bool, follow: bool, interval: float, lag: timedelta, page_size: int | None,
         fields: str | None) -> None:
    from elastic_cli import log_search
    from elastic_cli.connection import build_client, translated_errors
    from elastic_cli.errors import IndexNotFound, NoHits
    from elastic_cli.log_fields import FieldPolicy
    from elastic_cli.output import HitWriter, Progress

    patterns = settings.index_patterns
    es = build_client(settings)
    stats = log_search.SearchStats()
    policy = FieldPolicy.from_settings(settings)
    with es, translated_errors(settings, f"search {','.join(patterns)}"):
        plan = log_search.plan_search(es, patterns, query, policy, session_start=started)
        if not plan.indices:
            raise IndexNotFound(f"no index matches {settings.indexes!r} on {settings.url}",
                                "check `indexes` (orx-elastic configure --indexes ...) or run `orx-elastic check`")
        if not plan.message_types:
            app.warn(f"no matched index has a field '{settings.message_field}': set --message-field")
        app.info(f"searching {len(plan.indices)} indices; {settings.message_field} is "
                 f"{'/'.join(plan.message_types) or 'missing'}")
        for line in log_search.describe_plan(plan):
            app.info(line)
        skipped_for_level = [i for i, why in plan.left_out if why.startswith("no level")]
        if skipped_for_level:
            names = sorted({log_search.display_index(i) for i in skipped_for_level})
            app.warn(f"not searched for errors: {', '.join(names)}: no level field "
                     f"({settings.tags_field}, log.level, level or severity); --all-levels shows their lines")
        writer = HitWriter(fmt, [f.strip() for f in fields.split(",") if f.strip()] if fields else None,
                           settings.message_field, settings.time_field, settings.tags_field,
                           markers=[m.text for m in query.markers], color=app.color)
        progress = Progress(enabled=(every or follow) and not app.quiet, color=app.color)
        failed_poll: list[log_search.SearchStats] = []  # --follow: the first poll a shard failed in

        def page_done(seen: int) -> None:
            progress.update(seen)
            writer.flush()  # a table is printed page by page: nothing waits for the end

        more = False
        try:
            if every:
                # an export: whole pages from the pager to the writer
                for page in log_search.session_pages(es, plan, page_size=page_size, prefetch=True, stats=stats,
                                                     on_page=page_done):
                    writer.write_page(page)
            elif follow:
                def partial(poll: log_search.SearchStats) -> None:
                    if not failed_poll:  # told at once, and again as the error at the end
                        app.warn(_partial(poll).message)
                        failed_poll.append(poll)

                for hit in log_search.follow_lines(es, plan, lag=lag, interval=interval, on_poll=writer.flush,
                                                   on_partial=partial):
                    writer.write(hit)
            else:
                # one line more than shown says whether there are more, without another request
                for hit in log_search.session_lines(es, plan, limit=limit + 1, page_size=page_size, stats=stats):
                    if writer.count == limit:
                        more = True
                        break
                    writer.write(hit)
        except KeyboardInterrupt:
            if not follow:
                raise
        finally:
            progress.stop()
            writer.close()
    if stats.streams:
        app.info(f"read {stats.hits_read} hits; shards: {stats.shards_total} searched, "
                 f"{stats.shards_skipped} skipped by the time window")
    if more and not app.quiet:
        app.warn(f"showing the first {limit} lines; there are more: use --all (or --limit N) for them")
    if stats.shards_failed or failed_poll:
        # never a short answer that looks whole: the lines printed are all that could be read
        raise _partial(stats if stats.shards_failed else failed_poll[0])
    if writer.count == 0 and not follow:
        levels = "error lines" if query.errors_only else "lines"
        raise NoHits(
            f"no {levels} of this session in {len(plan.indices)} matching indices",
            "likely: the backend does not log the marker, the lines are not tagged 'error' (try --all-levels), "
            "or the time range; run `orx-elastic check`",
        )


def _partial(stats: SearchStats) -> PartialResults:
    from elastic_cli.errors import partial_results

    return partial_results(stats.shards_failed, stats.shards_total, stats.failure, "the output lacks the lines on them")
