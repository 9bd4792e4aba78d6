"""The quick start's own steps and the commands it suggests next (issue 39) run as printed, pasted into
a shell, against the sample dated as the quick start dates it (its sessions started minutes ago): `check`
judges one of its sessions, `sessions --since 7d` lists both, `logs` with context, `shows`, `config show`,
`instrument --help`."""

from __future__ import annotations

import json
import shlex
import time
import uuid

import es_sandbox
import pytest
from es_sandbox import quickstart
from es_sandbox.sample_data import recent_sessions

from conftest import Env, run_cli


@pytest.fixture(scope="module")
def sample(es_node, tmp_path_factory):
    """The recent sample on the node, and profile `sandbox` holding a read-only key for it."""
    admin = es_node.admin_client()
    prefix = f"orxnext-{uuid.uuid4().hex[:8]}"
    sessions = recent_sessions(int(time.time() * 1000))
    es_sandbox.load_sample_logs(admin, app_index=f"{prefix}-app-logs", v121_index=f"{prefix}-v121-logs",
                                sessions=sessions)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("next") / "config.yaml"
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(config), "NO_COLOR": "1"})
    made = run_cli("--profile", quickstart.PROFILE, "configure", "--host", es_node.url, "--id", key["id"],
                   "--api-key", key["api_key"], "--indexes", f"{prefix}-*", env=env)
    assert made.exit_code == 0, made.output
    yield env, sessions
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def suggested(sessions) -> list[list[str]]:
    """The suggested orx-elastic commands, as a shell would split them (comments dropped)."""
    return [shlex.split(line, comments=True)[1:] for line in quickstart.next_commands(sessions)
            if line.strip().startswith("orx-elastic ")]


def test_the_quick_starts_check_judges_a_session_of_the_sample(sample):
    env, sessions = sample
    state = {"url": "http://127.0.0.1:1", "user": "elastic-admin"}
    check = next(step for step in quickstart.steps(state, sessions) if step[0] == "check")
    result = run_cli(*check, "-o", "json", env=env)
    assert result.exit_code == 0, result.output
    findings = {f["id"]: f for f in json.loads(result.stdout)}
    assert findings["recent_sessions"]["data"]["sessions"] == 2, findings["recent_sessions"]
    judged = {str(sessions.session_id), str(sessions.session_id_2)}
    for generation in ("openreplay_v121", "openreplay_v120"):  # not "no session to judge"
        detail = findings[generation]["detail"]
        assert detail.split(":")[0] in {f"session {s}" for s in judged}, detail


def test_every_suggested_command_runs_as_printed(sample):
    env, sessions = sample
    commands = suggested(sessions)
    assert any(c[0] == "sessions" for c in commands) and any("-C" in c for c in commands)
    for argv in commands:
        result = run_cli(*argv, env=env)
        assert result.exit_code == 0, f"{shlex.join(argv)}\n{result.output}"
        assert "Traceback" not in result.stderr
        if argv[0] == "sessions":  # the window holds both sample sessions: not an empty table
            listed = {json.loads(line)["session_id"] for line in result.stdout.splitlines()}
            assert listed == {str(sessions.session_id), str(sessions.session_id_2)}, result.output
        if "-C" in argv:
            assert any(r.get("context") for r in map(json.loads, result.stdout.splitlines()))
