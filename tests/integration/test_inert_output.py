"""Text from the server reaches the terminal inert on every path: data, warnings, `check`, --debug.

Elasticsearch accepts ESC, BEL and C1 controls in an index name (the fixture creates such indices:
it fails if a version stops accepting them) and anything in a log line. A raw ESC ] ... BEL sets the
terminal's title, a raw U+009B is a one-character CSI: none may be printed as is.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Env, run_cli

SESSION = "2618307011354435587"
# what a terminal would act on: C0 controls but tab and newline, DEL, C1
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HOSTILE_LINE = f"openReplaySession.id={SESSION} boom \x9b31m red \x85 next \x1b[2J \x1b]0;pwned\x07 end"


def assert_inert(text: str) -> None:
    found = RAW_CONTROL.search(text)
    assert found is None, f"raw {found.group()!r} at {found.start()}: {text[max(0, found.start() - 60):found.end() + 20]!r}"


@pytest.fixture(scope="module")
def hostile(es_node, tmp_path_factory):
    admin = es_node.admin_client()
    prefix = f"orxinert-{uuid.uuid4().hex[:8]}"
    # leveled: its lines are searched; unleveled: no level field, so left out with a warning naming it
    leveled, unleveled = f"{prefix}-osc\x1b]0;pwned\x07-\x9b31m", f"{prefix}-csi\x1b[31m\x07-nolevel"
    admin.indices.create(index=leveled, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    admin.indices.create(index=unleveled, mappings={"dynamic": False, "properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}}})
    assert set(admin.indices.get(index=f"{prefix}-*")) == {leveled, unleveled}  # the node kept the names
    recent = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    for index in (leveled, unleveled):
        admin.index(index=index, document={"message": HOSTILE_LINE, "utc_time": recent, "tags": ["error"]})
    admin.indices.refresh(index=f"{prefix}-*")
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("inert") / "config.yaml"

    def run(command: str, *args: str):
        # piped, so rich writes no styles or spinner of its own: every control in the output came from
        # the server. (click strips ESC [ ... m from piped messages, never ESC ] ... BEL, BEL or C1.)
        env = Env(vars={"NO_COLOR": "1"})
        return run_cli("--config", config, command, "--host", es_node.url, "--id", key["id"],
                       "--api-key", key["api_key"], "--indexes", f"{prefix}-*", *args, env=env)

    yield {"run": run, "leveled": leveled, "unleveled": unleveled}
    admin.indices.delete(index=f"{prefix}-*")


def shown(name: str) -> str:
    """An index name as an inert message shows it."""
    return name.replace("\x1b", "\\x1b").replace("\x07", "\\x07").replace("\x9b", "\\x9b")


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_sessions_json_and_its_warnings_are_inert(hostile):
    result = hostile["run"]("sessions", "-o", "json", "-q")
    # the index without a level holds a marked line in the window: the counts leave it out, and say so
    # (even under -q), with the partial-result exit code
    assert result.exit_code == 13, result.stderr
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    [row] = json.loads(result.stdout)
    assert row["session_id"] == SESSION and row["latest_message"] == HOSTILE_LINE  # escaped, not altered
    assert f"1 marked line in {shown(hostile['unleveled'])} not counted: no level field" in result.stderr


@pytest.mark.parametrize("fmt", ["json", "ndjson", "table"])
def test_logs_lines_warnings_and_chatter_are_inert(hostile, fmt):
    result = hostile["run"]("logs", SESSION, "-o", fmt, "-v")
    # the index without a level holds a line of the session: named (inert) with the count, and partial
    assert result.exit_code == 13, result.stderr
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    assert f"1 line of this session in {shown(hostile['unleveled'])} not shown: no level field" in result.stderr
    assert shown(hostile["leveled"]) in result.stderr  # -v names the indices searched
    if fmt != "table":
        [line] = json.loads(result.stdout) if fmt == "json" else [json.loads(x) for x in result.stdout.splitlines()]
        assert line["_source"]["message"] == HOSTILE_LINE  # escaped, not altered


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_check_is_inert(hostile, fmt):
    result = hostile["run"]("check", "-o", fmt)
    assert result.exit_code in (0, 10), result.stderr
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    if fmt == "json":
        assert any(hostile["leveled"] in text for text in strings(json.loads(result.stdout)))  # intact
    else:
        assert shown(hostile["unleveled"]) in result.stdout


def test_debug_lines_are_inert(hostile):
    # --all-levels: both indices searched; --debug shows _field_caps' answer (their names) and the lines
    result = hostile["run"]("logs", SESSION, "-o", "json", "--all-levels", "--debug")
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stderr)
    # the lines came in an answer (a lookup's one _msearch, or a page's _search) that --debug shows
    assert re.search(r"debug: elastic_cli\.http: POST /_m?search -> 200", result.stderr), result.stderr[-2000:]
    assert "\\u001b]0;pwned\\u0007-\\x9b31m" in result.stderr  # an index name in an answer, JSON then inert
