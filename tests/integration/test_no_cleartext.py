"""The API key never crosses the network in clear to a port that speaks TLS.

A recording pass-through (tests/faults.py `record_and_forward`) sits in front of the real HTTPS
node and keeps every byte the CLI sends; the CLI is pointed at it with http://, the mistake a user
makes when TLS is on (Elasticsearch 8's default). What it recorded is what an observer on the
path would have seen.
"""

from __future__ import annotations

import base64
import json

import pytest

import faults  # tests/faults.py (pyproject: pytest pythonpath)
from conftest import run_cli


@pytest.fixture(scope="module")
def tls_key(es_tls_node):
    admin = es_tls_node.admin_client()
    key = admin.security.create_api_key(name="orx-cleartext-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": ["*log*"], "privileges": ["read"]}]}}).body
    yield key
    admin.security.invalidate_api_key(ids=[key["id"]])


def _secrets(key: dict) -> list[bytes]:
    encoded = base64.b64encode(f"{key['id']}:{key['api_key']}".encode())
    return [key["api_key"].encode(), encoded, key["encoded"].encode()]


@pytest.fixture
def env(clean_env, tmp_path):
    # the addresses seen to answer plain HTTP are remembered in the cache directory: one per test
    return clean_env.with_vars(XDG_CACHE_HOME=str(tmp_path / "cache"))


def _run(command: str, url: str, key: dict, env, *extra: str):
    return run_cli(command, "--host", url, "--id", key["id"], "--api-key", key["api_key"],
                   "--indexes", "*log*", *extra, env=env)


def _one_error(result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize("command", ["logs", "check"])
def test_http_to_a_tls_port_sends_no_byte_of_the_key(es_tls_node, tls_key, env, command):
    extra = ("2618307011354435587",) if command == "logs" else ("-o", "json")
    with faults.serving(faults.record_and_forward(es_tls_node.port)) as recorder:
        result = _run(command, f"http://127.0.0.1:{recorder.port}", tls_key, env, *extra)
        received = bytes(recorder.received)
    assert received, "the CLI sent nothing: the test proves nothing"
    for secret in _secrets(tls_key):
        assert secret not in received, "the API key crossed the network in clear"
    assert b"authorization" not in received.lower()
    if command == "logs":
        assert result.exit_code == 5 and "speaks HTTPS" in _one_error(result) and "https://" in result.stderr
    else:
        assert result.exit_code == 10
        by_id = {f["id"]: f for f in result.json()}
        assert by_id["tls"]["status"] == "failure" and "expects HTTPS" in by_id["tls"]["detail"]
        assert by_id["auth"]["status"] == "skipped"


def test_a_plain_http_port_gets_the_key_after_it_answered_and_is_remembered(es_node, env):
    admin = es_node.admin_client()
    key = admin.security.create_api_key(name="orx-cleartext-plain", role_descriptors={
        "r": {"cluster": [], "index": [{"names": ["*log*"], "privileges": ["read"]}]}}).body
    try:
        with faults.serving(faults.record_and_forward(es_node.port)) as recorder:
            url = f"http://127.0.0.1:{recorder.port}"
            result = _run("check", url, key, env, "-o", "json")
            by_id = {f["id"]: f for f in result.json()}
            assert by_id["auth"]["status"] == "ok", json.dumps(by_id["auth"])
            first = bytes(recorder.received).split(b"\r\n\r\n", 1)[0]
            assert b"authorization" not in first.lower()  # the probe went first, without the key
            # the second run knows the address: its first request carries the key (no probe to wait for)
            recorder.received.clear()
            second = _run("logs", url, key, env, "2618307011354435587")
            assert second.exit_code in (0, 8, 9), second.stderr  # no line: what matters is what was sent
            assert b"authorization" in bytes(recorder.received).split(b"\r\n\r\n", 1)[0].lower()
    finally:
        admin.security.invalidate_api_key(ids=[key["id"]])


def test_an_address_remembered_as_plain_http_that_speaks_tls_now(es_node, es_tls_node, tls_key, env):
    # the address answered plain HTTP before (the key went there in clear then); now TLS answers on it:
    # the run names the mismatch, and the next run sends no byte of the key
    behind = {"port": es_node.port}
    with faults.serving(faults.record_and_forward(lambda: behind["port"])) as recorder:
        url = f"http://127.0.0.1:{recorder.port}"
        _run("logs", url, tls_key, env, "2618307011354435587")  # remembered now
        behind["port"] = es_tls_node.port
        result = _run("logs", url, tls_key, env, "2618307011354435587")
        assert result.exit_code == 5 and "HTTPS" in _one_error(result)
        recorder.received.clear()
        again = _run("logs", url, tls_key, env, "2618307011354435587")
        received = bytes(recorder.received)
    assert again.exit_code == 5 and "speaks HTTPS" in _one_error(again)
    assert received and not any(secret in received for secret in _secrets(tls_key))
