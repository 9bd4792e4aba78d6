"""`logs -C N --follow` on a real node (issue 39): as `tail -f | grep -C N`, the session's lines of any
level around each error line, in the order they arrive: the session so far first (as `logs -C N`
prints it), then, as lines are indexed, an error line with the lines that came before it and those
that come after; another session's lines never; which lines are errors the cluster's own filter says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

SID = "2618307011354435587"
OTHER = "2618307011354435999"
# the session's lines so far, one a second: errors at 2, 7 and 9 (words in any case, as loggers write them)
LEVELS = ["info", "info", "ERROR", "info", "warn", "info", "debug", "error", "info", "ERROR", "info", "info"]


@pytest.fixture(scope="module")
def node(es_node):
    admin = es_node.admin_client()
    prefix = f"orxfctx-{uuid.uuid4().hex[:8]}"
    index = f"{prefix}-app"
    admin.indices.create(index=index, mappings={"properties": {
        "message": {"type": "text"}, "@timestamp": {"type": "date"}, "log": {"properties": {"level": {"type": "keyword"}}}}})
    admin.bulk(operations=documents([(n, level, f"2024-01-24T02:40:{n:02d}.000Z") for n, level in enumerate(LEVELS)],
                                    index), refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    conn = ["--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"], "--indexes", index]
    yield {"admin": admin, "index": index, "conn": conn}
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def documents(rows, index) -> list:
    """The session's lines (n, level, time) and, at the same moments, another session's of both levels."""
    operations: list = []
    for n, level, at in rows:
        operations += [{"index": {"_index": index}},
                       {"@timestamp": at, "log": {"level": level}, "message": f"line {n} openReplaySession.id={SID}"},
                       {"index": {"_index": index}},
                       {"@timestamp": at, "log": {"level": "error" if n % 2 else "info"},
                        "message": f"other {n} openReplaySession.id={OTHER}"}]
    return operations


def record(text: str) -> tuple[int, bool]:
    r = json.loads(text)
    assert r["message"].startswith("line "), r  # never another session's line
    return int(r["message"].split()[1]), r["context"]


def test_follow_prints_the_lines_around_each_error_line_as_they_arrive(node):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_")}
    proc = subprocess.Popen([sys.executable, "-m", "elastic_cli", "logs", SID, "-C", "1", "--follow",
                             "--interval", "0.3", "-o", "ndjson", *node["conn"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # the session so far, as `logs -C 1` prints it
        so_far = [record(proc.stdout.readline()) for _ in range(8)]
        assert so_far == [(1, True), (2, False), (3, True), (6, True), (7, False), (8, True), (9, False), (10, True)]
        # new lines: an error (13) between infos; 12 came before it, 14 after it, 15 is too far
        now = datetime.now(timezone.utc)
        rows = [(n, level, (now + timedelta(milliseconds=n)).isoformat())
                for n, level in ((12, "info"), (13, "Error"), (14, "debug"), (15, "info"))]
        node["admin"].bulk(operations=documents(rows, node["index"]), refresh=True)
        assert [record(proc.stdout.readline()) for _ in range(3)] == [(12, True), (13, False), (14, True)]
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and rest == "", (rest, err)  # 11 and 15: no error line within 1
    assert "Traceback" not in err
