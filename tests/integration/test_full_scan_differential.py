"""`logs` against a full scan (issue 35): Hypothesis writes marked lines of three sessions, in every
context a logger writes a marker, into indices shaped as real clusters shape them (message analysed by
the standard, whitespace, keyword and simple analyzers, a keyword message with ignore_above; time as
utc_time or @timestamp, or missing, near the session or far in the past (1900) or the future (epoch
microseconds in a date field, year ~56,000); level as tags, log.level words, pino's numbers), searched
through the pattern, an alias over the indices or a filtered alias, with or without the session window,
beside an index that may be closed, and `logs` must print exactly the error lines of the one session, in
time order, in every mode, or say which index it could not read (exit 13). The ground truth is what the
test wrote (each document is read back as the admin first, so the cluster holds it), with the marker,
level, window and alias-filter rules applied in plain Python, not by the tool's code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SESSION = "2618307011354435587"  # started 2024-01-24 02:27:39.324 UTC
TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
# a longer id that starts with ours, and the next id: never this session's
OTHERS = {"26183070113544355870": "k8f4n3mphcw0.3az.x", "2618307011354435588": "jw4wdfpgqhok.3az.x"}
T0 = datetime(2024, 1, 24, 3, 0, tzinfo=timezone.utc)
STARTED = datetime(2024, 1, 24, 2, 27, 39, 324000, tzinfo=timezone.utc)
MARGIN = timedelta(days=1)  # the default session margin: the window starts at STARTED - MARGIN
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# a line's time: near the session, far in the past, or epoch microseconds read as epoch ms (a shipper's
# bug, year ~56,000): (its epoch ms for the n-th line, the value written)
TIMES = {
    "near": lambda n: (int((T0 - EPOCH).total_seconds() * 1000) + n * 1000,
                       (T0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")),
    "past": lambda n: (int((datetime(1900, 1, 1, tzinfo=timezone.utc) - EPOCH).total_seconds() * 1000) + n * 1000,
                       (datetime(1900, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=n)).isoformat()
                       .replace("+00:00", "Z")),
    "future": lambda n: (int((T0 - EPOCH).total_seconds() * 1000) * 1000 + n * 1000,
                         int((T0 - EPOCH).total_seconds() * 1000) * 1000 + n * 1000),
}
WINDOW_MS = int((STARTED - MARGIN - EPOCH).total_seconds() * 1000)
# an index of the standard shape that a wildcard matches and the aliases do not; closed in some examples
SHUT = "shut"

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
    for shape, (message, time_field, (level_field, level_mapping)) in [*SHAPES.items(), (SHUT, SHAPES["std"])]:
        properties: dict = {"message": message, time_field: {"type": "date"}, "env": {"type": "keyword"}}
        put(properties, level_field.replace(".", ".properties."), level_mapping)
        admin.indices.create(index=f"{prefix}-{shape}", mappings={"properties": properties})
    shaped = [f"{prefix}-{shape}" for shape in SHAPES]
    admin.indices.update_aliases(actions=[
        {"add": {"indices": shaped, "alias": f"{prefix}-all"}},
        {"add": {"indices": shaped, "alias": f"{prefix}-prod", "filter": {"term": {"env": "prod"}}}}])
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    config = tmp_path_factory.mktemp("diff") / "config.yaml"

    def run(target: str, *args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(config), "logs", SESSION, "-o", "ndjson",
                   *args, "--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"],
                   "--indexes", target]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr
        return result

    yield {"admin": admin, "prefix": prefix, "run": run, "written": []}
    admin.indices.delete(index=f"{prefix}-*", expand_wildcards="all")


line = st.fixed_dictionaries({
    "shape": st.sampled_from([*sorted(SHAPES), SHUT]),
    "session": st.sampled_from([SESSION, SESSION, *OTHERS]),
    "context": st.sampled_from(CONTEXTS),
    "before": st.lists(st.sampled_from(WORDS), max_size=2),
    "after": st.lists(st.sampled_from(WORDS), max_size=2),
    "long": st.booleans(),  # past the keyword field's ignore_above
    "level": st.integers(0, 5),
    "dated": st.integers(0, 9).map(lambda n: n != 0),  # one line in ten lost its time
    "time": st.sampled_from(["near", "near", "near", "past", "future"]),
    "prod": st.booleans(),  # env: prod (else staging), which the filtered alias keeps
})
# the pattern (every index, the one that may be closed too), an alias over the shaped indices, and a
# filtered one (env: prod)
TARGETS = ["pattern", "alias", "prod"]
MODES = [("--all",), ("--all", "--reverse"), (), ("--limit", "3")]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
def spec(shape: str, time: str = "near", prod: bool = True, session: str = SESSION) -> dict:
    """One line of an explicit example: an error line of `session`, its marker at the start."""
    return {"shape": shape, "session": session, "context": CONTEXTS[0], "before": [], "after": [], "long": False,
            "level": 0, "dated": True, "time": time, "prod": prod}


@given(lines=st.lists(line, min_size=1, max_size=14), mode=st.sampled_from(MODES), target=st.sampled_from(TARGETS),
       closed=st.booleans(), window=st.booleans())
# the cases each run must see, whatever the seed draws: a closed index beside lines far in the past
# and the future, read backwards; the filtered alias over two shapes, without the session window
@example(lines=[spec(SHUT), spec("std", "future"), spec("ws", "past"), spec("std"), spec("kw")],
         mode=("--all", "--reverse"), target="pattern", closed=True, window=True)
@example(lines=[spec("std", "past"), spec("ws", prod=False), spec("ws", "future"), spec(SHUT), spec("kwa")],
         mode=("--limit", "3"), target="prod", closed=False, window=False)
def test_logs_equals_a_full_scan_on_every_shape(scanned, lines, mode, target, closed, window):
    admin, prefix = scanned["admin"], scanned["prefix"]
    shut = f"{prefix}-{SHUT}"
    admin.indices.open(index=shut, wait_for_active_shards="1")  # to delete the last example's documents
    if scanned["written"]:  # the last example's documents (this distribution has no _delete_by_query)
        admin.bulk(operations=[{"delete": {"_index": index, "_id": doc}} for index, doc in scanned["written"]],
                   refresh=True)
        scanned["written"].clear()
    operations: list[dict] = []
    dated_truth: list[tuple[int, str]] = []
    undated_truth: list[str] = []
    for n, spec in enumerate(lines):
        _, time_field, (level_field, _) = SHAPES["std" if spec["shape"] == SHUT else spec["shape"]]
        session = spec["session"]
        marker = spec["context"].format(i=session, t=TOKEN if session == SESSION else OTHERS[session])
        words = [*spec["before"], marker, *spec["after"], f"n{n}"]
        if spec["long"]:
            words.append("padding " * 12)
        message = " ".join(words)
        value, is_error = LEVELS[level_field][spec["level"] % len(LEVELS[level_field])]
        source: dict = {"message": message, "env": "prod" if spec["prod"] else "staging"}
        put(source, level_field, value)
        moment, written = TIMES[spec["time"]](n)
        if spec["dated"]:
            source[time_field] = written
        operations += [{"index": {"_index": f"{prefix}-{spec['shape']}", "_id": f"d{n}"}}, source]
        scanned["written"].append((f"{prefix}-{spec['shape']}", f"d{n}"))
        reached = {"pattern": True, "alias": spec["shape"] != SHUT,
                   "prod": spec["shape"] != SHUT and spec["prod"]}[target]
        if spec["shape"] == SHUT and closed:
            reached = False  # the tool cannot read it: it must say so (below)
        in_window = not (window and spec["dated"] and moment < WINDOW_MS)
        if session == SESSION and is_error and reached and in_window:
            (dated_truth.append((moment, message)) if spec["dated"] else undated_truth.append(message))
    admin.bulk(operations=operations, refresh=True)
    stored = admin.count(index=f"{prefix}-*")["count"]
    assert stored == len(lines)  # the cluster holds every document written
    if closed:
        admin.indices.close(index=shut)

    result = scanned["run"]({"pattern": f"{prefix}-*", "alias": f"{prefix}-all", "prod": f"{prefix}-prod"}[target],
                            *mode, *(() if window else ("--no-session-window",)))
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
    if closed and target == "pattern":  # the closed index is named, whatever it holds
        assert result.returncode == 13 and shut in result.stderr and "closed" in result.stderr, result.stderr
    else:
        assert result.returncode == (0 if got else 9), result.stderr
