"""A far-future time ends no read (issue 35, item 1): one line whose `utc_time` is epoch microseconds
in a `date` field (a shipper bug: year ~56,000) among five normal lines. Every mode prints all six:
the cluster sorts by that value, so it keeps its place (last oldest-first, first newest-first);
its displayed time may be odd, but no paging or resume rule drops a line after it."""

from __future__ import annotations

import uuid

import pytest

from conftest import Env, run_cli

SID = "2618307011354435587"
MARK = f"openReplaySession.id={SID}"
FAR = 1706063400000000  # 2024-01-24T02:30:00Z in microseconds, read as milliseconds: year ~56,000


@pytest.fixture(scope="module")
def far(es_node):
    admin = es_node.admin_client()
    prefix = f"orxfar-{uuid.uuid4().hex[:8]}"
    index = f"{prefix}-app"
    admin.indices.create(index=index, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    operations: list = []
    for n in range(5):
        operations += [{"index": {"_index": index, "_id": f"line-{n}"}},
                       {"message": f"line {n} {MARK}", "utc_time": f"2024-01-24T02:3{n}:00Z", "tags": ["error"]}]
    operations += [{"index": {"_index": index, "_id": "far"}},
                   {"message": f"microseconds {MARK}", "utc_time": FAR, "tags": ["error"]}]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    yield {"url": es_node.url, "index": index, "key": key}
    admin.indices.delete(index=index)
    admin.security.invalidate_api_key(ids=[key["id"]])


def ids(env, *args):
    result = run_cli("logs", SID, *args, "-o", "json", "--host", env["url"], "--id", env["key"]["id"],
                     "--api-key", env["key"]["api_key"], "--indexes", env["index"], env=Env())
    assert result.returncode == 0, result.output
    return [line["_id"] for line in result.json()]


DATED = [f"line-{n}" for n in range(5)]


@pytest.mark.parametrize("args, expected", [
    (("--all",), DATED + ["far"]),
    (("--all", "--reverse"), ["far"] + DATED[::-1]),
    (("--all", "--reverse", "--page-size", "2"), ["far"] + DATED[::-1]),
    (("--reverse", "--limit", "5", "--page-size", "2"), (["far"] + DATED[::-1])[:5]),
    (("--reverse", "--limit", "5"), (["far"] + DATED[::-1])[:5]),
    (("--limit", "6", "--page-size", "2"), DATED + ["far"]),
])
def test_every_line_in_the_clusters_order(far, args, expected):
    assert ids(far, *args) == expected


@pytest.fixture(scope="module")
def far_two_shapes(es_node, far):
    """The same six lines, and two more in an index of another shape (`@timestamp`): two streams merged."""
    admin = es_node.admin_client()
    other = far["index"].replace("-app", "-ecs")
    admin.indices.create(index=other, mappings={"properties": {
        "message": {"type": "text"}, "@timestamp": {"type": "date"}, "log.level": {"type": "keyword"}}})
    admin.bulk(refresh=True, operations=[
        {"index": {"_index": other, "_id": "ecs-0"}},
        {"message": f"ecs 0 {MARK}", "@timestamp": "2024-01-24T02:30:30Z", "log": {"level": "ERROR"}},
        {"index": {"_index": other, "_id": "ecs-1"}},
        {"message": f"ecs 1 {MARK}", "@timestamp": "2024-01-24T02:33:30Z", "log": {"level": "ERROR"}}])
    yield {**far, "index": f"{far['index']},{other}"}
    admin.indices.delete(index=other)


MERGED = ["line-0", "ecs-0", "line-1", "line-2", "line-3", "ecs-1", "line-4"]


def test_oldest_first_two_streams_merged_end_with_the_far_line(far_two_shapes):
    assert ids(far_two_shapes, "--all") == MERGED + ["far"]
    assert ids(far_two_shapes, "--limit", "8", "--page-size", "2") == MERGED + ["far"]


@pytest.mark.parametrize("args, expected", [
    (("--all", "--reverse"), ["far"] + MERGED[::-1]),
    (("--reverse", "--limit", "5", "--page-size", "2"), (["far"] + MERGED[::-1])[:5]),
])
def test_newest_first_two_streams_merged_start_with_the_far_line(far_two_shapes, args, expected):
    assert ids(far_two_shapes, *args) == expected


def test_the_far_line_is_said_to_have_an_unreadable_time_not_shown_as_a_date(far):
    result = run_cli("logs", SID, "--all", "-o", "json", "--host", far["url"], "--id", far["key"]["id"],
                     "--api-key", far["key"]["api_key"], "--indexes", far["index"], env=Env())
    assert result.returncode == 0, result.output
    records = {line["_id"]: line for line in result.json()}
    assert records["far"]["time"] is None and records["far"]["time_unreadable"] == FAR
    assert "offset" not in records["far"] and "time_unreadable" not in records["line-0"]
    assert records["line-0"]["time"].startswith("20")
