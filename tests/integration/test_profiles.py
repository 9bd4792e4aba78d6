"""A profile written by `configure` is what `check` and `logs` use: HTTP, HTTPS with a CA, HTTPS pinned."""

from __future__ import annotations

import json
import uuid

import es_sandbox
import pytest

from conftest import Env, run_cli


def cli(config, *args, env=None):
    return run_cli("--config", config, *args, env=Env(vars=env or {}))


def sample_key(node):
    """Sample logs in this test's own indices, and a read-only key for them."""
    admin = node.admin_client()
    prefix = f"orxprof-{uuid.uuid4().hex[:8]}"
    es_sandbox.load_sample_logs(admin, app_index=f"{prefix}-app-logs", v121_index=f"{prefix}-v121-logs")
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    return prefix, key


@pytest.mark.parametrize("tls", ["http", "ca", "fingerprint"])
def test_configured_profile_drives_check_and_logs(request, tmp_path, tls):
    node = request.getfixturevalue("es_node" if tls == "http" else "es_tls_node")
    prefix, key = sample_key(node)
    config = tmp_path / "config.yaml"
    flags = ["--host", node.url, "--id", key["id"], "--api-key", key["api_key"], "--indexes", f"{prefix}-*"]
    if tls == "ca":
        flags += ["--ca-certs", str(node.ca_path)]
    elif tls == "fingerprint":
        # as browsers and openssl print it: colon-separated upper case
        pinned = ":".join(node.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
        flags += ["--fingerprint", pinned]
    written = cli(config, "--profile", "team", "configure", *flags, "--default")
    assert written.returncode == 0, written.stderr

    # no connection flags from here on: everything comes from the file
    checked = cli(config, "check", "-o", "json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    findings = {f["id"]: f["status"] for f in json.loads(checked.stdout)}
    assert findings["auth"] == "ok" and findings["tls"] in ("ok", "warning")
    assert findings["marked_logs"] == "ok"

    found = cli(config, "logs", es_sandbox.SAMPLE_TOKEN, "-o", "json")
    assert found.returncode == 0, found.stderr
    messages = [hit["_source"]["message"] for hit in json.loads(found.stdout)]
    assert messages and all("openReplaySession" in m for m in messages)
    assert key["api_key"] not in checked.stdout + checked.stderr + found.stdout + found.stderr


def test_a_second_profile_and_env_override(es_node, tmp_path):
    prefix, key = sample_key(es_node)
    config = tmp_path / "config.yaml"
    good = ["--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"], "--indexes", f"{prefix}-*"]
    assert cli(config, "configure", *good).returncode == 0
    assert cli(config, "--profile", "broken", "configure", "--host", "http://127.0.0.1:9",
               "--id", "some-id", "--api-key", "some-key").returncode == 0
    assert cli(config, "logs", str(es_sandbox.SAMPLE_SESSION_ID), "-o", "json").returncode == 0
    refused = cli(config, "--profile", "broken", "logs", str(es_sandbox.SAMPLE_SESSION_ID))
    assert refused.returncode == 4
    # the environment beats the profile: the broken profile's host is overridden
    rescued = cli(config, "--profile", "broken", "logs", str(es_sandbox.SAMPLE_SESSION_ID), "-o", "json",
                  env={"ORX_ELASTIC_HOST": es_node.url, "ORX_ELASTIC_ID": key["id"],
                       "ORX_ELASTIC_API_KEY": key["api_key"], "ORX_ELASTIC_INDEXES": f"{prefix}-*"})
    assert rescued.returncode == 0, rescued.stderr
