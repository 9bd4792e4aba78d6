"""`logs -A/-B/-C` on a real node (issue 39): the session's own lines of any level around each error
line, marked as context, groups apart by `--`; another session's lines at the same moments never;
refused with --all-levels (with --follow: test_follow_context.py)."""

from __future__ import annotations

import json
import uuid

import pytest

from conftest import Env, run_cli

SID = "2618307011354435587"
OTHER = "2618307011354435999"
# the session's lines, one a second: errors at 2, 7 and 9
LEVELS = ["info", "info", "ERROR", "info", "warn", "info", "debug", "error", "info", "ERROR", "info", "info"]
ERRORS = [2, 7, 9]


@pytest.fixture(scope="module")
def node(es_node):
    admin = es_node.admin_client()
    prefix = f"orxctx-{uuid.uuid4().hex[:8]}"
    index = f"{prefix}-app"
    admin.indices.create(index=index, mappings={"properties": {
        "message": {"type": "text"}, "@timestamp": {"type": "date"}, "log": {"properties": {"level": {"type": "keyword"}}}}})
    operations: list = []
    for n, level in enumerate(LEVELS):
        at = f"2024-01-24T02:40:{n:02d}.000Z"
        operations += [{"index": {"_index": index}},
                       {"@timestamp": at, "log": {"level": level}, "message": f"line {n} openReplaySession.id={SID}"},
                       # another session's lines at the same moments, of both levels: never context
                       {"index": {"_index": index}},
                       {"@timestamp": at, "log": {"level": "error" if n % 2 else "info"},
                        "message": f"other {n} openReplaySession.id={OTHER}"}]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    yield {"url": es_node.url, "index": index, "key": key}
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def logs(node, *args):
    result = run_cli("logs", SID, *args, "--host", node["url"], "--id", node["key"]["id"],
                     "--api-key", node["key"]["api_key"], "--indexes", node["index"],
                     env=Env(vars={"NO_COLOR": "1", "COLUMNS": "140"}))
    assert "Traceback" not in result.stderr
    return result


def shown(result):
    return [(int(r["message"].split()[1]), r["context"]) for r in map(json.loads, result.stdout.splitlines())]


def test_context_around_each_error_line(node):
    result = logs(node, "-C", "1", "-o", "ndjson")
    assert result.exit_code == 0, result.output
    assert shown(result) == [(1, True), (2, False), (3, True), (6, True), (7, False), (8, True), (9, False),
                             (10, True)]


def test_before_and_after_apart_and_c_overridden_for_one_side(node):
    before = logs(node, "-B", "2", "-o", "ndjson")
    assert [n for n, _ in shown(before)] == [0, 1, 2, 5, 6, 7, 8, 9]
    after = logs(node, "-C", "3", "-A", "0", "-o", "ndjson")
    assert [n for n, _ in shown(after)] == [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_the_table_marks_error_lines_and_puts_grep_separators_between_groups(node):
    result = logs(node, "-A", "1", "-o", "table")
    assert result.exit_code == 0, result.output
    rows = [r for r in result.stdout.splitlines()[1:] if not r.startswith("──")]  # the date line
    assert [r if r == "--" else r[:1] + r.split("line ")[1].split()[0] for r in rows] == [
        ">2", " 3", "--", ">7", " 8", ">9", " 10"]


def test_the_limit_counts_error_lines_and_the_rest_is_said(node):
    result = logs(node, "-A", "1", "--limit", "2", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [(int(r["message"].split()[1]), r["context"]) for r in json.loads(result.stdout)] == [
        (2, False), (3, True), (7, False), (8, True)]
    assert "there are more" in result.stderr


def test_reverse_and_every_line(node):
    rev = logs(node, "-A", "1", "--reverse", "-o", "ndjson")
    assert shown(rev) == [(9, False), (8, True), (7, False), (6, True), (2, False), (1, True)]
    every = logs(node, "-B", "1", "--all", "--page-size", "2", "-o", "ndjson")
    assert shown(every) == [(1, True), (2, False), (6, True), (7, False), (8, True), (9, False)]


@pytest.mark.parametrize("flags, said", [
    (("--all-levels",), "every line is printed already"),
])
def test_refused_where_it_cannot_mean_anything(node, flags, said):
    result = logs(node, "-C", "2", *flags)
    assert result.exit_code == 2 and said in result.stderr, result.output
