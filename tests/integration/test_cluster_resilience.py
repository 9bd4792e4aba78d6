"""Export and follow that outlive a node stopped, a changing cluster and a network cut,
on a real three-node cluster (es_cluster; 8.19.x and 9.x).

The CLI runs as a process (`python -m elastic_cli`) against node 0, as a user's would; the
test stops nodes, rolls a data stream over, creates indices and cuts the network under it
(tests/faults.py NetworkCut), then checks every line came out exactly once. Waits are for
events (a line printed, a node gone, a cut fired), never guessed; the one exception is the
"a few more polls" after the last line, where nothing is the event.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator, List

import pytest

import faults  # tests/faults.py (pyproject: pytest pythonpath)

EXPORT_ID = "31337313373134"  # session ids whose start (2019) is before every line
FOLLOW_ID = "31337313373135"
EXPORT_LINES = 30_000
PAGE_SIZE = 500
T0 = datetime(2024, 1, 24, 4, 0, 0, tzinfo=timezone.utc)
RETRYING = re.compile(r"connection lost: retrying in \d+(\.\d+)? s")
LINE_WAIT = 90.0  # seconds a printed line may take to show up, node restarts included


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def cl(es_cluster, tmp_path_factory):
    """A prefix for this module's indices, a read-only key for them, the CLI's command line."""
    admin = es_cluster.admin_client()
    prefix = f"orxres-{uuid.uuid4().hex[:8]}"
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("resilience") / "config.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}

    def command(*args: str, host: str | None = None) -> List[str]:
        return [sys.executable, "-m", "elastic_cli", "--config", str(config), "logs", *args,
                "--host", host or es_cluster.url, "--id", key["id"], "--api-key", key["api_key"]]

    yield {"cluster": es_cluster, "admin": admin, "prefix": prefix, "key": key, "command": command, "env": env}
    with contextlib.suppress(Exception):
        admin.indices.delete(index=f"{prefix}-*", expand_wildcards="all")


def log_index(admin, index: str, *, away_from: str | None = None) -> None:
    """3 primaries and 1 replica, the sample-logs shape; `away_from`: no copy on that node
    (so stopping another node leaves the node the CLI talks to as a coordinator only)."""
    settings = {"number_of_shards": 3, "number_of_replicas": 1}
    if away_from:
        settings["index.routing.allocation.exclude._name"] = away_from
    admin.indices.create(index=index, settings=settings, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})


def node_serving_the_point_in_time(cluster) -> int:
    """The node (not node 0, which holds no copy) with the most open search contexts: where the
    export's point in time reads its shards (it picked one copy of each, on either node)."""
    status, body = cluster.request("GET", "/_nodes/stats/indices/search")
    assert status == 200, body
    contexts = {info["name"]: info["indices"]["search"]["open_contexts"] for info in json.loads(body)["nodes"].values()}
    names = [node.name for node in cluster.nodes]
    busiest = max(names[1:], key=lambda name: contexts.get(name, 0))
    assert contexts.get(busiest, 0) > 0, f"no open search context: {contexts}"
    return names.index(busiest)


def primary_holder_other_than_0(cluster, index: str) -> int:
    for shard in range(3):
        holder = cluster.node_of_primary(index, shard)
        if holder != 0:
            return holder
    raise AssertionError(f"every primary of {index} is on node 0, which holds no copy")


def read_lines(result_stdout: str) -> list:
    lines = result_stdout.split("\n")
    assert lines[-1] == "", "the last line written is complete"
    return [json.loads(line) for line in lines[:-1]]


def assert_exactly_once(hits: list, expected_ids: set) -> None:
    ids = [hit["_id"] for hit in hits]
    doubled = len(ids) - len(set(ids))
    missing = expected_ids - set(ids)
    assert not doubled and not missing, f"{doubled} lines printed twice, {len(missing)} never printed"
    assert set(ids) == expected_ids


# ---------------------------------------------------------------- export


@pytest.fixture(scope="module")
def export_index(cl):
    """30,000 lines of one session over 3 primaries (none on node 0), ten per millisecond."""
    from elasticsearch import helpers

    cluster, admin = cl["cluster"], cl["admin"]
    index = f"{cl['prefix']}-export"
    log_index(admin, index, away_from=cluster.nodes[0].name)
    docs = ({"_index": index, "_id": f"e{n:05d}", "_source": {
        "message": f"openReplaySession.id={EXPORT_ID} line {n:05d} " + "x" * 120,
        "utc_time": iso(T0 + timedelta(milliseconds=n // 10)), "tags": ["error"]}}
        for n in range(EXPORT_LINES))
    helpers.bulk(admin, docs, chunk_size=5000, refresh="wait_for")
    cluster.wait_for_health("green", nodes=cluster.size)
    return {"index": index, "ids": {f"e{n:05d}" for n in range(EXPORT_LINES)}}


def export_command(cl, index: str, host: str | None = None) -> List[str]:
    return cl["command"](EXPORT_ID, "--all", "-o", "ndjson", "--page-size", str(PAGE_SIZE),
                         "--indexes", index, host=host)


def test_the_export_runs_on_the_cluster_when_nothing_happens(cl, export_index):
    """The baseline of the tests below: what `logs --all` writes from the healthy cluster."""
    result = subprocess.run(export_command(cl, export_index["index"]), capture_output=True, text=True,
                            env=cl["env"], timeout=300)
    assert result.returncode == 0, result.stderr
    hits = read_lines(result.stdout)
    assert_exactly_once(hits, export_index["ids"])
    times = [h["_source"]["utc_time"] for h in hits]
    assert times == sorted(times)


def test_an_export_outlives_the_node_holding_a_primary_stopped_mid_way(cl, export_index):
    cluster = cl["cluster"]
    proc = subprocess.Popen(export_command(cl, export_index["index"]), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cl["env"])
    try:
        # the export writes into a pipe nobody reads for now: it is stalled a few pages in,
        # with its point in time open on the victim, while the node goes
        first = [proc.stdout.readline() for _ in range(3 * PAGE_SIZE)]
        assert all(line.endswith("\n") for line in first), "".join(first[-2:]) + proc.stderr.read()
        victim = node_serving_the_point_in_time(cluster)
        # both nodes but node 0 hold a copy of every shard; the primaries are spread over them
        assert {cluster.node_of_primary(export_index["index"], shard) for shard in range(3)} & {victim}, \
            "the node stopped holds a primary"
        cluster.stop_node(victim)
        rest, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    hits = read_lines("".join(first) + rest)
    assert_exactly_once(hits, export_index["ids"])
    assert "Traceback" not in err


def test_an_export_resumes_after_a_network_cut(cl, export_index):
    with faults.NetworkCut(cl["cluster"].nodes[0].port) as cut:
        # mid-answer, a few pages in: open connections reset, new ones refused for 4 s
        cut.cut_after(response_bytes=3 * PAGE_SIZE * 300, seconds=4.0)
        result = subprocess.run(export_command(cl, export_index["index"], host=cut.url), capture_output=True,
                                text=True, env=cl["env"], timeout=300)
        assert cut.cuts == 1, "the cut fired"
    assert result.returncode == 0, result.stderr
    assert_exactly_once(read_lines(result.stdout), export_index["ids"])
    assert RETRYING.search(result.stderr), result.stderr


# ---------------------------------------------------------------- follow


class Follow:
    """`logs FOLLOW_ID --follow` as a process, its stdout read line by line in a thread."""

    def __init__(self, cl, indexes: str, host: str | None = None) -> None:
        self.proc = subprocess.Popen(
            cl["command"](FOLLOW_ID, "--follow", "--interval", "0.3", "-o", "ndjson", "--indexes", indexes, host=host),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cl["env"])
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.printed: List[dict] = []
        self.err = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, *texts: str, timeout: float = LINE_WAIT) -> None:
        """Until a line holding each text has been printed (in any order)."""
        wanted = set(texts)
        deadline = time.monotonic() + timeout
        while wanted:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                ended = self.proc.poll() is not None and self.lines.empty()
                if ended or time.monotonic() > deadline:
                    raise AssertionError(
                        f"not printed {'before the follow ended' if ended else f'within {timeout:.0f}s'}: "
                        f"{sorted(wanted)}; exit {self.proc.poll()}; stderr: {self._stderr_if_done()}") from None
                continue
            hit = json.loads(line)
            self.printed.append(hit)
            wanted = {text for text in wanted if text not in hit["_source"]["message"]}

    def _stderr_if_done(self) -> str:
        return self.proc.stderr.read() if self.proc.poll() is not None else "(still running)"

    def stop(self) -> None:
        """Ctrl-C, after a few more polls (0.3 s apart) that must print nothing new."""
        time.sleep(1.5)
        self.proc.send_signal(signal.SIGINT)
        _, self.err = self.proc.communicate(timeout=60)
        while not self.lines.empty():
            self.printed.append(json.loads(self.lines.get()))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def following(cl, indexes: str, host: str | None = None) -> Iterator[Follow]:
    follow = Follow(cl, indexes, host)
    try:
        yield follow
    finally:
        follow.kill()


def writer(admin):
    """write(text, shape): one error line of FOLLOW_ID, now, refreshed; its _id is noted."""
    written: dict = {}

    def write(text: str, index: str, shape: str = "tags") -> str:
        now = datetime.now(timezone.utc)
        message = f"openReplaySession.id={FOLLOW_ID} {text}"
        if shape == "ecs":  # a data stream: @timestamp and log.level
            doc = {"@timestamp": iso(now), "log": {"level": "ERROR"}, "message": message}
            answer = admin.index(index=index, document=doc, op_type="create", refresh=True)
        else:
            doc = {"utc_time": iso(now), "tags": ["error"], "message": message}
            answer = admin.index(index=index, document=doc, refresh=True)
        written[answer["_id"]] = text
        return answer["_id"]

    write.written = written  # type: ignore[attr-defined]
    return write


@pytest.mark.parametrize("which", ["a node holding a primary", "the node the CLI talks to"])
def test_follow_outlives_a_node_stopped_and_started_again(cl, which):
    cluster, admin = cl["cluster"], cl["admin"]
    index = f"{cl['prefix']}-follow-{uuid.uuid4().hex[:6]}"
    talks_to_victim = which == "the node the CLI talks to"
    log_index(admin, index, away_from=None if talks_to_victim else cluster.nodes[0].name)
    cluster.wait_for_health("green", nodes=cluster.size)
    victim = 0 if talks_to_victim else primary_holder_other_than_0(cluster, index)
    write = writer(admin)
    write("before", index)
    with following(cl, index) as follow:
        follow.wait_for("before")
        cluster.stop_node(victim)
        for n in range(5):  # while it is down: to the copies the other nodes promoted
            write(f"during {n}", index)
        cluster.start_node(victim)
        write("after", index)
        follow.wait_for(*(f"during {n}" for n in range(5)), "after")
        follow.stop()
    assert follow.proc.returncode == 0, follow.err
    assert_exactly_once(follow.printed, set(write.written))
    if talks_to_victim:
        assert RETRYING.search(follow.err), follow.err
    assert "Traceback" not in follow.err


def test_follow_sees_a_rollover_and_a_new_daily_index_in_mixed_shapes(cl):
    admin, prefix = cl["admin"], cl["prefix"]
    # shape 1: an ECS data stream (@timestamp, log.level); shape 2: daily indices (utc_time, tags)
    admin.indices.put_index_template(
        name=f"{prefix}-ecs", index_patterns=[f"{prefix}-logs-*"], priority=500, data_stream={},
        template={"settings": {"number_of_shards": 3, "number_of_replicas": 1}, "mappings": {"properties": {
            "@timestamp": {"type": "date"}, "message": {"type": "text"},
            "log": {"properties": {"level": {"type": "keyword"}}}}}})
    stream = f"{prefix}-logs-shop-default"
    today = datetime.now(timezone.utc).date()
    day1, day2 = f"{prefix}-daily-{today:%Y.%m.%d}", f"{prefix}-daily-{today + timedelta(days=1):%Y.%m.%d}"
    log_index(admin, day1)
    write = writer(admin)
    write("stream before", stream, "ecs")
    write("daily before", day1)
    backing_before = set(admin.indices.get(index=stream))  # the test distribution has no _data_stream API
    with following(cl, f"{prefix}-logs-*,{prefix}-daily-*") as follow:
        follow.wait_for("stream before", "daily before")
        rolled = admin.indices.rollover(alias=stream)
        assert rolled["rolled_over"] and rolled["new_index"] not in backing_before
        write("stream after rollover", stream, "ecs")
        log_index(admin, day2)  # midnight: the next day's index
        write("next day", day2)
        write("daily after", day1)
        follow.wait_for("stream after rollover", "next day", "daily after")
        follow.stop()
    assert follow.proc.returncode == 0, follow.err
    assert_exactly_once(follow.printed, set(write.written))


def test_follow_continues_through_a_network_cut(cl):
    admin = cl["admin"]
    index = f"{cl['prefix']}-cut-{uuid.uuid4().hex[:6]}"
    log_index(admin, index)
    write = writer(admin)
    write("before the cut", index)
    with faults.NetworkCut(cl["cluster"].nodes[0].port) as cut, following(cl, index, host=cut.url) as follow:
        follow.wait_for("before the cut")
        cut.cut(5.0)  # every connection reset, new ones refused, for 5 s (about 16 polls)
        write("during the cut", index)
        assert cut.wait_restored(30)
        write("after the cut", index)
        follow.wait_for("during the cut", "after the cut")
        follow.stop()
    assert follow.proc.returncode == 0, follow.err
    assert_exactly_once(follow.printed, set(write.written))
    assert RETRYING.search(follow.err), follow.err
