#!/usr/bin/env python3
"""One lookup: `orx-elastic logs <token> -o json` against curl and a stdlib-only Python script.

    .venv/bin/python bench/lookup.py [--version 9.5.4|8.19.21] [-n 15]

Starts its own node (scripts/es_sandbox.py), loads 100,000 log lines into 4 indices
`bench-logs-0..3` (message text, utc_time date, tags keyword; fixed seed): 5 sessions of 60
lines each (half with `openReplaySessionToken=`, half with `openReplaySession.id=`) among lines
of 2,000 other sessions and unrelated lines. A read-only API key on `bench-logs-*` is used by
every contender. The same search (the body `orx-elastic logs TOKEN --explain` prints) is sent by:

  * python stdlib (floor): urllib + json, prints the hits as JSON (what a Python tool cannot beat);
  * curl: the body from --explain, output to /dev/null;
  * python + elasticsearch client: import, Elasticsearch(...), one search, print JSON (the target's baseline);
  * the same client script with _field_caps first (2 requests), and with _field_caps, open PIT, search,
    close PIT (4 requests, what the pager sends): what each request costs;
  * orx-elastic logs TOKEN -o json (field_caps, open PIT, search, close PIT; the installed console script).

All run N times interleaved; medians and ratios to the Python floor and to the client script are printed
(target: orx no slower than the client script, 1.0x).
Then: where orx's time goes (its steps timed in a fresh process with gc off and os._exit, as the
console script runs; medians of N) and the heaviest imports from `python -X importtime`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TOTAL_LINES = 100_000
INDICES = 4
SESSIONS = 5
LINES_PER_SESSION = 60
OTHER_SESSIONS = 2_000
TARGET = 1.0  # orx no slower than the minimal script that uses the official client

FLOOR_SCRIPT = r'''
import json, sys, urllib.request
url, auth, body_path = sys.argv[1:4]
with open(body_path, "rb") as f:
    body = f.read()
req = urllib.request.Request(url, data=body, method="POST",
                             headers={"Authorization": "ApiKey " + auth, "Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as resp:
    hits = json.loads(resp.read())["hits"]["hits"]
print(json.dumps([{"_index": h["_index"], "_id": h["_id"], "_source": h["_source"]} for h in hits],
                 indent=2, ensure_ascii=False))
'''

CLIENT_SCRIPT = r'''
import json, sys
from elasticsearch import Elasticsearch
url, key_id, key, index, body_path = sys.argv[1:6]
with open(body_path) as f:
    body = json.load(f)
es = Elasticsearch(url, api_key=(key_id, key), request_timeout=10)
hits = es.search(index=index, body=body)["hits"]["hits"]
print(json.dumps([{"_index": h["_index"], "_id": h["_id"], "_source": h["_source"]} for h in hits],
                 indent=2, ensure_ascii=False))
'''

# The client script again, with the requests the CLI sends: _field_caps, then either one search
# (what a first page without a point in time would cost) or open PIT, search, close PIT (the pager today).
CLIENT_STEPS_SCRIPT = r'''
import json, sys
from elasticsearch import Elasticsearch
url, key_id, key, index, body_path, mode = sys.argv[1:7]
with open(body_path) as f:
    body = json.load(f)
es = Elasticsearch(url, api_key=(key_id, key), request_timeout=10)
es.field_caps(index=index, fields=["message", "utc_time"], include_unmapped=True, ignore_unavailable=True,
              allow_no_indices=True)
if mode == "pit":
    pit = es.open_point_in_time(index=index, keep_alive="2m", ignore_unavailable=True)["id"]
    body = {**body, "pit": {"id": pit, "keep_alive": "2m"}, "sort": body["sort"] + [{"_shard_doc": "asc"}]}
    hits = es.search(body=body)["hits"]["hits"]
    es.close_point_in_time(body={"id": pit})
else:
    hits = es.search(index=index, body=body)["hits"]["hits"]
print(json.dumps([{"_index": h["_index"], "_id": h["_id"], "_source": h["_source"]} for h in hits],
                 indent=2, ensure_ascii=False))
'''

# The CLI's own steps, timed one by one in a fresh process (what `logs TOKEN -o json` does).
PHASES_SCRIPT = r'''
import gc, io, json, os, sys, time
gc.disable()  # as the console script (elastic_cli.cli.entry) does
t = [("start", time.perf_counter())]
import click, elastic_cli.cli
t.append(("import click + elastic_cli.cli", time.perf_counter()))
from types import SimpleNamespace
from elastic_cli.openreplay.session_token import markers, parse_session_ref
from elastic_cli.search.query import LogQuery
from dataclasses import replace
url, key_id, key, index, token = sys.argv[1:6]
ref = parse_session_ref(token)
q = LogQuery(markers=tuple(markers(ref)))
t.append(("parse token, build query", time.perf_counter()))
import elasticsearch
t.append(("import elasticsearch", time.perf_counter()))
from elastic_cli.search import lines as search_lines
from elastic_cli.search import plan as search_plan
from elastic_cli.cluster.connection import build_client
from elastic_cli.output.writer import LogWriter
t.append(("import connection/search_lines/output", time.perf_counter()))
host, port = url.rsplit(":", 1)
settings = SimpleNamespace(url=url, host=host, port=int(port), id=key_id, api_key=key, timeout=10.0,
                           fingerprint=None, verify_certs=True, ca_certs=None, profile="bench")
es = build_client(settings)
t.append(("build_client", time.perf_counter()))
plan = search_plan.plan_search(es, [index], q)
t.append(("request 1: _field_caps (+ connect)", time.perf_counter()))
hits = list(search_lines.session_lines(es, plan, limit=101))[:100]
t.append(("requests 2-4: open PIT, _search, close PIT (+ parse, marker check)", time.perf_counter()))
out = io.StringIO()
w = LogWriter("json", None, "message", markers=[m.text for m in q.markers], color=False, stream=out)
w.write_page(hits)
w.close()
sys.stdout.write(out.getvalue())
t.append(("render json", time.perf_counter()))
es.close()
t.append(("close", time.perf_counter()))
print(json.dumps({"phases": [[t[i][0], t[i][1] - t[i - 1][1]] for i in range(1, len(t))],
                  "inside": t[-1][1] - t[0][1], "hits": len(hits)}), file=sys.stderr)
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)  # as entry() does: no interpreter teardown
'''


def generate(rng: random.Random, now: datetime | None = None):
    """Yield (docs, sessions): bulk actions for TOTAL_LINES lines and the target sessions.

    Today's data: the lines span the 7 days up to `now` (default: the current hour), the target
    sessions started in the last 20 hours, and every session id is a flake id that encodes its start.
    """
    now = now or datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    t0 = now - timedelta(days=7)
    sessions = []
    for _ in range(SESSIONS):
        start = now - timedelta(minutes=rng.randrange(60, 20 * 60))
        sid = common.flake_id(rng, start)
        token = common.make_token(rng, sid, start + timedelta(hours=4))
        sessions.append({"id": str(sid), "token": token, "start": start})
    others = []
    for _ in range(OTHER_SESSIONS):
        start = t0 + timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
        sid = common.flake_id(rng, start)
        others.append((str(sid), common.make_token(rng, sid, start + timedelta(hours=2))))
    levels = ["success"] * 6 + ["info"] * 3 + ["error"]

    def docs():
        n = 0
        for sess in sessions:
            for i in range(LINES_PER_SESSION):
                marker = (f"openReplaySessionToken={sess['token']}" if i % 2 == 0
                          else f"openReplaySession.id={sess['id']}")
                yield {"_index": f"bench-logs-{n % INDICES}", "_source": {
                    "message": f"{common.noise(rng, 6)} {marker} {common.noise(rng, 4)}",
                    "utc_time": common.iso(sess["start"] + timedelta(seconds=rng.randrange(0, 1200))),
                    "tags": ["error" if i % 4 < 2 else rng.choice(("info", "success"))]}}
                n += 1
        while n < TOTAL_LINES:
            msg = common.noise(rng, rng.randrange(6, 18))
            if rng.random() < 0.3:
                oid, otoken = rng.choice(others)
                marker = f"openReplaySessionToken={otoken}" if rng.random() < 0.5 else f"openReplaySession.id={oid}"
                msg = f"{msg} {marker}"
            yield {"_index": f"bench-logs-{n % INDICES}", "_source": {
                "message": msg,
                "utc_time": common.iso(t0 + timedelta(seconds=rng.randrange(0, 7 * 86400))),
                "tags": [rng.choice(levels)]}}
            n += 1

    return docs(), sessions


def importtime(argv: list[str], env: dict, runs: int = 5) -> list[tuple[str, float]]:
    """Cumulative import time (ms, median of runs) of top-level packages, heaviest first."""
    per: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        result = subprocess.run([common.PYTHON, "-X", "importtime", *argv], capture_output=True, env=env)
        seen: dict[str, float] = {}
        for line in result.stderr.decode(errors="replace").splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if not m:
                continue
            name, depth = m.group(4), len(m.group(3))
            top = name.split(".")[0]
            if depth == 1:  # imported directly by the program (or its lazily run command)
                seen[top] = seen.get(top, 0.0) + int(m.group(2)) / 1000
        for name, ms in seen.items():
            per[name].append(ms)
    return sorted(((n, common.median(v)) for n, v in per.items()), key=lambda x: -x[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("-n", type=int, default=15, help="rounds (default 15)")
    args = parser.parse_args()
    curl = common.curl_available()
    rng = random.Random(common.SEED)

    with common.node(args.version) as node, common.tmpdir() as tmp:
        admin = node.admin_client()
        for i in range(INDICES):
            common.create_index(admin, f"bench-logs-{i}")
        docs, sessions = generate(rng)
        t = time.perf_counter()
        loaded = common.bulk_load(admin, docs)
        common.finish_indices(admin, "bench-logs-*")
        print(f"  loaded {loaded} lines in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        key = common.read_key(admin, "bench-logs-*")
        pattern = "bench-logs-*"
        env = common.clean_env(tmp)
        token = sessions[0]["token"]

        explained = common.explain_body(node, key, pattern, token, env)
        body_path = Path(tmp) / "body.json"
        body_path.write_text(json.dumps(explained["body"]))
        search_url = f"{node.url}/{pattern}/_search"
        floor_py = Path(tmp) / "floor.py"
        floor_py.write_text(FLOOR_SCRIPT)
        client_py = Path(tmp) / "client.py"
        client_py.write_text(CLIENT_SCRIPT)
        steps_py = Path(tmp) / "client_steps.py"
        steps_py.write_text(CLIENT_STEPS_SCRIPT)
        phases_py = Path(tmp) / "phases.py"
        phases_py.write_text(PHASES_SCRIPT)

        commands = {
            "python stdlib urllib+json (floor)": [common.PYTHON, str(floor_py), search_url, key["encoded"], str(body_path)],
            "curl (same body)": [curl, "-s", "-f", "-X", "POST", "-H", f"Authorization: ApiKey {key['encoded']}",
                                 "-H", "Content-Type: application/json", "--data-binary", f"@{body_path}", search_url],
            "python + elasticsearch client": [common.PYTHON, str(client_py), node.url, key["id"], key["api_key"],
                                              pattern, str(body_path)],
            "  same + _field_caps first (2 requests)": [common.PYTHON, str(steps_py), node.url, key["id"],
                                                       key["api_key"], pattern, str(body_path), "plain"],
            "  same + _field_caps, open PIT, search, close PIT (4 requests, as the pager)": [
                common.PYTHON, str(steps_py), node.url, key["id"], key["api_key"], pattern, str(body_path), "pit"],
            "orx-elastic logs TOKEN -o json": common.cli(node, key, pattern, token, "-o", "json"),
            'python -c "pass" (interpreter)': [common.PYTHON, "-c", "pass"],
        }
        # check each works, and that orx and the floor print the same hits
        outputs = {}
        for name, argv in commands.items():
            r = subprocess.run(argv, capture_output=True, env=env)
            if r.returncode != 0:
                print(f"failed: {name}\n{r.stderr.decode()[-2000:]}", file=sys.stderr)
                return 1
            outputs[name] = r.stdout
        floor_hits = json.loads(outputs["python stdlib urllib+json (floor)"])
        orx_hits = json.loads(outputs["orx-elastic logs TOKEN -o json"])
        print(f"  hits: floor {len(floor_hits)}, orx {len(orx_hits)} "
              f"(same ids: {sorted(h['_id'] for h in floor_hits) == sorted(h['_id'] for h in orx_hits)})",
              file=sys.stderr)

        fns = {name: (lambda argv=argv: common.run_timed(argv, env)) for name, argv in commands.items()}
        times = common.interleave(fns, args.n)
        medians = {name: common.median(v) * 1000 for name, v in times.items()}
        floor = medians["python stdlib urllib+json (floor)"]
        client = medians["python + elasticsearch client"]
        rows = []
        for name, ms in medians.items():
            verdict = ""
            if name.startswith("orx-elastic"):
                verdict = "ok" if ms / client <= TARGET else "OVER"
            rows.append([name, f"{ms:.1f}ms", f"{min(times[name]) * 1000:.1f}ms", f"{ms / floor:.2f}x",
                         f"{ms / client:.2f}x", verdict])
        print()
        print(f"One lookup ({len(orx_hits)} hits of 100,000 lines in 4 indices, today's data), {args.n} rounds "
              f"interleaved, load average {os.getloadavg()[0]:.1f}; "
              + common.versions_line(node))
        print(common.table(["command", "median", "min", "vs stdlib floor", "vs client script",
                            f"target <= {TARGET}x the client script"], rows))

        # where orx's time goes
        phase_times: dict[str, list[float]] = defaultdict(list)
        walls, insides = [], []
        for _ in range(args.n):
            start = time.perf_counter()
            r = subprocess.run([common.PYTHON, str(phases_py), node.url, key["id"], key["api_key"], pattern, token],
                               capture_output=True, env=env, check=True)
            walls.append(time.perf_counter() - start)
            report = json.loads(r.stderr.decode().strip().splitlines()[-1])
            insides.append(report["inside"])
            for name, seconds in report["phases"]:
                phase_times[name].append(seconds)
        wall = common.median(walls) * 1000
        rows = [["interpreter start + os._exit (wall - inside)", f"{wall - common.median(insides) * 1000:.1f}ms"]]
        rows += [[name, f"{common.median(v) * 1000:.1f}ms"] for name, v in phase_times.items()]
        rows.append(["total (wall, same steps without click parsing/settings)", f"{wall:.1f}ms"])
        print()
        print(f"Where orx's time goes (its steps timed in a fresh process; medians of {args.n})")
        print(common.table(["phase", "median"], rows))

        orx_args = commands["orx-elastic logs TOKEN -o json"][len(common.TOOL):]
        imports = importtime(["-m", "elastic_cli", *orx_args], env)
        print()
        print("Heaviest imports of `orx-elastic logs TOKEN -o json` (python -X importtime, cumulative, median of 5)")
        print(common.table(["package", "ms"], [[n, f"{ms:.1f}"] for n, ms in imports[:12]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
