"""Issue 39: every table a newcomer meets after the quick start, as the real command prints it in a real
pseudo-terminal of 80 and 120 columns, against a real node holding the sample dated as the quick start
dates it: `logs`, `logs -C 2`, `sessions`, `shows`, `keys list`, `config show` and `check`. Each stays
within the width, draws no box, and keeps whole every value a user copies (ids, tokens, times, offsets,
replay links, key ids, URLs): the value the command gives in JSON is on one line of the screen."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import es_sandbox
import pytest
from es_sandbox.sample_data import recent_sessions

from terminal import CLI, base_env, run_in_terminal

BOX = re.compile("[│┃┌┐└┘╭╮╰╯├┤┬┴┼━┏┓┗┛]")  # (logs' date line, `── 2026-12-08 (UTC) ──`, is no box)
PROFILE = "sandbox"


@pytest.fixture(scope="module")
def sample(es_node, tmp_path_factory):
    """The recent sample in this module's own indices; profile `sandbox` holding a read-only key made by
    `create-key --save`, with replay links configured (the longest values a table keeps whole)."""
    admin = es_node.admin_client()
    prefix = f"orxterm-{uuid.uuid4().hex[:8]}"
    sessions = recent_sessions(int(time.time() * 1000))
    es_sandbox.load_sample_logs(admin, app_index=f"{prefix}-app-logs", v121_index=f"{prefix}-v121-logs",
                                sessions=sessions)
    config = tmp_path_factory.mktemp("terminals") / "config.yaml"
    env = {"ORX_ELASTIC_CONFIG": str(config), "ORX_ELASTIC_PASSWORD": es_node.admin_password}
    made = subprocess.run([*CLI, "--profile", PROFILE, "create-key", "--host", es_node.url, "--username",
                           es_node.admin_user, "--name", f"{prefix}-reader", "--indexes", f"{prefix}-*", "--save",
                           "-o", "json"], capture_output=True, text=True, env=base_env(env), timeout=120)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    configured = subprocess.run([*CLI, "--profile", PROFILE, "configure", "--openreplay-url",
                                 "https://openreplay.example.com", "--project-id", "3"],
                                capture_output=True, text=True, env=base_env(env), timeout=60)
    assert configured.returncode == 0, configured.stderr
    yield {"env": env, "key": key, "sessions": sessions, "node": es_node}
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def as_json(sample, *args) -> object:
    result = subprocess.run([*CLI, "--profile", PROFILE, *args, "-o", "json"], capture_output=True, text=True,
                            env=base_env(sample["env"]), timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def screen_of(sample, columns, *args):
    screen = run_in_terminal(["--profile", PROFILE, *args], columns, env=sample["env"])
    assert screen.exit_code == 0, screen.text
    assert sample["key"]["api_key"] not in screen.raw and "elastic_cli/" not in screen.raw  # (the sample logs a Traceback)
    assert not BOX.search(screen.text), f"a box at {columns} columns:\n{screen.text}"
    too_wide = [line for line in screen.lines if len(line) > columns]
    assert not too_wide, f"wider than {columns} columns: {too_wide}\n{screen.text}"
    return screen


def whole(screen, values, what):
    for value in values:
        assert any(str(value) in line for line in screen.lines), f"{what} {value!r} broken:\n{screen.text}"


def header(screen, *titles):
    """The table's titles on one line, in order."""
    assert any(all(t in line.split() for t in titles) for line in screen.lines), f"no header {titles}:\n{screen.text}"


@pytest.mark.parametrize("columns", [80, 120])
def test_logs(sample, columns):
    token = sample["sessions"].token
    records = as_json(sample, "logs", token)
    screen = screen_of(sample, columns, "logs", token)
    header(screen, "time", "offset", "index", "level")
    whole(screen, [r["offset"] for r in records], "offset")
    whole(screen, [r["time"][11:23] for r in records], "time")
    whole(screen, [token, str(sample["sessions"].session_id)], "marker")
    assert sum("payment gateway timeout" in line for line in screen.lines) == 1


@pytest.mark.parametrize("columns", [80, 120])
def test_logs_with_context(sample, columns):
    token = sample["sessions"].token
    records = [json.loads(line) for line in subprocess.run(
        [*CLI, "--profile", PROFILE, "logs", token, "-C", "2", "-o", "ndjson"], capture_output=True, text=True,
        env=base_env(sample["env"]), timeout=120).stdout.splitlines()]
    assert any(r["context"] for r in records) and any(not r["context"] for r in records)
    screen = screen_of(sample, columns, "logs", token, "-C", "2")
    whole(screen, [r["offset"] for r in records], "offset")
    marked = [line for line in screen.lines if line.startswith(">")]
    assert len(marked) == sum(not r["context"] for r in records), screen.text  # each error line marked


@pytest.mark.parametrize("columns", [80, 120])
def test_sessions(sample, columns):
    rows = as_json(sample, "sessions", "--since", "7d")
    assert {r["session_id"] for r in rows} == {str(sample["sessions"].session_id),
                                               str(sample["sessions"].session_id_2)}
    screen = screen_of(sample, columns, "sessions", "--since", "7d")
    header(screen, "session_id", "session_start")
    for name in ("session_id", "session_start", "first_line", "last_line", "replay_url"):
        whole(screen, [r[name] for r in rows], name)


@pytest.mark.parametrize("columns", [80, 120])
def test_shows(sample, columns):
    token = sample["sessions"].token
    document = as_json(sample, "shows", token)
    screen = screen_of(sample, columns, "shows", token)
    header(screen, "time", "offset", "v1.20", "v1.21+", "index")
    whole(screen, [line["time"] for line in document["lines"]], "time")
    whole(screen, [line["offset"] for line in document["lines"]], "offset")
    whole(screen, [token], "token")


@pytest.mark.parametrize("columns", [80, 120])
def test_keys_list(sample, columns):
    node = sample["node"]
    keys = as_json(sample, "keys", "list", "--username", node.admin_user)
    ours = next(k for k in keys if k["id"] == sample["key"]["id"])
    assert ours["used_by_profiles"] == [PROFILE]
    screen = screen_of(sample, columns, "keys", "list", "--username", node.admin_user)
    header(screen, "id", "created")  # (the name, free text, goes beneath the row when it does not fit)
    whole(screen, [k["id"] for k in keys], "key id")
    whole(screen, [ours["name"]], "key name")
    row = next(i for i, line in enumerate(screen.lines) if ours["id"] in line)
    assert any(PROFILE in line for line in screen.lines[row:row + 4]), screen.text


@pytest.mark.parametrize("columns", [80, 120])
def test_config_show(sample, columns):
    shown = as_json(sample, "config", "show")
    values = {name: item["value"] for name, item in shown["settings"].items()}
    screen = screen_of(sample, columns, "config", "show")
    whole(screen, [values["host"], values["id"], values["indexes"], values["openreplay_url"]], "setting")
    whole(screen, [shown["path"]], "config path")


@pytest.mark.parametrize("columns", [80, 120])
def test_check(sample, columns):
    screen = screen_of(sample, columns, "check")
    judged = {str(sample["sessions"].session_id), str(sample["sessions"].session_id_2)}
    assert any(re.search(rf"session ({'|'.join(judged)}):", line) for line in screen.lines), screen.text
    marks = ("✔ ", "✘ ", "! ", "- ", "    fix: ", "error: ", "  fix: ", "warning: ", "note: ")
    for line in (line for line in screen.lines if line):
        assert line.startswith(marks) or line.startswith("  "), f"restarts at column 0: {line!r}\n{screen.text}"
