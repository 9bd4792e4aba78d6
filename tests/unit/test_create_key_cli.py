"""create-key and keys through the CLI, without a cluster: --dry-run, and bad input exit codes."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from conftest import run_cli


def _split_dry_run(stdout: str):
    console, _, curl = stdout.partition("# or curl")
    lines = console.splitlines()
    start = lines.index("POST /_security/api_key")
    body = json.loads("\n".join(lines[start + 1:]))
    command = curl.split("\n", 1)[1]
    return body, shlex.split(command)


def test_dry_run_prints_console_and_curl_without_connecting(tmp_path, clean_env):
    # port 9 (discard): nothing listens; a connection attempt would fail the command
    result = run_cli("create-key", "--host", "http://127.0.0.1:9", "--username", "elastic",
                     "--indexes", "app-logs,*log*", "--expiration", "90d", "--dry-run", env=clean_env)
    assert result.exit_code == 0, result.output
    body, argv = _split_dry_run(result.stdout)
    assert body["role_descriptors"]["openreplay-role"]["cluster"] == []
    assert body["role_descriptors"]["openreplay-role"]["indices"][0]["names"] == ["app-logs", "*log*"]
    assert body["expiration"] == "90d"
    assert json.loads(argv[argv.index("--data-binary") + 1]) == body
    assert "http://127.0.0.1:9/_security/api_key" in argv
    assert argv[argv.index("-u") + 1] == "elastic"
    assert not (tmp_path / "config.yaml").exists()


def test_dry_run_never_prints_the_password(clean_env):
    result = run_cli("create-key", "--username", "elastic", "--dry-run",
                     env=clean_env.with_vars(ORX_ELASTIC_PASSWORD="hunter2-secret"))
    assert result.exit_code == 0
    assert "hunter2-secret" not in result.output


def test_dry_run_guide_body_warns_on_stderr(clean_env):
    result = run_cli("create-key", "--dry-run", "--guide-body", env=clean_env)
    assert result.exit_code == 0
    body, _ = _split_dry_run(result.stdout)
    assert body["role_descriptors"]["openreplay-role"]["cluster"] == ["all"]
    assert "cluster privilege 'all'" in result.stderr


@pytest.mark.parametrize("args", [
    ["--expiration", "90x"], ["--expiration", "1.5h"], ["--expiration", "0d"],
    ["--indexes", "App-Logs"], ["--indexes", "a b"], ["--indexes", ","], ["--indexes", "/[/"],
    ["--name", ""],
])
def test_bad_input_is_a_usage_error_before_connecting(args, clean_env):
    result = run_cli("create-key", "--host", "http://127.0.0.1:9", "--username", "u",
                     "--password", "p4ssw0rd-x", *args, env=clean_env)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "fix: " in result.stderr
    assert "p4ssw0rd-x" not in result.output


def test_password_missing_without_a_terminal(clean_env):
    result = run_cli("create-key", "--host", "http://127.0.0.1:9", "--username", "u", env=clean_env)
    assert result.exit_code == 2
    assert "ORX_ELASTIC_PASSWORD" in result.stderr


def test_password_is_asked_on_a_terminal_and_never_shown(clean_env):
    from dataclasses import replace

    # port 9: the typed password is used for a connection that is refused (exit 4), and never echoed
    result = run_cli("create-key", "--host", "http://127.0.0.1:9", "--username", "u",
                     env=replace(clean_env, tty=True, stdin="typed-s3cret-pw\n"))
    assert result.exit_code == 4, result.stderr
    assert "password for u" in result.stderr and "typed-s3cret-pw" not in result.output


def test_username_and_admin_key_exclude_each_other(clean_env):
    result = run_cli("create-key", "--username", "u", "--password", "p", "--admin-api-key", "id:key", env=clean_env)
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def test_no_credentials_at_all(clean_env):
    result = run_cli("create-key", "--host", "http://127.0.0.1:9", env=clean_env)
    assert result.exit_code == 2
    assert "--username" in result.stderr


def test_connection_refused_is_exit_4(clean_env):
    result = run_cli("create-key", "--host", "http://127.0.0.1:9", "--username", "u",
                     "--password", "secret-pw-123", env=clean_env)
    assert result.exit_code == 4
    assert "secret-pw-123" not in result.output


def test_invalidate_needs_exactly_one_target(clean_env):
    result = run_cli("keys", "invalidate", "--username", "u", "--password", "p", env=clean_env)
    assert result.exit_code == 2 and "either an ID or --name" in result.stderr
    result = run_cli("keys", "invalidate", "ID", "--name", "n", "--username", "u", "--password", "p", env=clean_env)
    assert result.exit_code == 2 and "either an ID or --name" in result.stderr


def test_rotate_without_a_profile_key(tmp_path, clean_env):
    (tmp_path / "config.yaml").write_text("profiles:\n  default:\n    host: http://127.0.0.1:9\n")
    (tmp_path / "config.yaml").chmod(0o600)
    result = run_cli("keys", "rotate", "--username", "u", "--password", "p", env=clean_env)
    assert result.exit_code == 3
    assert "create-key --username USER --save" in result.stderr


def test_subprocess_exit_code_and_help(clean_env):
    result = subprocess.run([sys.executable, "-m", "elastic_cli", "create-key", "--expiration", "nope", "--dry-run"],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "--expiration" in result.stderr
    for args in (["create-key", "--help"], ["keys", "--help"], ["keys", "rotate", "--help"]):
        assert run_cli(*args, env=clean_env).exit_code == 0
