"""The retry rule: reads are retried with backoff and Retry-After; writes are sent once."""

from __future__ import annotations

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
        status, extra = step
        meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.0, node=self.config,
                               headers=HttpHeaders({"content-type": "application/json", **extra}))
        return NodeApiResponse(meta, b"{}")


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
        def send():
            return transport.perform_request(method, "/_security/api_key",
                                             headers={"content-type": "application/json"}, body={"name": "k"})
        if isinstance(first, Exception):
            with pytest.raises(TransportConnectionError):
                send()
        else:
            assert send().meta.status == 504
        assert Scripted.calls == [(method, "/_security/api_key")] and transport.waits == []
