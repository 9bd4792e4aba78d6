"""Issue 26 against real nodes: what a new user hit after the quick start, in a real terminal
(a pseudo-terminal of 80 or 120 columns) and through real pipes."""

from __future__ import annotations

import json
import subprocess
import uuid

import es_sandbox
import pytest

from terminal import CLI, base_env, run_in_terminal, run_with_reader_gone

BULK_LINES = 3000  # far more than a pipe buffer holds: the writer meets the closed pipe mid-run


@pytest.fixture(scope="module")
def cluster(es_node, tmp_path_factory):
    """The sample logs (and many more lines of the sample session) in this module's own indices, a
    read-only key saved by `create-key --save` in profile `manual`, with replay links configured."""
    admin = es_node.admin_client()
    prefix = f"orxedges-{uuid.uuid4().hex[:8]}"
    es_sandbox.load_sample_logs(admin, app_index=f"{prefix}-app-logs", v121_index=f"{prefix}-v121-logs")
    operations = []
    for i in range(BULK_LINES):
        operations += [{"index": {"_index": f"{prefix}-app-logs"}},
                       {"utc_time": f"2024-01-24T02:40:{i % 60:02d}.{i % 1000:03d}Z", "tags": ["error"],
                        "message": f"retry {i} failed openReplaySession.id={es_sandbox.SAMPLE_SESSION_ID}"}]
    admin.bulk(operations=operations, refresh=True)
    config = tmp_path_factory.mktemp("edges") / "config.yaml"
    env = {"ORX_ELASTIC_CONFIG": str(config), "ORX_ELASTIC_PASSWORD": es_node.admin_password}
    made = subprocess.run([*CLI, "--profile", "manual", "create-key", "--host", es_node.url,
                           "--username", es_node.admin_user, "--name", f"{prefix}-reader",
                           "--indexes", f"{prefix}-*", "--save", "-o", "json"],
                          capture_output=True, text=True, env=base_env(env), timeout=120)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    configured = subprocess.run([*CLI, "--profile", "manual", "configure", "--openreplay-url",
                                 "https://openreplay.example.com", "--project-id", "3"],
                                capture_output=True, text=True, env=base_env(env), timeout=60)
    assert configured.returncode == 0, configured.stderr
    yield {"env": env, "key": key, "prefix": prefix, "node": es_node}
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


def tool(cluster, *args, stdin=None):
    result = subprocess.run([*CLI, "--profile", "manual", *args], capture_output=True, text=True,
                            env=base_env(cluster["env"]), timeout=120, input=stdin)
    assert "Traceback" not in result.stderr and cluster["key"]["api_key"] not in result.stdout + result.stderr
    return result


# ---------------------------------------------------------------- a closed pipe

def test_logs_into_head_ends_quietly(cluster):
    """`orx-elastic logs ... | head -1`, in a real shell pipeline."""
    script = (f"set -o pipefail; {' '.join(CLI)} --profile manual logs {es_sandbox.SAMPLE_SESSION_ID} --all "
              "| head -1; echo \"exit=${PIPESTATUS[0]}\" >&2")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=base_env(cluster["env"]),
                            timeout=120)
    assert len(result.stdout.splitlines()) == 1 and "openReplaySession" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "exit=0", result.stderr
    assert "Traceback" not in result.stderr and "error:" not in result.stderr


@pytest.mark.parametrize("args", [["logs", str(es_sandbox.SAMPLE_SESSION_ID), "--all", "-o", fmt]
                                  for fmt in ("ndjson", "json", "csv", "table")]
                         + [["sessions", "--since", "2024-01-24", "--until", "2024-01-25", "-o", "table"]],
                         ids=["ndjson", "json", "csv", "table", "sessions-table"])
def test_every_format_ends_quietly_when_the_reader_is_gone(cluster, args):
    result = run_with_reader_gone(["--profile", "manual", *args], env=cluster["env"])
    said = [line for line in result.stderr.splitlines() if not line.startswith("replay: ")]  # logs names the replay
    assert (result.returncode, said) == (0, []), result.stderr


# ---------------------------------------------------------------- tables in a real terminal

@pytest.mark.parametrize("columns", [80, 120])
def test_sessions_in_a_terminal_never_break_what_is_copied(cluster, columns):
    rows = json.loads(tool(cluster, "sessions", "--since", "2024-01-24", "--until", "2024-01-25", "-o", "json").stdout)
    assert len(rows) == 2 and all(r["replay_url"] for r in rows)
    screen = run_in_terminal(["--profile", "manual", "sessions", "--since", "2024-01-24", "--until", "2024-01-25"],
                             columns, env=cluster["env"])
    assert screen.exit_code == 0, screen.text
    copied = {"session_id", "session_start", "first_line", "last_line", "replay_url"}
    for row in rows:
        for name in copied:
            assert any(row[name] in line for line in screen.lines), f"{name} {row[name]!r} broken:\n{screen.text}"
    for header in ("session_id", "session_start", "first_line", "latest_message", "replay_url"):
        assert any(header in line.split() for line in screen.lines), f"{header} broken:\n{screen.text}"
    # a row runs to a few lines, not 10+
    body = [line for line in screen.lines if line.strip()]
    assert len(body) <= 1 + len(rows) * (7 if columns == 80 else 3), screen.text


def test_keys_list_at_80_columns_keeps_ids_whole_and_marks_the_profiles_key(cluster):
    node = cluster["node"]
    screen = run_in_terminal(["--profile", "manual", "keys", "list", "--username", node.admin_user], 80,
                             env=cluster["env"])
    assert screen.exit_code == 0, screen.text
    key_id = cluster["key"]["id"]
    row = next((i for i, line in enumerate(screen.lines) if key_id in line), None)
    assert row is not None, f"key id broken:\n{screen.text}"
    # the profile's key says so, on its row or the lines under it (before the next key)
    block = screen.lines[row:row + 4]
    assert any("manual" in line for line in block), screen.text


def test_check_at_80_columns_wraps_under_its_text(cluster):
    screen = run_in_terminal(["--profile", "manual", "check", "--indexes", f"{cluster['prefix']}-app-logs,no-such-*"],
                             80, env=cluster["env"])
    lines = [line for line in screen.lines if line]
    marks = ("✔ ", "✘ ", "! ", "- ", "    fix: ", "error: ", "  fix: ", "warning: ")
    for line in lines:
        assert line.startswith(marks) or line.startswith("  "), f"restarts at column 0: {line!r}\n{screen.text}"
        assert len(line) <= 80, screen.text


# ---------------------------------------------------------------- one answer, with the profile

@pytest.mark.parametrize("where", ["outside-the-grant", "inside-the-grant"])
def test_check_and_logs_give_one_answer_for_a_pattern_that_matches_nothing(cluster, where):
    # the key reads `<prefix>-*`: a typo may fall outside what it was made for, or inside
    pattern = f"typo-{cluster['prefix']}-*" if where == "outside-the-grant" else f"{cluster['prefix']}-typo-*"
    logs = tool(cluster, "logs", str(es_sandbox.SAMPLE_SESSION_ID), "--indexes", pattern)
    check = tool(cluster, "check", "-o", "json", "--indexes", pattern)
    assert logs.returncode == 8 and f"no index matches '{pattern}'" in logs.stderr
    failed = next(f for f in json.loads(check.stdout) if f["status"] == "failure")
    assert check.returncode == 10 and f"no index matches {pattern}" in failed["detail"], failed
    assert failed["id"] == ("privileges" if where == "outside-the-grant" else "indices")
    assert "check `indexes`" in failed["fix"]
    # the fix's commands act on the profile checked, in the JSON and in the final error alike
    assert "orx-elastic --profile manual configure --indexes" in failed["fix"]
    assert "(orx-elastic --profile manual configure --indexes" in check.stderr


def test_create_key_save_names_the_profile_in_its_next_step(cluster):
    node = cluster["node"]
    made = run_in_terminal(["--profile", "manual", "create-key", "--username", node.admin_user, "--name",
                            f"{cluster['prefix']}-second", "--indexes", f"{cluster['prefix']}-*", "--save"], 120,
                           env=cluster["env"])
    assert made.exit_code == 0, made.text
    assert "Next: orx-elastic --profile manual check" in made.text
    second = json.loads(tool(cluster, "config", "show", "-o", "json").stdout)["settings"]["id"]["value"]
    node.admin_client().security.invalidate_api_key(ids=[second])
    # put the module's key back, read from stdin as README shows
    restored = tool(cluster, "configure", "--id", cluster["key"]["id"], "--api-key", "-",
                    stdin=cluster["key"]["api_key"] + "\n")
    assert restored.returncode == 0, restored.stderr
    assert tool(cluster, "check", "-o", "json").returncode == 0
