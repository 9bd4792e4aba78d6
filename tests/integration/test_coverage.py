"""Every line of a session, or the reason why (issue 22), on a real node: a search that times out,
a point in time that is lost or outlives a slow reader, and flags that cannot hold together."""

from __future__ import annotations

import json
import random
import string
import uuid

import pytest

from conftest import Env, run_cli

SESSION = "2618307011354435587"
TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"


@pytest.fixture(scope="module")
def reader(es_node, tmp_path_factory):
    """A read-only key for `orxcov-*`, and a way to run the CLI with it."""
    admin = es_node.admin_client()
    prefix = f"orxcov-{uuid.uuid4().hex[:8]}"
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("coverage") / "config.yaml"

    def run(*args: str, index: str, env: Env | None = None):
        return run_cli("--config", str(config), *args, "--host", es_node.url, "--id", key["id"],
                       "--api-key", key["api_key"], "--indexes", index, env=env)

    return {"admin": admin, "prefix": prefix, "run": run}


def _lines(admin, index: str, count: int, message_type: str = "text", **settings) -> list[str]:
    admin.indices.create(index=index, settings=settings or None, mappings={"properties": {
        "message": {"type": message_type}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    messages = [f"openReplaySession.id={SESSION} line {n:05d}" for n in range(count)]
    operations = []
    for n, message in enumerate(messages):
        operations += [{"index": {"_index": index}},
                       {"message": message, "utc_time": f"2024-01-24T03:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}."
                                                       f"{n % 1000:03d}Z", "tags": ["error"]}]
    admin.bulk(operations=operations, refresh=True)
    return messages


def test_a_search_that_times_out_is_partial_not_whole(reader):
    """A cluster-wide search timeout: the shard answers with what it had, and says timed_out."""
    admin, index = reader["admin"], f"{reader['prefix']}-slow"
    # no query cache: a cached filter would skip the work that runs out of time, and the test with it
    ours = _lines(admin, index, 3, message_type="keyword", **{"index.queries.cache.enabled": False})
    # many distinct keyword values: the marker's regexp has to walk them all (tens of ms)
    rng = random.Random(7)
    operations = []
    for n in range(150_000):
        noise = "".join(rng.choice(string.ascii_letters) for _ in range(60))
        operations += [{"index": {"_index": index}}, {"message": f"{noise} openReplaySession.id={n}",
                                                      "utc_time": "2024-01-24T03:00:00Z", "tags": ["info"]}]
    for start in range(0, len(operations), 40_000):
        admin.bulk(operations=operations[start:start + 40_000])
    admin.indices.refresh(index=index)
    admin.indices.forcemerge(index=index, max_num_segments=1)
    whole = reader["run"]("logs", SESSION, "-o", "ndjson", index=index)
    assert whole.returncode == 0, whole.stderr
    assert [json.loads(line)["_source"]["message"] for line in whole.stdout.splitlines()] == ours
    admin.cluster.put_settings(persistent={"search.default_search_timeout": "1ms"})
    try:
        results = [reader["run"]("logs", SESSION, "-q", "-o", "ndjson", index=index) for _ in range(5)]
    finally:
        admin.cluster.put_settings(persistent={"search.default_search_timeout": None})
    timed_out = [r for r in results if r.returncode == 13]
    # a search that still made it in time is whole; one that ran out of time says so (the case that
    # used to look whole): whatever was read is printed, then the reason, even under -q
    assert timed_out, [(r.returncode, r.stderr) for r in results]
    for result in results:
        if result.returncode == 0:
            assert [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()] == ours
            continue
        assert result.returncode == 13, (result.returncode, result.stderr)
        assert "timed out" in result.stderr and "search.default_search_timeout" in result.stderr
        assert len(result.stdout.splitlines()) <= len(ours)


def test_a_lost_point_in_time_is_named_and_what_was_read_is_kept(reader, monkeypatch):
    admin, index = reader["admin"], f"{reader['prefix']}-lost"
    ours = _lines(admin, index, 50)
    from elastic_cli.search import pager

    real_used = pager._PointInTime.used
    closed: list[str] = []

    def used_then_lost(self, answered_id):
        real_used(self, answered_id)
        if not closed:  # after the first page the point in time goes away (as when its node restarts)
            closed.append(self.id)
            admin.close_point_in_time(id=self.id)

    monkeypatch.setattr(pager._PointInTime, "used", used_then_lost)
    result = reader["run"]("logs", SESSION, "--all", "--page-size", "10", "-o", "json", index=index)
    assert closed and result.returncode == 13, result.stderr
    assert "point in time was lost after" in result.stderr and "lines after those are missing" in result.stderr
    printed = json.loads(result.stdout)  # what was read is kept, as valid JSON; the exit code says partial
    assert 10 <= len(printed) < len(ours)
    assert [line["_source"]["message"] for line in printed] == ours[:len(printed)]


def test_a_slow_reader_keeps_its_point_in_time(reader, monkeypatch):
    """The keep-alive is short here and the reader pauses longer than it between pages: the walk
    keeps its point in time alive in the background and every line arrives."""
    admin, index = reader["admin"], f"{reader['prefix']}-slowreader"
    ours = _lines(admin, index, 12)
    import time

    from elastic_cli.search import pager

    monkeypatch.setattr(pager, "PIT_KEEP_ALIVE", "3s")
    monkeypatch.setattr(pager, "PIT_TOUCH_AFTER_SECONDS", 0.5)

    from elastic_cli.output.writer import LogWriter

    real_write_page = LogWriter.write_page

    def slow_write_page(self, hits):
        time.sleep(4.5)  # a reader that pauses far past the keep-alive, at each page
        real_write_page(self, hits)

    monkeypatch.setattr(LogWriter, "write_page", slow_write_page)
    result = reader["run"]("logs", SESSION, "--all", "--page-size", "5", "-o", "ndjson", index=index)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()] == ours


@pytest.mark.parametrize("flags,said", [
    (["--all", "--follow"], "--all and --follow"),
    (["--follow", "--reverse"], "cannot --reverse"),
    (["--follow", "--limit", "5"], "--limit does not apply"),
    (["--all", "--limit", "5"], "--limit does not apply"),
])
def test_flags_that_cannot_hold_together_are_refused_before_searching(reader, flags, said):
    result = reader["run"]("logs", TOKEN, *flags, index=f"{reader['prefix']}-nothing")
    assert result.returncode == 2 and said in result.stderr
    assert "no index matches" not in result.stderr  # refused before anything was asked
