"""The quick start: a sandbox node, a read-only key in profile `sandbox`, `check`, then `logs`.

Each step runs the installed tool as a user would (``python -m elastic_cli``) and prints
the command first, so the output doubles as a lesson. The admin password goes through
ORX_ELASTIC_PASSWORD, never the command line.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Mapping

from es_sandbox import sandbox
from es_sandbox.cli import program
from es_sandbox.common import ESSandboxError
from es_sandbox.sample_data import SAMPLE_SESSION_ID, SAMPLE_TOKEN

PROFILE = "sandbox"
KEY_NAME = "orx-sandbox-quickstart"


def steps(state: Mapping[str, str]) -> List[List[str]]:
    """The tool's commands, in order (without the program name)."""
    create = ["create-key", "--profile", PROFILE, "--host", state["url"], "--username", state["user"],
              "--name", KEY_NAME, "--save"]
    if state.get("ca"):
        create += ["--ca-certs", state["ca"]]
    return [
        create,
        ["check", "--profile", PROFILE],
        ["logs", SAMPLE_TOKEN, "--profile", PROFILE],
    ]


def next_commands() -> List[str]:
    prog = program()
    return [
        "Next, try (after `. .venv/bin/activate`, or with .venv/bin/orx-elastic):",
        f"  orx-elastic logs {SAMPLE_SESSION_ID} --all-levels --profile {PROFILE}",
        f"  orx-elastic logs {SAMPLE_TOKEN} -o json --profile {PROFILE}",
        f"  orx-elastic config show --profile {PROFILE}",
        "  orx-elastic --help",
        f"  {prog} tour      more commands against this node",
        f"  {prog} stop      stop the node (the profile `{PROFILE}` stays in your config)",
    ]


def _run_tool(args: List[str], env: Dict[str, str]) -> int:
    print(f"\n$ orx-elastic {shlex.join(args)}", flush=True)
    return subprocess.run([sys.executable, "-m", "elastic_cli", *args], env=env).returncode


def run(version: str) -> int:
    import importlib.util

    if importlib.util.find_spec("elastic_cli") is None:  # the tool must be installed in this Python
        raise ESSandboxError(f"orx-elastic is not installed in {sys.executable}: run `pip install -e .` "
                             "in the repository (scripts/quickstart does it)")
    t0 = time.monotonic()
    running = sandbox.ensure_running(version)
    state = running.state
    if running.started:
        print(f"Started Elasticsearch {state['version']} at {state['url']} in {running.seconds:.1f}s; "
              f"loaded {sandbox.loaded_summary(running.loaded)}", flush=True)
    else:
        print(f"Reusing the running sandbox node: Elasticsearch {state['version']} at {state['url']}", flush=True)
    env = dict(os.environ, ORX_ELASTIC_PASSWORD=state["password"])
    for args in steps(state):
        code = _run_tool(args, env)
        if code != 0:
            print(f"\nerror: `orx-elastic {args[0]}` failed (exit {code}); the sandbox is still running: "
                  f"`{program()} status` shows it", file=sys.stderr)
            return code
    print(f"\nQuick start done in {time.monotonic() - t0:.0f}s.\n")
    print("\n".join(next_commands()))
    return 0
