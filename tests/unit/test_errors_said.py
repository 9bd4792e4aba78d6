"""Errors that say what happened: one line, the right exit code, no traceback, the config file intact.

Loopback servers (tests/faults.py) answer what a healthy node never does: a redirect, a body cut
short or not JSON. Everything runs through the CLI's entry point, in process.
"""

from __future__ import annotations

import errno
import os

import pytest
import yaml

import faults  # tests/faults.py (pyproject: pytest pythonpath)
from conftest import run_cli

SECRET = "dZ5ycVRJTU-5UW_RYfi1_w"
SESSION = "2618307011354435587"
ES = {"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"}


def _one_error(result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert SECRET not in result.output
    return errors[0]


def _logs(env, url: str, *extra: str):
    return run_cli("logs", SESSION, "--host", url, "--id", "kid", "--api-key", SECRET, *extra, env=env)


@pytest.fixture
def env(clean_env, tmp_path):
    return clean_env.with_vars(XDG_CACHE_HOME=str(tmp_path / "cache"))


# ---------------------------------------------------------------- what the server answers


@pytest.mark.parametrize("product", [True, False], ids=["from-elasticsearch", "from-a-proxy"])
def test_a_redirect_is_named_with_where_it_points(env, product):
    headers = {"Location": "https://es.example.com:9243/", **(ES if product else {"Content-Type": "text/html"})}
    with faults.serving(faults.answer_raw("301 Moved Permanently", headers)) as server:
        result = _logs(env, f"http://127.0.0.1:{server.port}")
    line = _one_error(result)
    assert result.exit_code == 4
    assert "redirects (HTTP 301) to https://es.example.com:9243/" in line and "None" not in line
    assert "--host https://es.example.com:9243" in result.stderr


@pytest.mark.parametrize("body", [b'{"took":1,"timed_out":false,"hits":{"hits":[{"_index":', b"<html>oops</html>"],
                         ids=["cut-short", "not-json"])
def test_an_answer_that_is_not_json(env, body):
    with faults.serving(faults.answer_raw("200 OK", ES, body)) as server:
        result = _logs(env, f"http://127.0.0.1:{server.port}")
    line = _one_error(result)
    assert result.exit_code == 4 and "not valid JSON" in line


# ---------------------------------------------------------------- what the user typed


def test_an_unclosed_ipv6_host_is_bad_input(env):
    result = _logs(env, "http://[::1")
    assert result.exit_code == 2 and "not a valid URL" in _one_error(result)
    assert "[::1]:9200" in result.stderr


def test_configure_says_plain_http_off_this_machine_is_unencrypted(env, tmp_path):
    path = tmp_path / "c.yaml"
    result = run_cli("--config", str(path), "configure", "--host", "http://es.example.com:9200", "--id", "kid",
                     "--api-key", SECRET, env=env)
    assert result.exit_code == 0, result.stderr
    assert "unencrypted" in result.stderr and "https://" in result.stderr
    for host in ("http://127.0.0.1:9200", "http://localhost:9200", "http://[::1]:9200", "https://es.example.com"):
        quiet = run_cli("--config", str(path), "configure", "--host", host, env=env)
        assert quiet.exit_code == 0 and "unencrypted" not in quiet.stderr, host
    # a new key for a saved plain-http host off this machine is said too
    run_cli("--config", str(path), "configure", "--host", "http://10.1.2.3", env=env)
    again = run_cli("--config", str(path), "configure", "--api-key", SECRET + "x", env=env)
    assert again.exit_code == 0 and "unencrypted" in again.stderr


def test_check_says_plain_http_off_this_machine_is_unencrypted(env, monkeypatch):
    # tests reach loopback only: the address is taken for a remote one, the rest of check is real
    from elastic_cli.checks import network

    monkeypatch.setattr(network, "is_local", lambda hostname: False)
    body = b'{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}'
    with faults.serving(faults.answer_raw("401 Unauthorized", ES, body)) as server:
        result = run_cli("check", "--host", f"http://127.0.0.1:{server.port}", "--id", "kid", "--api-key", SECRET,
                         "-o", "json", env=env)
    tls = {f["id"]: f for f in result.json()}["tls"]
    assert tls["status"] == "warning" and "unencrypted" in tls["detail"] and "https://" in tls["fix"]


# ---------------------------------------------------------------- the config file


def test_a_key_given_twice_in_the_config_file_is_refused_with_its_lines(env, tmp_path):
    path = tmp_path / "c.yaml"
    text = ("profiles:\n  default:\n    host: https://a.example.com\n    id: kid\n"
            f"    api_key: {SECRET}\n    host: https://b.example.com\n")
    path.write_text(text)
    for command in (["config", "show"], ["configure", "--indexes", "app-*"]):
        result = run_cli("--config", str(path), *command, env=env)
        line = _one_error(result)
        assert result.exit_code == 3
        assert f"{path}:6" in line and "'host' is given twice" in line and "line 3" in line
    assert path.read_text() == text  # configure left it as it was


def test_a_profile_given_twice_is_refused(env, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("profiles:\n  default:\n    host: https://a.example.com\n  default:\n    host: https://b\n")
    result = run_cli("--config", str(path), "config", "show", env=env)
    assert result.exit_code == 3 and f"{path}:4" in _one_error(result)


def test_a_full_disk_during_configure_leaves_the_file_as_it_was(env, tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    first = run_cli("--config", str(path), "configure", "--host", "https://a.example.com", "--id", "kid",
                    "--api-key", SECRET, env=env)
    assert first.exit_code == 0
    before = path.read_bytes()

    # ENOSPC as a full file system reports it: the data is written to the page cache, fsync fails
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    result = run_cli("--config", str(path), "configure", "--host", "https://b.example.com", env=env)
    line = _one_error(result)
    assert result.exit_code == 18 and "No space left on device" in line and str(path) in line
    assert path.read_bytes() == before
    assert yaml.safe_load(before)["profiles"]["default"]["host"] == "https://a.example.com"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "c.yaml.lock", "cache"] or \
        not [p for p in tmp_path.iterdir() if p.name.startswith(".c.yaml.")]  # no temporary file left


# ---------------------------------------------------------------- stdout that refuses bytes


def test_any_command_s_output_to_a_full_disk_says_so(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "c.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_")}
    base = [sys.executable, "-m", "elastic_cli", "--config", str(path)]
    subprocess.run([*base, "configure", "--host", "https://a.example.com", "--id", "kid", "--api-key", SECRET],
                   env=env, check=True, capture_output=True)
    # a panel printed during the run, a JSON document, a line left buffered until the exit
    for command in (["config", "show"], ["config", "show", "-o", "json"], ["config", "path"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run([*base, *command], stdout=full, stderr=subprocess.PIPE, text=True, env=env)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.returncode == 18, (command, result.stderr)
        assert errors == ["error: cannot write the output: No space left on device"], result.stderr
