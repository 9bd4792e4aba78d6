#!/usr/bin/env python3
"""Bulk export: `orx-elastic logs <id> --all -o ndjson > /dev/null` against curl loops and elasticdump's two modes.

    .venv/bin/python bench/export.py [--version 9.5.4|8.19.21] [-n 3] [--n-big 2] [--sizes 10000,100000,1000000]
                                     [--baseline-tool PATH] [--no-elasticdump] [--profile]
                                     [--layout shuffled|shipped] [--pin] [--lean]

Starts its own node, loads three sessions' lines (10,000, 100,000 and 1,000,000 lines, all tagged error,
marker `openReplaySession.id=<id>`) plus 20,000 unrelated lines into 2 indices `bench-export-0/1`
(fixed seed), and makes a read-only API key on `bench-export-*`. Every contender gets the same page size
(elastic_cli.search.pager.PAGE_SIZE = 5000). For each session, interleaved N times (--n-big for 1,000,000):

  * orx-elastic logs <id> --all -o ndjson > /dev/null (point in time + search_after, time order);
  * the same without orjson (a stub `orjson` module that fails to import, on PYTHONPATH);
  * with --baseline-tool: the same command run by another build (e.g. main before this branch);
  * curl loop (the limit): a small Python driver runs curl per page with orx's body (query and sort
    from --explain, then _shard_doc, point in time), finds search_after in the bytes, writes the bytes
    to /dev/null (no JSON parsing); also with `filter_path` (what the pager reads), with the time sort
    without `unmapped_type`/`numeric_type`, and with the sort `_shard_doc` alone (no time order);
  * elasticdump --searchBody (unordered scroll) and elasticdump --searchAfter --pit with orx's sort
    (time, then _shard_doc: the same order of lines as orx), both --limit=5000, output to /dev/null,
    when installed: `npm install --prefix bench/.node elasticdump` (bench/.node is git-ignored).

Before the timed rounds, each contender runs once with its output to a file, which is counted
(every contender must export exactly the session's lines). Each run is wrapped in /usr/bin/time -v:
wall time, CPU time (user + sys of the process tree: robust when the machine is shared) and peak
RSS (the tree's largest process). Prints medians and ratios to elasticdump's modes and the curl loop.
Targets at 100,000 and 1,000,000 hits: orx >= 1.5x elasticdump's ordered mode, >= 1.0x its scroll,
>= 0.9x the curl loop; orx peak RSS < 100 MB and flat from 10,000 to 1,000,000.
--profile also prints orx's heaviest functions (cProfile, 100,000 hits, one run).
--layout shipped indexes the lines in time order (as a shipper writes them) instead of in random
time order; --pin puts the node on the last CPU and the contenders on the others, as when the tool
and the cluster are different machines (without it a contender's own CPU time slows the node
down: the more a contender overlaps its work with the server's, the more it pays for it).
Before anything runs, the tool and its dependencies are compiled to .pyc, as `pip install` does
(this machine sets PYTHONDONTWRITEBYTECODE=1).
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
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from elastic_cli.search.lines import PAGE_SIZE  # noqa: E402  (the CLI's page size, for the curl loop)

SIZES = (10_000, 100_000, 1_000_000)
NOISE_LINES = 20_000
PATTERN = "bench-export-*"
ELASTICDUMP = Path(__file__).resolve().parent / ".node" / "node_modules" / ".bin" / "elasticdump"
GNU_TIME = shutil.which("time") if os.path.exists("/usr/bin/time") else None
RSS_TARGET_MB = 100
ORX = "orx-elastic logs ID --all -o ndjson"
ORX_NO_ORJSON = "orx, without orjson"
ORX_BASELINE = "orx, baseline build"
CURL = "curl loop (orx's body, search_after, bytes only)"
CURL_FP = "curl loop + filter_path"
CURL_DOC = "curl loop, sort _shard_doc only (no time order)"
CURL_PLAIN_SORT = "curl loop, time sort without unmapped_type/numeric_type"
DUMP_SCROLL = "elasticdump (scroll, unordered)"
DUMP_PIT = "elasticdump --searchAfter --pit (orx's sort)"
FILTER_PATH = "took,_shards,pit_id,hits.hits._index,hits.hits._id,hits.hits._source,hits.hits.sort,hits.hits.fields"
NOROOT_JS = Path(__file__).resolve().parent / "elasticdump_noroot.js"

# --profile: main() under cProfile (the console script's entry() ends with os._exit, which would lose the profile)
PROFILE_MAIN = "from elastic_cli.cli import main\nmain()\n"

CURL_LOOP = r'''
import json, subprocess, sys
curl, base, auth, body_path, sort_mode, size, filter_path = sys.argv[1:8]
size = int(size)
explained = json.load(open(body_path))
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
sort = [{"_shard_doc": {"order": "asc"}}]
if sort_mode == "time":
    sort = explained["sort"] + sort
elif sort_mode == "plain-time":  # the time field alone: {"utc_time": {"order": "asc"}}
    sort = [{field: {"order": spec["order"]}} for s in explained["sort"] for field, spec in s.items()] + sort
path = "/_search" + ("?filter_path=" + filter_path if filter_path != "-" else "")
while True:
    body = {"query": explained["query"], "sort": sort,
            "size": size, "pit": {"id": pit, "keep_alive": "2m"}, "track_total_hits": False}
    if after is not None:
        body["search_after"] = after
    page = call("POST", path, body)
    out.write(page)
    n = page.count(b'"_id":')
    hits += n
    if n < size:
        break
    start = page.rindex(b'"sort":[') + 7
    after = json.loads(page[start:page.index(b"]", start) + 1])
call("DELETE", "/_pit", {"id": pit})
print(hits, file=sys.stderr)
'''


def load(admin, rng: random.Random, sizes: tuple[int, ...], layout: str = "shuffled",
         prefix: str = "bench-export") -> dict[int, str]:
    for i in range(2):
        common.create_index(admin, f"{prefix}-{i}")
    # flake ids whose decoded start is the first line's time (the session window starts a day before)
    starts = {size: common.T0 + timedelta(days=rng.randrange(0, 6), milliseconds=rng.randrange(86_400_000))
              for size in SIZES}
    sessions = {size: str(common.flake_id(rng, starts[size])) for size in SIZES if size in sizes}

    def docs():
        n = 0
        for size, sid in sessions.items():
            start = starts[size]
            for i in range(size):
                yield {"_index": f"{prefix}-{n % 2}", "_source": {
                    "message": f"{common.noise(rng, rng.randrange(6, 16))} openReplaySession.id={sid} "
                               f"request_id={rng.getrandbits(64):016x} {common.noise(rng, 4)}",
                    "utc_time": common.iso(start + timedelta(milliseconds=0 if i == 0 else
                                                             rng.randrange(0, 3 * 3600 * 1000))),
                    "tags": ["error"]}}
                n += 1
        for _ in range(NOISE_LINES):
            yield {"_index": f"{prefix}-{n % 2}", "_source": {
                "message": common.noise(rng, rng.randrange(6, 18)),
                "utc_time": common.iso(common.T0 + timedelta(seconds=rng.randrange(0, 7 * 86400))),
                "tags": [rng.choice(("info", "success", "error"))]}}
            n += 1

    actions = docs()
    if layout == "shipped":
        # as a log shipper writes them: in time order (a few seconds of jitter), each index
        # taking the next thousand lines, so every index is in time order too
        jitter = random.Random(common.SEED + 1)
        def arrival(src: dict) -> float:
            return datetime.fromisoformat(src["utc_time"].replace("Z", "+00:00")).timestamp() + jitter.random() * 5
        lines = sorted((a["_source"] for a in actions), key=arrival)
        actions = ({"_index": f"{prefix}-{(n // 1000) % 2}", "_source": src} for n, src in enumerate(lines))
    t = time.perf_counter()
    loaded = common.bulk_load(admin, actions, chunk_size=10_000)
    common.finish_indices(admin, f"{prefix}-*")
    print(f"  loaded {loaded:,} lines in {time.perf_counter() - t:.0f}s", file=sys.stderr, flush=True)
    return sessions


def measure(argv: list[str], env: dict, stdout_path: str = "/dev/null") -> tuple[float, float, float, str]:
    """(seconds, CPU seconds, peak RSS MB, stderr) of one run; stdout to stdout_path."""
    wrapped = [GNU_TIME, "-v", *argv] if GNU_TIME else argv
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        r = subprocess.run(wrapped, stdout=out, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
    err = r.stderr.decode(errors="replace")
    if r.returncode != 0:
        raise RuntimeError(f"failed ({r.returncode}): {' '.join(argv)[:300]}\n{err[-3000:]}")
    if GNU_TIME:
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
        cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([0-9.]+)", err).group(1)) for kind in ("User", "System"))
    else:  # only grows: a new maximum is this run's; otherwise unknown (reported as the previous maximum)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rss = max(before.ru_maxrss, after.ru_maxrss) / 1024
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, rss, err


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("-n", type=int, default=3, help="rounds at 10,000 and 100,000 hits (default 3)")
    parser.add_argument("--n-big", type=int, default=2, help="rounds at 1,000,000 hits (default 2)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated, of " +
                        ",".join(map(str, SIZES)))
    parser.add_argument("--baseline-tool", help="another orx-elastic executable (e.g. a build of main) to run beside")
    parser.add_argument("--no-elasticdump", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile orx on the 100,000-hit export")
    parser.add_argument("--layout", choices=("shuffled", "shipped"), default="shuffled",
                        help="shuffled: lines indexed in random time order (the worst case for time order); "
                             "shipped: in time order, as a log shipper writes them")
    parser.add_argument("--pin", action="store_true",
                        help="node on the last CPU, every contender on the others (as when the tool runs on "
                             "another machine than the cluster: their CPU time does not slow the node)")
    parser.add_argument("--lean", action="store_true",
                        help="leave out the variants settled before (without orjson, filter_path, plain sort)")
    args = parser.parse_args()
    sizes = tuple(int(x) for x in args.sizes.split(",") if int(x) in SIZES)
    curl = common.curl_available()
    rng = random.Random(common.SEED)
    use_dump = not args.no_elasticdump and ELASTICDUMP.exists() and shutil.which("node")
    if not use_dump and not args.no_elasticdump:
        print("elasticdump not installed: npm install --prefix bench/.node elasticdump", file=sys.stderr)

    with common.node(args.version, heap="1g") as node, common.tmpdir() as tmp:
        admin = node.admin_client()
        sessions = load(admin, rng, sizes, args.layout)
        key = common.read_key(admin, PATTERN)
        cpus = os.cpu_count() or 1
        pin = ["taskset", "-c", f"0-{cpus - 2}"] if args.pin and cpus > 1 else []
        if pin:
            common.pin_node(node, cpus - 1)
        env = common.clean_env(tmp)
        loop_py = Path(tmp) / "curl_loop.py"
        loop_py.write_text(CURL_LOOP)
        stub = Path(tmp) / "no-orjson"
        stub.mkdir()
        (stub / "orjson.py").write_text("raise ModuleNotFoundError('orjson disabled by bench/export.py')\n")

        results = {}
        env = {**env, "ORX_BENCH_ES_VERSION": node.version,
               "ORX_BENCH_ELASTICDUMP_DIR": str(ELASTICDUMP.resolve().parent.parent)}
        envs = {ORX_NO_ORJSON: {**env, "PYTHONPATH": str(stub)}}
        headers = f"--headers={json.dumps({'Authorization': 'ApiKey ' + key['encoded']})}"
        for size, sid in sessions.items():
            body = common.explain_body(node, key, PATTERN, sid, env)["body"]
            body_path = Path(tmp) / f"body-{size}.json"
            body_path.write_text(json.dumps(body))
            orx = common.cli(node, key, PATTERN, sid, "--all", "-o", "ndjson")
            loop = [common.PYTHON, str(loop_py), curl, node.url, key["encoded"], str(body_path)]
            contenders = {ORX: orx, ORX_NO_ORJSON: orx}
            if args.baseline_tool:
                contenders[ORX_BASELINE] = [args.baseline_tool, *orx[len(common.TOOL):]]
            contenders[CURL] = [*loop, "time", str(PAGE_SIZE), "-"]
            contenders[CURL_FP] = [*loop, "time", str(PAGE_SIZE), FILTER_PATH]
            contenders[CURL_DOC] = [*loop, "doc", str(PAGE_SIZE), "-"]
            contenders[CURL_PLAIN_SORT] = [*loop, "plain-time", str(PAGE_SIZE), "-"]
            if use_dump:
                dump = ["node", "--require", str(NOROOT_JS), str(ELASTICDUMP), f"--input={node.url}/{PATTERN}",
                        "--output=$", "--type=data", f"--limit={PAGE_SIZE}", "--quiet", headers]
                contenders[DUMP_SCROLL] = [*dump, f"--searchBody={json.dumps({'query': body['query']})}"]
                ordered = {"query": body["query"], "sort": body["sort"] + [{"_shard_doc": {"order": "asc"}}]}
                contenders[DUMP_PIT] = [*dump, "--searchAfter", "--pit", f"--searchBody={json.dumps(ordered)}"]
            if args.lean:
                for name in (ORX_NO_ORJSON, CURL_FP, CURL_PLAIN_SORT):
                    contenders.pop(name, None)
            contenders = {name: [*pin, *argv] for name, argv in contenders.items()}
            # check (and warm-up): every contender exports exactly `size` documents
            for name, argv in list(contenders.items()):
                out_path = str(Path(tmp) / "check.out")
                try:
                    _, _, _, err = measure(argv, envs.get(name, env), out_path)
                except RuntimeError as exc:
                    print(f"  {name} failed, left out: {str(exc)[:1500]}", file=sys.stderr)
                    del contenders[name]
                    continue
                if name.startswith("curl"):
                    count = int(err.strip().splitlines()[0])
                else:
                    with open(out_path, "rb") as f:
                        count = sum(1 for line in f if line.strip())
                print(f"  {size:,}: {name} exported {count:,}", file=sys.stderr, flush=True)
                if count != size:
                    print(f"  WARNING: {name} exported {count}, expected {size}", file=sys.stderr)
            os.unlink(str(Path(tmp) / "check.out"))
            runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in contenders}
            for _ in range(args.n_big if size >= 1_000_000 else args.n):
                for name, argv in contenders.items():
                    seconds, cpu, rss, _ = measure(argv, envs.get(name, env))
                    runs[name].append((seconds, cpu, rss))
            results[size] = runs
            print(f"  {size:,}: done ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f})",
                  file=sys.stderr, flush=True)

        print()
        print(f"Bulk export, pages of {PAGE_SIZE} for every contender, {args.n} rounds interleaved "
              f"({args.n_big} at 1,000,000), layout {args.layout}"
              + (f", node pinned to CPU {cpus - 1} and contenders to the others" if pin else "")
              + "; " + common.versions_line(node) +
              f"; load average {os.getloadavg()[0]:.1f} at the end")
        rows = []
        med_all = {}
        for size, runs in results.items():
            med = {name: (common.median([r[0] for r in rs]), common.median([r[1] for r in rs]),
                          common.median([r[2] for r in rs]), max(r[2] for r in rs)) for name, rs in runs.items()}
            med_all[size] = med
            for name, (seconds, cpu, rss, rss_max) in med.items():
                def vs(other, med=med, seconds=seconds):
                    return f"{med[other][0] / seconds:.2f}x" if other in med else "n/a"
                rows.append([f"{size:,}", name, f"{seconds:.2f}s", f"{size / seconds:,.0f}", f"{cpu:.2f}s",
                             vs(CURL), vs(DUMP_SCROLL), vs(DUMP_PIT), f"{rss:.0f}MB", f"{rss_max:.0f}MB"])
        print(common.table(["hits", "contender", "wall (median)", "hits/s", "CPU (median)", "vs curl loop",
                            "vs elasticdump scroll", "vs elasticdump pit", "peak RSS (median)", "(max)"], rows))
        if use_dump:
            print("note: elasticdump run with bench/elasticdump_noroot.js: its `GET /` version probe is skipped "
                  "(a read-only key may not call GET /; the sandbox has no rest-root module)")
        print("ratios are throughput ratios (the other's wall time / this one's): above 1 means faster")
        rss = {size: med_all[size][ORX][2] for size in med_all}
        first, last = min(rss), max(rss)
        flat = rss[last] < RSS_TARGET_MB and rss[last] <= rss[first] * 1.2
        print("\norx peak RSS " + " -> ".join(f"{rss[s]:.0f}MB at {s:,}" for s in sorted(rss)) +
              f" (target < {RSS_TARGET_MB}MB and flat): {'ok' if flat else 'OVER'}")
        for size, med in med_all.items():
            if size < 100_000:
                continue
            o = med[ORX][0]
            for other, target in ((DUMP_PIT, 1.5), (DUMP_SCROLL, 1.0), (CURL, 0.9)):
                if other in med:
                    ratio = med[other][0] / o
                    print(f"orx at {size:,} hits: {ratio:.2f}x {other} (target >= {target}x): "
                          f"{'ok' if ratio >= target else 'UNDER'}")

        if args.profile and 100_000 in sessions:
            prof = Path(tmp) / "orx.prof"
            orx_args = common.cli(node, key, PATTERN, sessions[100_000], "--all", "-o", "ndjson")[len(common.TOOL):]
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
