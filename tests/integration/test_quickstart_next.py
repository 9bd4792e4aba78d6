"""The commands the quick start suggests next (issue 39) run as printed, pasted into a shell, against
the sample logs: `logs` with context, `sessions` in a window that holds the sample (dated the day its
session started), `shows`, `config show`, `instrument --help`."""

from __future__ import annotations

import json
import shlex
import uuid

import es_sandbox
import pytest
from es_sandbox import quickstart

from conftest import Env, run_cli


@pytest.fixture(scope="module")
def sample(es_node, tmp_path_factory):
    """The sample logs on the node, and profile `sandbox` holding a read-only key for them."""
    admin = es_node.admin_client()
    prefix = f"orxnext-{uuid.uuid4().hex[:8]}"
    es_sandbox.load_sample_logs(admin, app_index=f"{prefix}-app-logs", v121_index=f"{prefix}-v121-logs")
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("next") / "config.yaml"
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(config), "NO_COLOR": "1"})
    made = run_cli("--profile", quickstart.PROFILE, "configure", "--host", es_node.url, "--id", key["id"],
                   "--api-key", key["api_key"], "--indexes", f"{prefix}-*", env=env)
    assert made.exit_code == 0, made.output
    yield env
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def suggested() -> list[list[str]]:
    """The suggested orx-elastic commands, as a shell would split them (comments dropped)."""
    return [shlex.split(line, comments=True)[1:] for line in quickstart.next_commands()
            if line.strip().startswith("orx-elastic ")]


def test_every_suggested_command_runs_as_printed(sample):
    commands = suggested()
    assert any(c[0] == "sessions" for c in commands) and any("-C" in c for c in commands)
    for argv in commands:
        result = run_cli(*argv, env=sample)
        assert result.exit_code == 0, f"{shlex.join(argv)}\n{result.output}"
        assert "Traceback" not in result.stderr
        if argv[0] == "sessions":  # the window holds the sample session: not an empty table
            assert str(es_sandbox.SAMPLE_SESSION_ID) in result.stdout, result.output
        if "-C" in argv:
            assert any(r.get("context") for r in map(json.loads, result.stdout.splitlines()))
