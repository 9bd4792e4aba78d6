"""`logs` reads a session without importing the official client's generated API, and answers exactly as
with the official client: the same lines, the same errors (a real node, 8.19.x and 9.x)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import run_cli

SESSION_ID = "27182818284590"
LINES = 1200  # 800 of them error lines


@pytest.fixture(scope="module")
def session_index(es_node):
    from elasticsearch import helpers

    admin = es_node.admin_client()
    index = f"orxlight-{uuid.uuid4().hex[:8]}-logs"
    admin.indices.create(index=index, mappings={"properties": {"message": {"type": "text"},
                                                               "utc_time": {"type": "date"},
                                                               "tags": {"type": "keyword"}}})
    start = datetime(2024, 1, 24, 4, 0, tzinfo=timezone.utc)
    helpers.bulk(admin, ({"_index": index, "_id": f"l{n:05d}", "_source": {
        "message": f"openReplaySession.id={SESSION_ID} line {n}", "tags": ["error"] if n % 3 else ["info"],
        "utc_time": (start + timedelta(milliseconds=n)).isoformat()}} for n in range(LINES)), refresh="wait_for")
    key = admin.security.create_api_key(name=f"{index}-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": [index], "privileges": ["read"]}]}}).body
    yield {"url": es_node.url, "index": index, "key": key}
    with contextlib.suppress(Exception):
        admin.indices.delete(index=index)


def _conn(data: dict, api_key: str | None = None) -> list[str]:
    return ["--host", data["url"], "--id", data["key"]["id"], "--api-key", api_key or data["key"]["api_key"],
            "--indexes", data["index"]]


def _process(args: list[str], tmp_path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The CLI as a new process (`python -X importtime`): its result and the modules it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC")}
    env.update(ORX_ELASTIC_CONFIG=str(tmp_path / "none.yaml"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "elastic_cli", *args],
                            capture_output=True, text=True, env=env)
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")]
    return result, imported


def _official(monkeypatch):
    """The same command with the official client (what `logs` used before)."""
    from elastic_cli.cluster import connection

    monkeypatch.setattr(connection, "build_lookup_client", lambda settings: connection.build_client(settings))


@pytest.mark.parametrize("args", [["--all"], ["--limit", "3"], [], ["--all", "--reverse", "--all-levels"]])
def test_the_lookup_imports_no_official_client_and_prints_the_same_lines(session_index, clean_env, tmp_path,
                                                                           monkeypatch, args):
    argv = ["logs", SESSION_ID, *args, "-o", "ndjson", *_conn(session_index)]
    light, imported = _process(argv, tmp_path)
    assert light.returncode == 0, light.stderr[-2000:]
    assert "elastic_transport" in imported, "the importtime list is empty: the test proves nothing"
    assert [m for m in imported if m.split(".")[0] == "elasticsearch"] == []
    _official(monkeypatch)
    official = run_cli(*argv, env=clean_env)
    assert official.exit_code == 0, official.stderr
    assert light.stdout == official.stdout
    expected = LINES if "--all-levels" in args else 800 if "--all" in args else 3 if "--limit" in args else 100
    assert light.stdout.count("\n") == expected


def test_a_rejected_key_reads_as_with_the_official_client(session_index, clean_env, tmp_path, monkeypatch):
    argv = ["logs", SESSION_ID, *_conn(session_index, api_key="not-the-secret")]
    light, imported = _process(argv, tmp_path)
    _official(monkeypatch)
    official = run_cli(*argv, env=clean_env)
    assert light.returncode == official.exit_code == 6, light.stderr[-2000:]
    errors = [line for line in light.stderr.splitlines() if not line.startswith("import time:")]
    assert errors == official.stderr.splitlines()
    assert "not-the-secret" not in light.stderr


def test_the_connections_opened_early_are_the_ones_the_requests_use(session_index, clean_env, tmp_path):
    """`logs` opens its connections while it imports the client; the requests go on them: a repeated
    lookup opens as many connections as it sends requests (three), none left unused, none opened twice."""
    import faults  # tests/faults.py (pyproject: pytest pythonpath)

    env = clean_env.with_vars(XDG_CACHE_HOME=str(tmp_path / "cache"))
    node_port = int(session_index["url"].rsplit(":", 1)[1])
    with faults.serving(faults.record_and_forward(node_port)) as proxy:
        data = {**session_index, "url": f"http://127.0.0.1:{proxy.port}"}
        argv = ["logs", SESSION_ID, "--limit", "3", "-o", "ndjson", *_conn(data)]
        for _ in range(2):  # first use (the gate's probe, the shapes cached), then the analysis learnt
            assert run_cli(*argv, env=env).exit_code == 0
        before_connections, before_bytes = len(proxy.connections), len(proxy.received)
        repeated = run_cli(*argv, env=env)
        assert repeated.exit_code == 0, repeated.stderr
        assert len(repeated.stdout.splitlines()) == 3
        sent = bytes(proxy.received[before_bytes:])
        requests = sent.count(b" HTTP/1.1\r\n")
        assert requests == 3, sent[:500]  # `_field_caps`, `_msearch` and `_resolve/index`
        assert len(proxy.connections) - before_connections == requests
