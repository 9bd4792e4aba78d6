"""An index the search cannot read, beside others it can (issue 35, findings 9 and 12): a closed index
under a wildcard was skipped without a word (exit 0), and one index with a read block
(`index.blocks.read`) failed the whole search (0 lines, exit 7 "grant the key read"). Now the other
indices' lines are printed and the index is named, with how to make it readable (exit 13), in every
mode of `logs` and in `sessions`, with the read-only key `create-key` makes. A shard that fails is
counted once, however many streams (one a shape) searched it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.keys.api_keys import role_descriptors

SESSION = "2618307011354435587"  # started 2024-01-24 02:27:39.324 UTC
T0 = datetime(2024, 1, 24, 3, 0, tzinfo=timezone.utc)
MODES = {
    "default": (),
    "limit": ("--limit", "10", "--page-size", "2"),
    "all": ("--all",),
    "all-reverse": ("--all", "--reverse"),
}


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def create(admin, index: str, seconds: tuple[int, ...], ecs: bool = False) -> list[str]:
    """An index of the sample shape (or ECS), with the session's error lines at those seconds."""
    if ecs:
        mappings = {"properties": {"message": {"type": "text"}, "@timestamp": {"type": "date"},
                                   "log": {"properties": {"level": {"type": "keyword"}}}}}
    else:
        mappings = {"properties": {"message": {"type": "text"}, "utc_time": {"type": "date"},
                                   "tags": {"type": "keyword"}}}
    admin.indices.create(index=index, mappings=mappings)
    operations: list[dict] = []
    messages = []
    for second in seconds:
        message = f"{index} {second:03d} openReplaySession.id={SESSION} failed"
        document = ({"message": message, "@timestamp": at(second), "log": {"level": "ERROR"}} if ecs else
                    {"message": message, "utc_time": at(second), "tags": ["error"]})
        operations += [{"index": {"_index": index}}, document]
        messages.append(message)
    admin.bulk(operations=operations, refresh=True)
    return messages


@pytest.fixture
def cluster(es_node, tmp_path):
    """A prefix, the admin, and `run(indexes, *args)`: the CLI with a read-only key on `<prefix>-*`
    (the key `create-key` makes), its own config and shape cache."""
    admin = es_node.admin_client()
    prefix = f"orxshut-{uuid.uuid4().hex[:8]}"
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors=role_descriptors([f"{prefix}-*"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")

    def run(indexes: str, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "elastic_cli", "--config", str(tmp_path / "c.yaml"), *args, "--host", es_node.url,
             "--id", key["id"], "--api-key", key["api_key"], "--indexes", indexes],
            capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr and key["api_key"] not in result.stdout + result.stderr
        return result

    yield {"prefix": prefix, "admin": admin, "run": run}
    admin.indices.delete(index=f"{prefix}-*", expand_wildcards="all")


def messages(result: subprocess.CompletedProcess) -> list[str]:
    return [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()]


def sessions(cluster, indexes: str) -> subprocess.CompletedProcess:
    return cluster["run"](indexes, "sessions", "--since", "2024-01-24T00:00:00Z", "--until", "2024-01-25T00:00:00Z",
                          "-o", "json")


def test_a_closed_index_under_a_wildcard_is_named_and_the_open_ones_are_read(cluster):
    prefix, admin = cluster["prefix"], cluster["admin"]
    readable = create(admin, f"{prefix}-a", (10, 30)) + create(admin, f"{prefix}-ecs", (20,), ecs=True)
    create(admin, f"{prefix}-b", (15, 25))
    admin.indices.close(index=f"{prefix}-b")
    expected = sorted(readable, key=lambda m: m.split()[1])
    for mode, extra in MODES.items():
        result = cluster["run"](f"{prefix}-*", "logs", SESSION, "-o", "ndjson", *extra)
        assert result.returncode == 13, (mode, result.stderr)
        assert messages(result) == (expected[::-1] if "reverse" in mode else expected), mode
        assert f"{prefix}-b" in result.stderr and "closed" in result.stderr, (mode, result.stderr)
        assert f"POST /{prefix}-b/_open" in result.stderr, (mode, result.stderr)
    result = sessions(cluster, f"{prefix}-*")
    assert result.returncode == 13, result.stderr
    assert [row["lines"] for row in json.loads(result.stdout)] == [3]
    assert f"{prefix}-b" in result.stderr and "closed" in result.stderr


def test_a_closed_index_named_beside_an_open_one_is_named(cluster):
    """`--indexes a,b` with b closed: the search skips b (ignore_unavailable) without a word."""
    prefix, admin = cluster["prefix"], cluster["admin"]
    readable = create(admin, f"{prefix}-a", (10, 30))
    create(admin, f"{prefix}-b", (15,))
    admin.indices.close(index=f"{prefix}-b")
    result = cluster["run"](f"{prefix}-a,{prefix}-b", "logs", SESSION, "-o", "ndjson")
    assert result.returncode == 13, result.stderr
    assert messages(result) == readable
    assert f"{prefix}-b" in result.stderr and "closed" in result.stderr


def test_a_closed_index_alone_is_still_said_closed(cluster):
    """Nothing else to search: "matches ... but is closed" (exit 8), as before, from the same answer."""
    prefix, admin = cluster["prefix"], cluster["admin"]
    create(admin, f"{prefix}-b", (15,))
    admin.indices.close(index=f"{prefix}-b")
    for indexes in (f"{prefix}-b", f"{prefix}-*"):
        result = cluster["run"](indexes, "logs", SESSION)
        assert result.returncode == 8, result.stderr
        assert f"{prefix}-b matches" in result.stderr and "is closed" in result.stderr and "_open" in result.stderr


READ_BLOCK = {"index.blocks.read": True}


def unblock(admin, *indices: str) -> None:
    admin.indices.put_settings(index=",".join(indices), settings={"index.blocks.read": False})


def test_an_index_with_a_read_block_is_named_and_the_others_are_read(cluster):
    """Two blocked indices (Elasticsearch names one per answer) under a wildcard, beside two shapes."""
    prefix, admin = cluster["prefix"], cluster["admin"]
    readable = create(admin, f"{prefix}-a", (10, 30)) + create(admin, f"{prefix}-ecs", (20,), ecs=True)
    create(admin, f"{prefix}-c", (15,))
    create(admin, f"{prefix}-d", (25,), ecs=True)
    admin.indices.put_settings(index=f"{prefix}-c,{prefix}-d", settings=READ_BLOCK)
    expected = sorted(readable, key=lambda m: m.split()[1])
    try:
        for mode, extra in MODES.items():
            result = cluster["run"](f"{prefix}-*", "logs", SESSION, "-o", "ndjson", *extra)
            assert result.returncode == 13, (mode, result.stderr)
            assert messages(result) == (expected[::-1] if "reverse" in mode else expected), mode
            assert f"{prefix}-c, {prefix}-d" in result.stderr and "read block" in result.stderr, (mode, result.stderr)
            assert '"index.blocks.read": false' in result.stderr, (mode, result.stderr)
        result = sessions(cluster, f"{prefix}-*")
        assert result.returncode == 13, result.stderr
        assert [row["lines"] for row in json.loads(result.stdout)] == [3]
        assert f"{prefix}-c, {prefix}-d" in result.stderr and "read block" in result.stderr
    finally:
        unblock(admin, f"{prefix}-c", f"{prefix}-d")


def test_an_index_with_a_read_block_named_in_indexes_is_left_out_by_name(cluster):
    """Elasticsearch 8 applies an exclusion (`-name`) to wildcards only: a name given is dropped instead."""
    prefix, admin = cluster["prefix"], cluster["admin"]
    readable = create(admin, f"{prefix}-a", (10, 30))
    create(admin, f"{prefix}-c", (15,))
    admin.indices.put_settings(index=f"{prefix}-c", settings=READ_BLOCK)
    try:
        for extra in ((), ("--all",)):
            result = cluster["run"](f"{prefix}-a,{prefix}-c", "logs", SESSION, "-o", "ndjson", *extra)
            assert result.returncode == 13, result.stderr
            assert messages(result) == readable
            assert f"{prefix}-c" in result.stderr and "read block" in result.stderr
        result = cluster["run"](f"{prefix}-c", "logs", SESSION)
        assert result.returncode == 8, result.stderr
        assert f"{prefix}-c matches" in result.stderr and "read block" in result.stderr
    finally:
        unblock(admin, f"{prefix}-c")


def test_an_alias_over_an_index_with_a_read_block_says_so_not_grant_read(cluster):
    """An alias cannot be searched without one of its indices: no search can run. It said "not allowed
    ... grant the key `read`" (exit 7), which the key has; now the block, and how to remove it."""
    prefix, admin = cluster["prefix"], cluster["admin"]
    create(admin, f"{prefix}-a", (10,))
    create(admin, f"{prefix}-c", (15,))
    admin.indices.update_aliases(actions=[{"add": {"indices": [f"{prefix}-a", f"{prefix}-c"],
                                                   "alias": f"{prefix}-all"}}])
    admin.indices.put_settings(index=f"{prefix}-c", settings=READ_BLOCK)
    try:
        result = cluster["run"](f"{prefix}-all", "logs", SESSION)
        assert result.returncode == 11, result.stderr
        assert f"{prefix}-c has a read block" in result.stderr and '"index.blocks.read": false' in result.stderr
        assert "grant" not in result.stderr
    finally:
        unblock(admin, f"{prefix}-c")


def test_a_failing_shard_is_counted_once_however_many_shapes_searched_it(cluster):
    """Two shapes over three one-shard indices: each shape's stream searches the patterns, so each
    counted the three shards: "1 of 6 shards failed". Each distinct shard is counted once."""
    prefix, admin = cluster["prefix"], cluster["admin"]
    readable = create(admin, f"{prefix}-a", (10, 30)) + create(admin, f"{prefix}-ecs", (20,), ecs=True)
    create(admin, f"{prefix}-broken", (15,))
    # a result window smaller than any page asked for: the search fails on that index's shard and
    # answers with the other shards' lines
    admin.indices.put_settings(index=f"{prefix}-broken", settings={"index.max_result_window": 1})
    expected = sorted(readable, key=lambda m: m.split()[1])
    for mode, extra in MODES.items():
        result = cluster["run"](f"{prefix}-*", "logs", SESSION, "-o", "ndjson", *extra)
        assert result.returncode == 13, (mode, result.stderr)
        assert messages(result) == (expected[::-1] if "reverse" in mode else expected), mode
        assert "1 of 3 shards failed" in result.stderr and f"{prefix}-broken" in result.stderr, (mode, result.stderr)
    result = sessions(cluster, f"{prefix}-*")
    assert result.returncode == 13, result.stderr
    assert "1 of 3 shards failed" in result.stderr and f"{prefix}-broken" in result.stderr


def test_check_says_a_read_block_not_grant_read(cluster):
    """`check` reads the patterns' field caps whole: a read block there is the block and its fix, never
    "grant the key read" (the key may read it; no key may while the block is set)."""
    prefix, admin = cluster["prefix"], cluster["admin"]
    create(admin, f"{prefix}-a", (10,))
    create(admin, f"{prefix}-c", (15,))
    admin.indices.put_settings(index=f"{prefix}-c", settings=READ_BLOCK)
    try:
        result = cluster["run"](f"{prefix}-*", "check", "-o", "json")
    finally:
        unblock(admin, f"{prefix}-c")
    said = json.dumps(json.loads(result.stdout))
    assert result.returncode != 0, said
    assert "grant the key" not in said and "index.blocks.read" in said, said
    assert f"PUT /{prefix}-c/_settings" in said, said
