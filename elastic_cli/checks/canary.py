"""The canary: a request with a fresh test session to the user's backend, then the cluster searched
(as `logs` searches, `session_logs`) until a line of that session is searchable, and what it shows.

The printed middleware logs one line per canary request, `orx-elastic canary <nonce> session=<id>`
(or `session=none` when no session header arrived): finding that line by its nonce tells a header
dropped on the way from a line logged without the marker. No printing here.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from elastic_cli.openreplay import verdicts as v
from elastic_cli.openreplay.propagation import CANARY_HEADER, GENERATIONS, CanarySession
from elastic_cli.openreplay.session_token import (
    SESSION_ID_MARKER_PREFIX,
    TOKEN_MARKER_PREFIX,
    contains_marker,
    markers,
    parse_session_ref,
)

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings
    from elastic_cli.search.session_line import SessionLine

FOUND, NO_HEADER, NO_MARKER, SHAPE, TIMEOUT = "found", "no-header", "no-marker", "shape", "timeout"
_SESSION_SAID = re.compile(r"session=([0-9]+|none)")
# the backend's clock may run behind this one: the search starts this much before the request
CLOCK_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Sent:
    url: str
    header: str
    status: int | None  # the backend's HTTP status (None: no answer)
    at: float  # monotonic time the request left
    started: datetime


@dataclass
class CanaryResult:
    session: CanarySession
    sent: Sent
    outcome: str
    line: SessionLine | None = None
    delay: float | None = None  # seconds from the request to the poll that found the line
    polls: int = 0
    problems: dict[str, list[v.Problem]] = field(default_factory=dict)  # generation -> what hides the line
    missing: list[str] = field(default_factory=list)  # the last search's coverage: why lines may be unseen


def send(url: str, header: str, session: CanarySession, timeout: float, user_agent: str) -> Sent:
    """The request to the backend: the session header and the canary header, nothing else of ours
    (never the API key). An HTTP error status is an answer; no answer raises OSError."""
    headers = {header: session.header_value(header), CANARY_HEADER: session.nonce, "User-Agent": user_agent}
    request = urllib.request.Request(url, headers=headers, method="GET")
    started, at = datetime.now(timezone.utc), time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 — the user's own URL
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return Sent(url, header, status, at, started)


def search_once(es: Any, settings: Settings, session: CanarySession, since: datetime
                ) -> tuple[list[SessionLine], list[str]]:
    """The lines of the canary's session, or carrying its nonce, every level (one lookup, as `logs`),
    and why some may be missing (a failed shard, an index left out): a miss is then no proof."""
    from elastic_cli.search.lookup import LookupRequest, lookup, prepare
    from elastic_cli.search.session_logs import Limited

    request = LookupRequest(mode=Limited(50), errors_only=False, since=since, also=(session.nonce,),
                            shape_cache=False)
    result = lookup(es, prepare(settings, parse_session_ref(session.session_id), request))
    lines = [line for page in result.pages() for line in page]
    return lines, result.coverage.missing()


def await_line(es: Any, settings: Settings, session: CanarySession, sent: Sent, wait: float, generation: str,
               interval: float = 0.5, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> CanaryResult:
    """Search until a line of the session (or the canary's own line) is found or `wait` seconds pass."""
    deadline = sent.at + wait
    polls = 0
    while True:
        polled_at = clock()
        polls += 1
        lines, missing = search_once(es, settings, session, sent.started - CLOCK_SLACK)
        if lines:
            result = judge(session, sent, lines, generation, logs_indices(es) if GENERATIONS[generation][1] else None)
            result.delay, result.polls = max(polled_at - sent.at, 0.0), polls
            return result
        if clock() >= deadline:
            return CanaryResult(session, sent, TIMEOUT, polls=polls, missing=missing)
        sleep(max(min(interval, deadline - clock()), 0.0))


def _message(line: SessionLine, message_field: str = "message") -> str:
    value = (line.source or {}).get(message_field)
    return value if isinstance(value, str) else ""


def logs_indices(es: Any) -> frozenset[str] | None:
    """The indices behind `logs`, which OpenReplay v1.21+ searches (None: no `logs`)."""
    from elastic_cli.checks.shows import logs_coverage

    return logs_coverage(es)[0]


def judge(session: CanarySession, sent: Sent, lines: list[SessionLine], generation: str,
          in_logs: frozenset[str] | None = None) -> CanaryResult:
    """What the lines found say: the canary's own line first (it tells a dropped header), else any
    marked line of the session; a marked line is then judged by `shows`' rules for its shape, and for
    v1.21+ whether its index is behind `logs` (`in_logs`: those indices; None: not asked)."""
    ref = parse_session_ref(session.session_id)
    marked = [h for h in lines if any(contains_marker(_message(h), m) for m in markers(ref))]
    own = [h for h in lines if contains_marker(_message(h), session.nonce)]
    if own and not any(h in marked for h in own):
        said = _SESSION_SAID.search(_message(own[0]))
        outcome = NO_MARKER if said and said.group(1) == session.session_id else NO_HEADER
        return CanaryResult(session, sent, outcome, line=own[0])
    line = next((h for h in own if h in marked), marked[0] if marked else lines[0])
    problems = shape_problems(line, session.session_id, generation)
    if in_logs is not None and str(line.hit.get("_index")) not in in_logs and v.V121 in problems:
        problems[v.V121].append(v.Problem("index-not-logs", f"its index {line.index_name} "
                                                            "is not `logs` (nor behind an alias `logs`)"))
    return CanaryResult(session, sent, SHAPE if any(problems.values()) else FOUND, line=line, problems=problems)


def shape_problems(line: SessionLine, session_id: str, generation: str) -> dict[str, list[v.Problem]]:
    """Per generation asked, what would hide this line were it returned by that generation's search
    (`shows`' rules: the marker it reads, then the fields it needs); the v1.20 `tags: error` filter is
    left out: the canary's line is info, and an info line is meant to stay out of OpenReplay v1.20."""
    v120, v121 = GENERATIONS[generation]
    key = frozenset({(str(line.hit.get("_index")), str(line.hit.get("_id")))})
    source = line.source or {}
    message = source.get("message")
    out: dict[str, list[v.Problem]] = {}
    if v121:
        problems = []
        if not contains_marker(str(message), f"{SESSION_ID_MARKER_PREFIX}{session_id}"):
            problems.append(v.Problem("no-id-marker", f"it carries no {SESSION_ID_MARKER_PREFIX}{session_id}"))
        problems += [p for p in v.v121_verdict(line, session_id, v.Answer(hits=key)).problems if p.hides]
        out[v.V121] = problems
    if v120:
        problems = [p for p in v.v120_verdict(line, session_id, v.Answer(hits=key)).problems if p.hides]
        if isinstance(message, str) and TOKEN_MARKER_PREFIX not in message and not any(
                p.code == "no-token" for p in problems):
            problems.append(v.Problem("no-token", v.SUMMARY["no-token"]))
        if source.get("utc_time") is None:
            problems.append(v.Problem("no-utc-time", "no `utc_time` (the v1.20 poller filters and sorts on it)"))
        out[v.V120] = problems
    return out
