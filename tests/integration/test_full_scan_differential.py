"""`logs` against a full scan (issue 35): Hypothesis writes marked lines of three sessions, in every
context a logger writes a marker, into indices shaped as real clusters shape them (message analysed by
the standard, whitespace, keyword and simple analyzers, a keyword message with ignore_above; time as
utc_time or @timestamp, or missing; level as tags, log.level words, pino's numbers), and `logs`
must print exactly the error lines of the one session, in time order, in every mode. The ground truth
is what the test wrote (each document is read back as the admin first, so the cluster holds it), with
the marker and level rules applied in plain Python, not by the tool's code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SESSION = "2618307011354435587"  # started 2024-01-24 02:27:39.324 UTC
TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
# a longer id that starts with ours, and the next id: never this session's
OTHERS = {"26183070113544355870": "k8f4n3mphcw0.3az.x", "2618307011354435588": "jw4wdfpgqhok.3az.x"}
T0 = datetime(2024, 1, 24, 3, 0, tzinfo=timezone.utc)

# index shape -> (message mapping, time field, level field and its mapping)
SHAPES = {
    "std": ({"type": "text"}, "utc_time", ("tags", {"type": "keyword"})),
    "ws": ({"type": "text", "analyzer": "whitespace"}, "@timestamp", ("log.level", {"type": "keyword"})),
    "kwa": ({"type": "text", "analyzer": "keyword"}, "utc_time", ("level", {"type": "long"})),
    "simple": ({"type": "text", "analyzer": "simple"}, "utc_time", ("tags", {"type": "keyword"})),
    "kw": ({"type": "keyword", "ignore_above": 80}, "utc_time", ("tags", {"type": "keyword"})),
}
# a marker as loggers write it; {m} is `openReplaySession.id=<id>`'s name, {i} the id, {t} the token
CONTEXTS = [
    "openReplaySession.id={i}", "ctx:openReplaySession.id={i}", "failed.openReplaySession.id={i}",
    "[openReplaySession.id={i}]", '"openReplaySession.id={i}"', '{{"ctx":"openReplaySession.id={i}"}}',
    "OPENREPLAYSESSION.ID={i}", "openReplaySession.id= {i}", "openReplaySession.id: {i}",
    "openReplaySessionToken={t}", "trace_openReplaySessionToken={t}", "[openReplaySessionToken={t}]",
]
# level values per level field, and whether each is an error (README: "What counts as an error")
LEVELS = {
    "tags": [(["error"], True), (["info"], False), (["success", "error"], True), (["warning"], False)],
    "log.level": [("ERROR", True), ("Error ", True), ("SEVERE", True), ("panic", True), ("warn", False),
                  ("INFO", False)],
    "level": [(50, True), (60, True), (30, False), (40, False)],
}
WORDS = ["payment", "failed", "retry", "db", "timeout", "user=42", "GET /api/cart"]


def put(source: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        source = source.setdefault(part, {})
    source[leaf] = value


@pytest.fixture(scope="module")
def scanned(es_node, tmp_path_factory):
    admin = es_node.admin_client()
    prefix = f"orxdiff-{uuid.uuid4().hex[:8]}"
    for shape, (message, time_field, (level_field, level_mapping)) in SHAPES.items():
        properties: dict = {"message": message, time_field: {"type": "date"}}
        put(properties, level_field.replace(".", ".properties."), level_mapping)
        admin.indices.create(index=f"{prefix}-{shape}", mappings={"properties": properties})
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    config = tmp_path_factory.mktemp("diff") / "config.yaml"

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(config), "logs", SESSION, "-o", "ndjson",
                   *args, "--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"],
                   "--indexes", f"{prefix}-*"]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr
        return result

    yield {"admin": admin, "prefix": prefix, "run": run, "written": []}
    admin.indices.delete(index=f"{prefix}-*")


line = st.fixed_dictionaries({
    "shape": st.sampled_from(sorted(SHAPES)),
    "session": st.sampled_from([SESSION, SESSION, *OTHERS]),
    "context": st.sampled_from(CONTEXTS),
    "before": st.lists(st.sampled_from(WORDS), max_size=2),
    "after": st.lists(st.sampled_from(WORDS), max_size=2),
    "long": st.booleans(),  # past the keyword field's ignore_above
    "level": st.integers(0, 5),
    "dated": st.integers(0, 9).map(lambda n: n != 0),  # one line in ten lost its time
})
MODES = [("--all",), ("--all", "--reverse"), (), ("--limit", "3")]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(lines=st.lists(line, min_size=1, max_size=14), mode=st.sampled_from(MODES))
def test_logs_equals_a_full_scan_on_every_shape(scanned, lines, mode):
    admin, prefix = scanned["admin"], scanned["prefix"]
    if scanned["written"]:  # the last example's documents (this distribution has no _delete_by_query)
        admin.bulk(operations=[{"delete": {"_index": index, "_id": doc}} for index, doc in scanned["written"]],
                   refresh=True)
        scanned["written"].clear()
    operations: list[dict] = []
    dated_truth: list[tuple[int, str]] = []
    undated_truth: list[str] = []
    for n, spec in enumerate(lines):
        _, time_field, (level_field, _) = SHAPES[spec["shape"]]
        session = spec["session"]
        marker = spec["context"].format(i=session, t=TOKEN if session == SESSION else OTHERS[session])
        words = [*spec["before"], marker, *spec["after"], f"n{n}"]
        if spec["long"]:
            words.append("padding " * 12)
        message = " ".join(words)
        value, is_error = LEVELS[level_field][spec["level"] % len(LEVELS[level_field])]
        source: dict = {"message": message}
        put(source, level_field, value)
        if spec["dated"]:
            source[time_field] = (T0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
        operations += [{"index": {"_index": f"{prefix}-{spec['shape']}", "_id": f"d{n}"}}, source]
        scanned["written"].append((f"{prefix}-{spec['shape']}", f"d{n}"))
        if session == SESSION and is_error:
            (dated_truth.append((n, message)) if spec["dated"] else undated_truth.append(message))
    admin.bulk(operations=operations, refresh=True)
    stored = admin.count(index=f"{prefix}-*")["count"]
    assert stored == len(lines)  # the cluster holds every document written

    result = scanned["run"](*mode)
    got = [json.loads(row)["_source"]["message"] for row in result.stdout.splitlines()]
    dated = [message for _, message in sorted(dated_truth)]
    expected = dated + undated_truth  # lines without a time come last (in any order among themselves)
    in_time = [message for message in got if message not in undated_truth]
    if mode == ("--limit", "3"):
        assert got[:min(3, len(dated))] == dated[:3], (result.stderr, got)
        assert len(got) == min(3, len(expected)) and set(got) <= set(expected), (result.stderr, got)
    else:
        assert in_time == (dated[::-1] if "--reverse" in mode else dated), (result.stderr, got)
        assert sorted(got) == sorted(expected), (result.stderr, got)
    assert result.returncode == (0 if got else 9), result.stderr
