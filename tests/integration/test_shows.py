"""`orx-elastic shows` on real nodes: each verdict reason, from each generation's own request.

OpenReplay v1.21+ reads the index `logs`, which is global to the node: this module removes a `logs`
another module made (test_check makes it again when it needs it) and points an alias `logs` at its
own `<prefix>-logs` for the tests that need one, removing it afterwards.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from elastic_cli.openreplay.session_token import to_base36 as to36

from conftest import Env, run_cli
from logs_index import drop_logs, flake_id

SIG = "ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
START = datetime(2024, 1, 24, 2, 27, 39, 324000, tzinfo=timezone.utc)


def session_id(n: int) -> str:
    """A flake id that starts at START (shard n): a plausible session of its own."""
    return flake_id(START, n)


def token(sid: str, delay: str = "3az") -> str:
    return f"{to36(int(sid))}.{delay}.lrraavgc.{SIG}"


A, K, E, C = (session_id(n) for n in (1, 2, 3, 4))


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def both_markers(sid: str) -> str:
    return f"openReplaySessionToken={token(sid)} openReplaySession.id={sid}"


# (index suffix, document)
DOCS = [
    # session A
    ("app", {"message": f"{both_markers(A)} cart failed", "utc_time": at(1), "tags": ["error"],
             "@timestamp": at(1), "level": "error"}),
    ("app", {"message": f"openReplaySessionToken={token(A)} upper-case tag", "utc_time": at(2), "tags": ["ERROR"]}),
    ("logs", {"message": f"{both_markers(A)} upper-case level", "utc_time": at(3), "tags": ["error"],
              "@timestamp": at(3), "level": "ERROR"}),
    ("logs", {"message": f"openReplaySession.id={A} no timestamp", "level": "error", "utc_time": at(4),
              "tags": ["info"]}),
    ("strtime", {"message": f"openReplaySessionToken={token(A)} spaced time", "utc_time": "2024-01-24 02:32:00",
                 "tags": ["error"]}),
    ("ecs", {"message": f"{both_markers(A)} ecs line", "@timestamp": at(5), "log": {"level": "ERROR"}}),
    # session K: a negative delay
    ("app", {"message": f"openReplaySessionToken={token(K, '-3az')} negative delay", "utc_time": at(1),
             "tags": ["error"]}),
    # session E: one line without `level` in `logs` breaks the panel for the other
    ("logs", {"message": f"openReplaySession.id={E} ecs level only", "@timestamp": at(1), "log": {"level": "error"}}),
    ("logs", {"message": f"openReplaySession.id={E} fine line", "@timestamp": at(2), "level": "error"}),
] + [("logs", {"message": f"openReplaySession.id={C} line {n}", "@timestamp": at(n / 100), "level": "info"})
     for n in range(1010)]

MAPPINGS = {
    "app": {"message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"},
            "@timestamp": {"type": "date"}, "level": {"type": "keyword"}},
    "logs": {"message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"},
             "@timestamp": {"type": "date"}, "level": {"type": "keyword"}, "log.level": {"type": "keyword"}},
    "strtime": {"message": {"type": "text"}, "utc_time": {"type": "keyword"}, "tags": {"type": "keyword"}},
    "ecs": {"message": {"type": "text"}, "@timestamp": {"type": "date"}, "log.level": {"type": "keyword"}},
}


@pytest.fixture(scope="module")
def shows_env(es_node):
    admin = es_node.admin_client()
    prefix = f"orxshows-{uuid.uuid4().hex[:8]}"
    drop_logs(admin)
    for suffix, properties in MAPPINGS.items():
        admin.indices.create(index=f"{prefix}-{suffix}", mappings={"properties": properties})
    operations: list = []
    for suffix, doc in DOCS:
        operations += [{"index": {"_index": f"{prefix}-{suffix}"}}, doc]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*", "logs"], "privileges": ["read"]}]}})
    yield {"admin": admin, "prefix": prefix, "key": key, "url": es_node.url, "admin_user": es_node.admin_user,
           "admin_password": es_node.admin_password}
    drop_logs(admin)
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


@pytest.fixture
def logs_alias(shows_env):
    admin = shows_env["admin"]
    admin.indices.put_alias(index=f"{shows_env['prefix']}-logs", name="logs")
    yield
    drop_logs(admin)


def shows(env, *args, indexes="app,logs,ecs"):
    patterns = ",".join(f"{env['prefix']}-{suffix}" for suffix in indexes.split(","))
    result = run_cli("shows", *args, "--host", env["url"], "--id", env["key"]["id"], "--api-key",
                     env["key"]["api_key"], "--indexes", patterns, env=Env(vars={"NO_COLOR": "1"}))
    assert env["key"]["api_key"] not in result.output
    assert "Traceback" not in result.stderr
    return result


def verdict(result, text: str, generation: str) -> dict:
    lines = [ln for ln in result.json()["lines"] if ln["message"].endswith(text)]
    assert len(lines) == 1, [ln["message"] for ln in result.json()["lines"]]
    return lines[0]["openreplay"][generation]


def first_code(v: dict) -> str:
    return v["problems"][0]["code"] if v["problems"] else ""


def test_without_index_logs_v121_shows_nothing_and_says_why(shows_env):
    result = shows(shows_env, A, "-o", "json")
    assert result.returncode == 0, result.stderr
    summary = result.json()["summary"]["v1.21+"]
    assert summary["summary"] == "OpenReplay v1.21+: 0 of 5 lines; index `logs` does not exist"
    assert verdict(result, "cart failed", "v1.20")["shown"] is True


def test_table_prints_one_summary_line_per_generation_then_the_lines(shows_env):
    result = shows(shows_env, A, "-o", "table")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OpenReplay v1.20: 2 of 5 lines")
    assert lines[1] == "OpenReplay v1.21+: 0 of 5 lines; index `logs` does not exist"
    assert "cart failed" in result.stdout and "v1.21+" in result.stdout


def test_v120_tags_without_an_exact_error(shows_env):
    v = verdict(shows(shows_env, A, "-o", "json"), "upper-case tag", "v1.20")
    assert not v["shown"] and first_code(v) == "no-error-tag" and "ERROR" in v["reason"]


def test_v120_utc_time_not_a_date(shows_env):
    v = verdict(shows(shows_env, A, "-o", "json", indexes="strtime"), "spaced time", "v1.20")
    assert not v["shown"] and "utc-time-not-date" in [p["code"] for p in v["problems"]]
    assert "2024-01-24 02:32:00" in v["reason"]


def test_v120_utc_time_a_date_here_and_text_there_fails_the_poller_whole_search(shows_env):
    # measured: Elasticsearch refuses the poller's sort on utc_time across a date and a keyword mapping
    result = shows(shows_env, A, "-o", "json", indexes="app,strtime")
    assert result.returncode == 0, result.stderr
    summary = result.json()["summary"]["v1.20"]
    assert summary["shown"] == 0 and "its request failed" in summary["reason"] and "utc_time" in summary["reason"]


def test_v120_no_utc_time_the_poller_sort_fails_on_that_index(shows_env):
    v = verdict(shows(shows_env, A, "-o", "json"), "ecs line", "v1.20")
    assert not v["shown"] and first_code(v) in ("index-failed", "no-utc-time"), v
    assert "utc_time" in v["reason"]


def test_v120_token_cut_at_minus(shows_env):
    result = shows(shows_env, K, "-o", "json")
    assert result.returncode == 0, result.stderr
    v = verdict(result, "negative delay", "v1.20")
    assert not v["shown"] and first_code(v) == "token-cut" and "`-`" in v["reason"]
    assert result.json()["summary"]["v1.20"]["summary"] == ("OpenReplay v1.20: 0 of 1 line; token cut at `-` "
                                                            "(negative delay)")


def test_v121_index_not_logs_and_only_the_token(shows_env, logs_alias):
    result = shows(shows_env, A, "-o", "json")
    v = verdict(result, "cart failed", "v1.21+")
    assert not v["shown"] and first_code(v) == "index-not-logs" and f"{shows_env['prefix']}-app" in v["reason"]
    v = verdict(result, "upper-case tag", "v1.21+")
    assert not v["shown"] and first_code(v) == "no-id-marker"


def test_v121_level_not_lower_case_and_no_timestamp_are_shown_degraded(shows_env, logs_alias):
    result = shows(shows_env, A, "-o", "json")
    v = verdict(result, "upper-case level", "v1.21+")
    assert v["shown"] and first_code(v) == "level-case"
    v = verdict(result, "no timestamp", "v1.21+")
    assert v["shown"] and first_code(v) == "no-timestamp"
    assert result.json()["summary"]["v1.21+"]["shown"] == 2


def test_v121_no_level_breaks_the_panel(shows_env, logs_alias):
    result = shows(shows_env, E, "-o", "json")
    v = verdict(result, "ecs level only", "v1.21+")
    assert not v["shown"] and first_code(v) == "no-level" and "log.level" in v["reason"]
    v = verdict(result, "fine line", "v1.21+")
    assert not v["shown"] and first_code(v) == "panel-broken"
    assert result.json()["summary"]["v1.21+"]["summary"].startswith("OpenReplay v1.21+: 0 of 2 lines")


def test_v121_beyond_the_first_1000(shows_env, logs_alias):
    result = shows(shows_env, C, "-o", "json")
    assert result.returncode == 0, result.stderr
    summary = result.json()["summary"]["v1.21+"]
    assert (summary["shown"], summary["lines"]) == (1000, 1010)
    hidden = [ln["openreplay"]["v1.21+"] for ln in result.json()["lines"] if not ln["openreplay"]["v1.21+"]["shown"]]
    assert len(hidden) == 10 and {first_code(v) for v in hidden} == {"beyond-1000"}


def test_v121_lines_after_the_first_fetch(shows_env, logs_alias):
    result = shows(shows_env, A, "-o", "json", "--fetched-at", at(3.5))
    v = verdict(result, "no timestamp", "v1.21+")  # logged at +4 min, after the fetch at +3.5
    assert not v["shown"] and first_code(v) == "after-fetch"
    assert verdict(result, "upper-case level", "v1.21+")["shown"]


def test_no_line_is_exit_9(shows_env):
    result = shows(shows_env, session_id(99), "-o", "json")
    assert result.returncode == 9, result.output


def test_explain_prints_both_requests_without_connecting(shows_env):
    result = run_cli("shows", A, "--explain", "--host", "http://127.0.0.1:9", "--indexes", "app-*",
                     env=Env())
    assert result.returncode == 0, result.stderr
    data = result.json()
    assert data["v1.21+"]["path"] == "/logs/_search"
    assert data["v1.21+"]["body"]["query"] == {"match_phrase": {"message": f"openReplaySession.id={A}"}}
    assert data["v1.20"]["path"] == "/app-*/_search" and data["v1.20"]["params"]["sort"] == "utc_time:asc"


def test_check_says_it_too_one_finding_per_generation(shows_env):
    patterns = f"{shows_env['prefix']}-app,{shows_env['prefix']}-logs,{shows_env['prefix']}-ecs"
    result = run_cli("check", "--session", A, "-o", "json", "--host", shows_env["url"], "--id", shows_env["key"]["id"],
                     "--api-key", shows_env["key"]["api_key"], "--indexes", patterns, env=Env())
    assert result.returncode in (0, 10), result.stderr
    findings = {f["id"]: f for f in result.json()}
    v121, v120 = findings["openreplay_v121"], findings["openreplay_v120"]
    assert v121["status"] == "warning"
    assert v121["detail"] == f"session {A}: OpenReplay v1.21+: 0 of 5 lines; index `logs` does not exist"
    assert f"orx-elastic shows {A}" in v121["fix"] and "alias" in v121["fix"]
    assert v120["detail"].startswith(f"session {A}: OpenReplay v1.20: 2 of 5 lines")


def test_check_without_a_recent_session_skips_them_and_says_how(shows_env):
    result = run_cli("check", "-o", "json", "--host", shows_env["url"], "--id", shows_env["key"]["id"],
                     "--api-key", shows_env["key"]["api_key"], "--indexes", f"{shows_env['prefix']}-app", env=Env())
    findings = {f["id"]: f for f in result.json()}
    assert findings["openreplay_v121"]["status"] == "ok"
    assert "no session to judge" in findings["openreplay_v121"]["detail"]
    assert "--session" in findings["openreplay_v121"]["detail"]


def logs_alias_run(env, *args, key=None, indexes="app,logs"):
    key = key or env["key"]
    patterns = ",".join(f"{env['prefix']}-{suffix}" for suffix in indexes.split(","))
    result = run_cli("alias", *args, "--host", env["url"], "--id", key["id"], "--api-key", key["api_key"],
                     "--indexes", patterns, "--username", env["admin_user"],
                     env=Env(vars={"ORX_ELASTIC_PASSWORD": env["admin_password"]}))
    assert env["admin_password"] not in result.output and key["api_key"] not in result.output
    assert "Traceback" not in result.stderr
    return result


def test_logs_alias_applied_v121_finds_the_lines_then_undone(shows_env):
    before = shows(shows_env, A, "-o", "json").json()["summary"]["v1.21+"]
    assert before["shown"] == 0
    applied = logs_alias_run(shows_env, "--session", A)
    assert applied.returncode == 0, applied.output
    assert f"alias `logs` now points at 2 indices: {shows_env['prefix']}-app, {shows_env['prefix']}-logs" in applied.stdout
    assert f"fetch of session {A} finds 3 lines" in applied.stdout  # the three lines with openReplaySession.id=
    after = shows(shows_env, A, "-o", "json")
    assert verdict(after, "cart failed", "v1.21+")["shown"] is True
    assert after.json()["summary"]["v1.21+"]["shown"] == 3
    removed = logs_alias_run(shows_env, "--remove")
    assert removed.returncode == 0, removed.output
    assert "removed alias `logs`" in removed.stdout
    assert not shows_env["admin"].indices.exists_alias(name="logs")
    again = shows(shows_env, A, "-o", "json").json()["summary"]["v1.21+"]
    assert again["reason"] == "index `logs` does not exist"


def test_logs_alias_remove_leaves_an_alias_it_did_not_make(shows_env, logs_alias):
    # the fixture made a plain alias `logs`, as someone else would
    result = logs_alias_run(shows_env, "--remove")
    assert result.returncode == 0, result.output
    assert "nothing to remove" in result.stdout and "not made by orx-elastic" in result.stderr
    assert shows_env["admin"].indices.exists_alias(name="logs")


def test_logs_alias_refused_when_logs_is_a_concrete_index(shows_env):
    shows_env["admin"].indices.create(index="logs")
    try:
        result = logs_alias_run(shows_env)
        assert result.returncode == 11, result.output
        assert "`logs` is a concrete index" in result.stderr
    finally:
        drop_logs(shows_env["admin"])


def test_logs_alias_refused_when_the_key_could_not_read_it(shows_env):
    admin = shows_env["admin"]
    narrow = admin.security.create_api_key(name=f"{shows_env['prefix']}-narrow", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{shows_env['prefix']}-*"], "privileges": ["read"]}]}})
    result = logs_alias_run(shows_env, key=narrow)
    assert result.returncode == 7, result.output
    assert "may not read `logs`" in result.stderr and ",logs" in result.stderr
    assert not admin.indices.exists_alias(name="logs")


def test_logs_alias_refuses_data_streams_and_indices_together(shows_env):
    admin = shows_env["admin"]
    prefix = shows_env["prefix"]
    admin.indices.put_index_template(name=f"{prefix}-ds", index_patterns=[f"{prefix}-ds*"], data_stream={},
                                     template={"mappings": {"properties": {"message": {"type": "text"}}}})
    admin.index(index=f"{prefix}-ds-app", document={"message": "x", "@timestamp": at(1)}, op_type="create",
                refresh=True)
    # the test distribution has no DELETE /_data_stream: the stream stays, under this module's prefix
    result = logs_alias_run(shows_env, indexes="app,ds-app")
    assert result.returncode == 11, result.output
    assert "both data streams" in result.stderr and f"{prefix}-ds-app" in result.stderr
    assert not admin.indices.exists_alias(name="logs")


def test_logs_alias_dry_run_prints_the_request_and_sends_nothing(shows_env):
    result = run_cli("alias", "--dry-run", "--host", "http://127.0.0.1:9", "--indexes", "app-*",
                     "--username", "elastic", env=Env())
    assert result.returncode == 0, result.output
    assert result.stdout.startswith("# Kibana Dev Tools > Console:\nPOST /_aliases\n")
    assert '"alias": "logs"' in result.stdout and "curl -sS -X POST http://127.0.0.1:9/_aliases -u elastic" in result.stdout


def test_documents_without_level_get_the_shipper_change_as_advice(shows_env, logs_alias):
    data = shows(shows_env, E, "-o", "json").json()
    titles = [a["for"] for a in data["advice"]]
    assert any("Filebeat" in t for t in titles) and any("Logstash" in t for t in titles)
    assert any("copy_fields" in a["snippet"] for a in data["advice"])
    table = shows(shows_env, E, "-o", "table", "-v")  # the snippets: -v
    assert "advice (a change in your shipper: orx-elastic cannot make it for you):" in table.stdout
    assert '[log][level]' in table.stdout
    brief = shows(shows_env, E, "-o", "table").stdout  # without: one line per cause
    assert '[log][level]' not in brief and brief.count("`level` for OpenReplay v1.21+") == 1
    assert [c["cause"] for c in data["advice_causes"]] == ["level"]  # -o json carries the short form too
    assert " ".join(brief.split()).count(data["advice_causes"][0]["advice"]) == 1


def test_each_line_carries_its_replay_link(shows_env):
    result = shows(shows_env, A, "-o", "json", "--openreplay-url", "https://or.example.com", "--project-id", "3")
    line = next(ln for ln in result.json()["lines"] if ln["message"].endswith("cart failed"))
    assert line["replay_url"] == f"https://or.example.com/3/session/{A}?jumpto=60000"  # logged 1 min in


def test_fixes_and_hint_carry_the_profile_they_were_asked_for(shows_env, tmp_path):
    """Pasted as printed, `orx-elastic alias ...` must act on the profile `shows` read, as check's fixes do."""
    config = tmp_path / "config.yaml"
    patterns = ",".join(f"{shows_env['prefix']}-{suffix}" for suffix in ("app", "logs", "ecs"))
    config.write_text(yaml.safe_dump({"profiles": {"work": {
        "host": shows_env["url"], "id": shows_env["key"]["id"], "api_key": shows_env["key"]["api_key"],
        "indexes": patterns}}}))
    config.chmod(0o600)
    env = Env(vars={"NO_COLOR": "1", "ORX_ELASTIC_CONFIG": str(config)})
    table = run_cli("--profile", "work", "shows", A, "-o", "table", env=env)
    assert table.returncode == 0, table.stderr
    assert "fix: `orx-elastic --profile work alias --username ADMIN`" in " ".join(table.stdout.split())
    document = run_cli("--profile", "work", "shows", A, "-o", "json", env=env).json()
    assert [fix["fix"].startswith("`orx-elastic --profile work alias") for fix in document["fixes"]] == [True]
