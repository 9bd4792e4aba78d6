"""How `logs` prints a lookup: its lines written as they are read (progress, --follow's status,
retries and recoveries said on stderr), then what the result lacks; or, with --explain, the request."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING, Any, Iterator

from elastic_cli.commands.app import ReaderGone, say
from elastic_cli.errors import plural

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext
    from elastic_cli.config.settings import Settings
    from elastic_cli.openreplay.session_token import SessionRef
    from elastic_cli.output import FollowStatus, Progress
    from elastic_cli.output.writer import LogWriter
    from elastic_cli.search.lookup import SessionSearch
    from elastic_cli.search.retry import Retrying
    from elastic_cli.search.session_logs import LookupObservers


def say_what_is_searched(app: AppContext, ref: SessionRef, search: SessionSearch, replay: str | None) -> None:
    """On stderr, never in piped data: the session a link named, its replay, the token's expiry and the window."""
    if ref.from_url and not app.quiet:
        say("replay link: ", f"session {ref.session_id}")
    if search.started is None:
        app.info(f"session {ref.session_id}: its id does not encode a plausible start time; searching all time")
    if replay and not app.quiet:
        say("replay: ", replay)
    if ref.token and ref.expires_at:
        app.info(f"token of session {ref.session_id}, expires {ref.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if search.window:
        app.info(f"searching from {search.window.since:%Y-%m-%d %H:%M:%S} UTC: {search.window.origin}")


def print_explain(app: AppContext, search: SessionSearch) -> None:
    """`logs --explain`: the first request as it would be sent (stdout), and what it costs (stderr)."""
    from dataclasses import replace

    from elastic_cli.output import print_json
    from elastic_cli.search.lookup import explain as explained
    from elastic_cli.search.query import explain_cost

    explained_body = explained(search)
    print_json(explained_body)
    if not app.quiet:
        say("cost: ", explain_cost(search.query))
        say("cost if keyword: ", explain_cost(replace(search.query, message_is_keyword=True)))
        say("", "this is the first page's request to an index with the configured fields. logs asks _field_caps "
                "beside it: an index whose time or level field is another (@timestamp, log.level) gets the same body "
                "with its own fields, and `-v` of a real run names them; later pages add search_after.")
        say("window: ", search.window.origin if search.window else "none (all time, or --since/--until as given)")
        say("page size: ", f"{explained_body['page_size']} hits a request; an index whose index.max_result_window is "
                           "smaller refuses it (HTTP 400) and is read in pages of the size it allows (-v says so)")


def print_lines(app: AppContext, settings: Settings, search: SessionSearch, writer: LogWriter,
                tail: int | None = None) -> None:
    """Run the lookup and write its lines as they come; say what the result lacks.

    `tail` (--tail N): only the last N lines. A lookup (asked newest first, N at most) prints them
    oldest first once read; --follow keeps the last N of its first poll (the session so far) and
    prints them when that poll ends, then every new line as it comes."""
    from elastic_cli.cluster.connection import build_lookup_client, translated_errors
    from elastic_cli.commands.coverage_report import finish
    from elastic_cli.errors import NoHits
    from elastic_cli.output import FollowStatus, Progress
    from elastic_cli.search import plan as search_plan
    from elastic_cli.search.lookup import lookup
    from elastic_cli.search.session_logs import Export, Follow, Limited

    follow = isinstance(search.mode, Follow)
    status = FollowStatus(enabled=not app.quiet, color=app.color) if follow else None
    progress = status or Progress(enabled=isinstance(search.mode, Export) and not app.quiet, color=app.color)
    kept = _Tail(tail, writer) if tail is not None else None
    es = build_lookup_client(settings)
    with es, translated_errors(settings, f"search {','.join(search.patterns)}"):
        result = lookup(es, search, _observers(app, search, writer, progress, status, kept))
        plan = result.plan
        if not plan.message_types:
            app.warn(f"no matched index has a field '{settings.message_field}': set --message-field")
        app.info(f"searching {plural(len(plan.indices), 'index', 'indices')}; {settings.message_field} is "
                 f"{'/'.join(plan.message_types) or 'missing'}")
        for line in search_plan.describe_plan(plan):
            app.info(line)
        try:
            with _stopped_by_sigterm(follow):
                for page in result.pages():
                    if kept is not None and kept.holding:
                        kept.add(page)
                    else:
                        writer.write_page(page)
                if kept is not None and not follow:
                    kept.release(oldest_first=True)
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
    _say_stats(app, result.stats)
    if result.coverage.undated_lines:
        undated = result.coverage.undated_lines
        app.info(f"{plural(undated, 'line')} {'carries' if undated == 1 else 'carry'} no time: shown last")
    more = None
    if result.coverage.more_beyond_limit and isinstance(search.mode, Limited):
        more = (f"showing the last {plural(search.mode.limit, 'line')}; there are earlier ones: use --all (or a "
                "larger --tail) for them" if tail else
                f"showing the first {plural(search.mode.limit, 'line')}; there are more: use --all (or --limit N) "
                "for them")
    finish(app, result.coverage, more=more)
    if writer.count == 0 and not follow:
        levels = "error lines" if search.query.errors_only else "lines"
        raise NoHits(
            f"no {levels} of session {search.ref.session_id} in "
            f"{plural(len(plan.indices), 'matching index', 'matching indices')}",
            "likely: the backend does not log the marker, the lines are not tagged 'error' (try --all-levels), "
            "or the time range; run `orx-elastic check`",
        )


def _say_stats(app: AppContext, stats: Any) -> None:
    """-v: what was read, and the page size an index imposed."""
    if stats.streams:
        app.info(f"read {plural(stats.hits_read, 'hit')}; shards: {stats.shards_total} searched, "
                 f"{stats.shards_skipped} skipped by the time window")
    if stats.page_window:
        app.info(f"an index allows pages of at most {stats.page_window} hits (index.max_result_window): "
                 f"read in pages of {stats.page_window}")


class _Tail:
    """--tail N: the last N lines read, held until the read they end is over (a lookup; --follow's
    first poll), then written; after that, lines go straight to the writer."""

    def __init__(self, n: int, writer: LogWriter):
        from collections import deque

        self.lines: deque[Any] = deque(maxlen=n)
        self.writer = writer
        self.holding = True

    def add(self, page: Any) -> None:
        self.lines.extend(page)

    def release(self, oldest_first: bool = False) -> None:
        if not self.holding:
            return
        self.holding = False
        lines = list(reversed(self.lines)) if oldest_first else list(self.lines)  # a lookup read them newest first
        self.lines.clear()
        if lines:
            self.writer.write_page(lines)


def _observers(app: AppContext, search: SessionSearch, writer: LogWriter, progress: Progress,
               status: FollowStatus | None, kept: _Tail | None = None) -> LookupObservers:
    """What the terminal is told while the lines are read: progress, each poll, retries."""
    from elastic_cli.search.retry import seconds_text
    from elastic_cli.search.session_logs import LookupObservers

    def page_done(seen: int) -> None:
        if status is None:
            progress.update(seen)
        writer.flush()  # a table is printed page by page: nothing waits for the end

    def poll_done() -> None:
        if kept is not None:
            kept.release()  # the first poll read the session so far: its last N lines, then new ones
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


@contextlib.contextmanager
def _stopped_by_sigterm(follow: bool) -> Iterator[None]:
    """--follow runs until stopped: SIGTERM (a supervisor, `kill`, `timeout`) ends it as Ctrl-C does, so
    the output is closed (`-o json`'s array, a table's last page) and the exit is 0. Elsewhere the
    default stands (a lookup or an export killed is not whole)."""
    if not follow or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
