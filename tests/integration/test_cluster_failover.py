"""Several nodes (`hosts`): the node the CLI was configured with first is stopped, and `logs`,
`logs --all` and `logs --follow` go on through the other two at once, every line exactly once,
exit 0; `check` names the node that is down (a real three-node cluster, es_cluster; 8.19.x and 9.x).

The CLI runs as a process against `--hosts node0,node1,node2`. The indices keep no copy on node 0,
so stopping it takes no shard away: what is tested is the move to a live node, not the point in
time's resume (test_cluster_resilience.py). "No wait" is shown by what the CLI says: a failure
waited out prints "connection lost: retrying in N s" (search.retry); moving to the next node is
immediate and only --debug tells it ("trying the next node"). Waits are for events (a line printed,
the node gone).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from typing import List

import pytest
from test_cluster_resilience import (  # same cluster, same shapes: one set of helpers
    T0,
    assert_exactly_once,
    following,
    iso,
    log_index,
    read_lines,
    writer,
)

SESSION_ID = "31337313373136"  # a start (2019) before every line
LINES = 6000
PAGE_SIZE = 500
WAITED = "retrying in"
MOVED = "trying the next node"


@pytest.fixture(scope="module")
def nodes(es_cluster, tmp_path_factory):
    """A read-only key, an index of LINES lines with no copy on node 0, the CLI's command line with
    `--hosts` naming node 0 first."""
    from elasticsearch import helpers

    admin = es_cluster.admin_client()
    prefix = f"orxfo-{uuid.uuid4().hex[:8]}"
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    index = f"{prefix}-logs"
    log_index(admin, index, away_from=es_cluster.nodes[0].name)
    docs = ({"_index": index, "_id": f"f{n:05d}", "_source": {
        "message": f"openReplaySession.id={SESSION_ID} line {n:05d} " + "x" * 120,
        "utc_time": iso(T0 + timedelta(milliseconds=n)), "tags": ["error"]}} for n in range(LINES))
    helpers.bulk(admin, docs, chunk_size=3000, refresh="wait_for")
    es_cluster.wait_for_health("green", nodes=es_cluster.size)
    config = tmp_path_factory.mktemp("failover") / "config.yaml"
    cache = tmp_path_factory.mktemp("failover-cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env["XDG_CACHE_HOME"] = str(cache)  # the plain-HTTP marks of this test's nodes only

    def command(name: str, *args: str) -> List[str]:
        return [sys.executable, "-m", "elastic_cli", "--config", str(config), "--debug", name, *args,
                "--hosts", ",".join(es_cluster.urls), "--id", key["id"], "--api-key", key["api_key"]]

    assert es_cluster.urls[0] == es_cluster.nodes[0].url
    yield {"cluster": es_cluster, "admin": admin, "prefix": prefix, "index": index, "command": command, "env": env,
           "ids": {f"f{n:05d}" for n in range(LINES)}}
    with contextlib.suppress(Exception):
        admin.indices.delete(index=f"{prefix}-*", expand_wildcards="all")


def test_logs_and_check_with_the_first_node_down(nodes):
    cluster = nodes["cluster"]
    cluster.stop_node(0)
    result = subprocess.run(nodes["command"]("logs", SESSION_ID, "--limit", "100", "-o", "ndjson",
                                             "--indexes", nodes["index"]),
                            capture_output=True, text=True, env=nodes["env"], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    hits = read_lines(result.stdout)
    assert [hit["_id"] for hit in hits] == [f"f{n:05d}" for n in range(100)]
    assert MOVED in result.stderr and WAITED not in result.stderr, result.stderr[-3000:]

    checked = subprocess.run(nodes["command"]("check", "-o", "json", "--indexes", nodes["index"]),
                             capture_output=True, text=True, env=nodes["env"], timeout=300)
    findings = {item["id"]: item for item in json.loads(checked.stdout)}
    connect = findings["connect"]
    down = f"127.0.0.1:{cluster.nodes[0].port}"
    assert connect["status"] == "warning", connect
    assert connect["data"]["down"] == [down], connect
    assert f"{down}: connection refused" in connect["detail"], connect
    assert [node["status"] for node in connect["data"]["nodes"]] == ["failure", "ok", "ok"], connect
    # the others carry the run: authenticated, the key reads the index, the marked lines are found
    assert findings["tls"]["status"] == "ok" and findings["auth"]["status"] == "ok", findings
    assert findings["marked_logs"]["status"] == "ok", findings["marked_logs"]


def test_an_export_moves_to_a_live_node_when_the_first_one_stops(nodes):
    cluster = nodes["cluster"]
    proc = subprocess.Popen(nodes["command"]("logs", SESSION_ID, "--all", "-o", "ndjson", "--page-size",
                                             str(PAGE_SIZE), "--indexes", nodes["index"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=nodes["env"])
    try:
        # a pipe nobody reads for now: the export is stalled a page or so in while node 0 goes
        first = [proc.stdout.readline() for _ in range(2 * PAGE_SIZE)]
        assert all(line.endswith("\n") for line in first), "".join(first[-2:])
        cluster.stop_node(0)
        rest, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert_exactly_once(read_lines("".join(first) + rest), nodes["ids"])
    # the requests that went to node 0 after it stopped moved on at once
    assert MOVED in err and WAITED not in err, err[-3000:]
    assert "Traceback" not in err


def test_follow_moves_to_a_live_node_when_the_first_one_stops(nodes):
    cluster, admin = nodes["cluster"], nodes["admin"]
    index = f"{nodes['prefix']}-follow"
    log_index(admin, index, away_from=cluster.nodes[0].name)
    cluster.wait_for_health("green", nodes=cluster.size)
    write = writer(admin)
    write("before", index)

    # what test_cluster_resilience.Follow reads of its module fixture
    cl = {"command": lambda *args, host=None: nodes["command"]("logs", *args), "env": nodes["env"]}
    with following(cl, index) as follow:
        follow.wait_for("before")
        cluster.stop_node(0)
        for n in range(5):
            write(f"during {n}", index)
        # printed while node 0 is still down: the follow did not wait for it to come back
        follow.wait_for(*(f"during {n}" for n in range(5)))
        follow.stop()
    assert follow.proc.returncode == 0, follow.err[-3000:]
    assert_exactly_once(follow.printed, set(write.written))
    assert MOVED in follow.err and WAITED not in follow.err, follow.err[-3000:]
    assert "Traceback" not in follow.err
