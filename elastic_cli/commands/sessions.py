"""`orx-elastic sessions`: which recorded sessions hit backend errors, with links to their replays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import OUTPUT_FORMATS, connection_options, output_option, retry_option, settings_flags
from elastic_cli.errors import plural

if TYPE_CHECKING:
    from datetime import datetime

    from elastic_cli.commands.app import AppContext
    from elastic_cli.config.settings import Settings


@click.command()
@connection_options
@output_option(OUTPUT_FORMATS, piped="ndjson")
@click.option("--since", default="1h", show_default=True, help="Window start: ISO time (UTC unless it names a zone) or a duration ago (15m, 2h, 7d).")
@click.option("--until", help="Window end: ISO time (UTC unless it names a zone) or a duration ago [default: now].")
@click.option("--all-levels", is_flag=True, help="Sessions with lines of any level, not only errors.")
@click.option("--sort", type=click.Choice(("recent", "count")), default="recent", show_default=True,
              help="Most recent last line first, or most lines first.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many sessions.")
@click.option("--max-sessions", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Stop counting (and say so) after this many distinct sessions: memory stays bounded.")
@retry_option
@click.pass_obj
def sessions(app: AppContext, output: str, since: str, until: str | None, all_levels: bool, sort: str, limit: int,
             max_sessions: int, retry_for: str, **params: Any) -> None:
    """List the sessions whose backend logged errors in a time window, newest first.

    Both markers count: openReplaySession.id=<id> (v1.21+) and
    openReplaySessionToken=<token> (up to v1.20, through the session id the token
    starts with). One row a session: its start (decoded from its id), the first and
    last line in the window, how many lines, which markers, the latest message, and
    the replay link when openreplay_url and project_id are set (configure, or
    --openreplay-url and --project-id).

    \b
    Examples:
      orx-elastic sessions
      orx-elastic sessions --since 24h --sort count --limit 10
      orx-elastic sessions --since 2024-01-24T00:00:00Z --until 2024-01-25T00:00:00Z -o csv > errors.csv
      orx-elastic sessions --openreplay-url https://openreplay.example.com --project-id 3
    """
    from datetime import datetime, timezone

    from elastic_cli.search.query import parse_duration, parse_time

    retry_budget = parse_duration(retry_for).total_seconds()
    now = datetime.now(timezone.utc)
    window_start = parse_time(since, now)
    window_end = parse_time(until, now) if until else None
    if window_end is not None and window_end < window_start:
        from elastic_cli.errors import UsageError

        raise UsageError(f"--since ({since}) is after --until ({until})", hint="Swap the two values.")
    settings = app.settings(settings_flags(params))
    _run(app, settings, output, window_start, window_end, not all_levels, sort, limit, max_sessions, retry_budget)


def _run(app: AppContext, settings: Settings, fmt: str, since: datetime, until: datetime | None, errors_only: bool,
         sort: str, limit: int, max_sessions: int, retry_for: float = 0.0) -> None:
    from elastic_cli.cluster.connection import build_client, translated_errors
    from elastic_cli.commands.coverage_report import finish
    from elastic_cli.errors import NoHits
    from elastic_cli.output import Progress, print_records
    from elastic_cli.search.retry import seconds_text
    from elastic_cli.search.sessions import iter_rows, sessions_of_settings

    es = build_client(settings)
    progress = Progress(enabled=not app.quiet, color=app.color)
    with es, translated_errors(settings, f"search {','.join(settings.index_patterns)}"):
        try:
            report = sessions_of_settings(
                es, settings, since, until, errors_only=errors_only, sort=sort, limit=limit,
                max_sessions=max_sessions, retry_for=retry_for, on_page=progress.update,
                on_retry=lambda wait: app.warn(f"{wait} (--retry-for {seconds_text(retry_for)})"))
        finally:
            progress.stop()
    coverage = report.coverage(max_sessions)
    if report.unparsed_markers:
        app.warn(f"{plural(report.unparsed_markers, 'marker')} {'was' if report.unparsed_markers == 1 else 'were'} neither a session token nor an id (not counted)")
    app.info(f"read {plural(report.lines_read, 'marked line')}; {plural(report.sessions_found, 'session')}")
    if report.sessions_found == 0:
        finish(app, coverage)  # no row, but maybe because lines could not be read: that first
        raise NoHits(f"no session logged {'error ' if errors_only else ''}lines in the window",
                     "widen it (--since 24h), try --all-levels, or run `orx-elastic check`")
    rows = list(iter_rows(report))
    columns = ["session_id", "session_start", "first_line", "last_line", "lines", "markers", "latest_message",
               "replay_url"]
    if fmt == "table" and not any(r["replay_url"] for r in rows):
        columns.remove("replay_url")
    print_records(fmt, columns, rows, color=app.color)
    more = (f"showing {len(rows)} of {plural(report.sessions_found, 'session')}; use --limit N for more"
            if report.sessions_found > len(rows) else None)
    finish(app, coverage, more=more)
