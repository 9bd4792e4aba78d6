"""A matched index whose only shard is unassigned (its allocation filter names no node): its shard
failure carries `"reason": null`. `shows` and `check --session` name the index and shard as the reason
and give the rest (exit 13 for `shows`), never "unexpected TypeError" (issue 35, item 14)."""

from __future__ import annotations

import uuid

import pytest

from conftest import Env, run_cli

SID = "2618307011354435587"
TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
MAPPING = {"properties": {"message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}}


@pytest.fixture(scope="module")
def stuck(es_node):
    admin = es_node.admin_client()
    prefix = f"orxstuck-{uuid.uuid4().hex[:8]}"
    admin.indices.create(index=f"{prefix}-ok", mappings=MAPPING)
    # one primary, no replica, and a node name no node has: the shard stays unassigned
    admin.indices.create(index=f"{prefix}-stuck", mappings=MAPPING, wait_for_active_shards="0", settings={
        "number_of_shards": 1, "number_of_replicas": 0, "index.routing.allocation.require._name": "nowhere"})
    admin.bulk(refresh=True, operations=[
        {"index": {"_index": f"{prefix}-ok"}},
        {"message": f"checkout failed openReplaySessionToken={TOKEN} openReplaySession.id={SID}",
         "utc_time": "2024-01-24T02:30:00Z", "tags": ["error"]}])
    health = admin.cluster.health(index=f"{prefix}-stuck")
    assert health["unassigned_shards"] == 1, health  # the shape this test is about
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    yield {"url": es_node.url, "prefix": prefix, "key": key}
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def cli(env, *args):
    result = run_cli(*args, "--host", env["url"], "--id", env["key"]["id"], "--api-key", env["key"]["api_key"],
                     "--indexes", f"{env['prefix']}-*", env=Env(vars={"NO_COLOR": "1"}))
    assert "Traceback" not in result.output and "TypeError" not in result.output, result.output
    return result


def test_shows_names_the_unassigned_shard_and_gives_the_other_indexs_line(stuck):
    result = cli(stuck, "shows", SID, "-o", "json")
    assert result.returncode == 13, result.output
    assert [line["message"] for line in result.json()["lines"]] == [
        f"checkout failed openReplaySessionToken={TOKEN} openReplaySession.id={SID}"]
    assert f"{stuck['prefix']}-stuck[0]" in result.stderr and "no_shard_available_action_exception" in result.stderr
    assert "unexpected" not in result.stderr


def test_check_session_judges_the_session_instead_of_cannot_tell(stuck):
    result = cli(stuck, "check", "--session", SID, "-o", "json")
    findings = {f["id"]: f for f in result.json()}
    for generation in ("openreplay_v120", "openreplay_v121"):
        assert not findings[generation]["detail"].startswith("cannot tell"), findings[generation]
        assert findings[generation]["detail"].startswith(f"session {SID}: OpenReplay")
        assert findings[generation]["data"]["lines"] == 1
    # the v1.20 poller's own search fails on the stuck shard: said as that, with the index and shard
    assert findings["marked_logs"]["status"] == "failure"
    assert f"{stuck['prefix']}-stuck[0]" in findings["marked_logs"]["detail"]
