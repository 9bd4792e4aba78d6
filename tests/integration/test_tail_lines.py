"""`logs --tail N` on a real node (issue 39): the last N lines oldest first; with --follow, the last N
of the session so far and then the new ones (as `kubectl logs -f --tail`); refused beside the flags it
contradicts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import pytest

from conftest import Env, run_cli

SID = "2618307011354435587"


@pytest.fixture(scope="module")
def node(es_node):
    admin = es_node.admin_client()
    prefix = f"orxtail-{uuid.uuid4().hex[:8]}"
    index = f"{prefix}-app"
    admin.indices.create(index=index, mappings={"properties": {
        "message": {"type": "text"}, "@timestamp": {"type": "date"}, "log": {"properties": {"level": {"type": "keyword"}}}}})
    operations: list = []
    for n in range(5):
        operations += [{"index": {"_index": index}}, {"@timestamp": f"2024-01-24T02:40:0{n}.000Z", "log": {"level": "error"},
                                                      "message": f"line {n} openReplaySession.id={SID}"}]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    conn = ["--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"], "--indexes", index]
    yield {"admin": admin, "index": index, "conn": conn}
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def logs(node, *args):
    result = run_cli("logs", SID, *args, *node["conn"], env=Env(vars={"NO_COLOR": "1"}))
    assert "Traceback" not in result.stderr
    return result


def numbers(text: str) -> list[int]:
    return [int(json.loads(line)["message"].split()[1]) for line in text.splitlines()]


def test_the_last_lines_oldest_first_and_the_earlier_ones_said(node):
    result = logs(node, "--tail", "3", "-o", "ndjson")
    assert result.exit_code == 0, result.output
    assert numbers(result.stdout) == [2, 3, 4]
    assert "showing the last 3 lines; there are earlier ones" in result.stderr
    whole = logs(node, "--tail", "9", "-o", "ndjson")
    assert numbers(whole.stdout) == [0, 1, 2, 3, 4] and "earlier" not in whole.stderr


def test_follow_prints_the_last_lines_then_the_new_ones(node):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_")}
    proc = subprocess.Popen([sys.executable, "-m", "elastic_cli", "logs", SID, "--follow", "--tail", "2",
                             "--interval", "0.3", "-o", "ndjson", *node["conn"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # printed once the first poll (the session so far) is over: only then is a new line added
        first = [proc.stdout.readline(), proc.stdout.readline()]
        assert numbers("".join(first)) == [3, 4]
        node["admin"].index(index=node["index"], refresh=True, document={
            "@timestamp": datetime.now(timezone.utc).isoformat(), "log": {"level": "error"},
            "message": f"line 5 openReplaySession.id={SID}"})
        assert numbers(proc.stdout.readline()) == [5]
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and rest == "", err
    assert "Traceback" not in err


@pytest.mark.parametrize("flags, said", [
    (("--tail", "2", "--all"), "do not go together"),
    (("--tail", "2", "--limit", "5"), "--limit does not apply"),
    (("--tail", "2", "--reverse"), "cannot --reverse"),
    (("--tail", "2", "-C", "1"), "do not go with --tail"),
    (("--tail", "0",), "prints no line without --follow"),
])
def test_refused_beside_what_it_contradicts(node, flags, said):
    result = logs(node, *flags)
    assert result.exit_code == 2 and said in result.stderr, result.output
