#!/usr/bin/env python3
"""What one lookup walks through in the tool's own code, traced at run time (`sys.setprofile`).

`orx-elastic logs <id> -o json` against a real node holding 3 lines of the session: the tool's
files visited on the main thread, the moves between them (a call or return that lands in another
file), and how many times each planning function ran. Counts, not times: they do not depend on
the machine's load. With --baseline-tree, the same lookup is traced in that tree too (a checkout
of another commit), on the same node, for the comparison.

    .venv/bin/python bench/trace_lookup.py
    .venv/bin/python bench/trace_lookup.py --baseline-tree /tmp/orx-base   # git worktree add /tmp/orx-base 80c86fb
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import common

# functions that plan a lookup or build its requests: each should run once per lookup
WATCHED = ("plan_from_shapes", "plan_search", "first_pages", "_first_look", "_first_pages_of", "build_search_body",
           "fetch_shapes", "session_logs", "prepare", "lookup", "msearch", "msearch_requests")

TRACER = r'''
import json, sys, threading
from collections import Counter
tree, out_path, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, tree)
package = tree.rstrip("/") + "/elastic_cli/"
files, calls, moves = set(), Counter(), 0
last = None
main = threading.main_thread()

def profile(frame, event, arg):
    global last, moves
    if event not in ("call", "return") or threading.current_thread() is not main:
        return
    path = frame.f_code.co_filename
    if not path.startswith(package):
        return
    name = path[len(package):]
    files.add(name)
    if event == "call":
        calls[frame.f_code.co_name] += 1
    if last is not None and name != last:
        moves += 1
    last = name

from elastic_cli import cli
sys.setprofile(profile)
try:
    cli.main(argv)
except SystemExit as exc:
    code = exc.code
finally:
    sys.setprofile(None)
json.dump({"files": sorted(files), "moves": moves, "calls": dict(calls), "exit": code}, open(out_path, "w"))
'''


def trace(tree: Path, argv: list[str], env: dict[str, str]) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run = subprocess.run([sys.executable, "-c", TRACER, str(tree), out.name, *argv], env=env,
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"the traced lookup failed in {tree}: {run.stderr[-2000:]}")
        return json.loads(Path(out.name).read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-tree", type=Path, help="another checkout of orx-elastic to trace beside this one")
    common.version_arg(parser)
    args = parser.parse_args()
    trees = {"this tree": common.ROOT}
    if args.baseline_tree:
        trees["baseline"] = args.baseline_tree.resolve()
    now = datetime.now(timezone.utc)
    import random

    rng = random.Random(7)
    start = now - timedelta(minutes=30)
    session_id = common.flake_id(rng, start)
    with common.node(args.version) as n, tempfile.TemporaryDirectory() as tmp:
        admin = n.admin_client()
        common.create_index(admin, "trace-logs")
        for i in range(3):
            admin.index(index="trace-logs", document={
                "message": f"GET /api/cart 500 openReplaySession.id={session_id} step {i}",
                "utc_time": common.iso(start + timedelta(minutes=i + 1)), "tags": ["error"]})
        admin.index(index="trace-logs", document={"message": "another session's line", "tags": ["error"],
                                                  "utc_time": common.iso(start)})
        admin.indices.refresh(index="trace-logs")
        key = common.read_key(admin, "trace-*")
        env = {**common.clean_env(tmp), "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        argv = ["logs", str(session_id), "-o", "json", "--host", n.url, "--id", key["id"], "--api-key",
                key["api_key"], "--indexes", "trace-*"]
        print(f"orx-elastic logs <id> -o json, 3 lines, Elasticsearch {n.version}: first use (no shape cache), "
              "then repeated (the shapes cached by the first)")
        rows = []
        for label, tree in trees.items():
            tree_env = dict(env, PYTHONPATH=str(tree), XDG_CACHE_HOME=str(Path(tmp) / label.replace(" ", "-")))
            for use in ("first use", "repeated"):
                found = trace(tree, argv, tree_env)
                counted = {name: found["calls"].get(name, 0) for name in WATCHED if found["calls"].get(name)}
                rows.append([label, use, str(found["exit"]), str(len(found["files"])), str(found["moves"]),
                             ", ".join(f"{k} {v}" for k, v in counted.items())])
                if os.environ.get("TRACE_FILES"):
                    print(f"{label}, {use}: {' '.join(found['files'])}")
        print(common.table(["tree", "run", "exit", "files visited", "moves between files", "planning calls"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
