"""`orx-elastic logs` against real Elasticsearch nodes (8.19.x and 9.x)."""

from __future__ import annotations

import contextlib
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
SIG = "ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
# same session id digits as a prefix; a token whose id part extends A's; A's id part in upper case
ID_PREFIX_OF_A = ID_A[:-1]
TOKEN_LONGER_ID = f"jw4wdfpgqhojx.3az.lrraavgc.{SIG}"
TOKEN_A_OTHER_CASE = f"JW4WDFPGQHOJ.3az.lrraavgc.{SIG}"
# session k1 (721): a token with a negative delay, and another token of the same session whose
# id and delay the analyzer joins into one term ("k1.3az.lrraavgc..."), and a longer id k10
TOKEN_NEG = f"k1.-3az.lrraavgc.{SIG}"
TOKEN_NEG_WITHOUT_MINUS = f"k1.3az.lrraavgc.{SIG}"
TOKEN_K10 = f"k10.3az.lrraavgc.{SIG}"
ID_NEG = str(int("k1", 36))
T0 = datetime(2024, 1, 24, 4, 0, 0, tzinfo=timezone.utc)
BULK_ID = "424242424242"
BULK_COUNT = 25_000


def record_calls(monkeypatch, name: str, record) -> None:
    """Hand the arguments of each `name` call to `record`, on both clients a command may use: the
    official one, and the lookup's own (`cluster.light_client`, which `logs` uses)."""
    import elasticsearch
    from elastic_cli.cluster.light_client import LightClient

    def wrapping(real):
        def wrapped(self, *args, **kwargs):
            record(kwargs)
            return real(self, *args, **kwargs)
        return wrapped

    for cls in (elasticsearch.Elasticsearch, LightClient):
        monkeypatch.setattr(cls, name, wrapping(getattr(cls, name)))


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
    (f"[openReplaySessionToken={TOKEN_LONGER_ID}] prefix-sharing token", 1.5, ["error"]),
    (f"openReplaySession.id={ID_A}7 prefix-sharing id", 1.5, ["error"]),
    (f"openReplaySession.id={ID_PREFIX_OF_A} shorter id", 1.5, ["error"]),
    (f"[openReplaySessionToken={TOKEN_A_OTHER_CASE}] same letters, other case", 1.5, ["error"]),
    (f"[openReplaySessionToken={TOKEN_NEG}] negative delay token", 4, ["error"]),
    (f"[openReplaySessionToken={TOKEN_NEG_WITHOUT_MINUS}] another token of session k1", 4, ["error"]),
    (f"[openReplaySessionToken={TOKEN_K10}] longer id k10", 4, ["error"]),
    ("no marker at all", 4, ["error"]),
    ("\x1b[31mred\x1b[0m [bold]markup[/bold] " + f"openReplaySession.id={ID_NEG}", 6, ["error"]),
]
A_ERRORS = ["bad cart id", "KeyError", "payment failed", "refund refused"]


def create_log_index(admin, index, message_type="text", shards=1):
    """An index of the sample-logs shape: message, utc_time (date), tags (keyword)."""
    admin.indices.create(index=index, settings={"number_of_shards": shards}, mappings={"properties": {
        "message": {"type": message_type}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})


@pytest.fixture(scope="module")
def logs_env(es_node, tmp_path_factory):
    """Two log indices (message as text, and as keyword) and a read-only key for them."""
    admin = es_node.admin_client()
    prefix = f"orxlogs-{uuid.uuid4().hex[:8]}"
    for kind in ("text", "keyword"):
        create_log_index(admin, f"{prefix}-{kind}", message_type=kind)
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


def run_logs(env, *args, indexes=None, verbose=False):
    index_pattern = indexes or f"{env['prefix']}-*"
    command = [*env["base"][3:-1], "-v", "logs"] if verbose else env["base"][3:]
    result = run_cli(*command, *args, *env["conn"], "--indexes", index_pattern, env=Env())
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


@pytest.mark.parametrize("kind", ["text", "keyword"])
def test_session_id_finds_the_same_lines_as_its_token_both_generations(logs_env, kind):
    index = f"{logs_env['prefix']}-{kind}"
    by_id = run_logs(logs_env, ID_A, "-o", "ndjson", "--all-levels", indexes=index)
    by_token = run_logs(logs_env, TOKEN_A, "-o", "ndjson", "--all-levels", indexes=index)
    assert by_id.returncode == 0, by_id.stderr
    assert by_id.stdout == by_token.stdout
    found = messages(by_id)
    assert len(found) == 5
    assert any("openReplaySessionToken=" in m for m in found) and any("openReplaySession.id=" in m for m in found)


def test_both_indices_mixed_mappings(logs_env):
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson")
    assert result.returncode == 0, result.stderr
    assert len(messages(result)) == 8  # four lines in each of the two indices


@pytest.mark.parametrize("kind", ["text", "keyword"])
def test_other_sessions_never_leak(logs_env, kind):
    index = f"{logs_env['prefix']}-{kind}"
    result = run_logs(logs_env, TOKEN_A, "-o", "ndjson", "--all-levels", indexes=index)
    assert result.returncode == 0, result.stderr
    for intruder in ("prefix-sharing", "shorter id", "other case", "negative delay", "session k1", "k10"):
        assert intruder not in result.stdout
    for session in (TOKEN_NEG, TOKEN_NEG_WITHOUT_MINUS, ID_NEG):
        found = messages(run_logs(logs_env, session, "-o", "ndjson", indexes=index))
        assert sorted(m.split("] ")[-1] for m in found if "openReplaySessionToken" in m) == [
            "another token of session k1", "negative delay token"]
        assert not any("k10" in m for m in found)


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
    # the record's time: ISO 8601 UTC with milliseconds, whatever the source wrote
    assert rows[0]["time"] == at(1).replace("Z", ".000Z") and rows[0]["index"] == index
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
    assert {"match_phrase_prefix": {"message": {"query": "openReplaySessionToken=jw4wdfpgqhoj",
                                                "max_expansions": 1000}}} in markers
    assert {"match_phrase": {"message": f"openReplaySession.id={ID_A}"}} in markers
    # the session started 2024-01-24 02:27:39.324 (from its id): the search starts a day before
    assert explained["window"]["since"] == "2024-01-23T02:27:39.324000Z"
    assert {"range": {"utc_time": {"gte": "2024-01-23T02:27:39.324000Z", "format": "strict_date_optional_time"}}} \
        in explained["body"]["query"]["bool"]["filter"]
    assert "regexp" in json.dumps(explained["body_if_message_is_keyword"])
    assert "cost" in result.stderr


def test_explain_prints_the_first_page_exactly_as_it_is_sent(logs_env, monkeypatch):
    """On an index with the configured fields, the body --explain prints is the one sent: a lookup's
    first page in an `_msearch` (no point in time), an export's with its point in time."""
    sent: list[dict] = []
    searched: list[list[dict]] = []

    def recording(kwargs):
        if "pit" in (kwargs.get("body") or {}):
            sent.append(json.loads(json.dumps(kwargs["body"])))

    def recording_msearch(kwargs):
        searched.append(json.loads(json.dumps(kwargs["searches"])))

    record_calls(monkeypatch, "search", recording)
    record_calls(monkeypatch, "msearch", recording_msearch)
    # one slice: a loaded machine can take 30 ms to open the point in time even on loopback, and the
    # export then reads it in slices (each body gains its `slice`), which --explain does not print
    monkeypatch.setattr("elastic_cli.search.pager.slices_for", lambda round_trip: 1)
    index = f"{logs_env['prefix']}-text"
    explained = json.loads(run_logs(logs_env, TOKEN_A, "--explain", "-o", "ndjson", indexes=index).stdout)
    ran = run_logs(logs_env, TOKEN_A, "-o", "ndjson", indexes=index)
    assert ran.returncode == 0, ran.stderr
    assert sent == [], "a lookup whose answer fits in one page opens no point in time"
    assert searched[-1][:2] == [explained["header"], explained["body"]]
    assert explained["request"] == "POST /_msearch" and explained["body"]["size"] == 101
    assert "pit" not in explained["body"]

    explained = json.loads(run_logs(logs_env, TOKEN_A, "--explain", "--all", "-o", "ndjson", indexes=index).stdout)
    ran = run_logs(logs_env, TOKEN_A, "--all", "-o", "ndjson", indexes=index)
    assert ran.returncode == 0, ran.stderr
    first = sent[0]
    assert first["pit"]["keep_alive"] == explained["body"]["pit"]["keep_alive"]
    first["pit"]["id"] = explained["body"]["pit"]["id"]
    assert first == explained["body"]
    assert explained["body"]["size"] == 5000 and explained["body"]["sort"][-1] == {"_shard_doc": {"order": "asc"}}


@pytest.fixture(scope="module")
def broken_index(logs_env):
    """An index whose result window (10) is smaller than any page the tool asks for: a search fails on
    that index's shard and answers 200 with the other shards' lines (a real partial answer)."""
    index = f"{logs_env['prefix']}-broken"
    admin = logs_env["admin"]
    create_log_index(admin, index)
    admin.indices.put_settings(index=index, settings={"index.max_result_window": 10})
    admin.index(index=index, document={"message": f"openReplaySession.id={ID_A} a line on a failing shard",
                                       "utc_time": at(2.5), "tags": ["error"]}, refresh=True)
    return index


@pytest.mark.parametrize("mode", [["--all"], ["--limit", "50"]])
def test_a_failing_shard_is_reported_never_a_short_answer_that_looks_whole(logs_env, broken_index, mode):
    whole = run_logs(logs_env, ID_A, "--all-levels", "-o", "ndjson", indexes=f"{logs_env['prefix']}-text")
    result = run_logs(logs_env, ID_A, "--all-levels", *mode, "-o", "ndjson",
                      indexes=f"{logs_env['prefix']}-text,{broken_index}")
    assert result.returncode == 13, result.stderr
    assert result.stdout == whole.stdout  # every line that could be read, in order
    assert "1 of 2 shards failed" in result.stderr and broken_index in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # a message and a hint, no traceback


def test_follow_warns_of_a_failing_shard_at_once_and_ends_with_its_exit_code(logs_env, broken_index):
    with following(logs_env, ID_A, f"{logs_env['prefix']}-text,{broken_index}", "--all-levels") as (proc, end):
        assert "bad cart id" in proc.stdout.readline()  # the readable lines still come
        time.sleep(1.0)  # a few polls, each failing on the same shard
    assert proc.returncode == 13, end["err"]
    assert end["err"].count("1 of 2 shards failed") == 2  # a warning at the first poll, the error at the end
    assert broken_index in end["err"] and "Traceback" not in end["err"]


@pytest.fixture(scope="module")
def bulk_index(logs_env):
    """25,000 lines of one session, with many equal timestamps to test tie-breaking."""
    from elasticsearch import helpers

    index = f"{logs_env['prefix']}-bulk"
    admin = logs_env["admin"]
    create_log_index(admin, index, shards=2)
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


@pytest.mark.parametrize("page_size", [1000, 4999])
def test_an_export_asks_for_each_page_from_the_bytes_of_the_page_before(es_node, logs_env, bulk_index, page_size,
                                                                       tmp_path):
    """On a real node the last sort key read from a page's raw bytes is the decoded one: every
    page after the first is asked for before its predecessor is decoded, none is asked twice,
    and the lines are those of the plain walk, in its order."""
    from elastic_cli.cluster.connection import build_client
    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve
    from elastic_cli.search.pager import PagedSearch, WalkStats, walk

    settings = resolve(load_config_file(tmp_path / "none.yaml"), None, {"host": es_node.url, "id": logs_env["key"]["id"],
                                                      "api_key": logs_env["key"]["api_key"]}, environ={})
    search = PagedSearch(index=bulk_index, body={"query": {"match_phrase": {"message": f"openReplaySession.id={BULK_ID}"}},
                                                 "sort": [{"utc_time": {"order": "asc"}}], "size": page_size})
    with build_client(settings) as es:
        stats = WalkStats()
        ahead = [hit["_id"] for hit in walk(es, search, prefetch=True, stats=stats, slices=1)]
        plain = [hit["_id"] for hit in walk(es, search)]
    assert ahead == plain and len(set(ahead)) == BULK_COUNT
    assert stats.pages == BULK_COUNT // page_size + 1
    assert stats.asked_ahead == stats.pages - 1 and stats.thrown_away == 0


@pytest.mark.parametrize("descending", [False, True])
def test_a_walk_over_slices_of_the_point_in_time_gives_each_hit_once_in_the_one_order(es_node, logs_env, bulk_index,
                                                                                    descending, tmp_path):
    """Far from the cluster an export reads slices of its point in time side by side: merged, they
    are exactly the plain walk's hits in its order (ties on the time broken by _shard_doc)."""
    from elastic_cli.cluster.connection import build_client
    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve
    from elastic_cli.search.pager import PagedSearch, WalkStats, slices_for, walk

    settings = resolve(load_config_file(tmp_path / "none.yaml"), None, {"host": es_node.url, "id": logs_env["key"]["id"],
                                                      "api_key": logs_env["key"]["api_key"]}, environ={})
    order = "desc" if descending else "asc"
    search = PagedSearch(index=bulk_index, body={"query": {"match_phrase": {"message": f"openReplaySession.id={BULK_ID}"}},
                                                 "sort": [{"utc_time": {"order": order}}], "size": 3000},
                         descending=descending)
    with build_client(settings) as es:
        stats = WalkStats()
        sliced = [hit["_id"] for hit in walk(es, search, prefetch=True, stats=stats, slices=3)]
        plain = [hit["_id"] for hit in walk(es, search)]
    assert sliced == plain and len(set(sliced)) == BULK_COUNT
    assert stats.hits_read == BULK_COUNT and stats.pages >= 3 * (BULK_COUNT // 3000 // 3)
    assert slices_for(0.002) == 1 and slices_for(0.05) == 2 and slices_for(0.15) == 3


def test_limit_caps_and_says_so(logs_env, bulk_index):
    result = run_logs(logs_env, BULK_ID, "--limit", "7", "-o", "ndjson", indexes=bulk_index)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 7
    assert "--all" in result.stderr


@contextlib.contextmanager
def following(logs_env, ref, index, *extra):
    """`logs REF --follow` as a process; at the end of the block it gets Ctrl-C, and `end`
    holds what it printed after the block began waiting (`rest`) and its stderr (`err`)."""
    proc = subprocess.Popen(logs_env["base"] + [ref, "--follow", "--interval", "0.3", *extra, "-o", "ndjson"]
                            + logs_env["conn"] + ["--indexes", index],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=logs_env["env"])
    end: dict = {}
    try:
        yield proc, end
        proc.send_signal(signal.SIGINT)
        end["rest"], end["err"] = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_follow_picks_up_new_lines_and_ctrl_c_exits_0(logs_env):
    index = f"{logs_env['prefix']}-text"
    follow_id = "777000777"
    admin = logs_env["admin"]
    now = datetime.now(timezone.utc)
    admin.index(index=index, refresh=True, document={
        "message": f"openReplaySession.id={follow_id} first", "utc_time": now.isoformat(), "tags": ["error"]})
    with following(logs_env, follow_id, index) as (proc, end):
        first = proc.stdout.readline()
        assert "first" in first
        admin.index(index=index, refresh=True, document={
            "message": f"openReplaySession.id={follow_id} second",
            "utc_time": (now + timedelta(seconds=1)).isoformat(), "tags": ["error"]})
        second = proc.stdout.readline()
        assert "second" in second
        time.sleep(1.0)  # a few more polls: nothing printed twice
    rest, err = end["rest"], end["err"]
    assert proc.returncode == 0, err
    assert rest == ""
    assert "Traceback" not in err


# ---------------------------------------------------------------- the pager, the session clock, follow

SHARED_MS_ID = "2618307011354435599"


@pytest.fixture(scope="module")
def same_millisecond_index(logs_env):
    """Ten lines of one session at one millisecond, with foreign lines (longer ids) among them."""
    index = f"{logs_env['prefix']}-samems"
    admin = logs_env["admin"]
    create_log_index(admin, index, shards=2)
    operations = []
    for n in range(10):
        operations += [{"index": {"_index": index, "_id": f"ours-{n}"}},
                       {"message": f"openReplaySession.id={SHARED_MS_ID} line {n}", "utc_time": at(3),
                        "tags": ["error"]}]
        if n % 2 == 0:
            operations += [{"index": {"_index": index, "_id": f"foreign-{n}"}},
                           {"message": f"openReplaySession.id={SHARED_MS_ID}{n} foreign", "utc_time": at(3),
                            "tags": ["error"]}]
    admin.bulk(operations=operations, refresh=True)
    return index


@pytest.mark.parametrize("page_size", ["1", "3", "4"])
def test_lines_sharing_a_millisecond_are_never_lost_at_a_page_boundary(logs_env, same_millisecond_index, page_size):
    every = run_logs(logs_env, SHARED_MS_ID, "--all", "--page-size", page_size, "-o", "ndjson",
                     indexes=same_millisecond_index)
    assert every.returncode == 0, every.stderr
    lines = [json.loads(line) for line in every.stdout.splitlines()]
    assert sorted(h["_id"] for h in lines) == sorted(f"ours-{n}" for n in range(10))
    for limit in ("3", "9", "10"):
        limited = run_logs(logs_env, SHARED_MS_ID, "--limit", limit, "--page-size", page_size, "-o", "ndjson",
                           indexes=same_millisecond_index)
        assert limited.returncode == 0, limited.stderr
        ids = [json.loads(line)["_id"] for line in limited.stdout.splitlines()]
        assert ids == [h["_id"] for h in lines][: int(limit)]  # the same order, no gap, no repeat
        assert ("there are more" in limited.stderr) is (int(limit) < 10)


def test_a_sub_field_message_is_checked_on_the_value_that_was_searched(logs_env):
    """`message.keyword` (dynamic mapping: text + keyword sub-field) and a text sub-field of a keyword."""
    admin = logs_env["admin"]
    dynamic, keyword = f"{logs_env['prefix']}-dynamic", f"{logs_env['prefix']}-kwsub"
    admin.indices.create(index=keyword, mappings={"properties": {
        "message": {"type": "keyword", "fields": {"search": {"type": "text"}}},
        "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    for index in (dynamic, keyword):  # `dynamic` gets the default dynamic mapping
        admin.index(index=index, refresh=True, document={
            "message": f"openReplaySession.id={ID_A} from {index}", "utc_time": at(2), "tags": ["error"]})
        admin.index(index=index, refresh=True, document={
            "message": f"openReplaySession.id={ID_A}1 another session", "utc_time": at(2), "tags": ["error"]})
    for index, field in ((dynamic, "message.keyword"), (keyword, "message.search"), (keyword, "message")):
        result = run_logs(logs_env, TOKEN_A, "--message-field", field, "-o", "csv", indexes=index)
        assert result.returncode == 0, (field, result.stderr)
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [r["message"] for r in rows] == [f"openReplaySession.id={ID_A} from {index}"], field


def test_every_line_carries_its_offset_from_the_session_start(logs_env):
    index = f"{logs_env['prefix']}-text"
    hits = [json.loads(line) for line in run_logs(logs_env, TOKEN_A, "-o", "ndjson", indexes=index).stdout.splitlines()]
    # session start 02:27:39.324; the first error line is at 04:01:00
    assert hits[0]["offset"] == "+1:33:20.676"
    rows = list(csv.DictReader(io.StringIO(run_logs(logs_env, TOKEN_A, "-o", "csv", indexes=index).stdout)))
    assert [r["offset"] for r in rows] == [h["offset"] for h in hits]


def test_the_session_window_skips_the_shards_of_older_daily_indices(logs_env):
    """Daily indices app-logs-YYYY.MM.DD: only the days from the session's start on are searched."""
    admin = logs_env["admin"]
    prefix = f"{logs_env['prefix']}-app-logs"
    session_day = datetime(2024, 1, 24, tzinfo=timezone.utc)
    for back in range(6):  # 2024.01.19 .. 2024.01.24
        day = session_day - timedelta(days=back)
        index = f"{prefix}-{day:%Y.%m.%d}"
        create_log_index(admin, index)
        admin.index(index=index, refresh=True, document={
            "message": f"openReplaySession.id={ID_A} on {day:%m-%d}" if back == 0 else f"other line {back}",
            "utc_time": (day + timedelta(hours=4)).isoformat(), "tags": ["error"]})
    windowed = run_logs(logs_env, ID_A, "-o", "ndjson", indexes=f"{prefix}-*", verbose=True)
    assert windowed.returncode == 0, windowed.stderr
    assert "shards: 6 searched, 4 skipped" in windowed.stderr  # 01.23 (the margin) and 01.24 remain
    assert "session start 2024-01-24T02:27:39.324Z minus 1d" in windowed.stderr
    unwindowed = run_logs(logs_env, ID_A, "--no-session-window", "-o", "ndjson", indexes=f"{prefix}-*",
                          verbose=True)
    assert "shards: 6 searched, 0 skipped" in unwindowed.stderr
    assert windowed.stdout == unwindowed.stdout and "on 01-24" in windowed.stdout


def test_an_id_whose_start_is_in_the_future_gets_no_window(logs_env):
    future_id = str(((1_950_000_000_000 - 1550000000000) << 24) + 1)  # would start in 2031
    result = run_logs(logs_env, future_id, "--explain", verbose=True)
    assert result.returncode == 0
    assert "does not encode a plausible start time" in result.stderr
    assert json.loads(result.stdout)["window"] is None


def test_follow_is_not_blinded_by_a_skewed_clock_and_shows_late_lines_once(logs_env):
    index = f"{logs_env['prefix']}-follow2"
    follow_id = "888000888"
    admin = logs_env["admin"]
    create_log_index(admin, index)
    now = datetime.now(timezone.utc)

    def add(text: str, moment: datetime) -> None:
        admin.index(index=index, refresh=True, document={
            "message": f"openReplaySession.id={follow_id} {text}", "utc_time": moment.isoformat(), "tags": ["error"]})

    add("from a clock an hour ahead", now + timedelta(hours=1))
    with following(logs_env, follow_id, index, "--lag", "5m") as (proc, end):
        assert "an hour ahead" in proc.stdout.readline()
        add("normal", datetime.now(timezone.utc))
        assert "normal" in proc.stdout.readline()
        add("indexed two minutes late", datetime.now(timezone.utc) - timedelta(minutes=2))
        assert "two minutes late" in proc.stdout.readline()
        time.sleep(1.5)  # several polls: nothing printed twice
    rest, err = end["rest"], end["err"]
    assert proc.returncode == 0, err
    assert rest == ""


def test_follow_ends_at_once_when_its_key_is_invalidated(logs_env):
    """Retrying cannot fix credentials: a key invalidated mid-follow ends it with the usual
    message and exit code, within a poll or two, not after --retry-for."""
    admin, prefix = logs_env["admin"], logs_env["prefix"]
    key = admin.security.create_api_key(name=f"{prefix}-short-lived", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    index = f"{prefix}-text"
    follow_id = "999000999"
    admin.index(index=index, refresh=True, document={
        "message": f"openReplaySession.id={follow_id} first", "utc_time": datetime.now(timezone.utc).isoformat(),
        "tags": ["error"]})
    proc = subprocess.Popen(logs_env["base"] + [follow_id, "--follow", "--interval", "0.3", "-o", "ndjson",
                                                "--host", logs_env["conn"][1], "--id", key["id"],
                                                "--api-key", key["api_key"], "--indexes", index],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=logs_env["env"])
    try:
        assert "first" in proc.stdout.readline()
        admin.security.invalidate_api_key(ids=[key["id"]])
        started = time.monotonic()
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 6, err
    assert time.monotonic() - started < 20  # not waited out
    assert "retrying" not in err and "Traceback" not in err and key["api_key"] not in err
    assert "the output is partial: 1 line was written" in err


def test_follow_stopped_by_sigterm_closes_its_json_and_exits_0(logs_env):
    """A supervisor or `timeout` stops --follow with SIGTERM: the output is whole (-o json's array
    closed), as with Ctrl-C, not cut mid-array."""
    index = f"{logs_env['prefix']}-text"
    follow_id = "999000222"
    logs_env["admin"].index(index=index, refresh=True, document={
        "message": f"openReplaySession.id={follow_id} first", "utc_time": datetime.now(timezone.utc).isoformat(),
        "tags": ["error"]})
    import select

    proc = subprocess.Popen(logs_env["base"] + [follow_id, "--follow", "--interval", "0.3", "-o", "json"]
                            + logs_env["conn"] + ["--indexes", index],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=logs_env["env"])
    try:
        head = b""
        deadline = time.monotonic() + 60
        # the record is out (each poll flushes; the array's next separator comes with the next line)
        while b"first" not in head and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                head += os.read(proc.stdout.fileno(), 65536)
        assert b"first" in head, proc.stderr.read() if proc.poll() is not None else head
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    records = json.loads(head + rest)
    assert [r["message"] for r in records] == [f"openReplaySession.id={follow_id} first"]


def test_follow_says_it_is_following_on_a_terminal_and_never_in_the_piped_data(logs_env):
    """stderr a terminal, stdout a pipe (`orx-elastic logs -f ID > lines.ndjson` in a shell): the
    status line is on the terminal, the data holds only lines."""
    import pty
    import select

    index = f"{logs_env['prefix']}-text"
    follow_id = "999000111"
    logs_env["admin"].index(index=index, refresh=True, document={
        "message": f"openReplaySession.id={follow_id} first", "utc_time": datetime.now(timezone.utc).isoformat(),
        "tags": ["error"]})
    leader, follower = pty.openpty()
    env = {**logs_env["env"], "TERM": "xterm"}
    env.pop("COLUMNS", None)
    proc = subprocess.Popen(logs_env["base"] + [follow_id, "--follow", "--interval", "0.3", "-o", "ndjson"]
                            + logs_env["conn"] + ["--indexes", index],
                            stdout=subprocess.PIPE, stderr=follower, text=True, env=env)
    os.close(follower)
    screen = b""
    try:
        assert "first" in proc.stdout.readline()
        deadline = time.monotonic() + 20
        while b"last poll" not in screen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                screen += os.read(leader, 65536)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert b"following: 1 line, last poll" in screen, screen[-500:]
    assert proc.returncode == 0 and rest == ""


def test_a_lookup_is_one_round_trip_and_never_answers_from_a_stale_plan(logs_env, tmp_path, monkeypatch):
    """`_field_caps` and the search go side by side; the search is planned from the shapes cached
    in the user's cache directory (first use: from the configured fields), and is sent again when
    the fresh `_field_caps` answer plans another one. A corrupt cache is ignored."""
    searches: list[list[dict]] = []
    record_calls(monkeypatch, "msearch", lambda kwargs: searches.append(kwargs["searches"]))
    env = Env(vars={"XDG_CACHE_HOME": str(tmp_path)})
    index = f"{logs_env['prefix']}-text"

    def lookup():
        searches.clear()
        result = run_cli(*logs_env["base"][3:], TOKEN_A, "-o", "ndjson", *logs_env["conn"], "--indexes", index,
                         env=env)
        assert result.returncode == 0, result.stderr
        found = messages(result)
        assert len(found) == 4 and all(expected in line for expected, line in zip(A_ERRORS, found))
        return len(searches)

    assert lookup() == 1  # first use: the configured fields are this index's
    (cached,) = (tmp_path / "orx-elastic" / "shapes").iterdir()
    assert oct(cached.stat().st_mode & 0o777) == "0o600"
    text = cached.read_text()
    assert index in text and logs_env["key"]["api_key"] not in text and logs_env["key"]["id"] not in text
    assert lookup() == 1
    # stale: the cache says the message is a keyword field (another query): asked again, and corrected
    data = json.loads(text)
    data["shapes"][0][1] = "keyword"
    cached.write_text(json.dumps(data))
    assert lookup() == 2
    assert "regexp" in json.dumps(searches[0])  # the stale plan's query, for a keyword message
    assert "regexp" not in json.dumps(searches[1])
    assert json.loads(cached.read_text()) == json.loads(text)
    cached.write_text("{corrupt")
    assert lookup() == 1
