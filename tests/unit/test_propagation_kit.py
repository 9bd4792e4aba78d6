"""The printed Python code, imported as a user's app imports it: headers, the marker once per line on
every logger (the filter on the handler), per-request context under concurrency, each framework's wiring
(WSGI, Django, ASGI) with the standard library only; and what each stack's file says about itself."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import logging
import subprocess
import uuid
from types import SimpleNamespace

import pytest
from elastic_cli.openreplay import propagation
from elastic_cli.openreplay.session_token import parse_session_ref

from conftest import run_cli

TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
SESSION_ID = "2618307011354435587"
OTHER = "jw4wdfpgqhok.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"


def load(stack: str, tmp_path, generation: str = "both"):
    result = run_cli("instrument", stack, "--generation", generation)
    assert result.exit_code == 0, result.output
    path = tmp_path / f"openreplay_logging_{uuid.uuid4().hex[:6]}.py"
    path.write_text(result.stdout)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def captured():
    """A logger tree with one JSON handler, as the printed docstring wires it; removed afterwards."""
    root = logging.getLogger("shopapp")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield root, handler, stream
    root.removeHandler(handler)


def docs(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def headers(**values):
    table = {k.lower(): v for k, v in values.items()}
    return lambda name: table.get(name.lower())


def test_every_stack_prints_a_whole_file_that_parses(tmp_path):
    for name, stack in propagation.STACKS.items():
        text = propagation.render(name, "both", "9.9")
        assert "@@" not in text
        if stack.language == "python":
            compile(text, stack.filename, "exec")
        if stack.language in ("python", "node"):
            assert "X-OpenReplay-SessionToken" in text and "X-OpenReplay-Session-Token" in text
            assert "X-OpenReplay-Session-Id" in text and propagation.CANARY_HEADER in text
    node = tmp_path / "kit.js"
    for name in ("node-express-pino", "node-express-winston"):
        node.write_text(propagation.render(name))
        checked = subprocess.run(["node", "--check", str(node)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr


def test_help_lists_the_stacks_and_a_wrong_one_is_a_usage_error():
    result = run_cli("instrument", "--help")
    assert all(name in result.stdout for name in propagation.STACKS)
    wrong = run_cli("instrument", "python-flsk")
    assert wrong.exit_code == 2 and "python-flask" in wrong.stderr


def test_the_headers_the_tracker_sends_and_the_id_header(tmp_path):
    kit = load("python-flask", tmp_path)
    for name in ("X-OpenReplay-SessionToken", "X-OpenReplay-Session-Token"):
        session = kit.session_from_headers(headers(**{name: TOKEN}))
        assert (session.session_id, session.token) == (SESSION_ID, TOKEN)  # the token's base36 id, decoded
    session = kit.session_from_headers(headers(**{"X-OpenReplay-Session-Id": SESSION_ID}))
    assert (session.session_id, session.token) == (SESSION_ID, None)
    # untrusted values: anything but an exact token or id is not a session
    for bad in (TOKEN + " x", "openReplaySessionToken=" + TOKEN, "1 OR 1=1", "9" * 21, "\x1b[31m"):
        assert kit.session_from_headers(headers(**{"X-OpenReplay-SessionToken": bad,
                                                   "X-OpenReplay-Session-Id": bad})) is None


def test_the_marker_once_per_line_on_child_loggers_through_the_handler(tmp_path, captured):
    kit = load("python-flask", tmp_path)
    root, handler, stream = captured
    handler.setFormatter(kit.JsonFormatter())
    kit.install(kit.install(handler))  # twice: still one filter
    second = logging.StreamHandler(io.StringIO())  # another handler with the filter: still one marker
    kit.install(second)
    root.addHandler(second)
    try:
        reset = kit.enter_request(headers(**{"X-OpenReplay-SessionToken": TOKEN}))
        logging.getLogger("shopapp.payments.card").error("declined %s", "visa")
        kit.leave_request(reset)
        logging.getLogger("shopapp").warning("outside a request")
    finally:
        root.removeHandler(second)
    first, outside = docs(stream)
    assert first["message"] == f"openReplaySessionToken={TOKEN} openReplaySession.id={SESSION_ID} declined visa"
    assert first["level"] == "error" and first["tags"] == ["error"] and first["openreplay"] == {"session_id": SESSION_ID}
    assert first["@timestamp"].endswith("Z") and first["utc_time"] == first["@timestamp"]
    assert outside["message"] == "outside a request" and "openreplay" not in outside


def test_a_filter_on_the_root_logger_misses_child_loggers(tmp_path, captured):
    """What OpenReplay's own example does, and why the printed code says HANDLER."""
    kit = load("python-flask", tmp_path)
    root, handler, stream = captured
    handler.setFormatter(kit.JsonFormatter())
    root.addFilter(kit.OpenReplayFilter())
    reset = kit.enter_request(headers(**{"X-OpenReplay-SessionToken": TOKEN}))
    logging.getLogger("shopapp.child").error("lost")
    kit.leave_request(reset)
    assert docs(stream)[0]["message"] == "lost"


@pytest.mark.parametrize("generation, marker", [("v1.20", f"openReplaySessionToken={TOKEN} "),
                                                 ("v1.21", f"openReplaySession.id={SESSION_ID} ")])
def test_one_generation_writes_its_marker_only(tmp_path, captured, generation, marker):
    kit = load("python-flask", tmp_path, generation)
    root, handler, stream = captured
    handler.setFormatter(kit.JsonFormatter())
    kit.install(handler)
    reset = kit.enter_request(headers(**{"X-OpenReplay-SessionToken": TOKEN}))
    root.info("hello")
    kit.leave_request(reset)
    doc = docs(stream)[0]
    assert doc["message"] == marker + "hello"
    assert ("utc_time" in doc) == (generation == "v1.20")


def test_wsgi_and_django_middleware_set_the_session_per_request_and_log_the_canary(tmp_path, captured):
    root, handler, stream = captured
    for stack in ("python-wsgi", "python-django"):
        kit = load(stack, tmp_path)
        handler.setFormatter(kit.JsonFormatter())
        handler.filters.clear()
        kit.install(handler)
        kit.canary_log.parent = root  # the canary's logger, under this test's tree

        def view(*_):
            logging.getLogger("shopapp.view").error("in the view")
            return ["ok"]

        if stack == "python-wsgi":
            app = kit.OpenReplayMiddleware(view)
            app({"HTTP_X_OPENREPLAY_SESSION_TOKEN": TOKEN, "HTTP_X_ORX_CANARY": "ab" * 12}, None)
        else:
            # Django's request.headers, as far as the middleware reads it (get by the name)
            request = SimpleNamespace(headers={"X-OpenReplay-Session-Token": TOKEN, "X-Orx-Canary": "ab" * 12})
            kit.OpenReplayMiddleware(view)(request)
        canary, line = docs(stream)[-2:]
        assert canary["message"].endswith(f"orx-elastic canary {'ab' * 12} session={SESSION_ID} "
                                          "header=X-OpenReplay-Session-Token")
        assert line["message"].startswith(f"openReplaySessionToken={TOKEN} ") and kit.current_session() is None


def test_asgi_middleware_keeps_concurrent_sessions_apart(tmp_path, captured):
    kit = load("python-fastapi", tmp_path)
    root, handler, stream = captured
    handler.setFormatter(kit.JsonFormatter())
    kit.install(handler)
    both_inside = asyncio.Event()
    inside = []

    async def app(scope, receive, send):
        logging.getLogger("shopapp.api").error("first")
        inside.append(1)
        if len(inside) == 2:
            both_inside.set()
        await both_inside.wait()  # both requests in flight at once
        logging.getLogger("shopapp.api").error("second")

    wrapped = kit.OpenReplayMiddleware(app)

    async def main():
        scopes = [{"type": "http", "headers": [(b"x-openreplay-sessiontoken", t.encode())]} for t in (TOKEN, OTHER)]
        await asyncio.wait_for(asyncio.gather(*(wrapped(s, None, None) for s in scopes)), 10)

    asyncio.run(main())
    for doc in docs(stream):
        token = TOKEN if doc["openreplay"]["session_id"] == SESSION_ID else OTHER
        assert doc["message"].startswith(f"openReplaySessionToken={token} ")
    assert len(docs(stream)) == 4


def test_the_canary_session_is_a_token_the_tool_and_the_kit_read_alike(tmp_path):
    kit = load("python-flask", tmp_path)
    session = propagation.fresh_session(1_765_000_000_000, 0xABCDEF, bytes(32), "cd" * 12)
    ref = parse_session_ref(session.token)
    assert ref.session_id == session.session_id
    assert kit.session_from_headers(headers(**{"X-OpenReplay-SessionToken": session.token})).session_id == ref.session_id
    assert session.header_value("openReplaySession.id") == session.session_id
    assert session.header_value("X-OpenReplay-Session-Token") == session.token


def test_under_an_ecs_formatter_the_line_keeps_log_level_and_gets_level_and_the_marker(tmp_path, captured):
    import ecs_logging

    kit = load("python-flask", tmp_path)
    root, handler, stream = captured
    handler.setFormatter(ecs_logging.StdlibFormatter())
    kit.install(handler)
    reset = kit.enter_request(headers(**{"X-OpenReplay-Session-Token": TOKEN}))
    logging.getLogger("shopapp.orders").warning("slow")
    kit.leave_request(reset)
    doc = docs(stream)[0]
    assert doc["message"] == f"openReplaySessionToken={TOKEN} openReplaySession.id={SESSION_ID} slow"
    assert doc["log.level"] == "warning" and doc["level"] == "warning"
    assert doc["openreplay_session_id"] == SESSION_ID
