"""Every `orx-elastic` and `scripts/es-sandbox` command shown in README.md and docs/*.md, run for real.

The sandbox is started with the docs' own `scripts/es-sandbox start`; example values
(host, key, token) are replaced by the sandbox's, and each command must succeed. The pages are walked
in the order a reader meets them (the tour makes the key the later commands use).
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "scripts" / "es-sandbox"
# README first, then the tour (it saves the key), then the pages in the order the single README had them
PAGES = [ROOT / "README.md"] + [ROOT / "docs" / name for name in (
    "sandbox.md", "commands.md", "index-shapes.md", "openreplay.md", "mcp.md", "settings.md", "propagation.md",
    "development.md")]


def test_every_page_of_docs_is_walked():
    assert sorted(p.name for p in (ROOT / "docs").glob("*.md")) == sorted(p.name for p in PAGES[1:])


def readme_commands() -> list[str]:
    """Command lines inside fenced blocks that start with one of our programs."""
    commands = []
    for page in PAGES:
        fenced = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                fenced = not fenced
                continue
            stripped = line.strip()
            if fenced and stripped.startswith(("orx-elastic ", "scripts/es-sandbox ")):
                commands.append(stripped)
    return commands


def test_readme_lists_every_command():
    """The docs show each subcommand at least once (so the walk below covers them all)."""
    from elastic_cli.commands.registry import COMMANDS

    shown = " ".join(readme_commands())
    for name in COMMANDS:
        assert f"orx-elastic {name}" in shown or f" {name} " in shown, f"README shows no `{name}`"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, secret_service):
    home = tmp_path_factory.mktemp("readme")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env.update(secret_service.env)  # the README's `--keychain` commands: a real Secret Service
    env.update(ORX_ES_SANDBOX_STATE=str(home / "sandbox.json"), ORX_ELASTIC_CONFIG=str(home / "config.yaml"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", HOME=str(home))
    env.pop("ORX_ES_CACHE", None)
    env["ORX_ES_CACHE"] = os.environ.get("ORX_ES_CACHE", str(Path.home() / ".cache" / "orx-elastic" / "elasticsearch"))
    start = subprocess.run([str(SANDBOX), "start"], capture_output=True, text=True, env=env, timeout=600)
    assert start.returncode == 0, start.stdout + start.stderr
    url = re.search(r"URL:\s+(\S+)", start.stdout).group(1)
    password = re.search(r"password:\s+(\S+)", start.stdout).group(1)
    env["ORX_ELASTIC_PASSWORD"] = password
    try:
        yield {"env": env, "url": url, "password": password, "home": home, "start": start.stdout}
    finally:
        stop = subprocess.run([str(SANDBOX), "stop"], capture_output=True, text=True, env=env, timeout=120)
        assert stop.returncode == 0, stop.stdout + stop.stderr


def substituted(command: str, sandbox: dict) -> list[str]:
    """The README's example values -> the sandbox's; redirections dropped (stdout is captured)."""
    from es_sandbox import SAMPLE_TOKEN

    config_path = Path(sandbox["env"]["ORX_ELASTIC_CONFIG"])
    profile = {}
    if config_path.exists():
        profile = yaml.safe_load(config_path.read_text())["profiles"].get("default", {})
    replacements = {
        "https://es1:9200,https://es2:9200,https://es3:9200": sandbox["url"],  # several nodes: the one here
        "https://es.example.com:9243": sandbox["url"],
        "http://127.0.0.1:PORT": sandbox["url"],
        "KEY_ID": profile.get("id", "none"),
        " KEY ": f" {profile.get('api_key', 'none')} ",
        "TOKEN": SAMPLE_TOKEN,
    }
    for example, real in replacements.items():
        command = command.replace(example, real)
    command = re.sub(r"--username elastic(?![-\w])", "--username elastic-admin", command)
    words = shlex.split(command, comments=True)
    for redirect in (">", "<"):  # stdout is captured; `--api-key - < key.txt` gets the key on stdin
        if redirect in words:
            words = words[: words.index(redirect)]
    if words[0] == "orx-elastic":
        return [sys.executable, "-m", "elastic_cli"] + words[1:]
    return [str(ROOT / words[0])] + words[1:]


def run_interactive(argv: list[str], env: dict, answers: int) -> tuple[int, str]:
    """Run in a pseudo-terminal, pressing Enter at each prompt (keep every default)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    output, pressed = b"", 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if chunk.rstrip().endswith((b":", b"]:")) and pressed < answers:
                os.write(fd, b"\r")
                pressed += 1
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_every_readme_command_runs_against_the_sandbox(sandbox):
    ran = []
    for command in readme_commands():
        if command.startswith("scripts/es-sandbox"):
            continue  # start and stop are the fixture itself
        argv = substituted(command, sandbox)
        env = sandbox["env"]
        if argv[3:] == ["configure"]:
            code, output = run_interactive(argv, env, answers=5)
            assert code == 0, f"{command}\n{output}"
        elif "--follow" in argv:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            first = proc.stdout.readline()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0 and "openReplay" in first, f"{command}\n{err}"
        else:
            stdin = None
            if "--api-key" in argv and argv[argv.index("--api-key") + 1] == "-":  # the key file's content
                config = yaml.safe_load(Path(env["ORX_ELASTIC_CONFIG"]).read_text())
                stdin = config["profiles"]["default"]["api_key"] + "\n"
            result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, input=stdin)
            assert result.returncode == 0, f"{command}\nstdout: {result.stdout}\nstderr: {result.stderr}"
            assert sandbox["password"] not in result.stdout + result.stderr
        ran.append(command)
    assert len(ran) >= 20
    # the tour's key is what check and logs used: the profile holds a working key
    profile = yaml.safe_load(Path(sandbox["env"]["ORX_ELASTIC_CONFIG"]).read_text())["profiles"]["default"]
    # (the README's `configure --hosts` left a list of the one node here: interactive configure keeps it)
    nodes = profile.get("hosts") or [f"{profile['host']}:{profile.get('port', 9200)}"]
    assert nodes == [sandbox["url"]] and profile["id"], profile


def test_sandbox_start_prints_how_to_use_it(sandbox):
    for expected in ("orx-elastic create-key", "orx-elastic check", "orx-elastic logs"):
        assert expected in sandbox["start"]


def test_readmes_pictures_are_what_the_commands_print_now(sandbox):
    """README's pictures of `check`, `sessions`, `logs` and `shows` (docs/pictures/*.ansi, rendered by
    scripts/gen-docs) are what the same commands print now on the sandbox with the quick start's recent
    sample, modulo what varies between runs (ids, tokens, times, port, key id, paths, durations)."""
    import json
    import time

    from es_sandbox import pictures
    from es_sandbox import sandbox as es_sandbox_state
    from es_sandbox.sample_data import load_sample_logs, recent_sessions

    state = json.loads(Path(sandbox["env"]["ORX_ES_SANDBOX_STATE"]).read_text())
    sessions = recent_sessions(int(time.time() * 1000))
    admin = es_sandbox_state.admin_of(state)
    with admin.admin_client() as client:  # what the quick start does (sandbox.ensure_recent_sample)
        load_sample_logs(client, sessions=sessions)
    env, key_id = pictures.prepare(state, sessions, sandbox["home"] / "pictures.yaml")
    committed = pictures.committed()
    try:
        for name, _ in pictures.COMMANDS:
            now = pictures.run(name, sessions, env)
            assert pictures.normalized(now) == pictures.normalized(committed[name]), (
                f"docs/pictures/{name}.ansi is stale: run `.venv/bin/python scripts/gen-docs --pictures`\n"
                f"{pictures.difference(committed[name], now)}\nnow:\n{pictures.plain(now)}")
    finally:
        pictures.invalidate(state, key_id)
