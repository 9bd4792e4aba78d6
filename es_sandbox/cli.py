"""`scripts/es-sandbox start|stop|status|tour`: a detached node with sample logs, by hand."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Dict, List, Optional

from es_sandbox import sandbox
from es_sandbox.common import DEFAULT_VERSION, ESSandboxError
from es_sandbox.sample_data import SAMPLE_INDEX, SAMPLE_INDEX_V121, SAMPLE_SESSION_ID, SAMPLE_TOKEN


def program() -> str:
    """How the user called us, for the hints we print (scripts/es-sandbox sets it)."""
    return os.environ.get("ORX_ES_SANDBOX_PROG") or "python -m es_sandbox"


def describe(state: Dict[str, Any]) -> List[str]:
    url, user, ca = state["url"], state["user"], state.get("ca")
    nodes = state.get("urls") or []
    lines = [
        f"Elasticsearch {state['version']} is running (security on)"
        + (f", {len(nodes)} nodes in cluster {state.get('cluster')}" if nodes else ""),
        f"  URL:       {url}",
        *([f"  nodes:     {', '.join(nodes)}"] if nodes else []),
        f"  admin:     {user}",
        f"  password:  {state['password']}",
    ]
    if ca:
        lines += [f"  CA:        {ca}", f"  cert SHA-256 fingerprint: {state.get('fingerprint')}"]
    lines += [f"  log:       {state.get('log')}",
              f"  sample logs in indices {SAMPLE_INDEX} and {SAMPLE_INDEX_V121}"]
    return lines


def tour(state: Dict[str, Any]) -> List[str]:
    """The commands to try next, by hand, against this node."""
    url, user, pw, ca = state["url"], state["user"], state["password"], state.get("ca")
    ca_opt = f" --ca-certs {ca}" if ca else ""
    prog = program()
    return [
        "Try:",
        f"  curl{' --cacert ' + ca if ca else ''} -u '{user}:{pw}' '{url}/_cluster/health?pretty'",
        f"  ORX_ELASTIC_PASSWORD='{pw}' orx-elastic create-key --profile sandbox --host {url} "
        f"--username {user}{ca_opt} --save",
        "  orx-elastic check --profile sandbox",
        f"  orx-elastic logs {SAMPLE_TOKEN} --profile sandbox",
        f"  orx-elastic logs {SAMPLE_SESSION_ID} --all-levels --profile sandbox",
        "",
        f"Status: {prog} status    Stop: {prog} stop",
    ]


def _print(lines: List[str]) -> None:
    print("\n".join(lines), flush=True)


def _cmd_start(args) -> int:
    if args.nodes < 1:
        print("error: --nodes is 1 or more", file=sys.stderr)
        return 2
    running = sandbox.ensure_running(args.version, https=args.https, nodes=args.nodes)
    if running.started:
        print(f"Started in {running.seconds:.1f}s; loaded {sandbox.loaded_summary(running.loaded)}")
    else:
        print("A sandbox is already running (stop it first to change version, --https or --nodes).")
    print()
    _print(describe(running.state) + [""] + tour(running.state))
    return 0


def _cmd_stop(args) -> int:
    state = sandbox.read_state()
    if not state:
        print("No sandbox node recorded (nothing to stop).")
        return 0
    alive = sandbox.is_alive(state)
    sandbox.clean_up(state)
    print("Stopped the sandbox and removed its files." if alive
          else "The recorded node was not running; removed its files.")
    return 0


def _running_state() -> Optional[Dict[str, Any]]:
    state = sandbox.read_state()
    if not state:
        print(f"No sandbox node recorded: start one with `{program()} start`.")
        return None
    if not sandbox.is_alive(state):
        print(f"The recorded node ({state.get('url')}) is not running: `{program()} stop` cleans up.")
        return None
    return state


def _cmd_status(args) -> int:
    state = _running_state()
    if state is None:
        return 1
    print(f"cluster health: {sandbox.health(state)}")
    _print(describe(state) + [""] + tour(state))
    return 0


def _cmd_tour(args) -> int:
    state = _running_state()
    if state is None:
        return 1
    _print(tour(state))
    return 0


def _cmd_quickstart(args) -> int:
    from es_sandbox.quickstart import run

    return run(args.version)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog=os.path.basename(program()) if program().startswith("/") else program(),
        description="A real Elasticsearch node (security on) with sample OpenReplay logs.",
    )
    sub = root.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="start a detached node and load sample logs (or reuse the running one)")
    p.add_argument("--version", default=DEFAULT_VERSION, help=f"Elasticsearch version (default {DEFAULT_VERSION})")
    p.add_argument("--https", action="store_true", help="serve HTTPS with a generated CA (needs `cryptography`)")
    p.add_argument("--nodes", type=int, default=1,
                   help="nodes in the cluster, one JVM each on loopback (default 1: a single node)")
    p.set_defaults(func=_cmd_start)
    p = sub.add_parser("stop", help="stop the node and remove its files")
    p.set_defaults(func=_cmd_stop)
    p = sub.add_parser("status", help="show the running node")
    p.set_defaults(func=_cmd_status)
    p = sub.add_parser("tour", help="print the commands to try against the running node")
    p.set_defaults(func=_cmd_tour)
    p = sub.add_parser("quickstart", help="node, read-only key in profile `sandbox`, check, logs")
    p.add_argument("--version", default=DEFAULT_VERSION, help=f"Elasticsearch version (default {DEFAULT_VERSION})")
    p.set_defaults(func=_cmd_quickstart)
    return root


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ESSandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
