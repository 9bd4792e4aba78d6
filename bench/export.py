#!/usr/bin/env python3
"""Bulk export: `orx-elastic logs <id> --all -o ndjson > /dev/null` against a curl loop and elasticdump.

    .venv/bin/python bench/export.py [--version 9.5.4|8.19.21] [-n 3] [--no-elasticdump] [--profile]

Starts its own node, loads two sessions' lines (10,000 and 100,000 lines, all tagged error,
marker `openReplaySession.id=<id>`) plus 20,000 unrelated lines into 2 indices `bench-export-0/1`
(fixed seed), and makes a read-only API key on `bench-export-*`. For each session, interleaved N times:

  * orx-elastic logs <id> --all -o ndjson > /dev/null (point in time + search_after, pages of
    log_search.PAGE_SIZE = 5000);
  * curl loop (the limit): a small Python driver runs curl per page with the same body (query from
    --explain, sort + _shard_doc, pit, the same page size), finds search_after in the bytes, writes the bytes
    to /dev/null (no JSON parsing);
  * elasticdump --searchBody (scroll, pages of 1000), output to /dev/null, when installed:
    `npm install --prefix bench/.node elasticdump` (bench/.node is git-ignored).

Each run is wrapped in /usr/bin/time -v (peak RSS of the process tree's largest process; else
getrusage(RUSAGE_CHILDREN)). Prints median hits/s and peak RSS, ratios to elasticdump and curl.
Targets: orx peak RSS < 100 MB at 100,000 hits and flat in the number of hits; orx hits/s >= elasticdump.
--profile also prints orx's heaviest functions (cProfile, 100,000 hits, one run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from elastic_cli.log_search import PAGE_SIZE  # noqa: E402  (the CLI's page size, for the curl loop)

SIZES = (10_000, 100_000)
NOISE_LINES = 20_000
PATTERN = "bench-export-*"
ELASTICDUMP = Path(__file__).resolve().parent / ".node" / "node_modules" / ".bin" / "elasticdump"
GNU_TIME = shutil.which("time") if os.path.exists("/usr/bin/time") else None
RSS_TARGET_MB = 100
NOROOT_JS = Path(__file__).resolve().parent / "elasticdump_noroot.js"

# --profile: main() under cProfile (the console script's entry() ends with os._exit, which would lose the profile)
PROFILE_MAIN = "from elastic_cli.cli import main\nmain()\n"

CURL_LOOP = r'''
import json, subprocess, sys
curl, base, auth, query_path, sort_mode, size = sys.argv[1:7]
size = int(size)
query = json.load(open(query_path))
headers = ["-H", "Authorization: ApiKey " + auth, "-H", "Content-Type: application/json"]
def call(method, path, body=None):
    argv = [curl, "-s", "-f", "-X", method, *headers, base + path]
    if body is not None:
        argv += ["--data-binary", "@-"]
    return subprocess.run(argv, input=None if body is None else json.dumps(body).encode(),
                          stdout=subprocess.PIPE, check=True).stdout
pit = json.loads(call("POST", "/bench-export-*/_pit?keep_alive=2m"))["id"]
out = open("/dev/null", "wb")
after, hits = None, 0
while True:
    sort = [{"_shard_doc": {"order": "asc"}}]
    if sort_mode == "time":
        sort.insert(0, {"utc_time": {"order": "asc", "unmapped_type": "date"}})
    body = {"query": query, "sort": sort,
            "size": size, "pit": {"id": pit, "keep_alive": "2m"}, "track_total_hits": False}
    if after is not None:
        body["search_after"] = after
    page = call("POST", "/_search", body)
    out.write(page)
    n = page.count(b'"_shard":') or page.count(b'"_id":')
    hits += n
    if n < size:
        break
    start = page.rindex(b'"sort":[') + 7
    after = json.loads(page[start:page.index(b"]", start) + 1])
call("DELETE", "/_pit", {"id": pit})
print(hits, file=sys.stderr)
'''


def load(admin, rng: random.Random) -> dict[int, str]:
    for i in range(2):
        common.create_index(admin, f"bench-export-{i}")
    sessions = {size: str(rng.randrange(10**18, 2**63)) for size in SIZES}

    def docs():
        n = 0
        for size, sid in sessions.items():
            start = common.T0 + timedelta(days=rng.randrange(0, 6))
            for i in range(size):
                yield {"_index": f"bench-export-{n % 2}", "_source": {
                    "message": f"{common.noise(rng, rng.randrange(6, 16))} openReplaySession.id={sid} "
                               f"request_id={rng.getrandbits(64):016x} {common.noise(rng, 4)}",
                    "utc_time": common.iso(start + timedelta(milliseconds=rng.randrange(0, 3 * 3600 * 1000))),
                    "tags": ["error"]}}
                n += 1
        for i in range(NOISE_LINES):
            yield {"_index": f"bench-export-{n % 2}", "_source": {
                "message": common.noise(rng, rng.randrange(6, 18)),
                "utc_time": common.iso(common.T0 + timedelta(seconds=rng.randrange(0, 7 * 86400))),
                "tags": [rng.choice(("info", "success", "error"))]}}
            n += 1

    t = time.perf_counter()
    loaded = common.bulk_load(admin, docs())
    common.finish_indices(admin, PATTERN)
    print(f"  loaded {loaded} lines in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    return sessions


def measure(argv: list[str], env: dict, stdout_path: str = "/dev/null") -> tuple[float, float, str]:
    """(seconds, peak RSS MB, stderr) of one run; stdout to stdout_path."""
    wrapped = [GNU_TIME, "-v", *argv] if GNU_TIME else argv
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        r = subprocess.run(wrapped, stdout=out, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
    err = r.stderr.decode(errors="replace")
    if r.returncode != 0:
        raise RuntimeError(f"failed ({r.returncode}): {' '.join(argv)[:300]}\n{err[-3000:]}")
    if GNU_TIME:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
        rss = int(m.group(1)) / 1024
    else:  # only grows: a new maximum is this run's; otherwise unknown (reported as the previous maximum)
        rss = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return elapsed, rss, err


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("-n", type=int, default=3, help="rounds per size (default 3)")
    parser.add_argument("--no-elasticdump", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile orx on the 100,000-hit export")
    args = parser.parse_args()
    curl = common.curl_available()
    rng = random.Random(common.SEED)
    use_dump = not args.no_elasticdump and ELASTICDUMP.exists() and shutil.which("node")
    if not use_dump and not args.no_elasticdump:
        print("elasticdump not installed: npm install --prefix bench/.node elasticdump", file=sys.stderr)

    with common.node(args.version) as node, common.tmpdir() as tmp:
        admin = node.admin_client()
        sessions = load(admin, rng)
        key = common.read_key(admin, PATTERN)
        env = common.clean_env(tmp)
        loop_py = Path(tmp) / "curl_loop.py"
        loop_py.write_text(CURL_LOOP)

        results = {}
        env = {**env, "ORX_BENCH_ES_VERSION": node.version,
               "ORX_BENCH_ELASTICDUMP_DIR": str(ELASTICDUMP.resolve().parent.parent)}
        for size, sid in sessions.items():
            query = common.explain_body(node, key, PATTERN, sid, env)["body"]["query"]
            query_path = Path(tmp) / f"query-{size}.json"
            query_path.write_text(json.dumps(query))
            contenders = {
                "orx-elastic logs ID --all -o ndjson": common.cli(node, key, PATTERN, sid, "--all", "-o", "ndjson"),
                "curl loop (search_after, bytes only)": [common.PYTHON, str(loop_py), curl, node.url,
                                                         key["encoded"], str(query_path), "time", str(PAGE_SIZE)],
                "curl loop, sort _shard_doc only (no time order)": [
                    common.PYTHON, str(loop_py), curl, node.url, key["encoded"], str(query_path), "doc", str(PAGE_SIZE)],
            }
            if use_dump:
                contenders["elasticdump --searchBody (scroll)"] = [
                    "node", "--require", str(NOROOT_JS), str(ELASTICDUMP), f"--input={node.url}/{PATTERN}", "--output=$", "--type=data",
                    f"--searchBody={json.dumps({'query': query})}", "--limit=1000", "--quiet",
                    f"--headers={json.dumps({'Authorization': 'ApiKey ' + key['encoded']})}"]
            # check: every contender exports exactly `size` documents
            for name, argv in list(contenders.items()):
                out_path = str(Path(tmp) / "check.out")
                try:
                    _, _, err = measure(argv, env, out_path)
                except RuntimeError as exc:
                    print(f"  {name} failed, left out: {str(exc)[:1500]}", file=sys.stderr)
                    del contenders[name]
                    continue
                if name.startswith("curl"):
                    count = int(err.strip().splitlines()[0])
                else:
                    with open(out_path, "rb") as f:
                        count = sum(1 for line in f if line.strip())
                print(f"  {size}: {name} exported {count}", file=sys.stderr)
                if count != size:
                    print(f"  WARNING: {name} exported {count}, expected {size}", file=sys.stderr)
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
            for _ in range(args.n):
                for name, argv in contenders.items():
                    seconds, rss, _ = measure(argv, env)
                    runs[name].append((seconds, rss))
            results[size] = runs

        print()
        print(f"Bulk export, {args.n} rounds interleaved per size; " + common.versions_line(node))
        rows = []
        for size, runs in results.items():
            med = {name: (common.median([s for s, _ in r]), common.median([m for _, m in r]), max(m for _, m in r))
                   for name, r in runs.items()}
            dump = med.get("elasticdump --searchBody (scroll)")
            limit = med["curl loop (search_after, bytes only)"]
            for name, (seconds, rss, rss_max) in med.items():
                rows.append([f"{size:,} hits", name, f"{seconds:.2f}s", f"{size / seconds:,.0f}",
                             f"{(size / seconds) / (size / limit[0]):.2f}x",
                             f"{(size / seconds) / (size / dump[0]):.2f}x" if dump else "n/a",
                             f"{rss:.0f}MB", f"{rss_max:.0f}MB"])
        print(common.table(["size", "contender", "median time", "hits/s", "vs curl", "vs elasticdump",
                            "peak RSS (median)", "peak RSS (max)"], rows))
        if use_dump:
            print("note: elasticdump run with bench/elasticdump_noroot.js: its `GET /` version probe is skipped "
                  "(a read-only key may not call GET /; the sandbox has no rest-root module)")
        orx = "orx-elastic logs ID --all -o ndjson"
        rss_big = common.median([m for _, m in results[SIZES[-1]][orx]])
        rss_small = common.median([m for _, m in results[SIZES[0]][orx]])
        print(f"\norx peak RSS {rss_small:.0f}MB at {SIZES[0]:,} -> {rss_big:.0f}MB at {SIZES[-1]:,} "
              f"(target < {RSS_TARGET_MB}MB and flat): {'ok' if rss_big < RSS_TARGET_MB and rss_big < rss_small * 1.2 else 'OVER'}")
        dump_name = "elasticdump --searchBody (scroll)"
        for size, runs in results.items():
            if dump_name in runs:
                o = common.median([s for s, _ in runs[orx]])
                d = common.median([s for s, _ in runs[dump_name]])
                print(f"orx throughput at {size:,} hits: {d / o:.2f}x elasticdump's (target >= 1): "
                      f"{'ok' if o <= d else 'UNDER'}")

        if args.profile:
            prof = Path(tmp) / "orx.prof"
            orx_args = common.cli(node, key, PATTERN, sessions[SIZES[-1]], "--all", "-o", "ndjson")[len(common.TOOL):]
            main_py = Path(tmp) / "orx_main.py"
            main_py.write_text(PROFILE_MAIN)
            argv = [common.PYTHON, "-m", "cProfile", "-o", str(prof), str(main_py), *orx_args]
            subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True)
            import pstats

            print("\norx --all, 100,000 hits: heaviest functions (cProfile, tottime)")
            pstats.Stats(str(prof)).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
