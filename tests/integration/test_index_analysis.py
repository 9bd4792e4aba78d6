"""Whether a line can be found is decided per index, from how that index analyses a marked line
(issue 35, findings 3, 4, 5): a `message` analysed by the whitespace or keyword analyzer, a marker a
logger glued to the word before it, a keyword `message` with `ignore_above`. Each index holds the
same marked lines; the ground truth is every document read back as the admin and checked in
Python. An index whose `message` is not indexed at all is a named reason (exit 13), never silence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import contains_marker, markers, parse_session_ref

SESSION = "2618307011354435587"  # started 2024-01-24 02:27:39.324 UTC
TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
T0 = datetime(2024, 1, 24, 3, 0, tzinfo=timezone.utc)

# the forms loggers write: at the start, after `key:`, after a dotted logger name, in brackets,
# quoted, in JSON, after an underscore; and foreign lines (a longer id, another token)
LINES = [
    f"openReplaySession.id={SESSION} plain",
    f"ctx:openReplaySession.id={SESSION} after a key",
    f"failed.openReplaySession.id={SESSION} after a logger name",
    f"[openReplaySession.id={SESSION}] in brackets",
    f'"openReplaySession.id={SESSION}" quoted',
    f'{{"ctx":"openReplaySession.id={SESSION}","msg":"in json"}}',
    f"trace_openReplaySessionToken={TOKEN} glued token",
    # spellings OpenReplay's own searches find (issue 36 item 6): any case, any punctuation before the id
    f"OPENREPLAYSESSION.ID={SESSION} upper case",
    f"openReplaySession.id= {SESSION} as console.log(k, v) writes",
    f"openReplaySession.id: {SESSION} after a colon",
    f"openReplaySession.id: {SESSION}1 another session, spelled",
    f"openReplaySession.id={SESSION}0 another session",
    "openReplaySessionToken=jw4wdfpgqhok.3az.x another token",
    f"{'long line ' * 12}openReplaySession.id={SESSION} past ignore_above",
]
SHAPES = {
    "standard": {"type": "text"},
    "whitespace": {"type": "text", "analyzer": "whitespace"},
    "kwanalyzer": {"type": "text", "analyzer": "keyword"},
    "simple": {"type": "text", "analyzer": "simple"},
    "keyword": {"type": "keyword", "ignore_above": 100},
}


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def analysed(es_node, tmp_path_factory):
    admin = es_node.admin_client()
    prefix = f"orxana-{uuid.uuid4().hex[:8]}"
    operations: list[dict] = []
    for name, mapping in {**SHAPES, "unindexed": {"type": "text", "index": False}, "nosource": {"type": "text"},
                          "kwunindexed": {"type": "keyword", "index": False, "doc_values": False},
                          "dynfalse": None}.items():
        index = f"{prefix}-{name}"
        properties = {"utc_time": {"type": "date"}, "tags": {"type": "keyword"}}
        if mapping is not None:
            properties["message"] = mapping
        admin.indices.create(index=index, mappings={
            "properties": properties, **({"_source": {"enabled": False}} if name == "nosource" else {}),
            **({"dynamic": False} if name == "dynfalse" else {})})
        for n, line in enumerate(LINES):
            operations += [{"index": {"_index": index}}, {"message": line, "utc_time": at(n), "tags": ["error"]}]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))  # what is learnt, kept between runs

    def cli(indexes: str, *args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(tmp_path_factory.mktemp("c") / "c.yaml"),
                   *args, "--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"],
                   "--indexes", indexes]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr
        return result

    def run(indexes: str, *args: str) -> subprocess.CompletedProcess:
        return cli(indexes, "logs", SESSION, "-o", "ndjson", *args)

    def truth(index: str) -> list[str]:
        """Every document of the index read as the admin, kept by the marker rule in plain Python."""
        hits = admin.search(index=index, size=100, sort=[{"utc_time": "asc"}])["hits"]["hits"]
        assert all("_source" in h for h in hits)
        ours = markers(parse_session_ref(SESSION))
        return [h["_source"]["message"] for h in hits if any(contains_marker(h["_source"]["message"], m)
                                                              for m in ours)]

    yield {"run": run, "cli": cli, "prefix": prefix, "truth": truth}
    admin.indices.delete(index=f"{prefix}-*")


def messages(result: subprocess.CompletedProcess) -> list[str]:
    return [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()]


@pytest.mark.parametrize("mode", [(), ("--all",), ("--all", "--reverse")], ids=["default", "all", "reverse"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_marked_line_is_found_whatever_the_analysis(analysed, shape, mode):
    index = f"{analysed['prefix']}-{shape}"
    expected = analysed["truth"](index)
    assert len(expected) == 11  # the ground truth holds every form but the three foreign lines
    for run in (1, 2):  # learnt, then from the cache: the same answer
        result = analysed["run"](index, *mode)
        assert result.returncode == 0, (run, result.stderr)
        assert messages(result) == (expected[::-1] if "--reverse" in mode else expected), run


def test_an_index_that_does_not_index_its_message_is_named_and_the_rest_is_printed(analysed):
    prefix = analysed["prefix"]
    result = analysed["run"](f"{prefix}-standard,{prefix}-unindexed", "--all")
    assert result.returncode == 13, result.stderr
    assert f"{prefix}-unindexed" in result.stderr and "no search can find" in result.stderr
    assert messages(result) == analysed["truth"](f"{prefix}-standard")


def test_verbose_says_which_indices_need_the_slower_form(analysed):
    result = analysed["run"](f"{analysed['prefix']}-whitespace", "-v")
    assert result.returncode == 0, result.stderr
    assert "wildcard on the terms" in result.stderr


@pytest.mark.parametrize("mode", [(), ("--all",)], ids=["default", "all"])
def test_hits_without_source_are_a_named_reason_not_dropped(analysed, mode):
    """`_source` disabled: Elasticsearch answers the hits, which the client cannot check or show.
    They were dropped: exit 9 alone, exit 0 beside a normal index."""
    prefix = analysed["prefix"]
    result = analysed["run"](f"{prefix}-standard,{prefix}-nosource", *mode)
    assert result.returncode == 13, result.stderr
    assert f"{prefix}-nosource" in result.stderr and "no _source" in result.stderr
    assert messages(result) == analysed["truth"](f"{prefix}-standard")


@pytest.mark.parametrize(("shape", "status", "said"), [
    ("standard", "ok", "a phrase search works"),
    ("whitespace", "warning", "slower query"),
    ("simple", "warning", "slower query"),
    ("unindexed", "failure", "no search"),
])
def test_check_tells_per_index_whether_the_session_lines_can_be_found(analysed, shape, status, said):
    """check said "'message' is text (a phrase search works)" on every text index, then blamed the
    backend for lines it could not find."""
    index = f"{analysed['prefix']}-{shape}"
    result = analysed["cli"](index, "check", "-o", "json")
    message = {f["id"]: f for f in json.loads(result.stdout)}["message_field"]
    assert message["status"] == status, message
    assert said in message["detail"] and (shape == "standard" or index in message["detail"])


def test_a_keyword_message_no_query_can_read_is_named_and_the_rest_is_printed(analysed):
    """A keyword `message` neither indexed nor with doc values failed the whole search (exit 11, 0 lines)
    though the other indices hold readable lines."""
    prefix = analysed["prefix"]
    for mode in ((), ("--all",)):
        result = analysed["run"](f"{prefix}-standard,{prefix}-kwunindexed", *mode)
        assert result.returncode == 13, result.stderr
        assert f"{prefix}-kwunindexed" in result.stderr and "no search can find" in result.stderr
        assert messages(result) == analysed["truth"](f"{prefix}-standard")


def test_a_message_kept_in_source_but_not_in_the_mapping_is_named(analysed):
    """`dynamic: false`: the documents carry `message`, the mapping does not, so no search finds them:
    it was a warning, exit 0, and under -q nothing at all."""
    prefix = analysed["prefix"]
    for quiet in ((), ("-q",)):
        result = analysed["run"](f"{prefix}-standard,{prefix}-dynfalse", *quiet)
        assert result.returncode == 13, result.stderr
        assert f"{prefix}-dynfalse" in result.stderr and "mapping does not" in result.stderr
        assert messages(result) == analysed["truth"](f"{prefix}-standard")
