"""README's quick start, first command, run as a newcomer would: from a clean copy of the repository,
with no virtual environment, no running sandbox and no configuration. It must install the tool,
start the node, save a read-only key in profile `sandbox`, run `check` and `logs`, and say what next."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import es_sandbox
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis",
                                    "build", "dist")


def quick_start_command() -> str:
    """The first command of README's quick start block."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("## Quick start"):]
    block = block[block.index("```") + 3:]
    block = block[: block.index("```")]
    return [line.split("#")[0].strip() for line in block.strip().splitlines()][0]


def test_readme_opens_with_a_two_command_quick_start():
    text = (ROOT / "README.md").read_text()
    assert text.index("## Quick start") < text.index("## Install")
    block = text[text.index("## Quick start"):]
    block = block[block.index("```") + 3:]
    commands = [line for line in block[: block.index("```")].strip().splitlines() if line.strip()]
    assert [c.split()[0] for c in commands] == ["scripts/quickstart", ".ci/run"]


@pytest.fixture
def clean_copy(tmp_path, request):
    repo = tmp_path / "orx-elastic"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ORX_ELASTIC_", "ORX_ES_SANDBOX")) and k not in ("VIRTUAL_ENV", "PYTHONPATH", "NO_COLOR")}
    env.update(ORX_ES_SANDBOX_STATE=str(tmp_path / "sandbox.json"), ORX_ELASTIC_CONFIG=str(tmp_path / "config.yaml"))
    yield repo, env
    stop = subprocess.run([str(repo / "scripts" / "es-sandbox"), "stop"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert stop.returncode == 0, stop.stdout + stop.stderr


def valid_quickstart_keys(env) -> list:
    """The keys named orx-sandbox-quickstart that still work on the sandbox node."""
    import json

    from es_sandbox import quickstart, sandbox

    state = json.loads(Path(env["ORX_ES_SANDBOX_STATE"]).read_text())
    status, body = sandbox.admin_of(state).request("GET", f"/_security/api_key?name={quickstart.KEY_NAME}")
    assert status == 200, body
    return [k["id"] for k in json.loads(body)["api_keys"] if not k.get("invalidated")]


def reported_seconds(out: str) -> int:
    return int(re.search(r"Quick start done in (\d+)s", out).group(1))


def test_quick_start_from_a_clean_copy(clean_copy, request):
    repo, env = clean_copy
    versions = [v for v in request.config.getoption("--es-versions").split(",") if v.strip()]
    version = versions[0] if versions and not os.environ.get("ORX_TEST_ES_URL") else es_sandbox.DEFAULT_VERSION
    argv = quick_start_command().split() + ["--version", version]
    from es_sandbox.download import is_cached

    cached = is_cached(version)
    started = time.monotonic()
    cold = subprocess.run(argv, cwd=repo, capture_output=True, text=True, env=env, timeout=1200)
    cold_seconds = time.monotonic() - started
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert "Traceback" not in cold.stderr
    out = cold.stdout
    # what it says of the download is what happened, and its time is the whole run's, install included
    assert ("downloading it first" in out) is (not cached), out
    assert abs(reported_seconds(out) - cold_seconds) <= 3, (reported_seconds(out), cold_seconds)
    # the sample dated as started minutes ago (its start kept in the sandbox's state file)
    from es_sandbox.sample_data import RECENT_MINUTES_AGO, recent_sessions

    start_ms = json.loads(Path(env["ORX_ES_SANDBOX_STATE"]).read_text())["recent_sample_start_ms"]
    sample = recent_sessions(start_ms + RECENT_MINUTES_AGO * 60_000)
    assert 0 <= time.time() * 1000 - start_ms < 3600_000
    for step in ("$ orx-elastic create-key --profile sandbox", "$ orx-elastic check --profile sandbox",
                 f"$ orx-elastic logs {sample.token}"):
        assert step in out
    assert "payment gateway timeout" in out  # a line of the sample session, found by `logs`
    # `check` judged one of the sample's sessions (its JSON, piped here), not "no session to judge"
    judged = re.findall(r'"detail": "session (\d+): OpenReplay', out)
    assert judged and set(judged) <= {str(sample.session_id), str(sample.session_id_2)}, out
    assert "orx-elastic sessions --since 7d --profile sandbox" in out and f"logs {sample.token} -C 2" in out
    assert "Next, try" in out and "scripts/es-sandbox tour" in out
    assert (repo / ".venv" / "bin" / "orx-elastic").exists()

    profile = yaml.safe_load(Path(env["ORX_ELASTIC_CONFIG"]).read_text())["profiles"]["sandbox"]
    assert profile["id"] and profile["api_key"]
    password = re.search(r'"password": "([^"]+)"', Path(env["ORX_ES_SANDBOX_STATE"]).read_text()).group(1)
    assert password not in out  # the admin password went through the environment only
    check = subprocess.run([str(repo / ".venv" / "bin" / "orx-elastic"), "check", "--profile", "sandbox"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert check.returncode == 0, check.stderr  # the saved key reads the sample logs

    started = time.monotonic()
    warm = subprocess.run(argv, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    warm_seconds = time.monotonic() - started
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert "Reusing the running sandbox node" in warm.stdout
    assert f"$ orx-elastic logs {sample.token}" in warm.stdout  # the same recent sample, kept
    assert "downloading" not in warm.stdout
    assert abs(reported_seconds(warm.stdout) - warm_seconds) <= 3
    # run again, it reuses the key it saved: one working key, the profile's
    assert f"(skipped: profile `sandbox` holds the key {profile['id']}" in warm.stdout, warm.stdout
    assert valid_quickstart_keys(env) == [profile["id"]]
    # the profile lost (another config file): the earlier key is invalidated, a new one made and saved
    env = dict(env, ORX_ELASTIC_CONFIG=str(Path(env["ORX_ELASTIC_CONFIG"]).with_name("other.yaml")))
    third = subprocess.run(argv, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "Invalidated 1 key(s) named orx-sandbox-quickstart" in third.stdout
    new_id = yaml.safe_load(Path(env["ORX_ELASTIC_CONFIG"]).read_text())["profiles"]["sandbox"]["id"]
    assert new_id != profile["id"] and valid_quickstart_keys(env) == [new_id]
    print(f"quick start: cold {cold_seconds:.0f}s, warm {warm_seconds:.0f}s (Elasticsearch {version})")
