"""Pure parts of leaving out what no search may read (issue 35, findings 9 and 12) and of counting
each failed shard once (pure; the real-node proof is tests/integration/test_unavailable_indices.py)."""

from __future__ import annotations

from types import SimpleNamespace

from elastic_cli.search.coverage import CLOSED, READ_BLOCK, Coverage, LeftOut, grouped
from elastic_cli.search.fields import READ_BLOCK as BLOCKED
from elastic_cli.search.fields import FieldPolicy, IndexShape
from elastic_cli.search.pager import WalkStats, shard_counts
from elastic_cli.search.plan import group_indices, read_blocked, search_target


def test_a_named_blocked_index_is_dropped_and_one_a_wildcard_matches_is_excluded_last():
    assert search_target(["logs-*", "app"], []) == "logs-*,app"
    assert search_target(["logs-*", "app"], ["logs-b"]) == "logs-*,app,-logs-b"
    # Elasticsearch 8 applies an exclusion to the wildcards before it only: a name is dropped
    assert search_target(["logs-a", "logs-b"], ["logs-b"]) == "logs-a"
    assert search_target(["logs-b"], ["logs-b"]) == ""
    assert search_target(["logs-*", "logs-b"], ["logs-b"]) == "logs-*,-logs-b"
    assert search_target(["-x", "logs"], ["b"]) == "-x,logs"  # an exclusion is no wildcard to narrow


def test_the_blocked_index_is_read_from_the_cluster_block_error_only():
    def error(kind: str, reason: str) -> Exception:
        return SimpleNamespace(body={"error": {"type": kind, "reason": reason}, "status": 403})  # type: ignore[return-value]

    assert read_blocked(error("cluster_block_exception",
                              "index [logs-b] blocked by: [FORBIDDEN/7/index read (api)];")) == ["logs-b"]
    assert read_blocked(error("cluster_block_exception", "index [a] blocked by: [FORBIDDEN/7/index read (api)];"
                              "index [b] blocked by: [FORBIDDEN/7/index read (api)];")) == ["a", "b"]
    # a cluster-wide block, another error, no body: nothing to leave out
    assert read_blocked(error("cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered];")) == []
    assert read_blocked(error("security_exception", "index [a] blocked by: [FORBIDDEN/7/index read (api)];")) == []
    assert read_blocked(ValueError("x")) == []


def test_closed_and_blocked_indices_are_left_out_with_their_reason_and_searched_around():
    shapes = [IndexShape("logs-a", "text", "utc_time", ("tags",)), IndexShape("logs-b", None, None, blocked="closed"),
              IndexShape("logs-c", None, None, blocked=BLOCKED)]
    groups, left_out = group_indices(shapes, ["logs-*"], FieldPolicy(), errors_only=True)
    assert left_out == (("logs-b", CLOSED), ("logs-c", READ_BLOCK))
    (group,) = groups
    # the closed index is skipped by the search itself; the blocked one must be excluded; the only
    # readable index is the whole of what the target reaches: nothing to pick in the body
    assert group.target == "logs-*,-logs-c" and group.indices == ("logs-a",) and not group.picked


def test_indices_left_out_for_one_uncounted_reason_are_one_sentence_with_the_rest_counted():
    names = [f"logs-2023.01.{n:02d}" for n in range(1, 9)]
    coverage = Coverage(left_out=[LeftOut(n, CLOSED, lines=None) for n in names] + [LeftOut("x", "other", lines=2)])
    (closed, other) = grouped(coverage.left_out)
    assert closed.index == ", ".join(names[:5]) + " and 3 more" and other.index == "x"
    assert len(coverage.missing()) == 2
    error = coverage.partial_error()
    assert error is not None and "POST /logs-2023.01.01/_open" in str(error.hint) and "each index named" in str(error.hint)
    one = Coverage(left_out=[LeftOut("logs-c", READ_BLOCK, lines=None)]).partial_error()
    assert one is not None and str(one.hint).startswith('remove the block as an admin (PUT /logs-c/_settings with '
                                                  '{"index.blocks.read": false})')


def stream(target: str, total: int, failed: int = 0, named: tuple[tuple[str, str], ...] = ()) -> WalkStats:
    return WalkStats(target=target, shards_total=total, shards_failed=failed, failed_shards=set(named))


def test_a_shard_is_counted_once_however_many_streams_searched_it():
    # two shapes over three one-shard indices; one shard fails in one stream, or in both
    assert shard_counts([stream("logs-*", 3, 1, (("b", "0"),)), stream("logs-*", 3)]) == (3, 0, 1)
    assert shard_counts([stream("logs-*", 3, 1, (("b", "0"),)), stream("logs-*", 3, 1, (("b", "0"),))]) == (3, 0, 1)
    # different shards failing in each stream: both counted
    assert shard_counts([stream("logs-*", 3, 1, (("b", "0"),)), stream("logs-*", 3, 1, (("c", "0"),))]) == (3, 0, 2)
    # failures grouped by Elasticsearch (one entry for two shards of one cause): never fewer than counted
    assert shard_counts([stream("logs-*", 4, 2, (("b", "0"),))]) == (4, 0, 2)
    # other targets are other shards
    assert shard_counts([stream("logs-*", 3, 1, (("b", "0"),)), stream("other", 2)]) == (5, 0, 1)
    assert shard_counts([]) == (0, 0, 0)
