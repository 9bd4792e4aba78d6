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


def _run(command: str, url: str, key: dict, clean_env, *extra: str):
    return run_cli(command, "--host", url, "--id", key["id"], "--api-key", key["api_key"],
                   "--indexes", "*log*", *extra, env=clean_env)


@pytest.mark.parametrize("command", ["logs", "check"])
def test_http_to_a_tls_port_sends_no_byte_of_the_key(es_tls_node, tls_key, clean_env, command):
    extra = ("2618307011354435587",) if command == "logs" else ("-o", "json")
    with faults.serving(faults.record_and_forward(es_tls_node.port)) as recorder:
        result = _run(command, f"http://127.0.0.1:{recorder.port}", tls_key, clean_env, *extra)
        received = bytes(recorder.received)
    assert received, "the CLI sent nothing: the test proves nothing"
    for secret in _secrets(tls_key):
        assert secret not in received, "the API key crossed the network in clear"
    assert b"authorization" not in received.lower()
    if command == "logs":
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.exit_code == 5 and len(errors) == 1, result.stderr
        assert "speaks HTTPS" in errors[0] and "https://" in result.stderr
    else:
        assert result.exit_code == 10
        by_id = {f["id"]: f for f in result.json()}
        assert by_id["tls"]["status"] == "failure" and "expects HTTPS" in by_id["tls"]["detail"]
        assert by_id["auth"]["status"] == "skipped"


def test_http_to_a_plain_port_still_works_and_sends_the_key_once_answered(es_node, clean_env):
    # the gate lets the key go where plain HTTP answered: a check over http:// is unchanged
    admin = es_node.admin_client()
    key = admin.security.create_api_key(name="orx-cleartext-plain", role_descriptors={
        "r": {"cluster": [], "index": [{"names": ["*log*"], "privileges": ["read"]}]}}).body
    try:
        with faults.serving(faults.record_and_forward(es_node.port)) as recorder:
            result = _run("check", f"http://127.0.0.1:{recorder.port}", key, clean_env, "-o", "json")
            received = bytes(recorder.received)
        by_id = {f["id"]: f for f in result.json()}
        assert by_id["auth"]["status"] == "ok", json.dumps(by_id["auth"])
        first_request = received.split(b"\r\n\r\n", 1)[0]
        assert b"authorization" not in first_request.lower()  # the probe goes first, without the key
    finally:
        admin.security.invalidate_api_key(ids=[key["id"]])
