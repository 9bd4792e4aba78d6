"""`orx-elastic logs` against real Elasticsearch nodes (8.19.x and 9.x)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from conftest import Env, run_cli

TOKEN_A = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
ID_A = "2618307011354435587"
# same session id digits as a prefix, and the same token but another signature case
ID_PREFIX_OF_A = ID_A[:-1]
TOKEN_A_OTHER_CASE = "jw4wdfpgqhoj.3az.lrraavgc.OVj2JWK7beazR3Hb1gGcDxKxtf3w4C4SNDrRPzEVT3Q"
# a token with a negative delay: '-' must match itself only
TOKEN_NEG = "k1.-3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
TOKEN_NEG_WITHOUT_MINUS = "k1.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
ID_NEG = str(int("k1", 36))
T0 = datetime(2024, 1, 24, 4, 0, 0, tzinfo=timezone.utc)
BULK_ID = "424242424242"
BULK_COUNT = 25_000


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


# (message, minutes after T0, tags); the text and keyword indices get the same lines
LINES = [
    (f"[openReplaySessionToken={TOKEN_A}] ValueError: bad cart id", 1, ["error"]),
    (f"openReplaySession.id={ID_A} Traceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'x'", 2, ["error"]),
    (f"[openReplaySessionToken={TOKEN_A}] GET /cart 200", 3, ["info", "success"]),
    (f"openReplaySession.id={ID_A} payment failed", 5, ["error"]),
    (f"refund refused for openReplaySession.id={ID_A}.", 5.5, ["error"]),  # a full stop after the id
    # other sessions that must never show up for A
    (f"[openReplaySessionToken={TOKEN_A}X] prefix-sharing token", 1.5, ["error"]),
    (f"openReplaySession.id={ID_A}7 prefix-sharing id", 1.5, ["error"]),
    (f"openReplaySession.id={ID_PREFIX_OF_A} shorter id", 1.5, ["error"]),
    (f"[openReplaySessionToken={TOKEN_A_OTHER_CASE}] same letters, other case", 1.5, ["error"]),
    (f"[openReplaySessionToken={TOKEN_NEG}] negative delay token", 4, ["error"]),
    (f"[openReplaySessionToken={TOKEN_NEG_WITHOUT_MINUS}] same token without the minus", 4, ["error"]),
    ("no marker at all", 4, ["error"]),
    ("\x1b[31mred\x1b[0m [bold]markup[/bold] " + f"openReplaySession.id={ID_NEG}", 6, ["error"]),
]
A_ERRORS = ["bad cart id", "KeyError", "payment failed", "refund refused"]


@pytest.fixture(scope="module")
def logs_env(es_node, tmp_path_factory):
    """Two log indices (message as text, and as keyword) and a read-only key for them."""
    admin = es_node.admin_client()
    prefix = f"orxlogs-{uuid.uuid4().hex[:8]}"
    for kind in ("text", "keyword"):
        admin.indices.create(index=f"{prefix}-{kind}", mappings={"properties": {
            "message": {"type": kind}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    operations = []
    for kind in ("text", "keyword"):
        for message, minutes, tags in LINES:
            operations += [{"index": {"_index": f"{prefix}-{kind}"}},
                           {"message": message, "utc_time": at(minutes), "tags": tags}]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("logs") / "config.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    base = [sys.executable, "-m", "elastic_cli", "--config", str(config), "logs"]
    conn = ["--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"]]
    yield {"admin": admin, "prefix": prefix, "base": base, "conn": conn, "env": env, "key": key}
    admin.indices.delete(index=f"{prefix}-*")


def run_logs(env, *args, indexes=None):
    index_pattern = indexes or f"{env['prefix']}-*"
    result = run_cli(*env["base"][3:], *args, *env["conn"], "--indexes", index_pattern, env=Env())
    assert env["key"]["api_key"] not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def messages(result) -> list[str]:
    return [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()]


@pytest.mark.parametrize("kind", ["text", "keyword"])
def test_token_finds_both_markers_errors_only_in_time_order(logs_env, kind):
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson", indexes=f"{logs_env['prefix']}-{kind}")
    assert result.returncode == 0, result.stderr
    found = messages(result)
    assert len(found) == 4
    for expected, line in zip(A_ERRORS, found):
        assert expected in line
    assert "GET /cart" not in result.stdout


def test_session_id_alone_finds_the_v121_lines(logs_env):
    result = run_logs(logs_env, ID_A, "-o", "ndjson", indexes=f"{logs_env['prefix']}-text")
    assert result.returncode == 0, result.stderr
    found = messages(result)
    assert [("KeyError" in found[0]), ("payment failed" in found[1]), ("refund" in found[2])] == [True] * 3
    assert len(found) == 3


def test_both_indices_mixed_mappings(logs_env):
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson")
    assert result.returncode == 0, result.stderr
    assert len(messages(result)) == 8  # four lines in each of the two indices


@pytest.mark.parametrize("kind", ["text", "keyword"])
def test_other_sessions_never_leak(logs_env, kind):
    index = f"{logs_env['prefix']}-{kind}"
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson", "--all-levels", indexes=index)
    assert result.returncode == 0, result.stderr
    for intruder in ("prefix-sharing", "shorter id", "other case", "negative delay", "without the minus"):
        assert intruder not in result.stdout
    result = run_logs(logs_env, TOKEN_NEG, "-o", "ndjson", indexes=index)
    found = messages(result)
    assert any("negative delay token" in m for m in found)
    assert not any("without the minus" in m for m in found)


def test_all_levels_and_reverse(logs_env):
    index = f"{logs_env['prefix']}-text"
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson", "--all-levels", indexes=index)
    found = messages(result)
    assert len(found) == 5 and "GET /cart" in found[2]
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson", "--all-levels", "--reverse", indexes=index)
    assert messages(result) == list(reversed(found))


def test_time_range(logs_env):
    index = f"{logs_env['prefix']}-text"
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson", "--since", at(1.5), "--until", at(4), indexes=index)
    found = messages(result)
    assert len(found) == 1 and "KeyError" in found[0]
    # relative durations: everything in the sample is long ago
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson", "--since", "2h", indexes=index)
    assert result.returncode == 9 and result.stdout == ""
    assert "orx-elastic check" in result.stderr


def test_json_and_csv_parse_and_match_the_hits(logs_env):
    index = f"{logs_env['prefix']}-keyword"
    as_json = json.loads(run_logs(logs_env, TOKEN_A, "-o", "json", indexes=index).stdout)
    assert [h["_source"]["message"] for h in as_json] == messages(run_logs(logs_env, TOKEN_A, "-o", "ndjson", indexes=index))
    rows = list(csv.DictReader(io.StringIO(run_logs(logs_env, TOKEN_A, "-o", "csv", indexes=index).stdout)))
    assert [r["message"] for r in rows] == [h["_source"]["message"] for h in as_json]
    assert [r["level"] for r in rows] == ["error"] * 4
    assert rows[0]["time"] == at(1) and rows[0]["index"] == index
    picked = list(csv.DictReader(io.StringIO(
        run_logs(logs_env, TOKEN_A, "-o", "csv", "--fields", "utc_time,tags", indexes=index).stdout)))
    assert list(picked[0]) == ["utc_time", "tags"]


def test_table_shows_hostile_text_inert(logs_env):
    result = run_logs(logs_env, ID_NEG, "-o", "table", indexes=f"{logs_env['prefix']}-text")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "\\x1b[31mred" in result.stdout and "[bold]markup[/bold]" in result.stdout


def test_no_matching_index_and_no_hits_have_distinct_codes(logs_env):
    result = run_logs(logs_env, TOKEN_A, indexes="nothing-matches-*")
    assert result.returncode == 8 and "no index matches" in result.stderr
    result = run_logs(logs_env, "123456", indexes=f"{logs_env['prefix']}-text")
    assert result.returncode == 9 and "no error lines" in result.stderr


def test_bad_token_is_a_usage_error_without_connecting(logs_env):
    result = run_logs(logs_env, 'abc" OR *:*')
    assert result.returncode == 2 and "not a session token" in result.stderr


def test_explain_prints_the_body_without_connecting(logs_env):
    result = run_cli(*logs_env["base"][3:], TOKEN_A, "--explain", "--host", "http://127.0.0.1:9", env=Env())
    assert result.returncode == 0, result.stderr
    explained = json.loads(result.stdout)
    markers = explained["body"]["query"]["bool"]["filter"][0]["bool"]["should"]
    assert {"match_phrase": {"message": f"openReplaySessionToken={TOKEN_A}"}} in markers
    assert {"match_phrase": {"message": f"openReplaySession.id={ID_A}"}} in markers
    assert "regexp" in json.dumps(explained["body_if_message_is_keyword"])
    assert "cost" in result.stderr


@pytest.fixture(scope="module")
def bulk_index(logs_env):
    """25,000 lines of one session, with many equal timestamps to test tie-breaking."""
    from elasticsearch import helpers

    index = f"{logs_env['prefix']}-bulk"
    admin = logs_env["admin"]
    admin.indices.create(index=index, settings={"number_of_shards": 2}, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    docs = ({"_index": index, "_id": f"n{n}", "_source": {
        "message": f"openReplaySession.id={BULK_ID} line n={n}", "utc_time": at(n // 10), "tags": ["error"]}}
        for n in range(BULK_COUNT))
    helpers.bulk(admin, docs, chunk_size=5000, refresh="wait_for")
    return index


def test_all_returns_every_hit_exactly_once_in_order(logs_env, bulk_index):
    result = run_logs(logs_env, BULK_ID, "--all", "-o", "ndjson", indexes=bulk_index)
    assert result.returncode == 0, result.stderr
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(hits) == BULK_COUNT
    assert len({h["_id"] for h in hits}) == BULK_COUNT
    times = [h["_source"]["utc_time"] for h in hits]
    assert times == sorted(times)
    assert result.stderr == ""  # piped: no progress noise


def test_limit_caps_and_says_so(logs_env, bulk_index):
    result = run_logs(logs_env, BULK_ID, "--limit", "7", "-o", "ndjson", indexes=bulk_index)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 7
    assert "--all" in result.stderr


def test_follow_picks_up_new_lines_and_ctrl_c_exits_0(logs_env):
    index = f"{logs_env['prefix']}-text"
    follow_id = "777000777"
    admin = logs_env["admin"]
    now = datetime.now(timezone.utc)
    admin.index(index=index, refresh=True, document={
        "message": f"openReplaySession.id={follow_id} first", "utc_time": now.isoformat(), "tags": ["error"]})
    proc = subprocess.Popen(logs_env["base"] + [follow_id, "--follow", "--interval", "0.3", "-o", "ndjson"]
                            + logs_env["conn"] + ["--indexes", index],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=logs_env["env"])
    try:
        first = proc.stdout.readline()
        assert "first" in first
        admin.index(index=index, refresh=True, document={
            "message": f"openReplaySession.id={follow_id} second",
            "utc_time": (now + timedelta(seconds=1)).isoformat(), "tags": ["error"]})
        second = proc.stdout.readline()
        assert "second" in second
        time.sleep(1.0)  # a few more polls: nothing printed twice
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert rest == ""
    assert "Traceback" not in err
