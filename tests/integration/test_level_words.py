"""What counts as an error, on a real node (issue 35, item 11): the level words loggers write (Java's
SEVERE, zap's panic and dpanic, a trailing blank, any case) and pino's numbers (50 error, 60 fatal)
on keyword, text and number level fields; `info`, `warn`, a pino 30 and `errors_total=0` never.
`logs` prints exactly those lines, exit 0, and `check` counts the same number of errors."""

from __future__ import annotations

import uuid

import pytest

from conftest import Env, run_cli

SID = "2618307011354435587"
MARK = f"openReplaySession.id={SID}"
T0 = "2024-01-24T02:3{}:00Z"

# level value -> an error? (keyword and text indices hold each of these)
WORDS = {
    "ERROR": True, "error": True, "Error ": True, " error\t": True, "SEVERE": True, "severe": True,
    "panic": True, "PANIC": True, "dpanic": True, "DPANIC": True, "FATAL": True, "Critical": True, "crit": True,
    "emerg": True, "err": True, "ERROR+4": True, "fail": True, "FTL": True, "60": True,
    "info": False, "INFO": False, "warn": False, "WARNING": False, "debug": False, "notice": False,
    "errors_total=0": False, "3": False, "30": False,
}
# pino / bunyan: a number in `level`
NUMBERS = {60: True, 50: True, 40: False, 30: False, 10: False}


def doc(n: int, level, kind: str) -> dict:
    return {"message": f"{kind} {n} level={level!r} {MARK}", "@timestamp": f"2024-01-24T02:{30 + n % 30:02d}:00Z",
            "level": level}


@pytest.fixture(scope="module")
def levels(es_node):
    admin = es_node.admin_client()
    prefix = f"orxlevels-{uuid.uuid4().hex[:8]}"
    kinds = {"keyword": {"type": "keyword"}, "text": {"type": "text"}, "pino": {"type": "long"}}
    for kind, mapping in kinds.items():
        admin.indices.create(index=f"{prefix}-{kind}", mappings={"properties": {
            "message": {"type": "text"}, "@timestamp": {"type": "date"}, "level": mapping}})
    operations: list = []
    expected: set[str] = set()
    for kind in ("keyword", "text"):
        for n, (word, is_error) in enumerate(WORDS.items()):
            source = doc(n, word, kind)
            operations += [{"index": {"_index": f"{prefix}-{kind}"}}, source]
            if is_error:
                expected.add(source["message"])
    for n, (number, is_error) in enumerate(NUMBERS.items()):
        source = doc(n, number, "pino")
        operations += [{"index": {"_index": f"{prefix}-pino"}}, source]
        if is_error:
            expected.add(source["message"])
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    yield {"url": es_node.url, "prefix": prefix, "key": key, "expected": expected}
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def cli(env, *args, indexes="keyword,text,pino"):
    patterns = ",".join(f"{env['prefix']}-{kind}" for kind in indexes.split(","))
    return run_cli(*args, "--host", env["url"], "--id", env["key"]["id"], "--api-key", env["key"]["api_key"],
                   "--indexes", patterns, env=Env(vars={"NO_COLOR": "1"}))


@pytest.mark.parametrize("indexes", ["keyword", "text", "pino", "keyword,text,pino"])
def test_logs_prints_every_error_word_and_number_and_nothing_else(levels, indexes):
    result = cli(levels, "logs", SID, "--all", "-o", "json", indexes=indexes)
    assert result.returncode == 0, result.output
    kinds = indexes.split(",")
    want = {m for m in levels["expected"] if m.split(" ", 1)[0] in kinds}
    got = [line["message"] for line in result.json()]
    assert sorted(got) == sorted(want)
    # pino's numbers are shown as their names
    shown = {line["message"]: line["level"] for line in result.json()}
    if "pino" in kinds:
        assert shown[doc(0, 60, "pino")["message"]] == "fatal" and shown[doc(1, 50, "pino")["message"]] == "error"


def test_the_reverse_and_limited_reads_agree(levels):
    forward = cli(levels, "logs", SID, "--all", "-o", "json").json()
    reverse = cli(levels, "logs", SID, "--all", "--reverse", "-o", "json").json()
    limited = cli(levels, "logs", SID, "--limit", "7", "--page-size", "3", "-o", "json").json()
    assert sorted(line["_id"] for line in forward) == sorted(line["_id"] for line in reverse)
    assert [line["_id"] for line in limited] == [line["_id"] for line in forward][:7]


def test_check_counts_the_same_errors(levels):
    result = cli(levels, "check", "-o", "json")
    marked = {f["id"]: f for f in result.json()}["marked_logs"]
    assert marked["status"] == "ok", marked
    assert marked["data"]["marked"] == 2 * len(WORDS) + len(NUMBERS)
    assert marked["data"]["errors"] == len(levels["expected"])
