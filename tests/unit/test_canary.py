"""The canary's core without a cluster: what it sends (never the key), and how it reads the lines found."""

from __future__ import annotations

import http.server
import socket
import threading

from elastic_cli.checks import canary
from elastic_cli.openreplay.propagation import CANARY_HEADER, fresh_session
from elastic_cli.search.session_line import SessionLine

SESSION = fresh_session(1_765_000_000_000, 0x123456, bytes(range(32)), "0f" * 12)
SENT = canary.Sent("http://backend/", "X-OpenReplay-SessionToken", 200, 0.0, None)  # type: ignore[arg-type]


def hit(message: str, **source) -> SessionLine:
    """A line as the lookup reads it."""
    return SessionLine({"_index": "app", "_id": str(abs(hash(message))), "_source": {"message": message, **source}},
                       None, None, "app", None)


def good(message: str) -> SessionLine:
    return hit(message, level="info", **{"@timestamp": "2025-12-06T05:46:40.000Z", "utc_time": "2025-12-06T05:46:40Z"})


MARKERS = f"openReplaySessionToken={SESSION.token} openReplaySession.id={SESSION.session_id}"
OWN = f"orx-elastic canary {SESSION.nonce} session={SESSION.session_id} header=X-OpenReplay-SessionToken"


def test_a_marked_canary_line_in_the_shape_openreplay_reads_is_found():
    result = canary.judge(SESSION, SENT, [good(f"{MARKERS} {OWN}")], "both")
    assert result.outcome == canary.FOUND and result.problems == {"v1.20": [], "v1.21+": []}


def test_the_canary_line_without_a_session_means_the_header_was_dropped():
    line = good(f"orx-elastic canary {SESSION.nonce} session=none: no session header received")
    assert canary.judge(SESSION, SENT, [line], "both").outcome == canary.NO_HEADER


def test_the_session_received_but_not_on_the_line_means_the_marker_is_missing():
    assert canary.judge(SESSION, SENT, [good(OWN)], "both").outcome == canary.NO_MARKER


def test_a_marked_line_openreplay_would_break_on_is_a_shape_problem():
    ecs = hit(f"{MARKERS} {OWN}", log={"level": "INFO"}, **{"@timestamp": "2025-12-06T05:46:40.000Z"})
    result = canary.judge(SESSION, SENT, [ecs], "v1.21")
    assert result.outcome == canary.SHAPE
    assert [p.code for p in result.problems["v1.21+"]] == ["no-level"]
    only_token = good(f"openReplaySessionToken={SESSION.token} {OWN}")
    assert [p.code for p in canary.judge(SESSION, SENT, [only_token], "both").problems["v1.21+"]] == ["no-id-marker"]


def test_the_request_carries_the_session_and_the_canary_header_and_never_a_key():
    seen: list[dict] = []

    class Backend(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's name
            seen.append(dict(self.headers))
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sent = canary.send(f"http://127.0.0.1:{server.server_port}/", "X-OpenReplay-SessionToken", SESSION, 5, "ua/1")
    finally:
        server.shutdown()
    assert sent.status == 503  # an error status is an answer: the line may be logged all the same
    assert {k.lower(): v for k, v in seen[0].items() if k.lower() not in ("host", "connection", "accept-encoding")} == {
        "x-openreplay-sessiontoken": SESSION.token, CANARY_HEADER.lower(): SESSION.nonce, "user-agent": "ua/1"}


def test_a_line_outside_logs_is_not_shown_by_v121():
    line = good(f"{MARKERS} {OWN}")
    result = canary.judge(SESSION, SENT, [line], "both", in_logs=frozenset({"other-index"}))
    assert result.outcome == canary.SHAPE and [p.code for p in result.problems["v1.21+"]] == ["index-not-logs"]
    assert canary.judge(SESSION, SENT, [line], "both", in_logs=frozenset({"app"})).outcome == canary.FOUND


def test_a_wrong_url_or_header_name_is_a_usage_error_before_anything_is_sent(clean_env):
    from conftest import run_cli

    for args in (["ftp://backend/"], ["http://127.0.0.1:9/", "--header", "X-Session\r\nHost: evil"],
                 ["http://127.0.0.1:9/", "--header", "openReplaySession.id", "--generation", "v1.20"]):
        result = run_cli("canary", *args, env=clean_env)
        assert result.exit_code == 2 and result.stderr.startswith("error: "), result.output
        assert "\r" not in result.stderr and "Traceback" not in result.stderr


def test_a_backend_that_does_not_answer_is_said_before_the_cluster_is_asked(clean_env):
    from conftest import run_cli

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = run_cli("canary", f"http://127.0.0.1:{port}/", env=clean_env)
    assert result.exit_code == 4 and "the backend did not answer" in result.stderr, result.output


def test_a_miss_by_a_partial_search_is_said_partial_not_a_timeout(monkeypatch):
    """A shard that failed may hold the canary's line: 'nothing arrived in time' would blame the backend
    for what the search could not see."""
    import pytest
    from elastic_cli import errors
    from elastic_cli.commands.app import AppContext
    from elastic_cli.commands.canary import _report

    reason = "1 of 2 shards failed, so the output lacks the lines on them: app[0]: node left"
    from datetime import datetime, timezone

    monkeypatch.setattr(canary, "search_once", lambda *args: ([], [reason]))
    sent = canary.Sent("http://backend/", "X-OpenReplay-SessionToken", 200, 0.0, datetime.now(timezone.utc))
    now = [0.0]
    result = canary.await_line(None, None, SESSION, sent, wait=1.0, generation="both",  # type: ignore[arg-type]
                               clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + 2))
    assert result.outcome == canary.TIMEOUT and result.missing == [reason]
    with pytest.raises(errors.PartialResults, match="the search was partial: 1 of 2 shards failed"):
        _report(AppContext(quiet=True), result, "1s")
    # a whole search's miss stays the timeout, with its causes in order
    monkeypatch.setattr(canary, "search_once", lambda *args: ([], []))
    result = canary.await_line(None, None, SESSION, sent, wait=1.0, generation="both",  # type: ignore[arg-type]
                               clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + 2))
    with pytest.raises(errors.CanaryTimeout):
        _report(AppContext(quiet=True), result, "1s")
