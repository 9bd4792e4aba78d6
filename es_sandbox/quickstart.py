"""The quick start: a sandbox node, a read-only key in profile `sandbox`, `check`, then `logs`.

Each step runs the installed tool as a user would (``python -m elastic_cli``) and prints
the command first, so the output doubles as a lesson. The admin password goes through
ORX_ELASTIC_PASSWORD, never the command line.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Mapping, Optional

from es_sandbox import sandbox
from es_sandbox.cli import program
from es_sandbox.common import ESSandboxError
from es_sandbox.sample_data import SampleSessions

PROFILE = "sandbox"
KEY_NAME = "orx-sandbox-quickstart"


def steps(state: Mapping[str, str], sample: SampleSessions) -> List[List[str]]:
    """The tool's commands, in order (without the program name); `sample`: the sessions dated
    minutes ago (sandbox.ensure_recent_sample), so `check` has a session of the last day to judge."""
    create = ["create-key", "--profile", PROFILE, "--host", state["url"], "--username", state["user"],
              "--name", KEY_NAME, "--save"]
    if state.get("ca"):
        create += ["--ca-certs", state["ca"]]
    return [
        create,
        ["check", "--profile", PROFILE],
        ["logs", sample.token, "--profile", PROFILE],
    ]


def next_commands(sample: SampleSessions) -> List[str]:
    prog = program()
    return [
        "Next, try (after `. .venv/bin/activate`, or with .venv/bin/orx-elastic):",
        f"  orx-elastic sessions --since 7d --profile {PROFILE}    # the sessions that logged errors this week",
        f"  orx-elastic logs {sample.session_id} --all-levels --profile {PROFILE}",
        f"  orx-elastic logs {sample.token} -C 2 --profile {PROFILE}    # the lines around each error",
        f"  orx-elastic logs {sample.token} -o json --profile {PROFILE}",
        f"  orx-elastic shows {sample.token} --profile {PROFILE}    # what each OpenReplay version shows",
        f"  orx-elastic config show --profile {PROFILE}",
        "  orx-elastic instrument --help    # the code that puts the session in your backend's logs",
        "  orx-elastic --help",
        f"  {prog} tour      # more commands against this node",
        f"  {prog} stop      # stop the node (the profile `{PROFILE}` stays in your config)",
    ]


def _run_tool(args: List[str], env: Dict[str, str]) -> int:
    print(f"\n$ orx-elastic {shlex.join(args)}", flush=True)
    return subprocess.run([sys.executable, "-m", "elastic_cli", *args], env=env).returncode


def saved_key_id(state: Mapping[str, str], env: Dict[str, str]) -> Optional[str]:
    """The key id profile `sandbox` holds for this node (same URL), or None."""
    shown = subprocess.run([sys.executable, "-m", "elastic_cli", "config", "show", "--profile", PROFILE, "-o", "json"],
                           env=env, capture_output=True, text=True)
    if shown.returncode != 0:
        return None  # no profile `sandbox` yet
    try:
        values = {name: item.get("value") for name, item in json.loads(shown.stdout)["settings"].items()}
    except (ValueError, KeyError, AttributeError):
        return None
    if f"{values.get('host')}:{values.get('port')}" != state["url"] or not values.get("id"):
        return None
    return str(values["id"])


def reuse_or_replace_key(state: Mapping[str, str], env: Dict[str, str]) -> Optional[str]:
    """A quick start run again on the same node reuses the key it saved (still valid, same name);
    otherwise the keys an earlier run made under KEY_NAME are invalidated before a new one is
    made, so runs never pile up working keys. Returns the reused key's id, or None."""
    admin = sandbox.admin_of(state)
    key_id = saved_key_id(state, env)
    if key_id:
        try:
            status, body = admin.request("GET", f"/_security/api_key?id={key_id}", timeout=30)
            keys = json.loads(body).get("api_keys", []) if status == 200 else []
        except (OSError, ValueError):
            keys = []
        if any(k.get("name") == KEY_NAME and not k.get("invalidated") for k in keys):
            return key_id
    try:
        status, body = admin.request("DELETE", "/_security/api_key", {"name": KEY_NAME}, timeout=30)
        gone = json.loads(body).get("invalidated_api_keys", []) if status == 200 else []
    except (OSError, ValueError):
        gone = []
    if gone:
        print(f"Invalidated {len(gone)} key(s) named {KEY_NAME} from an earlier quick start "
              f"(profile `{PROFILE}` did not hold them)", flush=True)
    return None


def run(version: str) -> int:
    import importlib.util

    if importlib.util.find_spec("elastic_cli") is None:  # the tool must be installed in this Python
        raise ESSandboxError(f"orx-elastic is not installed in {sys.executable}: run `pip install -e .` "
                             "in the repository (scripts/quickstart does it)")
    t0 = time.monotonic()
    # scripts/quickstart sets when it started, so "done in" counts the install into .venv too
    started = os.environ.get("ORX_QUICKSTART_STARTED", "")
    since = float(started) if started.replace(".", "", 1).isdigit() else None
    running = sandbox.ensure_running(version)
    state = running.state
    if running.started:
        print(f"Started Elasticsearch {state['version']} at {state['url']} in {running.seconds:.1f}s; "
              f"loaded {sandbox.loaded_summary(running.loaded)}", flush=True)
    else:
        print(f"Reusing the running sandbox node: Elasticsearch {state['version']} at {state['url']}", flush=True)
    sample = sandbox.ensure_recent_sample(state, int(time.time() * 1000))
    print(f"{'Dated' if sample.made else 'Kept'} the sample's two sessions as started at {sample.sessions.start} "
          f"({sandbox.loaded_summary(sample.loaded)}; the fixed 2024-01-24 sample stays beside them)", flush=True)
    env = dict(os.environ, ORX_ELASTIC_PASSWORD=state["password"])
    reused = reuse_or_replace_key(state, env)
    for args in steps(state, sample.sessions):
        if reused and args[0] == "create-key":
            print(f"\n$ orx-elastic {shlex.join(args)}\n(skipped: profile `{PROFILE}` holds the key {reused} "
                  "from an earlier quick start, still valid on this node; "
                  f"`orx-elastic keys rotate --profile {PROFILE} --username {state['user']}` replaces it)", flush=True)
            continue
        code = _run_tool(args, env)
        if code != 0:
            print(f"\nerror: `orx-elastic {args[0]}` failed (exit {code}); the sandbox is still running: "
                  f"`{program()} status` shows it", file=sys.stderr)
            return code
    took = time.time() - since if since is not None else time.monotonic() - t0
    print(f"\nQuick start done in {took:.0f}s.\n")
    print("\n".join(next_commands(sample.sessions)))
    return 0
