"""`orx-elastic check` against real Elasticsearch nodes: every failure produced on purpose."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import time
import uuid

import pytest

from conftest import Env, run_cli

MARKED = [
    ("GET /cart 500 openReplaySessionToken=jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q boom",
     "2024-01-24T04:00:00Z", ["error"]),
    ("POST /pay 502 openReplaySession.id=2618307011354435587 upstream failed", "2024-01-24T04:05:00Z", ["error"]),
    ("GET /home 200 openReplaySession.id=2618307011354435587", "2024-01-24T04:06:00Z", ["success", "info"]),
]
UNMARKED = [("GET /health 200", "2024-01-24T04:07:00Z", ["info"])]
TEXT_MAPPING = {"properties": {"message": {"type": "text"}, "utc_time": {"type": "date"},
                               "tags": {"type": "keyword"}}}
KEYWORD_MAPPING = {"properties": {"message": {"type": "keyword", "ignore_above": 256}, "utc_time": {"type": "date"},
                                  "tags": {"type": "keyword"}}}


def _load(admin, index: str, mapping: dict, rows) -> None:
    admin.indices.create(index=index, mappings=mapping)
    for message, when, tags in rows:
        admin.index(index=index, document={"message": message, "utc_time": when, "tags": tags})
    admin.indices.refresh(index=index)


def _ensure_logs_index(admin) -> None:
    """OpenReplay v1.21+ reads the index `logs`; shared by every test of the node, so create it once."""
    if not admin.indices.exists(index="logs"):
        with contextlib.suppress(Exception):  # created meanwhile by another test module
            admin.indices.create(index="logs", mappings=TEXT_MAPPING)
    admin.index(index="logs", document={"message": MARKED[0][0], "utc_time": MARKED[0][1], "tags": ["error"]},
                refresh=True)


def _key(admin, name: str, names, expiration: str | None = "30d") -> dict:
    body = {"name": name, "role_descriptors": {"reader": {"indices": [{"names": list(names), "privileges": ["read"]}]}}}
    if expiration:
        body["expiration"] = expiration
    key = admin.security.create_api_key(**body)
    return {"id": key["id"], "api_key": key["api_key"]}


ENV = Env(vars={"NO_COLOR": "1"})


def run_check(tmp_path, host: str, key: dict | None, *extra: str):
    args = ["--config", str(tmp_path / "c.yaml"), "check", "--host", host]
    if key:
        args += ["--id", key["id"], "--api-key", key["api_key"]]
    args += [*extra, "-o", "json"]
    proc = run_cli(*args, env=ENV)
    if key:
        assert key["api_key"] not in proc.output
    try:
        findings = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {proc.exit_code}): {proc.stdout!r} {proc.stderr!r}")
    by_id = {f["id"]: f for f in findings}
    assert [f["id"] for f in findings] == ["secret", "connect", "tls", "auth", "privileges", "indices", "message_field",
                                           "time_field", "tags_field", "marked_logs", "shapes", "recent_sessions",
                                           "logs_index", "openreplay_v121", "openreplay_v120"]
    return proc.exit_code, by_id, proc


def _statuses(by_id) -> dict:
    return {k: v["status"] for k, v in by_id.items()}


def _text(f) -> str:
    return (f["title"] + " " + f["detail"] + " " + f["fix"]).lower()


@pytest.fixture(scope="module")
def http_env(es_node):
    admin = es_node.admin_client()
    prefix = "chk-" + uuid.uuid4().hex[:8]
    _load(admin, f"{prefix}-app-logs", TEXT_MAPPING, MARKED + UNMARKED)
    _load(admin, f"{prefix}-kw-logs", KEYWORD_MAPPING, MARKED + UNMARKED)
    _load(admin, f"{prefix}-nomark-logs", TEXT_MAPPING, UNMARKED)
    _ensure_logs_index(admin)
    key = _key(admin, f"{prefix}-reader", [f"{prefix}-*", "logs"])
    return {"node": es_node, "admin": admin, "prefix": prefix, "key": key}


@pytest.fixture(scope="module")
def tls_env(es_tls_node):
    admin = es_tls_node.admin_client()
    prefix = "chk-" + uuid.uuid4().hex[:8]
    _load(admin, f"{prefix}-app-logs", TEXT_MAPPING, MARKED + UNMARKED)
    _ensure_logs_index(admin)
    key = _key(admin, f"{prefix}-reader", [f"{prefix}-*", "logs"])
    return {"node": es_tls_node, "admin": admin, "prefix": prefix, "key": key}


# ---------------------------------------------------------------- healthy


def test_healthy_http_setup_is_all_ok(http_env, tmp_path):
    p = http_env["prefix"]
    rc, by_id, proc = run_check(tmp_path, http_env["node"].url, http_env["key"], "--indexes", f"{p}-app-logs")
    assert _statuses(by_id) == {k: "ok" for k in by_id}, json.dumps(by_id, indent=1)
    assert rc == 0, proc.stderr
    assert by_id["indices"]["data"]["indices"] == [f"{p}-app-logs"]
    assert by_id["indices"]["data"]["documents"] == 4
    marked = by_id["marked_logs"]["data"]
    assert (marked["marked"], marked["token_markers"], marked["session_id_markers"], marked["errors"]) == (3, 1, 2, 2)
    assert marked["oldest"].startswith("2024-01-24T04:00") and marked["newest"].startswith("2024-01-24T04:06")
    auth = by_id["auth"]["data"]
    assert auth["api_key_id"] == http_env["key"]["id"] and auth["api_key_name"] == f"{p}-reader"
    assert auth["expiration"] and auth["expiration"] != "never"
    assert by_id["logs_index"]["data"]["documents"] >= 1


def test_healthy_https_with_ca_and_with_fingerprint(tls_env, tmp_path):
    node, p = tls_env["node"], tls_env["prefix"]
    rc, by_id, _ = run_check(tmp_path, node.url, tls_env["key"], "--indexes", f"{p}-app-logs",
                             "--ca-certs", str(node.ca_path))
    assert rc == 0 and set(_statuses(by_id).values()) == {"ok"}, json.dumps(by_id, indent=1)
    assert "verified" in by_id["tls"]["detail"]
    assert by_id["tls"]["data"]["fingerprint"] == node.fingerprint
    fp = ":".join(node.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
    rc, by_id, _ = run_check(tmp_path, node.url, tls_env["key"], "--indexes", f"{p}-app-logs", "--fingerprint", fp)
    assert rc == 0 and set(_statuses(by_id).values()) == {"ok"}, json.dumps(by_id, indent=1)
    assert "pinned fingerprint" in by_id["tls"]["detail"]


def test_table_output_and_exit_code(http_env, tmp_path):
    p = http_env["prefix"]
    proc = run_cli("--config", tmp_path / "c.yaml", "check",
                   "--host", http_env["node"].url, "--id", http_env["key"]["id"], "--api-key", "not-the-secret",
                   "--indexes", f"{p}-app-logs", "-o", "table", env=ENV)
    assert proc.exit_code == 10
    assert "API key authentication" in proc.stdout and "fix:" in proc.stdout
    assert "error: 1 check failed (auth)" in proc.stderr


# ---------------------------------------------------------------- connection and TLS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_closed_port(http_env, tmp_path):
    rc, by_id, proc = run_check(tmp_path, f"http://127.0.0.1:{_free_port()}", http_env["key"])
    assert rc == 10
    assert by_id["connect"]["status"] == "failure" and "refused" in by_id["connect"]["detail"]
    assert by_id["secret"]["status"] == "ok" and by_id["secret"]["detail"] == "in the --api-key flag"  # local
    assert all(by_id[k]["status"] == "skipped" for k in by_id if k not in ("secret", "connect"))
    assert "no connection" in by_id["auth"]["detail"]
    assert "error: 1 check failed (connect)" in proc.stderr


def test_http_against_https_node(tls_env, tmp_path):
    node = tls_env["node"]
    rc, by_id, _ = run_check(tmp_path, f"http://{node.host}:{node.port}", tls_env["key"])
    assert rc == 10 and by_id["connect"]["status"] == "ok"
    tls = by_id["tls"]
    assert tls["status"] == "failure" and "expects https" in _text(tls) and "https://" in tls["fix"]
    assert by_id["auth"]["status"] == "skipped"


def test_https_against_http_node(http_env, tmp_path):
    node = http_env["node"]
    rc, by_id, _ = run_check(tmp_path, f"https://{node.host}:{node.port}", http_env["key"])
    assert rc == 10
    tls = by_id["tls"]
    assert tls["status"] == "failure" and "plain http" in _text(tls) and "http://" in tls["fix"]
    assert tls["data"]["plain_http"] is True


def _other_ca(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_wrong_ca(tls_env, tmp_path):
    ca = _other_ca(tmp_path / "other-ca.pem")
    rc, by_id, _ = run_check(tmp_path, tls_env["node"].url, tls_env["key"], "--ca-certs", str(ca))
    tls = by_id["tls"]
    assert rc == 10 and tls["status"] == "failure"
    assert str(ca) in tls["detail"] and "did not sign" in tls["detail"]
    assert "--ca-certs" in tls["fix"] and "--fingerprint" in tls["fix"]
    assert tls["data"]["fingerprint"] == tls_env["node"].fingerprint
    assert by_id["auth"]["status"] == "skipped"


def test_no_ca_system_store_does_not_trust(tls_env, tmp_path):
    rc, by_id, _ = run_check(tmp_path, tls_env["node"].url, tls_env["key"])
    tls = by_id["tls"]
    assert rc == 10 and tls["status"] == "failure" and "trust store" in tls["detail"]
    assert "--ca-certs" in tls["fix"]


def test_wrong_fingerprint(tls_env, tmp_path):
    rc, by_id, _ = run_check(tmp_path, tls_env["node"].url, tls_env["key"], "--fingerprint", "ab" * 32)
    tls = by_id["tls"]
    assert rc == 10 and tls["status"] == "failure" and "pinned" in tls["detail"]
    assert tls_env["node"].fingerprint in tls["detail"] and "--fingerprint" in tls["fix"]


def test_insecure_is_a_warning(tls_env, tmp_path):
    p = tls_env["prefix"]
    rc, by_id, _ = run_check(tmp_path, tls_env["node"].url, tls_env["key"], "--indexes", f"{p}-app-logs", "--insecure")
    assert rc == 0 and by_id["tls"]["status"] == "warning" and "not verified" in by_id["tls"]["detail"].lower()
    assert by_id["marked_logs"]["status"] == "ok"


# ---------------------------------------------------------------- the key


def test_wrong_secret(http_env, tmp_path):
    key = {"id": http_env["key"]["id"], "api_key": "AAAAwrongsecretAAAA"}
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, key)
    auth = by_id["auth"]
    assert rc == 10 and auth["status"] == "failure"
    assert "secret is wrong" in auth["detail"] and key["id"] in auth["detail"]
    assert all(by_id[k]["status"] == "skipped" for k in ("privileges", "indices", "marked_logs", "logs_index"))
    assert "authentication failed" in by_id["privileges"]["detail"]


def test_invalidated_key(http_env, tmp_path):
    admin, p = http_env["admin"], http_env["prefix"]
    key = _key(admin, f"{p}-to-invalidate", [f"{p}-*"])
    admin.security.invalidate_api_key(ids=[key["id"]])
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, key)
    assert rc == 10 and by_id["auth"]["status"] == "failure"
    assert "invalidated" in by_id["auth"]["detail"] and by_id["auth"]["data"]["reason"] == "invalidated"


def test_expired_key(http_env, tmp_path):
    admin, p = http_env["admin"], http_env["prefix"]
    key = _key(admin, f"{p}-short", [f"{p}-*"], expiration="1s")
    time.sleep(2.5)
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, key)
    assert rc == 10 and by_id["auth"]["status"] == "failure"
    assert "expired" in by_id["auth"]["detail"] and by_id["auth"]["data"]["reason"] == "expired"


def test_key_without_read_on_the_pattern(http_env, tmp_path):
    admin, p = http_env["admin"], http_env["prefix"]
    key = _key(admin, f"{p}-elsewhere", [f"elsewhere-{p}-*"])
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, key, "--indexes", f"{p}-app-logs")
    priv = by_id["privileges"]
    assert rc == 10 and by_id["auth"]["status"] == "ok"
    # the key sees no index there: the answer `logs` gives, with the typo first and the grant second
    assert priv["status"] == "failure" and f"no index matches {p}-app-logs that the key may read" in priv["detail"]
    assert priv["data"]["read"] == {f"{p}-app-logs": False}
    assert "check `indexes` for a typo" in priv["fix"] and "create-key" in priv["fix"]
    for check_id in ("indices", "message_field", "time_field", "tags_field", "marked_logs"):
        assert by_id[check_id]["status"] == "skipped" and "no index matches" in by_id[check_id]["detail"]
    assert by_id["logs_index"]["status"] == "warning" and "may not read" in by_id["logs_index"]["detail"]


def test_read_on_some_patterns_only_is_a_warning(http_env, tmp_path):
    p = http_env["prefix"]
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, http_env["key"],
                             "--indexes", f"{p}-app-logs,secret-{p}-*")
    assert rc == 0 and by_id["privileges"]["status"] == "warning"
    assert f"secret-{p}-*" in by_id["privileges"]["detail"] and by_id["marked_logs"]["status"] == "ok"


# ---------------------------------------------------------------- indices, mapping, data


def test_pattern_matching_nothing(http_env, tmp_path):
    p = http_env["prefix"]
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, http_env["key"], "--indexes", f"{p}-nothing-*")
    assert rc == 10 and by_id["privileges"]["status"] == "ok"
    assert by_id["indices"]["status"] == "failure" and "no index matches" in by_id["indices"]["detail"]
    assert by_id["indices"]["data"]["count"] == 0
    for check_id in ("message_field", "time_field", "tags_field", "marked_logs"):
        assert by_id[check_id]["status"] == "skipped" and "no index" in by_id[check_id]["detail"]
    assert by_id["logs_index"]["status"] == "ok"


def test_keyword_message_field(http_env, tmp_path):
    p = http_env["prefix"]
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, http_env["key"], "--indexes", f"{p}-kw-logs")
    msg = by_id["message_field"]
    assert rc == 0 and msg["status"] == "warning"
    assert "keyword" in msg["detail"] and "regexp" in msg["detail"] and "ignore_above" in msg["detail"]
    assert "text" in msg["fix"]
    # the marked lines are still counted, with a wildcard on the keyword field
    assert by_id["marked_logs"]["status"] == "ok" and by_id["marked_logs"]["data"]["marked"] == 3


def test_no_marked_logs(http_env, tmp_path):
    p = http_env["prefix"]
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, http_env["key"], "--indexes", f"{p}-nomark-logs")
    marked = by_id["marked_logs"]
    assert rc == 0 and marked["status"] == "warning" and marked["data"]["marked"] == 0
    assert "openReplaySessionToken=" in marked["detail"] and "propagate" in marked["fix"].lower()
    assert "orx-elastic instrument" in marked["fix"] and "orx-elastic canary" in marked["fix"]


def test_a_failing_shard_is_a_failure_that_names_the_index(http_env, tmp_path):
    """An index whose result window (10) is smaller than a page: `logs` and `sessions` cannot read it."""
    p, admin = http_env["prefix"], http_env["admin"]
    index = f"{p}-window-logs"
    admin.indices.create(index=index, settings={"index.max_result_window": 10}, mappings=TEXT_MAPPING)
    recent = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    admin.index(index=index, refresh=True, document={
        "message": "openReplaySession.id=2618307011354435587 boom", "utc_time": recent, "tags": ["error"]})
    try:
        rc, by_id, _ = run_check(tmp_path, http_env["node"].url, http_env["key"], "--indexes",
                                 f"{p}-app-logs,{index}")
    finally:
        admin.indices.delete(index=index)
    recent_sessions = by_id["recent_sessions"]
    assert rc == 10 and recent_sessions["status"] == "failure", json.dumps(recent_sessions)
    assert "1 of 2 shards failed" in recent_sessions["detail"] and index in recent_sessions["detail"]
    assert "result window" in recent_sessions["detail"].lower() and recent_sessions["fix"]


def test_wrong_field_names(http_env, tmp_path):
    p = http_env["prefix"]
    rc, by_id, _ = run_check(tmp_path, http_env["node"].url, http_env["key"], "--indexes", f"{p}-app-logs",
                             "--message-field", "msg", "--time-field", "@timestamp", "--tags-field", "level")
    assert rc == 10
    assert by_id["message_field"]["status"] == "failure" and "'msg'" in by_id["message_field"]["detail"]
    assert by_id["time_field"]["status"] == "failure" and "'@timestamp'" in by_id["time_field"]["detail"]
    assert by_id["tags_field"]["status"] == "warning"
    assert by_id["marked_logs"]["status"] == "skipped"


def test_silent_server_is_bounded_by_timeout(tmp_path):
    """A port that accepts connections but never answers (the kernel completes the handshake)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        started = time.monotonic()
        rc, by_id, _ = run_check(tmp_path, f"http://127.0.0.1:{port}", {"id": "x", "api_key": "never-shown-secret"},
                                 "--timeout", "1", "--deadline", "10")
        elapsed = time.monotonic() - started
    assert rc == 10 and by_id["connect"]["status"] == "ok"
    assert by_id["tls"]["status"] == "failure" and "no answer" in by_id["tls"]["detail"]
    assert by_id["auth"]["status"] == "skipped"
    assert elapsed < 8
