"""`orx-elastic logs`: the backend error logs of one recorded session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.app import ReaderGone, say
from elastic_cli.commands.options import (
    OUTPUT_FORMATS,
    connection_options,
    default_help,
    output_option,
    retry_option,
    settings_flags,
)

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext
    from elastic_cli.config.settings import Settings
    from elastic_cli.output import FollowStatus, Progress
    from elastic_cli.output.writer import LogWriter
    from elastic_cli.search.lookup import SessionSearch
    from elastic_cli.search.retry import Retrying
    from elastic_cli.search.session_logs import LookupObservers

DEFAULT_LIMIT = 100  # as search.lookup's: not imported, so --help stays light


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
              help="Keep printing new lines as they arrive (Ctrl-C stops), from new indices too (a rollover, "
                   "a new daily index). Each poll asks again for lines up to --lag behind the clock; a line that "
                   "reaches Elasticsearch later than that is missed. A lost connection or a node restart is "
                   "waited out (--retry-for) and the lines indexed meanwhile follow, none twice; a failure that "
                   "lasts longer ends it.")
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
@click.option("--explain", is_flag=True, help="Print the query that would be sent, and exit without connecting.")
@click.pass_obj
def logs(app: AppContext, session: str, output: str, all_levels: bool, since: str | None, until: str | None,
         reverse: bool, limit: int, every: bool, fields: str | None, follow: bool, interval: float,
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
      orx-elastic logs TOKEN --follow --lag 30m
      orx-elastic logs TOKEN --explain
      orx-elastic logs 'https://openreplay.example.com/3/session/2618307011354435587?jumpto=1000'
    """
    from datetime import datetime, timezone

    from elastic_cli.openreplay.session_token import parse_session_ref
    from elastic_cli.output.writer import LogWriter
    from elastic_cli.search.lookup import LookupRequest, prepare
    from elastic_cli.search.query import output_source_fields, parse_duration, parse_time
    from elastic_cli.search.session_logs import Export, Follow, Limited

    _refuse_conflicts(every=every, follow=follow, reverse=reverse)
    ref = parse_session_ref(session)
    if ref.from_url and not app.quiet:
        say("replay link: ", f"session {ref.session_id}")
    mode = (Follow(lag=parse_duration(lag), interval=interval) if follow else Export(page_size=page_size) if every
            else Limited(limit=limit, page_size=page_size))
    retry_budget = parse_duration(retry_for)
    settings = app.settings({**settings_flags(params), "session_margin": session_margin})
    now = datetime.now(timezone.utc)
    shown = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    request = LookupRequest(
        mode=mode, errors_only=not all_levels, reverse=reverse, retry_for=retry_budget,
        since=parse_time(since, now) if since else None, until=parse_time(until, now) if until else None,
        session_window=not no_session_window,
        source_fields=output_source_fields(output, shown, settings.message_field, settings.time_field,
                                           settings.tags_field))
    search = prepare(settings, ref, request, now)
    if search.started is None:
        app.info(f"session {ref.session_id}: its id does not encode a plausible start time; searching all time")
    replay = settings.replay_url(ref.session_id)
    if replay and not app.quiet:
        say("replay: ", replay)  # stderr: never in piped data
    if ref.token and ref.expires_at:
        app.info(f"token of session {ref.session_id}, expires {ref.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if search.window:
        app.info(f"searching from {search.window.since:%Y-%m-%d %H:%M:%S} UTC: {search.window.origin}")
    if explain:  # the body as it would be sent, _source included
        _explain(app, search)
        return
    writer = LogWriter(output, shown, settings.message_field, markers=[m.text for m in search.query.markers],
                       color=app.color, replay_url=replay, local_time=local_time)
    _print_lines(app, settings, search, writer)


def _refuse_conflicts(every: bool, follow: bool, reverse: bool) -> None:
    """Flags that cannot hold together are a usage error, said before anything is searched:
    never one of them silently dropped."""
    from elastic_cli.errors import UsageError

    limit_given = click.get_current_context().get_parameter_source("limit") != click.core.ParameterSource.DEFAULT
    if every and follow:
        raise UsageError("--all and --follow do not go together", "--follow prints every line already, then new ones")
    if follow and reverse:
        raise UsageError("--follow prints lines as they arrive, oldest first: it cannot --reverse",
                         "leave out --reverse (or --follow)")
    if follow and limit_given:
        raise UsageError("--follow prints every line, so --limit does not apply", "leave out --limit (or --follow)")
    if every and limit_given:
        raise UsageError("--all prints every line, so --limit does not apply", "leave out one of them")


def _explain(app: AppContext, search: SessionSearch) -> None:
    from dataclasses import replace

    from elastic_cli.output import print_json
    from elastic_cli.search.lookup import explain
    from elastic_cli.search.query import explain_cost

    print_json(explain(search))
    if not app.quiet:
        say("cost: ", explain_cost(search.query))
        say("cost if keyword: ", explain_cost(replace(search.query, message_is_keyword=True)))
        say("", "this is the first page's request to an index with the configured fields. logs asks _field_caps "
                "beside it: an index whose time or level field is another (@timestamp, log.level) gets the same body "
                "with its own fields, and `-v` of a real run names them; later pages add search_after.")
        say("window: ", search.window.origin if search.window else "none (all time, or --since/--until as given)")


def _print_lines(app: AppContext, settings: Settings, search: SessionSearch, writer: LogWriter) -> None:
    """Run the lookup and write its lines as they come; say what the result lacks."""
    from elastic_cli.cluster.connection import build_client, translated_errors
    from elastic_cli.commands.coverage_report import finish
    from elastic_cli.errors import NoHits
    from elastic_cli.output import FollowStatus, Progress
    from elastic_cli.search import plan as search_plan
    from elastic_cli.search.lookup import lookup
    from elastic_cli.search.session_logs import Export, Follow, Limited

    follow = isinstance(search.mode, Follow)
    status = FollowStatus(enabled=not app.quiet, color=app.color) if follow else None
    progress = status or Progress(enabled=isinstance(search.mode, Export) and not app.quiet, color=app.color)
    es = build_client(settings)
    with es, translated_errors(settings, f"search {','.join(search.patterns)}"):
        result = lookup(es, search, _observers(app, search, writer, progress, status))
        plan = result.plan
        if not plan.message_types:
            app.warn(f"no matched index has a field '{settings.message_field}': set --message-field")
        app.info(f"searching {len(plan.indices)} indices; {settings.message_field} is "
                 f"{'/'.join(plan.message_types) or 'missing'}")
        for line in search_plan.describe_plan(plan):
            app.info(line)
        try:
            for page in result.pages():
                writer.write_page(page)
        except KeyboardInterrupt:
            if not follow:
                raise
        except (ReaderGone, BrokenPipeError):
            raise  # the reader stopped reading: nothing to tell it
        except Exception:
            if writer.count:  # the error's own message follows; it must not read as a whole output
                n = writer.count
                app.notice(f"the output is partial: {n} line{'s were' if n != 1 else ' was'} written before this error")
            raise
        finally:
            progress.stop()
            writer.close()
    stats = result.stats
    if stats.streams:
        app.info(f"read {stats.hits_read} hits; shards: {stats.shards_total} searched, "
                 f"{stats.shards_skipped} skipped by the time window")
    if result.coverage.undated_lines:
        app.info(f"{result.coverage.undated_lines} lines carry no time: shown last")
    more = None
    if result.coverage.more_beyond_limit and isinstance(search.mode, Limited):
        more = f"showing the first {search.mode.limit} lines; there are more: use --all (or --limit N) for them"
    finish(app, result.coverage, more=more)
    if writer.count == 0 and not follow:
        levels = "error lines" if search.query.errors_only else "lines"
        raise NoHits(
            f"no {levels} of session {search.ref.session_id} in {len(plan.indices)} matching indices",
            "likely: the backend does not log the marker, the lines are not tagged 'error' (try --all-levels), "
            "or the time range; run `orx-elastic check`",
        )


def _observers(app: AppContext, search: SessionSearch, writer: LogWriter, progress: Progress,
               status: FollowStatus | None) -> LookupObservers:
    """What the terminal is told while the lines are read: progress, each poll, retries."""
    from elastic_cli.search.retry import seconds_text
    from elastic_cli.search.session_logs import LookupObservers

    def page_done(seen: int) -> None:
        if status is None:
            progress.update(seen)
        writer.flush()  # a table is printed page by page: nothing waits for the end

    def poll_done() -> None:
        writer.flush()
        if status is not None:
            status.polled(writer.count)

    def retrying(wait: Retrying) -> None:
        if status is not None:
            status.retry(str(wait))
        retry_for = search.retry.retry_for if search.retry else 0
        app.warn(f"{wait} (giving up after {seconds_text(retry_for)} of failures; --retry-for)")

    going_on = "printing the lines indexed meanwhile" if status is not None else "going on after the last line written"
    return LookupObservers(
        on_page=page_done, on_poll=poll_done, on_retry=retrying,
        on_partial=lambda poll: app.notice((poll.missing() or ["a poll missed lines"])[0]),
        on_recovered=lambda lasted: app.warn(f"the cluster answers again after {lasted:.0f} s: {going_on}"))
