"""`orx-elastic sessions` against real nodes: rows match a ground truth computed from the indexed data."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import to_base36

FLAKE_EPOCH_MS = 1550000000000
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    n, text = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        text = B58[r] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def token_for(session_id: int, rng: random.Random) -> str:
    expiry = int(datetime.now(timezone.utc).timestamp() * 1000) + 7_200_000
    return f"{to_base36(session_id)}.{to_base36(rng.randrange(0, 5000))}.{to_base36(expiry)}.{base58(rng.randbytes(32))}"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def recorded(es_node, tmp_path_factory):
    rng = random.Random(20261129)
    admin = es_node.admin_client()
    prefix = f"orxsess-{uuid.uuid4().hex[:8]}"
    text_index, keyword_index = f"{prefix}-text", f"{prefix}-kw"
    admin.indices.create(index=text_index, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    admin.indices.create(index=keyword_index, mappings={"properties": {
        "message": {"type": "keyword"}, "@timestamp": {"type": "date"},
        "log": {"properties": {"level": {"type": "keyword"}}}}})
    now = datetime.now(timezone.utc)
    truth: dict[str, dict] = defaultdict(lambda: {"lines": 0, "times": [], "markers": set()})
    operations: list[dict] = []

    def add(message: str, moment: datetime, error: bool, session: str | None = None, generation: str = "") -> None:
        index = rng.choice((text_index, keyword_index))
        if index == text_index:
            doc = {"message": message, "utc_time": iso(moment), "tags": ["error"] if error else ["info"]}
        else:
            doc = {"message": message, "@timestamp": iso(moment), "log": {"level": "ERROR" if error else "INFO"}}
        operations.extend([{"index": {"_index": index}}, doc])
        if session and error and moment >= now - timedelta(hours=1):
            row = truth[session]
            row["lines"] += 1
            row["times"].append(iso(moment))
            row["markers"].add(generation)

    session_ids = []
    for _ in range(60):
        start = now - timedelta(minutes=rng.uniform(1, 50))
        session_ids.append(((int(start.timestamp() * 1000) - FLAKE_EPOCH_MS) << 24) | rng.randrange(2**24))
    # an id that starts with another one's digits: two sessions, never one
    session_ids.append(int(str(session_ids[0])[:-1]))
    for session_id in session_ids:
        sid = str(session_id)
        tokens = [token_for(session_id, rng) for _ in range(rng.choice((1, 1, 2, 3)))]  # several tokens
        for _ in range(rng.randrange(1, 5)):
            moment = now - timedelta(minutes=rng.uniform(0.5, 55))
            error = rng.random() < 0.7
            if rng.random() < 0.5:
                add(f"GET /api/cart 500 openReplaySession.id={sid} failed", moment, error, sid, "v1.21")
            else:
                add(f"[openReplaySessionToken={rng.choice(tokens)}] ValueError: x\n  at line 3", moment, error,
                    sid, "v1.20")
        # an old line, outside the one-hour window
        add(f"openReplaySession.id={sid} long ago", now - timedelta(hours=3), True, sid, "v1.21")
    for _ in range(5):  # malformed tokens, and lines of no session
        # no session's: `logs` finds a v1.20 token by its base36 id and dot, as written (lower case)
        add("openReplaySessionToken=ZZ-not-a-token", now - timedelta(minutes=5), True)
        add("GET /health 200 no marker", now - timedelta(minutes=5), True)
    admin.bulk(operations=operations, refresh=True)

    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("sessions") / "config.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(config), "sessions", *args,
                   "--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"],
                   "--indexes", f"{prefix}-*"]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr
        assert key["api_key"] not in result.stdout + result.stderr
        return result

    yield {"run": run, "truth": dict(truth), "first_id": str(session_ids[0]), "prefix": prefix, "admin": admin,
           "key": key, "url": es_node.url}
    admin.indices.delete(index=f"{prefix}-*")


def test_rows_match_the_ground_truth(recorded):
    result = recorded["run"]("-o", "json", "--limit", "1000")
    assert result.returncode == 0, result.stderr
    rows = {r["session_id"]: r for r in json.loads(result.stdout)}
    truth = recorded["truth"]
    assert len(truth) >= 30  # enough sessions with error lines in the window to mean something
    assert set(rows) == set(truth)
    for sid, expected in truth.items():
        row = rows[sid]
        assert row["lines"] == expected["lines"], sid
        assert (row["first_line"], row["last_line"]) == (min(expected["times"]), max(expected["times"])), sid
        assert row["markers"].split() == sorted(expected["markers"]), sid
        assert row["session_start"] is not None
    assert "5 markers were neither a session token nor an id" in result.stderr


@pytest.mark.parametrize("page_size", [5000, 7])
def test_a_window_one_page_holds_opens_no_point_in_time_and_a_bigger_one_counts_every_line_once(recorded, page_size):
    """Far from the cluster a point in time costs two round trips (open, close): a window whose lines
    fit the first page is read without one; one that does not is walked on a point in time from its
    start, the first look set aside, and no line is counted twice."""
    from elastic_cli.search.fields import FieldPolicy
    from elastic_cli.search.sessions import find_sessions
    from elasticsearch import Elasticsearch

    class Counting:
        def __init__(self, es):
            self.es, self.opened = es, 0

        def __getattr__(self, name):
            return getattr(self.es, name)

        def open_point_in_time(self, **kw):
            self.opened += 1
            return self.es.open_point_in_time(**kw)

    key = recorded["key"]
    es = Counting(Elasticsearch(recorded["url"], api_key=(key["id"], key["api_key"])))
    report = find_sessions(es, [f"{recorded['prefix']}-*"], FieldPolicy(), datetime.now(timezone.utc) - timedelta(hours=1),
                           page_size=page_size)
    truth = recorded["truth"]
    assert {row.session_id: row.lines for row in report.rows} == {sid: t["lines"] for sid, t in truth.items()}
    # one group per kind of index here (text: utc_time/tags; keyword: @timestamp/log.level), each
    # holding more than 7 of the window's error lines and fewer than 5000
    assert es.opened == (0 if page_size == 5000 else 2)


def test_first_pages_go_beside_field_caps_and_never_answer_from_a_stale_plan(recorded, tmp_path, monkeypatch):
    """Far from the cluster `_field_caps` then a search is two round trips: each group's first page
    goes beside `_field_caps` in one `_msearch`, planned from the shapes cached last time, and is
    used only when the fresh answer plans the same search; otherwise that page is asked again.
    The rows are the ground truth every time."""
    import elasticsearch
    from elastic_cli.search.fields import FieldPolicy
    from elastic_cli.search.sessions import find_sessions
    from elastic_cli.search.shape_cache import ShapeCache

    sent: dict[str, int] = defaultdict(int)
    for name in ("msearch", "search", "open_point_in_time"):
        real = getattr(elasticsearch.Elasticsearch, name)

        def recording(self, *args, _real=real, _name=name, **kwargs):
            sent[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(elasticsearch.Elasticsearch, name, recording)
    key = recorded["key"]
    es = elasticsearch.Elasticsearch(recorded["url"], api_key=(key["id"], key["api_key"]))
    patterns, policy = [f"{recorded['prefix']}-*"], FieldPolicy()
    cache = ShapeCache.for_search(recorded["url"], key["id"], patterns, policy, directory=tmp_path)
    truth = {sid: t["lines"] for sid, t in recorded["truth"].items()}

    def rows(page_size: int = 5000) -> dict[str, int]:
        sent.clear()
        report = find_sessions(es, patterns, policy, datetime.now(timezone.utc) - timedelta(hours=1),
                               page_size=page_size, cache=cache)
        return {row.session_id: row.lines for row in report.rows}

    # first use: the guess (one group, the configured fields) is not these two kinds of index
    assert rows() == truth and dict(sent) == {"msearch": 1, "search": 2}
    assert cache.load() is not None and key["api_key"] not in cache.path.read_text()
    # known: both groups' first pages came with `_field_caps`; nothing else is sent
    assert rows() == truth and dict(sent) == {"msearch": 1}
    # a window bigger than a page: the early page is set aside, each group walked on a point in time
    assert rows(page_size=7) == truth and sent["open_point_in_time"] == 2
    # stale: the cache says the keyword index holds text (a match_phrase there finds nothing)
    data = json.loads(cache.path.read_text())
    for shape in data["shapes"]:
        shape[1] = "text"
    cache.path.write_text(json.dumps(data))
    assert rows() == truth and dict(sent) == {"msearch": 1, "search": 2}
    assert rows() == truth and dict(sent) == {"msearch": 1}  # the cache was corrected


def test_sorted_by_recency_or_count_and_limited(recorded):
    truth = recorded["truth"]
    recent = [json.loads(line) for line in recorded["run"]("--limit", "5").stdout.splitlines()]  # piped: ndjson
    assert [r["session_id"] for r in recent] == sorted(truth, key=lambda s: max(truth[s]["times"]), reverse=True)[:5]
    by_count = json.loads(recorded["run"]("--sort", "count", "-o", "json", "--limit", "3").stdout)
    assert [r["lines"] for r in by_count] == sorted((t["lines"] for t in truth.values()), reverse=True)[:3]


def test_all_levels_counts_more_lines_and_max_sessions_says_it_stopped(recorded):
    everything = json.loads(recorded["run"]("--all-levels", "-o", "json", "--limit", "1000").stdout)
    errors = json.loads(recorded["run"]("-o", "json", "--limit", "1000").stdout)
    assert sum(r["lines"] for r in everything) > sum(r["lines"] for r in errors)
    capped = recorded["run"]("--max-sessions", "3", "-o", "json")
    # the rows it could count are printed; the counts are partial, and the exit code says so
    assert capped.returncode == 13 and len(json.loads(capped.stdout)) == 3
    assert "stopped counting at 3 sessions" in capped.stderr
    quiet = recorded["run"]("--max-sessions", "3", "-o", "json", "-q")
    assert quiet.returncode == 13 and "stopped counting at 3 sessions" in quiet.stderr  # never silenced


def test_replay_links_and_an_empty_window(recorded):
    result = recorded["run"]("--openreplay-url", "https://or.example.com/", "--project-id", "7", "-o", "json")
    rows = json.loads(result.stdout)
    assert all(r["replay_url"] == f"https://or.example.com/7/session/{r['session_id']}" for r in rows)
    empty = recorded["run"]("--since", "2000-01-01", "--until", "2000-01-02")
    assert empty.returncode == 9 and "no session logged error lines" in empty.stderr


def test_a_failing_shard_is_reported_after_the_counts_it_could_make(recorded):
    """A shard that fails (here: an index whose result window is smaller than a page) answers 200 with
    the other shards' lines: the rows of those are printed, then the failure, with its own exit code."""
    admin, index = recorded["admin"], f"{recorded['prefix']}-zbroken"
    admin.indices.create(index=index, settings={"index.max_result_window": 10}, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    try:
        admin.index(index=index, refresh=True, document={
            "message": "openReplaySession.id=2618307011354435999 on a failing shard",
            "utc_time": iso(datetime.now(timezone.utc) - timedelta(minutes=3)), "tags": ["error"]})
        result = recorded["run"]("-o", "json", "--limit", "1000")
        assert result.returncode == 13, result.stderr
        assert {r["session_id"] for r in json.loads(result.stdout)} == set(recorded["truth"])
        # each shape's stream searches the patterns (its indices picked in the body): 2 streams x 3 shards
        assert re.search(r"\b1 of \d+ shards failed", result.stderr) and index in result.stderr
    finally:
        admin.indices.delete(index=index)
