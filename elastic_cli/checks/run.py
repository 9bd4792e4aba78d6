"""The ordered checks of `orx-elastic check`: why would logs not show? (no printing here)

Each check returns a Finding (ok / warning / failure / skipped). The order is the
order in which a user would fix things: reach the port, agree on TLS, authenticate,
hold `read`, match indices, have the right mapping, have marked lines, and finally
OpenReplay v1.21's hard-coded `logs` index. A check that cannot run because an
earlier one failed is `skipped`, with the reason. Every request is bounded by
settings.timeout and by the overall deadline.

Never call `GET /` (info/ping): a read-only key may not (it needs `monitor`).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from elastic_cli.checks.credentials import check_auth, check_privileges, check_secret, own_key_expiration
from elastic_cli.checks.data import check_logs_index, check_marked_logs
from elastic_cli.checks.fields import (
    check_indices,
    check_message_analysis,
    check_tags_field,
    check_time_field,
    field_caps,
)
from elastic_cli.checks.findings import (
    CHECK_IDS,
    DEFAULT_DEADLINE,
    FAILURE,
    SKIPPED,
    TITLES,
    Deadline,
    Finding,
    finding,
    reason,
)
from elastic_cli.checks.network import check_connect, check_tls
from elastic_cli.checks.shapes import check_recent_sessions, check_shapes, index_shapes
from elastic_cli.checks.shows import check_openreplay_shows

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings
    from elastic_cli.search.fields import IndexShape

# ---------------------------------------------------------------- the run

EARLY_CONNECTIONS = 6  # the most requests of `check` that leave side by side (its second wave: 5)


def run_checks(settings: Settings, deadline_seconds: float = DEFAULT_DEADLINE, *,
               client_factory: Callable[[Any], Any] | None = None,
               connect: Callable[[Any, Deadline], Finding] = check_connect,
               tls: Callable[[Any, Deadline], Finding] = check_tls,
               clock: Callable[[], float] = time.monotonic, session: str | None = None) -> list[Finding]:
    """Run every check in order; skip what cannot run, with the reason. Always returns all CHECK_IDS."""
    from concurrent.futures import Future, ThreadPoolExecutor

    deadline = Deadline(deadline_seconds, clock)
    # Far from the cluster each request is a round trip, so every request whose inputs are known goes
    # out at once, side by side (measured: loopback + 12.7 RTT in sequence, bench/RESULTS.md). What they
    # found is still decided and printed in order below: an answer that an earlier failure rules out
    # (no connection, TLS, authentication) is discarded and its check said as skipped. The key is only
    # ever sent where `logs` would send it: the client refuses a certificate it cannot verify.
    pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="check")
    ahead: dict[str, Future[Any]] = {}

    def start(check_id: str, fn: Callable[[], Any]) -> None:
        if check_id not in ahead:
            ahead[check_id] = pool.submit(fn)

    try:
        return _run(settings, deadline, deadline_seconds, client_factory, connect, tls, start, ahead, session)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        from elastic_cli.cluster.connection import close_early

        close_early()


# every request leaves at once and the answers are decided in order: kept as one reading order
def _run(settings: Settings, deadline: Deadline, deadline_seconds: float,  # noqa: C901
         client_factory: Callable[[Any], Any] | None,
         connect: Callable[[Any, Deadline], Finding], tls: Callable[[Any, Deadline], Finding],
         start: Callable[[str, Callable[[], Any]], None], ahead: dict[str, Any],
         session: str | None = None) -> list[Finding]:
    from elastic_cli.config.settings import split_api_key

    findings: dict[str, Finding] = {}
    blocked: str | None = None  # why everything from here on is skipped
    blocked_from_privileges: str | None = None  # why the index checks are skipped
    patterns = settings.index_patterns
    state: dict[str, Any] = {}

    def skip(check_id: str, reason: str) -> None:
        findings[check_id] = finding(check_id, SKIPPED, reason)

    def step(check_id: str, fn: Callable[[], Finding]) -> Finding | None:
        if check_id in findings:
            return findings[check_id]
        if blocked:
            skip(check_id, blocked)
            return None
        if deadline.expired() and not (check_id in ahead and ahead[check_id].done()):  # an answer in hand stands
            skip(check_id, f"the overall deadline of {deadline_seconds:g}s passed (raise --deadline)")
            return None
        try:
            result = ahead[check_id].result() if check_id in ahead else fn()
        except Exception as exc:  # noqa: BLE001 — a bug or an unmapped error must not hide other checks
            message, fix = reason(exc, settings, TITLES[check_id])
            result = finding(check_id, FAILURE, message, fix)
        findings[check_id] = result
        return result

    # local and first: a key that cannot be read is named as such, while connect and TLS still run
    secret = step("secret", lambda: check_secret(settings))
    unreadable = secret is not None and secret.status == FAILURE
    start("connect", lambda: connect(settings, deadline))
    start("tls", lambda: tls(settings, deadline))  # each on its own connection

    es = None
    if not unreadable and not deadline.expired():
        try:
            from elastic_cli.cluster.connection import build_client, open_early

            if client_factory is None:
                # the first requests leave side by side once the plain-HTTP gate answers: their TCP
                # handshakes pass while it is out (`early_connect`), one round trip saved far away
                open_early(settings, connections=EARLY_CONNECTIONS)

            es = (client_factory or (lambda s: build_client(s, max_retries=0)))(settings)
        except Exception as exc:  # noqa: BLE001 — e.g. ConfigError: no key configured
            message, fix = reason(exc, settings, "set up the client")
            findings["auth"] = finding("auth", FAILURE, message, fix)
    try:
        key_id = split_api_key(settings.id, settings.api_key)[0]
    except Exception:  # noqa: BLE001
        key_id = settings.id

    caps_lock = threading.Lock()

    def caps() -> dict[str, Any]:
        with caps_lock:  # one `_field_caps` request, whichever check asks first
            if "caps" not in state:
                state["caps"] = field_caps(es, settings, deadline, patterns)
            if "shapes" not in state:  # from the same answer: `logs` resolves fields the same way
                state["shapes"] = index_shapes(settings, state["caps"])
        return state["caps"]

    def with_caps(fn: Callable[[dict[str, Any]], Finding]) -> Callable[[], Finding]:
        return lambda: fn(caps())

    def with_shapes(fn: Callable[[list[IndexShape]], Finding]) -> Callable[[], Finding]:
        def run() -> Finding:
            caps()
            return fn(state["shapes"])
        return run

    index_checks: tuple[tuple[str, Callable[[], Finding]], ...] = (
        ("indices", with_caps(lambda caps: check_indices(es, settings, deadline, patterns, caps))),
        ("message_field", with_shapes(lambda shapes: check_message_analysis(es, settings, state["caps"], shapes,
                                                                            deadline))),
        ("time_field", with_caps(lambda caps: check_time_field(settings, caps))),
        ("tags_field", with_caps(lambda caps: check_tags_field(settings, caps))),
        ("marked_logs", with_shapes(lambda shapes: check_marked_logs(es, settings, deadline, patterns, shapes))),
        ("shapes", with_shapes(lambda shapes: check_shapes(es, settings, deadline, patterns, shapes))),
        # asked at once beside `_field_caps`, as `sessions` asks (its own `_field_caps` and first page):
        # the session the OpenReplay checks judge is then known a round trip sooner
        ("recent_sessions", lambda: check_recent_sessions(es, settings, deadline, patterns, None)),
    )

    def judge(check_id: str, judged: str | None) -> Callable[[], Finding]:
        return lambda: check_openreplay_shows(es, settings, deadline, check_id, judged, state)

    def judge_latest() -> Finding:
        # no --session: the latest session with errors, as recent_sessions found it (none when it failed)
        try:
            latest = ahead["recent_sessions"].result().data.get("latest")
        except Exception:  # noqa: BLE001 — recent_sessions' own finding says what went wrong
            latest = None
        return check_openreplay_shows(es, settings, deadline, "openreplay_v121", latest, state)

    if es is not None:
        start("key_expiration", lambda: own_key_expiration(es, settings, deadline, key_id))
        start("auth", lambda: check_auth(es, settings, deadline, key_id,
                                         expiration_ahead=lambda: ahead["key_expiration"].result()))
        start("privileges", lambda: check_privileges(es, settings, deadline, patterns))
        start("logs_index", lambda: check_logs_index(es, settings, deadline))
        start("caps", caps)
        for check_id, fn in index_checks:
            start(check_id, fn)
        start("openreplay_v121", judge("openreplay_v121", session) if session else judge_latest)

    result = step("connect", lambda: connect(settings, deadline))
    if result is not None and result.status == FAILURE:
        blocked = "no connection to the host (see `connect`)"
    result = step("tls", lambda: tls(settings, deadline))
    if result is not None and result.status == FAILURE:
        blocked = "HTTP/TLS does not work (see `tls`)"
    if unreadable and not blocked:
        blocked = "the api_key cannot be read (see `secret`)"
    result = step("auth", lambda: check_auth(es, settings, deadline, key_id))
    if result is not None and result.status == FAILURE:
        blocked = "authentication failed (see `auth`)"

    result = step("privileges", lambda: check_privileges(es, settings, deadline, patterns))
    if result is not None and result.status == FAILURE and result.data.get("read") is not None:
        blocked_from_privileges = "no index matches " + ", ".join(patterns) + " that the key may read (see `privileges`)"

    for check_id, fn in index_checks:
        if blocked_from_privileges and not blocked:
            skip(check_id, blocked_from_privileges)
            continue
        result = step(check_id, fn)
        if check_id == "indices" and result is not None and result.status == FAILURE:
            blocked_from_privileges = "no index to look into (see `indices`)"
        if check_id == "message_field" and result is not None and result.status == FAILURE \
                and not blocked_from_privileges:
            for later in ("marked_logs", "shapes", "recent_sessions"):
                findings.setdefault(later, finding(
                    later, SKIPPED, f"no field {settings.message_field!r} to search (see `message_field`)"))

    step("logs_index", lambda: check_logs_index(es, settings, deadline))
    # what each OpenReplay generation shows of one session: --session, else the latest with errors
    recent = findings.get("recent_sessions")
    judged = session or (recent.data.get("latest") if recent is not None else None)
    if session is None and "openreplay_v121" in ahead and (recent is None or recent.status == SKIPPED):
        ahead.pop("openreplay_v121")  # judged a session that was never decided: ask again from here
    for generation_check in ("openreplay_v121", "openreplay_v120"):
        step(generation_check, judge(generation_check, judged))
    return [findings[check_id] for check_id in CHECK_IDS]
