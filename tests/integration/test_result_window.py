"""An index whose `index.max_result_window` is below the page size the tool asks for: the read
takes pages of the size the index allows instead of failing (exit 11), every line exactly once
(a real node, 8.19.x and 9.x)."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import run_cli

SESSION_ID = "31337313373137"
LINES = 2500
WINDOW = 1000


@pytest.fixture(scope="module")
def small_window(es_node):
    from elasticsearch import helpers

    admin = es_node.admin_client()
    index = f"orxwin-{uuid.uuid4().hex[:8]}-logs"
    admin.indices.create(index=index, settings={"number_of_shards": 2, "max_result_window": WINDOW},
                         mappings={"properties": {"message": {"type": "text"}, "utc_time": {"type": "date"},
                                                  "tags": {"type": "keyword"}}})
    start = datetime(2024, 1, 24, 4, 0, tzinfo=timezone.utc)
    helpers.bulk(admin, ({"_index": index, "_id": f"w{n:05d}", "_source": {
        "message": f"openReplaySession.id={SESSION_ID} line {n}", "tags": ["error"],
        "utc_time": (start + timedelta(milliseconds=n)).isoformat()}} for n in range(LINES)), refresh="wait_for")
    key = admin.security.create_api_key(name=f"{index}-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": [index], "privileges": ["read"]}]}}).body
    yield {"url": es_node.url, "index": index, "key": key}
    with contextlib.suppress(Exception):
        admin.indices.delete(index=index)


@pytest.mark.parametrize("args,count", [
    (("--all",), LINES),  # pages of 5000 asked: 1000 taken
    (("--limit", "1500"), 1500),  # a first page of 1501 asked
    ((), 100),  # the default limit: no change
])
def test_a_read_takes_the_page_size_the_index_allows(small_window, clean_env, args, count):
    key = small_window["key"]
    result = run_cli("logs", SESSION_ID, *args, "-o", "ndjson", "--host", small_window["url"], "--id", key["id"],
                     "--api-key", key["api_key"], "--indexes", small_window["index"], env=clean_env)
    assert result.exit_code == 0, result.stderr
    ids = [json.loads(line)["_id"] for line in result.stdout.splitlines()]
    assert ids == [f"w{n:05d}" for n in range(count)]


def test_a_page_size_beyond_the_window_given_by_the_user_works_too(small_window, clean_env):
    key = small_window["key"]
    result = run_cli("logs", SESSION_ID, "--all", "--page-size", "4000", "-o", "ndjson", "--host", small_window["url"],
                     "--id", key["id"], "--api-key", key["api_key"], "--indexes", small_window["index"], env=clean_env)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == LINES


def test_sessions_counts_every_line_in_pages_the_index_allows(small_window, clean_env):
    """`sessions` asks pages of its own size (5000): the index refuses them, the count is read again in
    pages of 1000, every line counted once."""
    key = small_window["key"]
    result = run_cli("sessions", "--since", "2024-01-24T03:00:00Z", "--until", "2024-01-24T05:00:00Z", "-o", "ndjson",
                     "--host", small_window["url"], "--id", key["id"], "--api-key", key["api_key"],
                     "--indexes", small_window["index"], env=clean_env)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["session_id"], row["lines"]) for row in rows] == [(SESSION_ID, LINES)]


def test_explain_and_verbose_say_the_page_size_asked(small_window, clean_env):
    key = small_window["key"]
    conn = ("--host", small_window["url"], "--id", key["id"], "--api-key", key["api_key"],
            "--indexes", small_window["index"])
    explained = run_cli("logs", SESSION_ID, "--all", "--explain", *conn, env=clean_env)
    assert explained.exit_code == 0, explained.stderr
    assert json.loads(explained.stdout)["page_size"] == json.loads(explained.stdout)["body"]["size"] == 5000
    assert "page size: 5000 hits a request" in explained.stderr
    ran = run_cli("logs", SESSION_ID, "--all", "-v", "-o", "ndjson", *conn, env=clean_env)
    assert ran.exit_code == 0, ran.stderr
    assert len(ran.stdout.splitlines()) == LINES
    assert f"an index allows pages of at most {WINDOW} hits (index.max_result_window): read in pages of {WINDOW}" \
        in ran.stderr
    default = run_cli("logs", SESSION_ID, "-v", "-o", "ndjson", *conn, env=clean_env)
    assert default.exit_code == 0 and "max_result_window" not in default.stderr  # 101 asked: within the window
