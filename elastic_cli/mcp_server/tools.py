"""What each MCP tool does: a thin call into the core the commands use, its answer as plain JSON
values (no SDK here: `server` registers these).

- `session_lines`: `search.lookup.prepare` and `lookup`, as `logs` (the records `logs -o json` prints)
- `sessions_with_errors`: `search.sessions.sessions_of_settings`, as `sessions`
- `what_openreplay_shows`: `checks.shows.session_view`, as `shows` (the document `shows -o json` prints)
- `check_setup`: `checks.run.run_checks`, as `check`

Every lines answer carries its coverage (`answers.coverage_answer`) and is bounded (a line limit and
`answers.BYTE_BUDGET`), saying when more exist. Errors are raised as the commands raise them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from elastic_cli.mcp_server.answers import BYTE_BUDGET, DEFAULT_LINE_LIMIT, coverage_answer, more_text, within_budget

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    utc = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_lines(settings: Settings, session: str, limit: int = DEFAULT_LINE_LIMIT, all_levels: bool = False,
                  since: str | None = None, until: str | None = None, reverse: bool = False,
                  budget: int = BYTE_BUDGET, now: datetime | None = None) -> dict[str, Any]:
    """One session's (error) lines as `logs --limit LIMIT -o json` reads and records them."""
    from elastic_cli.cluster.connection import build_client, translated_errors
    from elastic_cli.openreplay.session_token import parse_session_ref
    from elastic_cli.output.records import RecordShape
    from elastic_cli.search.lookup import LookupRequest, lookup, prepare
    from elastic_cli.search.query import parse_time
    from elastic_cli.search.session_logs import Limited

    ref = parse_session_ref(session)
    now = now or datetime.now(timezone.utc)
    request = LookupRequest(mode=Limited(limit=limit), errors_only=not all_levels, reverse=reverse,
                            since=parse_time(since, now) if since else None,
                            until=parse_time(until, now) if until else None)
    search = prepare(settings, ref, request, now)
    replay = settings.replay_url(ref.session_id)
    shape = RecordShape(message_field=settings.message_field, replay_url=replay)  # as `logs -o json`
    es = build_client(settings)
    with es, translated_errors(settings, f"search {','.join(search.patterns)}"):
        result = lookup(es, search)
        records = [shape.record(line) for page in result.pages() for line in page]
    kept, over_budget = within_budget(records, budget)
    coverage = result.coverage
    more = more_text(len(kept), coverage.more_beyond_limit, over_budget, limit)
    return {
        "session_id": ref.session_id,
        "session_start": _iso(search.started),
        "replay_url": replay,
        "levels": "every level" if all_levels else "error lines only",
        "searched_from": ({"since": _iso(search.window.since), "why": search.window.origin} if search.window
                          else {"since": _iso(search.query.since), "why": "since, as given" if since else "all time"}),
        "count": len(kept),
        "lines": kept,
        "more_lines_exist": more is not None,
        "more": more,
        "coverage": coverage_answer(coverage),
        "note": None if records or coverage.missing() else (
            f"no {'' if all_levels else 'error '}line of session {ref.session_id} was found: the backend may not log "
            "the marker" + ("" if all_levels else ", the lines may not be tagged error (ask with all_levels)")
            + ", or they are outside the time range; the check_setup tool tells which"),
    }


def sessions_with_errors(settings: Settings, since: str = "24h", until: str | None = None, all_levels: bool = False,
                         sort: str = "recent", limit: int = 20, budget: int = BYTE_BUDGET,
                         now: datetime | None = None) -> dict[str, Any]:
    """The sessions whose backend logged (error) lines in a window, as `sessions -o json` lists them."""
    from elastic_cli.cluster.connection import build_client, translated_errors
    from elastic_cli.errors import UsageError
    from elastic_cli.search.query import parse_time
    from elastic_cli.search.sessions import DEFAULT_MAX_SESSIONS, iter_rows, sessions_of_settings

    now = now or datetime.now(timezone.utc)
    start = parse_time(since, now)
    end = parse_time(until, now) if until else None
    if end is not None and end < start:
        raise UsageError(f"since ({since}) is after until ({until})", "swap the two values")
    es = build_client(settings)
    with es, translated_errors(settings, f"search {','.join(settings.index_patterns)}"):
        report = sessions_of_settings(es, settings, start, end, errors_only=not all_levels, sort=sort, limit=limit)
    rows, over_budget = within_budget(list(iter_rows(report)), budget)
    more = more_text(len(rows), report.sessions_found > len(report.rows), over_budget, limit, what="sessions")
    return {
        "window": {"since": _iso(start), "until": _iso(end) or "now"},
        "levels": "every level" if all_levels else "error lines only",
        "count": len(rows),
        "sessions_found": report.sessions_found,
        "sessions": rows,
        "more_sessions_exist": more is not None,
        "more": more,
        "unparsed_markers": report.unparsed_markers,
        "coverage": coverage_answer(report.coverage(DEFAULT_MAX_SESSIONS)),
    }


def what_openreplay_shows(settings: Settings, session: str, limit: int = DEFAULT_LINE_LIMIT,
                          fetched_at: str | None = None, since: str | None = None, budget: int = BYTE_BUDGET,
                          now: datetime | None = None) -> dict[str, Any]:
    """What OpenReplay v1.20 and v1.21+ show of a session's lines, and why not: `shows -o json`'s document."""
    from elastic_cli.checks.shows import report, session_view
    from elastic_cli.cluster.connection import build_client, translated_errors
    from elastic_cli.openreplay.session_token import parse_session_ref
    from elastic_cli.output.records import RecordShape
    from elastic_cli.output.session_view import view_document, view_records
    from elastic_cli.search.query import parse_time

    ref = parse_session_ref(session)
    now = now or datetime.now(timezone.utc)
    since_at = parse_time(since, now) if since else None
    fetched = parse_time(fetched_at, now) if fetched_at else None
    es = build_client(settings)
    with es, translated_errors(settings, f"search {settings.indexes}"):
        view = session_view(es, settings, ref, limit=limit, fetched_at=fetched, since=since_at, now=now)
    shape = RecordShape(message_field=settings.message_field, replay_url=settings.replay_url(ref.session_id))
    document = view_document(view, view_records(view, shape), report(view))
    document["lines"], over_budget = within_budget(document["lines"], budget)
    more = more_text(len(document["lines"]), view.coverage.more_beyond_limit, over_budget, limit)
    return {**document, "count": len(document["lines"]), "more_lines_exist": more is not None, "more": more,
            "coverage": coverage_answer(view.coverage)}


def check_setup(settings: Settings, session: str | None = None, deadline: float = 30.0,
                name_profile: Callable[[str], str] = lambda text: text) -> dict[str, Any]:
    """`check`'s findings, in order: what works, what fails and the fix."""
    from elastic_cli.checks.findings import FAILURE
    from elastic_cli.checks.run import run_checks

    if session:
        from elastic_cli.openreplay.session_token import parse_session_ref

        parse_session_ref(session)  # a usage error before anything is sent
    findings = run_checks(settings, deadline, session=session)
    shown = [{**f.to_dict(), **{part: name_profile(getattr(f, part)) for part in ("detail", "fix") if getattr(f, part)}}
             for f in findings]
    failed = [f.id for f in findings if f.status == FAILURE]
    return {"ok": not failed, "failed": failed, "findings": shown}
