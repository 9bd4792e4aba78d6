"""`sessions` finds exactly the sessions whose lines `logs` finds (issue 35): the same marker clauses for
each index's mapping and analysis (standard, whitespace, keyword and simple analyzers, a keyword message
past ignore_above), the same marker spellings (any case and punctuation before a v1.21+ id, a marker glued
to the word before it), never a longer id; and what it cannot search is said (exit 13), never silence.

It matched the markers' words only: on a whitespace- or keyword-analysed index and for a glued marker it
counted fewer lines (or no row), exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import (
    FLAKE_EPOCH_MS,
    contains_marker,
    markers,
    parse_session_ref,
    to_base36,
    to_base58,
)

NOW = datetime.now(timezone.utc)
# a session of 2022: its id is short enough that one digit more is still a session id (below 2**64)
OURS = ((int(datetime(2022, 6, 1, tzinfo=timezone.utc).timestamp() * 1000) - FLAKE_EPOCH_MS) << 24) | 4242
SESSIONS = {
    "ours": str(OURS),
    "longer": str(OURS) + "7",  # starts with our id's digits: another session
    "next": str(OURS + 1),
    "token-only": str(OURS + 2),
}


def token(session_id: str) -> str:
    expiry = int((NOW + timedelta(hours=2)).timestamp() * 1000)
    return f"{to_base36(int(session_id))}.3az.{to_base36(expiry)}.{to_base58(bytes(range(1, 33)))}"


# the forms loggers write (as in test_index_analysis), each of a session
CONTEXTS = [
    "openReplaySession.id={id} plain",
    "ctx:openReplaySession.id={id} after a key",
    "failed.openReplaySession.id={id} after a logger name",
    "[openReplaySession.id={id}] in brackets",
    '{{"ctx":"openReplaySession.id={id}","msg":"in json"}}',
    "OPENREPLAYSESSION.ID={id} upper case",
    "openReplaySession.id= {id} as console.log(k, v) writes",
    "openReplaySession.id: {id} after a colon",
    "trace_openReplaySessionToken={token} glued token",
    "[openReplaySessionToken={token}] token",
    "{long}openReplaySession.id={id} past ignore_above",
]
SHAPES = {
    "standard": {"type": "text"},
    "whitespace": {"type": "text", "analyzer": "whitespace"},
    "kwanalyzer": {"type": "text", "analyzer": "keyword"},
    "simple": {"type": "text", "analyzer": "simple"},
    "keyword": {"type": "keyword", "ignore_above": 100},
}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def marked(es_node, tmp_path_factory):
    admin = es_node.admin_client()
    prefix = f"orxfind-{uuid.uuid4().hex[:8]}"
    operations: list[dict] = []
    extra = {"unindexed": {"type": "text", "index": False}, "nosource": {"type": "text"}, "dynfalse": None}
    for name, mapping in {**SHAPES, **extra}.items():
        index = f"{prefix}-{name}"
        properties = {"utc_time": {"type": "date"}, "tags": {"type": "keyword"}}
        if mapping is not None:
            properties["message"] = mapping
        admin.indices.create(index=index, mappings={
            "properties": properties, **({"_source": {"enabled": False}} if name == "nosource" else {}),
            **({"dynamic": False} if name == "dynfalse" else {})})
        n = 0
        for kind, session_id in SESSIONS.items():
            for context in CONTEXTS:
                if kind == "token-only" and "{token}" not in context:
                    continue
                n += 1
                line = context.format(id=session_id, token=token(session_id), long="long line " * 11)
                operations += [{"index": {"_index": index}},
                               {"message": line, "utc_time": iso(NOW - timedelta(seconds=n)), "tags": ["error"]}]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))

    def cli(indexes: str, *args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(tmp_path_factory.mktemp("c") / "c.yaml"),
                   *args, "--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"],
                   "--indexes", indexes]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr
        return result

    def truth(index: str, session_id: str) -> list[str]:
        """Every document read as the admin, kept by the marker rule in plain Python."""
        hits = admin.search(index=index, size=1000)["hits"]["hits"]
        ours = markers(parse_session_ref(session_id))
        return [h["_source"]["message"] for h in hits if any(contains_marker(h["_source"]["message"], m)
                                                              for m in ours)]

    yield {"cli": cli, "prefix": prefix, "truth": truth}
    admin.indices.delete(index=f"{prefix}-*")


def rows(result: subprocess.CompletedProcess) -> dict[str, dict]:
    return {row["session_id"]: row for row in json.loads(result.stdout or "[]")}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_sessions_rows_are_what_logs_finds_for_each_session(marked, shape):
    index = f"{marked['prefix']}-{shape}"
    found = marked["cli"](index, "sessions", "--since", "2h", "-o", "json", "--limit", "100")
    assert found.returncode == 0, found.stderr
    table = rows(found)
    for kind, session_id in SESSIONS.items():
        logs = marked["cli"](index, "logs", session_id, "--all", "-o", "ndjson")
        assert logs.returncode == 0, (kind, logs.stderr)
        lines = [json.loads(line) for line in logs.stdout.splitlines()]
        assert sorted(line["_source"]["message"] for line in lines) == sorted(marked["truth"](index, session_id))
        row = table.get(session_id)
        assert row is not None, (kind, sorted(table))
        times = sorted(line["_source"]["utc_time"] for line in lines)
        assert (row["lines"], row["first_line"], row["last_line"]) == (len(lines), times[0], times[-1]), kind
    assert set(table) == set(SESSIONS.values())  # no row of a prefix of an id, none of a longer one's digits


def test_sessions_over_every_shape_at_once(marked):
    found = marked["cli"](",".join(f"{marked['prefix']}-{s}" for s in SHAPES), "sessions", "--since", "2h",
                          "-o", "json")
    assert found.returncode == 0, found.stderr
    table = rows(found)
    assert set(table) == set(SESSIONS.values())
    for session_id in SESSIONS.values():
        expected = sum(len(marked["truth"](f"{marked['prefix']}-{s}", session_id)) for s in SHAPES)
        assert table[session_id]["lines"] == expected, session_id


@pytest.mark.parametrize(("shape", "said"), [
    ("unindexed", "no search can find"),
    ("nosource", "_source is disabled"),  # the shard's own failure, naming it
    ("dynfalse", "mapping does not"),
])
def test_what_sessions_cannot_search_is_named(marked, shape, said):
    """An index whose message no search can read, whose hits carry no `_source`, or whose documents hold
    the message its mapping lacks: the rows of the other index are printed, the index is named, exit 13
    (was exit 0, the index's sessions missing without a word), even under -q."""
    prefix = marked["prefix"]
    for quiet in ((), ("-q",)):
        found = marked["cli"](f"{prefix}-standard,{prefix}-{shape}", "sessions", "--since", "2h", "-o", "json",
                              *quiet)
        assert found.returncode == 13, found.stderr
        assert f"{prefix}-{shape}" in found.stderr and said in found.stderr, found.stderr
        table = rows(found)
        assert set(table) == set(SESSIONS.values())
        ours = SESSIONS["ours"]
        assert table[ours]["lines"] == len(marked["truth"](f"{prefix}-standard", ours))
