"""A shard failure read by `shows` names its shard and says something whatever the reason holds."""

from __future__ import annotations

import pytest
from elastic_cli.checks.shows import _failed_shards, shard_failure_text


@pytest.mark.parametrize("failure, text", [
    ({"shard": 0, "index": "a", "node": None,
      "reason": {"type": "no_shard_available_action_exception", "reason": None}},
     "shard 0: no_shard_available_action_exception (no reason given: no node holds a copy of it, e.g. it is unassigned)"),
    ({"shard": 2, "index": "a", "reason": None}, "shard 2: no reason given"),
    ({"index": "a", "reason": {"type": "query_shard_exception", "reason": "failed",
                               "caused_by": {"type": "x", "reason": "No mapping found for [utc_time]"}}},
     "shard ?: No mapping found for [utc_time]"),
    ({"shard": 1, "index": "a", "reason": {"type": "t", "reason": "bad\nline", "caused_by": {"reason": None}}},
     "shard 1: bad line"),
    ({"shard": 1, "index": "a", "reason": "plain text"}, "shard 1: plain text"),
])
def test_a_failure_is_text_naming_its_shard(failure, text):
    assert shard_failure_text(failure) == text


def test_failed_shards_keeps_the_first_failure_of_each_index_and_skips_nameless_ones():
    body = {"error": {"failures": [
        {"shard": 0, "index": "stuck", "reason": {"type": "no_shard_available_action_exception", "reason": None}},
        {"shard": 1, "index": "stuck", "reason": {"type": "other", "reason": "second"}},
        {"shard": 0, "index": None, "reason": None}, "not a failure"]}}
    assert list(_failed_shards(body)) == ["stuck"]
    assert _failed_shards(body)["stuck"].startswith("shard 0: no_shard_available_action_exception")
