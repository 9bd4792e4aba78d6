"""`orx-elastic logs`: the backend error logs of one recorded session."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import OUTPUT_FORMATS, connection_options, settings_flags

if TYPE_CHECKING:
    from elastic_cli.cli import AppContext
    from elastic_cli.log_query import LogQuery
    from elastic_cli.settings import Settings

DEFAULT_LIMIT = 100


@click.command()
@click.argument("session")
@connection_options
@click.option("-o", "--output", type=click.Choice(OUTPUT_FORMATS),
              help="Output format [default: table on a terminal, ndjson when piped].")
@click.option("--all-levels", is_flag=True, help="Every level, not only lines tagged 'error'.")
@click.option("--since", help="Only lines at or after: ISO time or a duration ago (15m, 2h, 7d).")
@click.option("--until", help="Only lines at or before: ISO time or a duration ago.")
@click.option("--reverse", is_flag=True, help="Newest first.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=DEFAULT_LIMIT, show_default=True,
              help="At most this many lines (see --all).")
@click.option("--all", "every", is_flag=True, help="Every line, paged with a point in time (streams).")
@click.option("--fields", help="Source fields to show, comma separated (e.g. utc_time,host,message).")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines as they arrive (Ctrl-C stops).")
@click.option("--interval", type=click.FloatRange(0.2, 3600), default=2.0, show_default=True,
              help="Seconds between polls with --follow.")
@click.option("--explain", is_flag=True, help="Print the query that would be sent, and exit without connecting.")
@click.pass_obj
def logs(app: AppContext, session: str, output: str | None, all_levels: bool, since: str | None, until: str | None,
         reverse: bool, limit: int, every: bool, fields: str | None, follow: bool, interval: float,
         explain: bool, **params: Any) -> None:
    """Print the log lines of one session, found by its token or its session id.

    A token finds lines logged with either marker: openReplaySessionToken=<token>
    (OpenReplay up to v1.20) and openReplaySession.id=<session id> (v1.21+).

    \b
    Examples:
      orx-elastic logs jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q
      orx-elastic logs 2618307011354435587 --all-levels --since 2h
      orx-elastic logs TOKEN --all -o ndjson > session.ndjson
      orx-elastic logs TOKEN --explain
    """
    from datetime import datetime, timezone

    from elastic_cli.log_query import LogQuery, parse_time
    from elastic_cli.session_token import markers, parse_session_ref

    ref = parse_session_ref(session)
    settings = app.settings(settings_flags(params))
    now = datetime.now(timezone.utc)
    query = LogQuery(
        markers=tuple(markers(ref)),
        message_field=settings.message_field,
        time_field=settings.time_field,
        tags_field=settings.tags_field,
        errors_only=not all_levels,
        since=parse_time(since, now) if since else None,
        until=parse_time(until, now) if until else None,
        reverse=reverse,
    )
    if ref.token and ref.expires_at:
        app.info(f"token of session {ref.session_id}, expires {ref.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if explain:
        _explain(app, settings, query, limit)
        return
    fmt = output or ("table" if sys.stdout.isatty() else "ndjson")
    _run(app, settings, query, fmt, limit, every, follow, interval, fields)


def _explain(app: AppContext, settings: Settings, query: LogQuery, limit: int) -> None:
    from dataclasses import replace

    from elastic_cli.log_query import build_search_body, explain_cost
    from elastic_cli.output import print_json

    index = ",".join(settings.index_patterns)
    print_json({
        "request": f"GET /{index}/_search",
        "body": build_search_body(query, limit),
        "body_if_message_is_keyword": build_search_body(replace(query, message_is_keyword=True), limit),
    })
    if not app.quiet:
        click.echo("cost: " + explain_cost(query), err=True)
        click.echo("cost if keyword: " + explain_cost(replace(query, message_is_keyword=True)), err=True)
        click.echo("logs asks _field_caps for the message field's type and sends the matching body.", err=True)


def _run(app: AppContext, settings: Settings, query: LogQuery, fmt: str, limit: int, every: bool, follow: bool, interval: float,
         fields: str | None) -> None:
    from dataclasses import replace

    from elastic_cli import log_search
    from elastic_cli.connection import build_client, translated_errors
    from elastic_cli.errors import IndexNotFound, NoHits
    from elastic_cli.output import HitWriter, Progress

    patterns = settings.index_patterns
    es = build_client(settings)
    with es, translated_errors(settings, f"search {','.join(patterns)}"):
        info = log_search.field_info(es, patterns, settings.message_field)
        if not info.indices:
            raise IndexNotFound(f"no index matches {settings.indexes!r} on {settings.url}",
                                "check `indexes` (orx-elastic configure --indexes ...) or run `orx-elastic check`")
        query = replace(query, message_is_keyword=info.message_is_keyword, message_is_mixed=info.message_is_mixed)
        if not info.message_types:
            app.warn(f"no matched index has a field '{settings.message_field}': set --message-field")
        app.info(f"searching {len(info.indices)} indices; {settings.message_field} is "
                 f"{'/'.join(info.message_types) or 'missing'}")
        writer = HitWriter(fmt, [f.strip() for f in fields.split(",") if f.strip()] if fields else None,
                           settings.message_field, settings.time_field, settings.tags_field,
                           markers=query.markers, color=app.color)
        progress = Progress(enabled=(every or follow) and not app.quiet, color=app.color)

        def page_done(seen: int) -> None:
            progress.update(seen)
            writer.flush()  # a table is printed page by page: nothing waits for the end

        try:
            if follow:
                hits = log_search.follow_hits(es, patterns, query, interval=interval, on_poll=writer.flush)
            elif every:
                hits = log_search.all_hits(es, patterns, query, on_page=page_done)
            else:
                hits = log_search.search_hits(es, patterns, query, limit)
            for hit in hits:
                writer.write(hit)
        except KeyboardInterrupt:
            if not follow:
                raise
        finally:
            progress.stop()
            writer.close()
    if writer.count == 0 and not follow:
        levels = "error lines" if query.errors_only else "lines"
        raise NoHits(
            f"no {levels} of this session in {len(info.indices)} matching indices",
            "likely: the backend does not log the marker, the lines are not tagged 'error' (try --all-levels), "
            "or the time range; run `orx-elastic check`",
        )
    if writer.count == limit and not every and not follow and not app.quiet:
        app.warn(f"showing the first {limit} lines; use --all for every line")
