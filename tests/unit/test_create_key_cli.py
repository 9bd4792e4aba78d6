"""create-key and keys through the CLI, without a cluster: --dry-run, and bad input exit codes."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest
from click.testing import CliRunner

from elastic_cli import cli as cli_module
from elastic_cli.cli import cli


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith("ORX_ELASTIC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ORX_ELASTIC_CONFIG", str(tmp_path / "config.yaml"))


def _split_dry_run(stdout: str):
    console, _, curl = stdout.partition("# or curl")
    lines = console.splitlines()
    start = lines.index("POST /_security/api_key")
    body = json.loads("\n".join(lines[start + 1:]))
    command = curl.split("\n", 1)[1]
    return body, shlex.split(command)


def test_dry_run_prints_console_and_curl_without_connecting(tmp_path):
    # port 9 (discard): nothing listens; a connection attempt would fail the command
    result = CliRunner().invoke(cli, ["create-key", "--host", "http://127.0.0.1:9", "--username", "elastic",
                                      "--indexes", "app-logs,*log*", "--expiration", "90d", "--dry-run"])
    assert result.exit_code == 0, result.output
    body, argv = _split_dry_run(result.stdout)
    assert body["role_descriptors"]["openreplay-role"]["cluster"] == []
    assert body["role_descriptors"]["openreplay-role"]["indices"][0]["names"] == ["app-logs", "*log*"]
    assert body["expiration"] == "90d"
    assert json.loads(argv[argv.index("--data-binary") + 1]) == body
    assert "http://127.0.0.1:9/_security/api_key" in argv
    assert argv[argv.index("-u") + 1] == "elastic"
    assert not (tmp_path / "config.yaml").exists()


def test_dry_run_never_prints_the_password(monkeypatch):
    monkeypatch.setenv("ORX_ELASTIC_PASSWORD", "hunter2-secret")
    result = CliRunner().invoke(cli, ["create-key", "--username", "elastic", "--dry-run"])
    assert result.exit_code == 0
    assert "hunter2-secret" not in result.output


def test_dry_run_guide_body_warns_on_stderr():
    result = CliRunner().invoke(cli, ["create-key", "--dry-run", "--guide-body"])
    assert result.exit_code == 0
    body, _ = _split_dry_run(result.stdout)
    assert body["role_descriptors"]["openreplay-role"]["cluster"] == ["all"]
    assert "cluster privilege 'all'" in result.stderr


def _main_exit(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_module.main(argv)
    return exc.value.code, capsys.readouterr()


@pytest.mark.parametrize("args", [
    ["--expiration", "90x"], ["--expiration", "1.5h"], ["--expiration", "0d"],
    ["--indexes", "App-Logs"], ["--indexes", "a b"], ["--indexes", ","], ["--indexes", "/[/"],
    ["--name", ""],
])
def test_bad_input_is_a_usage_error_before_connecting(args, capsys):
    code, captured = _main_exit(["create-key", "--host", "http://127.0.0.1:9", "--username", "u",
                                 "--password", "p4ssw0rd-x", *args], capsys)
    assert code == 2
    assert captured.err.startswith("error: ")
    assert "fix: " in captured.err
    assert "p4ssw0rd-x" not in captured.err + captured.out


def test_password_missing_without_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    code, captured = _main_exit(["create-key", "--host", "http://127.0.0.1:9", "--username", "u"], capsys)
    assert code == 2
    assert "ORX_ELASTIC_PASSWORD" in captured.err


def test_username_and_admin_key_exclude_each_other(capsys):
    code, captured = _main_exit(["create-key", "--username", "u", "--password", "p",
                                 "--admin-api-key", "id:key"], capsys)
    assert code == 2


def test_no_credentials_at_all(capsys):
    code, captured = _main_exit(["create-key", "--host", "http://127.0.0.1:9"], capsys)
    assert code == 2
    assert "--username" in captured.err


def test_connection_refused_is_exit_4(capsys):
    code, captured = _main_exit(["create-key", "--host", "http://127.0.0.1:9", "--username", "u",
                                 "--password", "secret-pw-123"], capsys)
    assert code == 4
    assert "secret-pw-123" not in captured.err


def test_invalidate_needs_exactly_one_target(capsys):
    code, _ = _main_exit(["keys", "invalidate", "--username", "u", "--password", "p"], capsys)
    assert code == 2
    code, _ = _main_exit(["keys", "invalidate", "ID", "--name", "n", "--username", "u", "--password", "p"], capsys)
    assert code == 2


def test_rotate_without_a_profile_key(capsys, tmp_path):
    (tmp_path / "config.yaml").write_text("profiles:\n  default:\n    host: http://127.0.0.1:9\n")
    (tmp_path / "config.yaml").chmod(0o600)
    code, captured = _main_exit(["keys", "rotate", "--username", "u", "--password", "p"], capsys)
    assert code == 3
    assert "create-key --save" in captured.err


def test_subprocess_exit_code_and_help():
    result = subprocess.run([sys.executable, "-m", "elastic_cli", "create-key", "--expiration", "nope", "--dry-run"],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "--expiration" in result.stderr
    for args in (["create-key", "--help"], ["keys", "--help"], ["keys", "rotate", "--help"]):
        assert CliRunner().invoke(cli, args).exit_code == 0
