"""The retry rule: reads are retried with backoff and Retry-After; writes are sent once."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
from datetime import datetime, timezone

import pytest
from elastic_cli.cluster.transport import ReadRetryingTransport, is_read, retry_after_seconds
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders, NodeConfig
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport._node import NodeApiResponse


@pytest.mark.parametrize("method,target,read", [
    ("GET", "/_security/_authenticate", True),
    ("POST", "/logs-*/_search?size=10", True),
    ("POST", "/a,b/_field_caps?fields=message", True),
    ("POST", "/logs/_pit?keep_alive=1m", True),
    ("POST", "/_security/user/_has_privileges", True),
    ("POST", "/_security/_query/api_key", True),
    ("PUT", "/_security/api_key", False),
    ("POST", "/_security/api_key", False),
    ("DELETE", "/_security/api_key", False),
    ("POST", "/_security/api_key/grant", False),
    ("POST", "/my_search/_doc", False),
])
def test_only_reads_are_safe_to_repeat(method, target, read):
    assert is_read(method, target) is read


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after": "Thu, 01 Jan 2026 12:00:07 GMT"}, now=lambda: now) == 7.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


class Scripted(BaseNode):
    """A node that answers from a script: (status, headers) or an exception, one per request."""

    script: list = []
    calls: list = []

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # noqa: ARG002
        Scripted.calls.append((method, target))
        step = Scripted.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, extra, *body = step  # (status, headers) or (status, headers, body bytes)
        meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.0, node=self.config,
                               headers=HttpHeaders({"content-type": "application/json", **extra}))
        return NodeApiResponse(meta, body[0] if body else b"{}")


@pytest.fixture
def transport(monkeypatch):
    waits: list[float] = []
    Scripted.calls = []
    made = ReadRetryingTransport([NodeConfig("http", "localhost", 9200)], node_class=Scripted, max_retries=3)
    monkeypatch.setattr(made, "sleep", waits.append)
    made.waits = waits  # type: ignore[attr-defined]
    return made


def test_a_read_is_retried_with_growing_waits_and_retry_after(transport):
    Scripted.script = [(503, {}), (429, {"Retry-After": "4"}), TransportConnectionError("reset"), (200, {})]
    response = transport.perform_request("POST", "/logs/_search", headers={"content-type": "application/json"},
                                         body={})
    assert response.meta.status == 200 and len(Scripted.calls) == 4
    first, second, third = transport.waits
    assert 0.25 <= first <= 0.5 and second >= 4 and 1.0 <= third <= 2.0


def test_a_read_gives_up_after_max_retries_with_the_last_answer(transport):
    Scripted.script = [(503, {})] * 4
    assert transport.perform_request("GET", "/_security/_authenticate").meta.status == 503
    assert len(Scripted.calls) == 4 and len(transport.waits) == 3


@pytest.mark.parametrize("first", [(504, {}), TransportConnectionError("dropped")])
def test_creating_or_invalidating_a_key_is_sent_once(transport, first):
    for method in ("PUT", "DELETE"):
        Scripted.calls, Scripted.script = [], [first, (200, {})]
        def send(method=method):
            return transport.perform_request(method, "/_security/api_key",
                                             headers={"content-type": "application/json"}, body={"name": "k"})
        if isinstance(first, Exception):
            with pytest.raises(TransportConnectionError):
                send()
        else:
            assert send().meta.status == 504
        assert Scripted.calls == [(method, "/_security/api_key")] and transport.waits == []


# ---------------------------------------------------------------- --debug's request lines

ENCODED = base64.b64encode(b"key-id:the-secret-of-the-key").decode()
SENT = {"headers": {"content-type": "application/json", "authorization": f"ApiKey {ENCODED}"},
        "body": {"query": {"match_all": {}}}}


@pytest.fixture
def debug_log(caplog):
    caplog.set_level(logging.DEBUG, logger="elastic_cli.http")
    return caplog


def logged(caplog) -> str:
    # the records as any handler gets them, before a formatter: masked at the source
    return "\n".join(record.getMessage() for record in caplog.records if record.name == "elastic_cli.http")


def test_each_request_is_logged_with_its_status_duration_and_took(transport, debug_log):
    Scripted.script = [(200, {}, b'{"took":17,"timed_out":false,"hits":{"hits":[]}}')]
    transport.perform_request("POST", "/logs-*/_search?size=10", **SENT)
    lines = logged(debug_log).splitlines()
    assert re.fullmatch(r"POST /logs-\*/_search\?size=10 -> 200 in \d+\.\d{3} s, took 17 ms", lines[0])
    assert lines[1] == '  < {"took":17,"timed_out":false,"hits":{"hits":[]}}'  # short: shown
    assert "authorization" not in logged(debug_log)  # what was sent: only for an error


def test_an_error_shows_what_was_sent_and_the_whole_answer_masked(transport, debug_log):
    answer = {"error": {"type": "security_exception", "reason": "x" * 5000, "encoded": ENCODED,
                        "api_key": "an-api-key-in-an-answer"}, "status": 401}
    Scripted.script = [(401, {}, json.dumps(answer).encode())]
    transport.perform_request("POST", "/_security/api_key", headers=SENT["headers"],
                              body={"name": "k", "password": "a-password-in-a-body"})
    text = logged(debug_log)
    for secret in ("the-secret-of-the-key", ENCODED, "an-api-key-in-an-answer", "a-password-in-a-body"):
        assert secret not in text
    assert "  > authorization: ApiKey ***" in text.splitlines()
    assert '  > {"name":"k","password":"***"}' in text.splitlines()
    assert '"reason":"' + "x" * 5000 + '"' in text and '"api_key":"***"' in text  # the whole answer


@pytest.mark.parametrize("raw", [True, False])
def test_a_long_answer_is_not_shown_and_never_cut(transport, debug_log, raw):
    from elastic_cli.cluster import raw_pages
    from elastic_cli.cluster.serializer import PageKeepingJsonSerializer

    transport.serializers.serializers["application/json"] = PageKeepingJsonSerializer()  # as build_client
    page = b'{"pit_id":"abc","took":3,"hits":{"hits":[' + b'{"_id":"x"},' * 1000 + b'{"_id":"y"}]}}'
    Scripted.script = [(200, {}, page)]
    with raw_pages.raw_search_pages() if raw else contextlib.nullcontext():
        transport.perform_request("POST", "/_search", **SENT)
    size = f"{len(page)} bytes" if raw else f"{len(json.dumps(json.loads(page), separators=(',', ':')))} characters"
    assert logged(debug_log).splitlines()[1:] == [f"  < {size}, not shown (an error's answer is)"]
    assert "took 3 ms" in logged(debug_log)


def test_no_answer_and_retries_are_logged(transport, debug_log):
    Scripted.script = [TransportConnectionError("Connection error caused by: ProtocolError(connection reset)"),
                       (200, {})]
    transport.perform_request("GET", "/_security/_authenticate", headers=SENT["headers"])
    lines = logged(debug_log).splitlines()
    assert re.fullmatch(r"GET /_security/_authenticate -> no answer after \d+\.\d{3} s: "
                        r"ConnectionError: .*connection reset.*", lines[0])
    assert "  > authorization: ApiKey ***" in lines
    assert any(re.fullmatch(r"retrying in \d\.\d s \(retry 1 of 3\)", line) for line in lines)
    assert lines[-2].startswith("GET /_security/_authenticate -> 200")
