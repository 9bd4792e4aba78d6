"""Real clusters mix shapes under one pattern: `logs` reads each index with its own fields.

On one node at once: Kibana's sample-logs shape (utc_time, tags), an ECS data stream
(@timestamp, log.level as keyword with upper-case levels), a home-made index
(timestamp, level as text) and an index with no time field at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

SESSION = "2618307011354435587"  # started 2024-01-24 02:27:39.324 UTC
TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
T0 = datetime(2024, 1, 24, 3, 0, tzinfo=timezone.utc)


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def ours(text: str) -> str:
    return f"{text} openReplaySession.id={SESSION} attempt"


@pytest.fixture(scope="module")
def shapes(es_node, tmp_path_factory):
    admin = es_node.admin_client()
    prefix = f"orxshape-{uuid.uuid4().hex[:8]}"
    sample, stream, home, bare = (f"{prefix}-sample", f"{prefix}-logs-shop-default", f"{prefix}-home",
                                  f"{prefix}-bare")
    filebeat = f"{prefix}-fb-logs-default"
    truth = []  # (seconds after T0, message, is error): what the session logged, wherever it went

    admin.indices.create(index=sample, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    admin.indices.put_index_template(name=f"{prefix}-ecs", index_patterns=[f"{prefix}-logs-*"], priority=500,
                                     data_stream={}, template={"mappings": {"properties": {
                                         "@timestamp": {"type": "date"}, "message": {"type": "text"},
                                         "log": {"properties": {"level": {"type": "keyword"}}}}}})
    # what Filebeat and Logstash write: their own `tags` beside an upper-case log.level
    admin.indices.put_index_template(name=f"{prefix}-fb", index_patterns=[f"{prefix}-fb-*"], priority=500,
                                     data_stream={}, template={"mappings": {"properties": {
                                         "@timestamp": {"type": "date"}, "message": {"type": "text"},
                                         "tags": {"type": "keyword"},
                                         "log": {"properties": {"level": {"type": "keyword"}}}}}})
    admin.indices.create(index=home, mappings={"properties": {
        "message": {"type": "text"}, "timestamp": {"type": "date"}, "level": {"type": "text"}}})
    admin.indices.create(index=bare, mappings={"properties": {
        "message": {"type": "text"}, "severity": {"type": "long"}}})

    operations = []
    for second, tags in ((10, ["error"]), (40, ["info"]), (70, ["success", "error"])):
        message = ours(f"sample {second}")
        operations += [{"index": {"_index": sample}}, {"message": message, "utc_time": at(second), "tags": tags}]
        truth.append((second, message, "error" in tags))
    # ECS: attempt 3, 2, 1 indexed in reverse order of their time; levels in upper case
    for second, level in ((65, "ERROR"), (35, "ERROR"), (5, "INFO"), (20, "FATAL"), (50, "Error")):
        message = ours(f"ecs {second}")
        operations += [{"create": {"_index": stream}},
                       {"@timestamp": at(second), "log": {"level": level}, "message": message}]
        truth.append((second, message, level.lower() in ("error", "fatal")))
    for second, level in ((25, "ERROR"), (30, "INFO"), (55, "ERROR"), (75, "ERROR")):
        message = ours(f"filebeat {second}")
        operations += [{"create": {"_index": filebeat}},
                       {"@timestamp": at(second), "log": {"level": level}, "message": message,
                        "tags": ["beats_input_codec_plain_applied"]}]
        truth.append((second, message, level == "ERROR"))
    for second, level in ((15, "error"), (45, "warning"), (60, "CRITICAL")):
        message = ours(f"home {second}")
        operations += [{"index": {"_index": home}}, {"message": message, "timestamp": at(second), "level": level}]
        truth.append((second, message, level.lower() in ("error", "critical")))
    # a line whose shipper lost its time, in an index whose time field is a date: it sorts last
    operations += [{"index": {"_index": home}}, {"message": ours("home, time lost"), "level": "error"}]
    truth.append((10**9, ours("home, time lost"), True))
    operations += [{"index": {"_index": bare}}, {"message": ours("bare, no time"), "severity": 3}]
    # foreign lines in each shape
    for index, extra in ((sample, {"utc_time": at(12), "tags": ["error"]}), (home, {"timestamp": at(12), "level": "error"})):
        operations += [{"index": {"_index": index}},
                       {"message": f"openReplaySession.id={SESSION}0 another session", **extra}]
    admin.bulk(operations=operations, refresh=True)

    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("shapes") / "config.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}

    def run(*args: str, verbose: bool = False, indexes: str = f"{prefix}-*") -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(config)] + (["-v"] if verbose else [])
        command += list(args) + ["--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"],
                                 "--indexes", indexes]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr
        return result

    yield {"run": run, "truth": truth, "stream": stream, "bare": bare, "filebeat": filebeat, "prefix": prefix}
    # the test distribution has no data-stream REST module to delete the stream: it goes with the node
    admin.indices.delete(index=",".join((sample, home, bare)))


def test_errors_of_every_shape_come_out_in_one_time_order(shapes):
    result = shapes["run"]("logs", TOKEN, "-o", "ndjson", verbose=True)
    expected = [m for _, m, error in sorted(shapes["truth"]) if error]
    # Filebeat's lines are errors by log.level though its tags say nothing of levels; the line that
    # lost its time comes last, though the session window bounds the time
    assert [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()] == expected
    assert "@timestamp" in result.stderr and "log.level" in result.stderr  # -v says what was chosen
    assert "tags or log.level" in result.stderr
    # the index without a level field cannot tell errors: its line of the session is missing from
    # the answer, so it is named with the count and the result is partial
    assert result.returncode == 13, result.stderr
    assert f"1 line of this session in {shapes['bare']} not shown: no level field" in result.stderr


def test_quiet_never_hides_that_lines_are_missing(shapes):
    result = shapes["run"]("logs", TOKEN, "-q", "-o", "ndjson")
    assert result.returncode == 13
    assert shapes["bare"] in result.stderr and "no level field" in result.stderr


def test_an_index_without_a_level_is_not_missing_anything_when_it_holds_no_line_of_the_session(shapes):
    other = "jw4wdfpgqhok.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"  # no line anywhere
    result = shapes["run"]("logs", other, "-o", "ndjson")
    assert result.returncode == 9, result.stderr  # no hits, not partial
    assert "no level field" not in result.stderr
    assert f"session {int('jw4wdfpgqhok', 36)}" in result.stderr  # the id searched, named


def test_check_counts_errors_as_logs_does(shapes):
    # the ECS and Filebeat streams alone: no `tags: error` anywhere, yet their errors are found
    result = shapes["run"]("check", "-o", "json", indexes=f"{shapes['prefix']}-logs-*,{shapes['prefix']}-fb-*")
    findings = {f["id"]: f for f in json.loads(result.stdout)}
    marked = findings["marked_logs"]
    assert marked["status"] == "ok", marked
    ecs_and_filebeat_errors = sum(1 for _, m, error in shapes["truth"] if error and (" ecs " in f" {m}"
                                                                                    or "filebeat" in m))
    assert marked["data"]["errors"] == ecs_and_filebeat_errors
    assert marked["data"]["newest"] and marked["data"]["newest"].startswith("2024-01-24T03:01")


def test_all_levels_adds_every_line_and_the_undated_one_last(shapes):
    result = shapes["run"]("logs", SESSION, "--all-levels", "-o", "csv")
    assert result.returncode == 0, result.stderr
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    dated = [m for second, m, _ in sorted(shapes["truth"]) if second < 10**9]
    undated = {ours("home, time lost"), ours("bare, no time")}
    assert [r["message"] for r in rows[:-2]] == dated and {r["message"] for r in rows[-2:]} == undated
    assert all(r["time"] for r in rows[:-2])  # no blank time where the line has one
    # a data stream is shown by its name, not by its backing index
    assert {r["index"] for r in rows if "ecs" in r["message"]} == {shapes["stream"]}
    assert [r["level"] for r in rows if "ecs" in r["message"]] == ["info", "fatal", "error", "error", "error"]


def test_reverse_and_limit_keep_the_merged_order(shapes):
    # newest first; a line without a time still comes last
    result = shapes["run"]("logs", TOKEN, "--reverse", "--limit", "4", "--all-levels", "-o", "ndjson")
    expected = [m for second, m, _ in sorted(shapes["truth"], reverse=True) if second < 10**9]
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()] == expected[:4]
    assert "there are more" in result.stderr


def test_an_explicit_time_field_wins(shapes):
    result = shapes["run"]("logs", TOKEN, "--time-field", "utc_time", "--all-levels", "-o", "ndjson", verbose=True)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()]
    # only the sample index has utc_time: it comes first in time order, every other line after it
    assert [m for m in messages[:3]] == [m for _, m, _ in sorted(shapes["truth"]) if m.startswith("sample")]
    assert "no date field" in result.stderr


def test_check_names_the_shapes_and_what_logs_uses_for_them(shapes):
    result = shapes["run"]("check", "-o", "json")
    findings = {f["id"]: f for f in json.loads(result.stdout)}
    found = findings["shapes"]
    assert found["status"] == "warning", found
    assert f"no date field in {shapes['bare']}" in found["detail"] and f"no level field in {shapes['bare']}" in found["detail"]
    assert f"{shapes['stream']}: time @timestamp, level log.level" in found["detail"]  # the data stream, by name
    assert {i["index"] for i in found["data"]["indices"]} >= {shapes["stream"], shapes["bare"]}
