#!/usr/bin/env python3
"""Benchmark `orx-elastic sessions`: time and peak memory, against the floor of paging the same lines.

Two data sets in the last hour, each its own index: 10,000 marked error lines from 1,000
sessions and 100,000 from 10,000 sessions (both markers, several tokens per session).
For each: `orx-elastic sessions --since 1h` (the whole CLI, in a fresh process), and the
floor: a script that sends the same requests with the same client (point in time,
search_after, same body) and only counts the hits. Peak RSS of each process tells whether
memory grows with lines (it should grow with sessions only).

    python bench/sessions.py [--version 9.5.4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import common

FLOOR_SCRIPT = r'''
import json, sys, time
from datetime import datetime, timedelta, timezone
from elasticsearch import Elasticsearch
from elastic_cli.search.plan import IndexGroup
from elastic_cli.search.sessions import search_body
url, key_id, key, index = sys.argv[1:5]
es = Elasticsearch(url, api_key=(key_id, key), request_timeout=60)
since = datetime.now(timezone.utc) - timedelta(hours=1)
group = IndexGroup(target=index, indices=(index,), time_field="utc_time", level_fields=("tags",))
body = search_body(group, "message", since, None, True, 5000)
pit = es.open_point_in_time(index=index, keep_alive="2m")["id"]
sort = [{"_shard_doc": {"order": "asc"}}]
after, hits = None, 0
while True:
    page = {**body, "sort": sort, "pit": {"id": pit, "keep_alive": "2m"}}
    if after is not None:
        page["search_after"] = after
    response = es.search(body=page)
    pit = response.get("pit_id", pit)
    batch = response["hits"]["hits"]
    hits += len(batch)
    if len(batch) < 5000:
        break
    after = batch[-1]["sort"]
es.close_point_in_time(body={"id": pit})
print(hits)
'''

MEASURE = r'''
import resource, subprocess, sys, time
start = time.perf_counter()
result = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
if result.returncode != 0:
    sys.exit(result.stderr.decode(errors="replace")[-2000:])
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, len(result.stdout.splitlines()))
'''


def load(client, index: str, sessions: int, lines: int, rng: random.Random) -> None:
    common.create_index(client, index)
    now = datetime.now(timezone.utc)
    ids = []
    for _ in range(sessions):
        start = now - timedelta(minutes=rng.uniform(5, 55))
        ids.append(((int(start.timestamp() * 1000) - 1550000000000) << 24) | rng.randrange(2**24))
    tokens = {sid: [common.make_token(rng, sid, now + timedelta(hours=2)) for _ in range(rng.choice((1, 2)))]
              for sid in ids}

    def actions():
        for n in range(lines):
            sid = ids[n % sessions]
            moment = now - timedelta(minutes=rng.uniform(1, 50))
            marker = (f"openReplaySession.id={sid}" if rng.random() < 0.5
                      else f"openReplaySessionToken={rng.choice(tokens[sid])}")
            yield {"_index": index, "_source": {"message": f"{common.noise(rng, 6)} {marker} {common.noise(rng, 4)}",
                                                "utc_time": common.iso(moment), "tags": ["error"]}}

    common.bulk_load(client, actions())
    common.finish_indices(client, index)


def measure(argv: list[str], env: dict) -> tuple[float, int, int]:
    out = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True, env=env, check=True)
    seconds, rss_kb, rows = out.stdout.split()
    return float(seconds), int(rss_kb), int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.version_arg(parser)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(common.SEED)
    sizes = ((1_000, 10_000), (10_000, 100_000))
    with common.node(args.version) as n, common.tmpdir() as tmp:
        admin = n.admin_client()
        for sessions, lines in sizes:
            print(f"loading {lines} lines of {sessions} sessions ...", file=sys.stderr, flush=True)
            load(admin, f"bench-sessions-{lines}", sessions, lines, rng)
        key = common.read_key(admin, "bench-sessions-*")
        env = common.clean_env(tmp)
        rows = []
        for sessions, lines in sizes:
            index = f"bench-sessions-{lines}"
            orx = [*common.TOOL, "sessions", "--since", "1h", "-o", "ndjson", "--limit", str(sessions),
                   "--host", n.url, "--id", key["id"], "--api-key", key["api_key"], "--indexes", index]
            floor = [sys.executable, "-c", FLOOR_SCRIPT, n.url, key["id"], key["api_key"], index]
            results = common.interleave({"orx": lambda orx=orx: measure(orx, env),
                                         "floor": lambda floor=floor: measure(floor, env)},
                                        args.rounds)
            orx_s = common.median([r[0] for r in results["orx"]])
            floor_s = common.median([r[0] for r in results["floor"]])
            found = results["orx"][0][2]
            paged = int(subprocess.run(floor, capture_output=True, env=env, check=True).stdout)
            rows.append((f"{lines:,} lines / {sessions:,} sessions", f"{orx_s:.2f}", f"{floor_s:.2f}",
                         f"{orx_s / floor_s:.2f}x", f"{max(r[1] for r in results['orx']) / 1024:.0f}",
                         f"{max(r[1] for r in results['floor']) / 1024:.0f}", f"{found:,}", f"{paged:,}"))
        print(common.versions_line(n))
        print(f"median of {args.rounds} rounds, interleaved; target: orx within 1.3x of the floor, memory flat")
        print(common.table(("data", "orx s", "floor s", "ratio", "orx MB", "floor MB", "rows", "lines paged"),
                           rows))
        print(json.dumps({"rows": rows}), file=sys.stderr)


if __name__ == "__main__":
    main()
