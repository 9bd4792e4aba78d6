"""The pure parts of `check` (checks/run.py) and its checks: ordering, skip logic, deadline, classification, queries.

The fake client here only drives the control flow; every real behaviour is tested
against real Elasticsearch nodes in tests/integration/test_check.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from elastic_cli.checks import credentials, data, network
from elastic_cli.checks.findings import CHECK_IDS, FAILURE, OK, SKIPPED, WARNING, Finding, finding
from elastic_cli.checks.run import run_checks
from elastic_cli.config.file import ConfigFile
from elastic_cli.config.settings import resolve


def make_settings(**flags):
    flags.setdefault("host", "http://127.0.0.1:9200")
    flags.setdefault("id", "key-id")
    flags.setdefault("api_key", "s3cret-value")
    return resolve(ConfigFile(path=Path("/nonexistent")), None, flags, environ={})



def _standard_like(text: str) -> dict:
    terms: dict = {}
    for position, term in enumerate(re.findall(r"[0-9a-z]+(?:[._'][0-9a-z]+|:[a-z][0-9a-z]*)*", text.lower())):
        terms.setdefault(term, {"tokens": []})["tokens"].append({"position": position})
    return terms

class FakeResponse(dict):
    @property
    def body(self):
        return dict(self)


class FakeClient:
    """Answers like Elasticsearch would for a healthy setup; `fail` maps method -> exception."""

    def __init__(self, fail=None, caps=None, marked=3, errors=2, failed_shard=None):
        self.fail = fail or {}
        self.failed_shard = failed_shard  # a shard failure every search answers with (200, partial)
        self.calls = []
        self.caps = caps or {"indices": ["app-logs"], "fields": {
            "message": {"text": {"type": "text"}}, "utc_time": {"date": {"type": "date"}},
            "tags": {"keyword": {"type": "keyword"}}}}
        self.marked, self.errors = marked, errors
        self.security = SimpleNamespace(authenticate=self._wrap("authenticate", lambda **kw: {
            "username": "u", "authentication_type": "api_key", "api_key": {"id": "key-id", "name": "orx"}}),
            get_api_key=self._wrap("get_api_key", lambda **kw: {"api_keys": [{"id": "key-id", "expiration": None}]}),
            has_privileges=self._wrap("has_privileges", lambda **kw: {
                "index": {n: {"read": True} for n in kw["index"][0]["names"]}}))
        self.field_caps = self._wrap("field_caps", lambda **kw: self.caps)
        self.search = self._wrap("search", self._search)
        self.count = self._wrap("count", lambda **kw: {"count": 5})
        self.open_point_in_time = self._wrap("open_point_in_time", lambda **kw: {"id": "pit"})
        self.close_point_in_time = self._wrap("close_point_in_time", lambda **kw: {})
        # the sample marked lines split about as the standard analyzer does (measured:
        # tests/integration/test_index_analysis.py): words joined by `.`, `_`, `:` before a letter, lower case
        self.mtermvectors = self._wrap("mtermvectors", lambda **kw: {"docs": [
            {"_index": doc["_index"], "term_vectors": {"message": {"terms": _standard_like(doc["doc"]["message"])}}}
            for doc in kw["body"]["docs"]]})

    def options(self, **kw):
        self.calls.append(("options", kw))
        return self

    def _wrap(self, name, fn):
        def call(**kw):
            self.calls.append((name, kw))
            if name in self.fail:
                raise self.fail[name]
            return FakeResponse(fn(**kw))
        return call

    def _search(self, **kw):
        answer = self._answer(**kw)
        if self.failed_shard:
            answer["_shards"] = {"total": 2, "failed": 1, "failures": [self.failed_shard]}
        return answer

    def _answer(self, **kw):
        if "body" in kw:  # a page of marked error lines, as the pager asks (sessions in the last day)
            import time

            now_ms = str(int(time.time() * 1000) - 60_000)
            return {"pit_id": "pit", "hits": {"hits": [
                {"_index": "app-logs", "_id": str(n), "sort": [n], "fields": {
                    "message": [f"boom openReplaySession.id=26183070113544355{n}"], "utc_time": [now_ms]}}
                for n in range(self.marked)]}}
        if "by_index" in (kw.get("aggs") or {}):
            return {"aggregations": {"by_index": {"buckets": [{"key": "app-logs", "doc_count": self.marked}]}}}
        if "aggs" not in kw:
            return {"hits": {"total": {"value": 10}}}
        return {"hits": {"total": {"value": self.marked}}, "aggregations": {
            "generation": {"buckets": {"token": {"doc_count": 1}, "session_id": {"doc_count": self.marked - 1}}},
            "errors": {"doc_count": self.errors},
            "newest": {"value_as_string": "2024-01-24T04:06:00.000Z"},
            "oldest": {"value_as_string": "2024-01-24T04:00:00.000Z"}}}


def ok_net(check_id):
    return lambda settings, deadline: finding(check_id, OK, "fine")


def run(client=None, settings=None, connect=None, tls=None, **kw):
    client = client if client is not None else FakeClient()
    return run_checks(settings or make_settings(), client_factory=lambda s: client,
                                connect=connect or ok_net("connect"), tls=tls or ok_net("tls"), **kw)


class ApiError(Exception):
    def __init__(self, status, body=None):
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.body = body or {}


def statuses(findings):
    return {f.id: f.status for f in findings}


def by_id(findings):
    return {f.id: f for f in findings}


def test_healthy_run_returns_every_check_in_order():
    findings = run()
    assert [f.id for f in findings] == list(CHECK_IDS)
    # the OpenReplay checks run each generation's own request, which this fake does not answer as
    # Elasticsearch would (tests/integration/test_shows.py runs them on real nodes): they only warn
    shown = {k: v for k, v in statuses(findings).items() if not k.startswith("openreplay_")}
    assert set(shown.values()) == {OK}, [(f.id, f.detail) for f in findings]
    assert {statuses(findings)["openreplay_v121"], statuses(findings)["openreplay_v120"]} <= {OK, WARNING}


def test_no_connection_skips_everything_else():
    findings = run(connect=lambda s, d: finding("connect", FAILURE, "refused"))
    result = statuses(findings)
    assert result["connect"] == FAILURE and result["secret"] == OK  # local: it runs whatever the network does
    assert all(result[i] == SKIPPED for i in CHECK_IDS[2:])
    assert all("no connection" in f.detail for f in findings[2:])


def test_tls_failure_skips_the_api_checks():
    # the API requests went out beside the TLS probe (a healthy fake answers them): what they found is
    # discarded, as a failed TLS check rules it out
    client = FakeClient()
    findings = run(client, tls=lambda s, d: finding("tls", FAILURE, "bad cert"))
    result = statuses(findings)
    assert result["auth"] == SKIPPED and "TLS" in by_id(findings)["auth"].detail
    assert all(result[i] == SKIPPED for i in CHECK_IDS[CHECK_IDS.index("tls") + 1:])


def test_failed_auth_skips_4_to_8():
    client = FakeClient(fail={"authenticate": ApiError(401, {"error": {
        "additional_unsuccessful_credentials": "API key: api key is expired"}})})
    findings = run(client)
    result = statuses(findings)
    auth = by_id(findings)["auth"]
    assert result["auth"] == FAILURE and "expired" in auth.detail and "key-id" in auth.detail
    assert all(result[i] == SKIPPED for i in CHECK_IDS[CHECK_IDS.index("auth") + 1:])
    assert all("authentication failed" in f.detail for f in findings[CHECK_IDS.index("auth") + 1:])


def test_missing_key_is_an_auth_failure_not_a_crash():
    settings = make_settings(api_key=None, id=None)
    findings = run_checks(settings, connect=ok_net("connect"), tls=ok_net("tls"))
    assert statuses(findings)["auth"] == FAILURE and "no API key" in by_id(findings)["auth"].detail
    assert statuses(findings)["secret"] == SKIPPED


def test_no_read_skips_index_checks_but_not_logs_index():
    client = FakeClient()
    client.security.has_privileges = client._wrap("has_privileges", lambda **kw: {
        "index": {n: {"read": False} for n in kw["index"][0]["names"]}})
    findings = run(client)
    result = statuses(findings)
    assert result["privileges"] == FAILURE
    assert all(result[i] == SKIPPED for i in ("indices", "message_field", "time_field", "tags_field", "marked_logs"))
    assert result["logs_index"] == OK


def test_no_index_skips_mapping_and_data():
    findings = run(FakeClient(caps={"indices": [], "fields": {}}))
    result = statuses(findings)
    assert result["indices"] == FAILURE
    assert all(result[i] == SKIPPED for i in ("message_field", "time_field", "tags_field", "marked_logs"))


def test_missing_message_field_skips_marked_logs():
    caps = {"indices": ["a"], "fields": {"utc_time": {"date": {}}, "tags": {"keyword": {}}}}
    result = statuses(run(FakeClient(caps=caps)))
    assert result["message_field"] == FAILURE and result["marked_logs"] == SKIPPED


def test_keyword_message_is_a_warning_and_uses_wildcard():
    caps = {"indices": ["a"], "fields": {"message": {"keyword": {}}, "utc_time": {"date": {}}, "tags": {"keyword": {}}}}
    client = FakeClient(caps=caps)
    findings = run(client)
    assert statuses(findings)["message_field"] == WARNING
    search = [kw for name, kw in client.calls if name == "search" and "aggs" in kw][0]
    assert all("wildcard" in clause for clause in search["query"]["bool"]["should"])


def test_zero_marked_lines_is_a_warning_with_the_fix():
    findings = run(FakeClient(marked=0, errors=0))
    marked = findings[CHECK_IDS.index("marked_logs")]
    assert marked.status == WARNING and "propagate" in marked.fix and marked.data["marked"] == 0


def test_marked_but_none_tagged_error_is_a_warning():
    marked = run(FakeClient(errors=0))[CHECK_IDS.index("marked_logs")]
    assert marked.status == WARNING and "tagged 'error'" in marked.detail


def test_logs_index_missing_is_only_a_warning():
    findings = run(FakeClient(fail={"count": ApiError(404)}))
    assert statuses(findings)["logs_index"] == WARNING
    assert FAILURE not in statuses(findings).values()


def test_unexpected_exception_in_a_check_becomes_a_failure_and_others_run():
    findings = run(FakeClient(fail={"field_caps": RuntimeError("boom")}))
    result = statuses(findings)
    assert result["indices"] == FAILURE and "boom" in by_id(findings)["indices"].detail
    assert result["logs_index"] == OK
    # no session was found to judge: both generations say so alike (the first one was judged ahead)
    for check_id in ("openreplay_v121", "openreplay_v120"):
        assert result[check_id] == OK and "no session to judge" in by_id(findings)[check_id].detail


def test_deadline_skips_the_remaining_checks():
    now = [0.0]

    def slow_connect(settings, deadline):
        now[0] += 31
        return finding("connect", OK, "slow")

    findings = run(connect=slow_connect, clock=lambda: now[0], deadline_seconds=30)
    result = statuses(findings)
    assert result["connect"] == OK
    assert all(result[i] == SKIPPED for i in CHECK_IDS[2:])
    assert "deadline of 30s" in findings[2].detail


def test_requests_are_bounded_by_the_deadline():
    now = [0.0]
    client = FakeClient()
    run(client, settings=make_settings(timeout=10), clock=lambda: now[0], deadline_seconds=4)
    # options(max_retries=0) on a bounded client keeps its bound (options chain): only a bound set counts
    timeouts = [kw["request_timeout"] for name, kw in client.calls if name == "options" and "request_timeout" in kw]
    assert timeouts and max(timeouts) <= 4


@pytest.mark.parametrize("text,expected", [
    ("API key: api key is expired", "expired"),
    ("API key: api key [abc] has been invalidated", "invalidated"),
    ("API key: invalid credentials for API key [abc]", "wrong-secret"),
    ("API key: unable to find apikey with id abc", "unknown-id"),
    ("API key: apikey authentication for id abc encountered a failure", "rejected"),
])
def test_classify_auth_failure(text, expected):
    exc = ApiError(401, {"error": {"root_cause": [{"additional_unsuccessful_credentials": text}]}})
    assert credentials.classify_auth_failure(exc) == expected


def test_marker_query_for_text_and_keyword():
    text = data.marker_query("message", ["text"])["bool"]["should"]
    assert {"match_phrase": {"message": "openReplaySessionToken"}} in text
    assert {"match_phrase": {"message": "openReplaySession.id"}} in text
    mixed = data.marker_query("message", ["keyword", "text"])["bool"]["should"]
    assert len(mixed) == 4


def test_self_signed_detection_on_der():
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def cert(subject, issuer, key):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
                .public_bytes(serialization.Encoding.DER))

    key = ec.generate_private_key(ec.SECP256R1())
    a = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "a")])
    b = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "b")])
    assert network.is_self_signed(cert(a, a, key)) is True
    assert network.is_self_signed(cert(a, b, key)) is False
    assert network.is_self_signed(b"\x30\x00") is None


def test_finding_to_dict_is_what_check_prints_as_json():
    f = Finding("auth", FAILURE, "t", "d", "f", {"x": 1})
    assert f.to_dict() == {"id": "auth", "status": FAILURE, "title": "t", "detail": "d", "fix": "f", "data": {"x": 1}}


def test_shapes_names_an_index_with_marked_lines_but_no_level_field_and_what_logs_uses():
    ecs = ".ds-logs-shop-default-2026.11.29-000001"
    caps = {"indices": ["app-logs", ecs, "bare"], "fields": {
        "message": {"text": {"type": "text"}},
        "utc_time": {"date": {"type": "date", "indices": ["app-logs"]},
                     "unmapped": {"type": "unmapped", "indices": [ecs, "bare"]}},
        "@timestamp": {"date": {"type": "date", "indices": [ecs]},
                       "unmapped": {"type": "unmapped", "indices": ["app-logs", "bare"]}},
        "tags": {"keyword": {"type": "keyword", "indices": ["app-logs"]},
                 "unmapped": {"type": "unmapped", "indices": [ecs, "bare"]}},
        "log.level": {"keyword": {"type": "keyword", "indices": [ecs]},
                      "unmapped": {"type": "unmapped", "indices": ["app-logs", "bare"]}}}}

    class Marked(FakeClient):
        def _search(self, **kw):
            if "by_index" in (kw.get("aggs") or {}):
                return {"aggregations": {"by_index": {"buckets": [
                    {"key": ecs, "doc_count": 3}, {"key": "bare", "doc_count": 1}]}}}
            return super()._search(**kw)

    shapes = {f.id: f for f in run(Marked(caps=caps))}["shapes"]
    assert shapes.status == WARNING
    assert "no date field in bare" in shapes.detail and "no level field in bare" in shapes.detail
    assert "logs-shop-default: time @timestamp, level log.level" in shapes.detail  # the stream's name
    assert "app-logs" not in shapes.detail  # no marked lines there: not in use


def test_recent_sessions_counts_the_sessions_with_error_lines():
    recent = {f.id: f for f in run(FakeClient(marked=3))}["recent_sessions"]
    assert recent.status == OK and recent.data["sessions"] == 3
    assert recent.detail.startswith("3 sessions logged error lines in the last 24 hours")
    none = {f.id: f for f in run(FakeClient(marked=0))}["recent_sessions"]
    assert none.status == OK and "no session logged error lines" in none.detail


def test_a_failing_shard_while_counting_marked_lines_is_a_failure_naming_it():
    shard = {"shard": 0, "index": "app-logs-2", "reason": {"type": "illegal_argument_exception",
                                                           "reason": "field [x] of type [keyword] is not supported"}}
    found = {f.id: f for f in run(FakeClient(failed_shard=shard))}
    marked = found["marked_logs"]
    assert marked.status == FAILURE
    assert "1 of 2 shards failed" in marked.detail and "app-logs-2[0]: illegal_argument_exception" in marked.detail
    assert found["recent_sessions"].status == FAILURE and "app-logs-2" in found["recent_sessions"].detail
    healthy = {f.id: f for f in run(FakeClient())}
    assert healthy["marked_logs"].status == OK and healthy["recent_sessions"].status == OK


def test_checks_the_key_makes_possible_run_side_by_side_and_are_reported_in_order():
    """Over a remote link each request is a round trip: once auth passes, privileges, the field
    caps, the index checks and OpenReplay's `logs` index are asked side by side, not one by one."""
    import threading
    import time

    class SlowClient(FakeClient):
        def __init__(self):
            super().__init__()
            self.in_flight = self.most_in_flight = 0
            self.lock = threading.Lock()

        def _wrap(self, name, fn):
            inner = super()._wrap(name, fn)

            def call(**kw):
                with self.lock:
                    self.in_flight += 1
                    self.most_in_flight = max(self.most_in_flight, self.in_flight)
                time.sleep(0.1)
                try:
                    return inner(**kw)
                finally:
                    with self.lock:
                        self.in_flight -= 1
            return call

    client = SlowClient()
    findings = run(client)
    assert [f.id for f in findings] == list(CHECK_IDS)
    # as in the healthy run: the OpenReplay checks' own requests are beyond this fake
    shown = {k: v for k, v in statuses(findings).items() if not k.startswith("openreplay_")}
    assert set(shown.values()) == {OK}, [(f.id, f.detail) for f in findings]
    assert client.most_in_flight >= 3


def test_every_request_the_key_alone_makes_possible_leaves_before_any_is_answered():
    """Far from the cluster each wave of requests is a round trip: authentication, the key's expiry,
    privileges, the field caps and OpenReplay's `logs` index are one wave, not five. Each request here
    waits (5 s at most) until all five have arrived; sent one after another, they would not."""
    import threading

    first_wave = {"authenticate", "get_api_key", "has_privileges", "field_caps", "count"}
    arrived: set[str] = set()
    waited_out: list[str] = []
    wave = threading.Condition()

    class WaveClient(FakeClient):
        def _wrap(self, name, fn):
            inner = super()._wrap(name, fn)

            def call(**kw):
                if name in first_wave:
                    with wave:
                        arrived.add(name)
                        wave.notify_all()
                        if not wave.wait_for(lambda: first_wave <= arrived, timeout=5):
                            waited_out.append(name)
                return inner(**kw)
            return call

    findings = run(WaveClient())
    assert waited_out == [], f"sent before the others were: {waited_out}"
    shown = {k: v for k, v in statuses(findings).items() if not k.startswith("openreplay_")}
    assert set(shown.values()) == {OK}, [(f.id, f.detail) for f in findings]
    assert by_id(findings)["auth"].data["expiration"] == "never"  # the expiry looked up beside it is used
