#!/usr/bin/env python3
"""A remote cluster, simulated: lookups, `check`, `sessions` and an export through a latency proxy.

    .venv/bin/python bench/wan.py [--version 9.5.4|8.19.21] [--https] [-n 9] [--n-export 9]
                                  [--rtts 0,50,150] [--only logs,check,sessions,export]
                                  [--baseline-tool PATH] [--no-elasticdump]

Starts its own node (plain HTTP, or `--https` as the sandbox's `--https`: the client pays TLS
handshakes through the proxy), loads the sandbox's sample logs (`app-logs`, `logs`), 3,000 marked
lines of 300 sessions in the last hour (`recent-logs`) and one session of 100,000 lines among 20,000
others (`bench-export-0/1`), and makes a read-only key on `*log*` and `bench-export-*`. Every
contender talks to the node through `bench/latency_proxy.py`, which delays each chunk by RTT/2 each
way (a new connection costs one more RTT, as a remote TCP handshake does) and counts what crosses it.

Per round, for each RTT in turn (interleaved), each contender once:

  logs <token> (the sample token, sample data):
    * orx, first use of the cluster (an empty cache directory each run) and repeated (a kept one);
    * python + elasticsearch client, one search with orx's query (the baseline of the target);
    * curl, the same search; OpenReplay v1.21's query shape (`POST /logs/_search`, match_phrase on
      the id, size 1000), sent by curl;
  check: orx check (the target: its loopback time + 6 RTT at 150 ms);
  sessions --since 1h: orx, first use of the cluster and repeated (as for logs);
  export (`logs ID --all -o ndjson`, 100,000 lines): orx; a loop sending orx's pages over one kept
    connection (bytes only, search_after read from the bytes); the same with curl per page (a new
    connection each); elasticdump scroll and `--searchAfter --pit` (orx's sort), all pages of 5000,
    when installed (`npm install --prefix bench/.node elasticdump`).

Prints the median wall time of each, its ratio to the baseline named in the table, what the proxy
counted (HTTP requests, or TLS client flights; connections; sequential round trips), and the
sequential round trips the times imply ((t at RTT - t at 0) / RTT). --baseline-tool runs another
build's orx-elastic (e.g. main before this branch) beside this tree's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import export as export_bench  # noqa: E402
import sessions as sessions_bench  # noqa: E402
from es_sandbox import SAMPLE_SESSION_ID, SAMPLE_TOKEN, ESNode, load_sample_logs  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402

RTTS = (0, 50, 150)
EXPORT_SIZE = 100_000
PAGE = 5000
CHECK_EXTRA_RTTS = 6
LOOKUP_TARGET = 1.15  # issue 24: at 50 and 150 ms
# issue 38: a lookup against the one-request client script, by RTT
LOOKUP_TARGETS = {0: 0.6, 150: 0.8}

CLIENT_SCRIPT = r'''
import json, sys
from elasticsearch import Elasticsearch
url, key_id, key, index, body_path, ca = sys.argv[1:7]
with open(body_path) as f:
    body = json.load(f)
es = Elasticsearch(url, api_key=(key_id, key), request_timeout=30, **({"ca_certs": ca} if ca != "-" else {}))
hits = es.search(index=index, body=body)["hits"]["hits"]
print(json.dumps([{"_index": h["_index"], "_id": h["_id"], "_source": h["_source"]} for h in hits],
                 indent=2, ensure_ascii=False))
'''

# orx's pages (query, sort, point in time, search_after), bytes only: over one kept connection
# (`keepalive`) or with curl per page (`curl`)
LOOP_SCRIPT = r'''
import http.client, json, ssl, subprocess, sys, urllib.parse
mode, curl, base, auth, body_path, ca, index, size = sys.argv[1:9]
size = int(size)
explained = json.load(open(body_path))
url = urllib.parse.urlsplit(base)
headers = {"Authorization": "ApiKey " + auth, "Content-Type": "application/json"}
if mode == "keepalive":
    if url.scheme == "https":
        conn = http.client.HTTPSConnection(url.hostname, url.port, context=ssl.create_default_context(cafile=ca))
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port)
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    if mode == "keepalive":
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        assert response.status == 200, payload[:500]
        return payload
    argv = [curl, "-s", "-f", "-X", method, "-H", "Authorization: " + headers["Authorization"],
            "-H", "Content-Type: application/json", base + path]
    if ca != "-":
        argv += ["--cacert", ca]
    if data is not None:
        argv += ["--data-binary", "@-"]
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE, check=True).stdout
pit = json.loads(call("POST", "/" + index + "/_pit?keep_alive=2m"))["id"]
out = open("/dev/null", "wb")
after, hits = None, 0
sort = explained["sort"]
while True:
    body = {"query": explained["query"], "sort": sort, "size": size, "pit": {"id": pit, "keep_alive": "2m"},
            "track_total_hits": False}
    if after is not None:
        body["search_after"] = after
    page = call("POST", "/_search", body)
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


def v121_body(session_id: str) -> dict:
    """What OpenReplay v1.21+ sends (backend/pkg/integrations/clients/elastic.go)."""
    return {"query": {"match_phrase": {"message": f"openReplaySession.id={session_id}"}}, "size": 1000}


def make_key(admin) -> dict:
    import secrets

    resp = admin.security.create_api_key(
        name=f"bench-wan-{secrets.token_hex(4)}",
        role_descriptors={"wan_read": {"indices": [{"names": ["*log*", "bench-export-*"], "privileges": ["read"]}]}})
    return {"id": resp["id"], "api_key": resp["api_key"], "encoded": resp["encoded"]}


class Runner:
    """Runs one contender through the proxy; keeps each run's time and the proxy's counts."""

    def __init__(self, proxy: LatencyProxy):
        self.proxy = proxy
        self.times: dict[tuple[str, str, int], list[float]] = {}
        self.counts: dict[tuple[str, str, int], list[Any]] = {}
        self.rss: dict[tuple[str, str, int], list[float]] = {}

    def run(self, command: str, name: str, rtt: int, argv: list[str], env: dict, expect: Callable[[bytes], None]
            | None = None, ok_codes: tuple[int, ...] = (0,)) -> None:
        self.proxy.set_delay(rtt / 2000)
        self.proxy.reset()
        rss = command.startswith("export") and export_bench.GNU_TIME
        start = time.perf_counter()
        r = subprocess.run([export_bench.GNU_TIME, "-v", *argv] if rss else argv,
                           stdout=subprocess.PIPE if expect else subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
        if rss:
            found = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
            if found:
                self.rss.setdefault((command, name, rtt), []).append(int(found.group(1)) / 1024)
        if r.returncode not in ok_codes:
            raise RuntimeError(f"{command}/{name} failed ({r.returncode}): {' '.join(argv)[:300]}\n"
                               f"{r.stderr.decode(errors='replace')[-2000:]}")
        if expect:
            expect(r.stdout)
        time.sleep(max(0.05, rtt / 1000 * 2))  # let anything sent after the output (a closed PIT) be counted
        key = (command, name, rtt)
        self.times.setdefault(key, []).append(elapsed)
        self.counts.setdefault(key, []).append(self.proxy.snapshot())


def fresh_cache_env(env: dict, root: Path) -> dict:
    return {**env, "XDG_CACHE_HOME": tempfile.mkdtemp(dir=root)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("--https", action="store_true", help="the node serves HTTPS (TLS through the proxy)")
    parser.add_argument("-n", type=int, default=9, help="rounds of logs, check, sessions (default 9)")
    parser.add_argument("--n-export", type=int, default=9, help="rounds of the export (default 9)")
    parser.add_argument("--rtts", default=",".join(map(str, RTTS)), help="round trip times in ms (default 0,50,150)")
    parser.add_argument("--only", default="logs,check,sessions,export")
    parser.add_argument("--baseline-tool", help="another orx-elastic executable to run beside this tree's")
    parser.add_argument("--no-elasticdump", action="store_true")
    args = parser.parse_args()
    rtts = [int(x) for x in args.rtts.split(",")]
    only = set(args.only.split(","))
    curl = common.curl_available()
    use_dump = not args.no_elasticdump and export_bench.ELASTICDUMP.exists() and shutil.which("node")
    if not use_dump and not args.no_elasticdump and "export" in only:
        print("elasticdump left out: not installed (npm install --prefix bench/.node elasticdump)", file=sys.stderr)
    rng = random.Random(common.SEED)
    common.compile_bytecode()
    print(f"starting Elasticsearch {args.version} ({'https' if args.https else 'http'}) ...", file=sys.stderr)
    node = ESNode(args.version, heap="1g", https=args.https)
    with common.tmpdir() as tmp_name:
        tmp = Path(tmp_name)
        try:
            node.start()
            admin = node.admin_client()
            load_sample_logs(admin)
            sessions_bench.load(admin, "recent-logs", 300, 3000, rng)
            admin.indices.refresh(index="recent-logs")
            export_sid = None
            if "export" in only:
                export_sid = export_bench.load(admin, rng, (EXPORT_SIZE,))[EXPORT_SIZE]
            key = make_key(admin)
            host, port = node.url.rsplit(":", 1)
            with LatencyProxy("127.0.0.1", int(port), 0.0) as proxy:
                url = f"{node.scheme}://127.0.0.1:{proxy.port}"
                ca = str(node.ca_path) if node.ca_path else "-"
                results = measure_all(args, proxy, url, ca, key, tmp, curl, use_dump, export_sid, rtts, only)
            report(args, node, rtts, results)
        finally:
            node.stop()
    return 0


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def measure_all(args, proxy: LatencyProxy, url: str, ca: str, key: dict, tmp: Path, curl: str, use_dump: bool,
                export_sid: str | None, rtts: list[int], only: set[str]) -> Runner:
    env = common.clean_env(str(tmp))
    env.pop("XDG_CACHE_HOME", None)
    kept_cache = {**env, "XDG_CACHE_HOME": str(tmp / "kept-cache")}
    tls = ["--ca-certs", ca] if ca != "-" else []
    cacert = ["--cacert", ca] if ca != "-" else []
    conn = ["--host", url, "--id", key["id"], "--api-key", key["api_key"], *tls]
    tools = {"orx": common.TOOL}
    if args.baseline_tool:
        tools["orx, baseline build"] = [args.baseline_tool]
    runner = Runner(proxy)
    auth = ["-H", f"Authorization: ApiKey {key['encoded']}", "-H", "Content-Type: application/json"]

    # the lookup's body, as orx sends its first page, without the point in time (one request)
    explained = subprocess.run([*common.TOOL, "logs", SAMPLE_TOKEN, "--explain", *conn, "--indexes", "*log*"],
                               capture_output=True, env=env, check=True)
    body = json.loads(explained.stdout)["body"]
    body.pop("pit", None)
    body["sort"] = [s for s in body["sort"] if "_shard_doc" not in s]
    body_path = tmp / "lookup.json"
    body_path.write_text(json.dumps(body))
    v121_path = tmp / "v121.json"
    v121_path.write_text(json.dumps(v121_body(str(SAMPLE_SESSION_ID))))
    client_py = tmp / "client.py"
    client_py.write_text(CLIENT_SCRIPT)
    loop_py = tmp / "loop.py"
    loop_py.write_text(LOOP_SCRIPT)

    def same_hits(expected: int) -> Callable[[bytes], None]:
        def check(out: bytes) -> None:
            got = len(json.loads(out))
            if got != expected:
                raise RuntimeError(f"expected {expected} hits, got {got}")
        return check

    lookup: dict[str, tuple[list[str], Callable[[], dict], Any]] = {}
    for label, tool in tools.items():
        argv = [*tool, "logs", SAMPLE_TOKEN, "-o", "json", *conn, "--indexes", "*log*"]
        lookup[f"{label}, first use"] = (argv, lambda: fresh_cache_env(env, tmp), None)
        lookup[f"{label}, repeated"] = (argv, lambda: kept_cache, None)
    lookup["python + client, one search (baseline)"] = (
        [common.PYTHON, str(client_py), url, key["id"], key["api_key"], "*log*", str(body_path), ca],
        lambda: env, None)
    lookup["curl, the same search"] = (
        [curl, "-s", "-f", *cacert, "-X", "POST", *auth, "--data-binary", f"@{body_path}", f"{url}/*log*/_search"],
        lambda: env, None)
    lookup["OpenReplay v1.21 shape (curl)"] = (
        [curl, "-s", "-f", *cacert, "-X", "POST", *auth, "--data-binary", f"@{v121_path}", f"{url}/logs/_search"],
        lambda: env, None)
    expected = None
    if "logs" in only:
        out = subprocess.run(lookup["orx, first use"][0], capture_output=True, env=fresh_cache_env(env, tmp), check=True)
        expected = len(json.loads(out.stdout))
        for name in lookup:
            if name.startswith("orx") or name.startswith("python"):
                lookup[name] = (lookup[name][0], lookup[name][1], same_hits(expected))
        subprocess.run(lookup["orx, repeated"][0], capture_output=True, env=kept_cache, check=True)
        if args.baseline_tool:
            subprocess.run(lookup["orx, baseline build, repeated"][0], capture_output=True, env=kept_cache, check=True)

    checks = {label: [*tool, "check", *conn, "--indexes", "*log*"] for label, tool in tools.items()}
    sessions: dict[str, tuple[list[str], Callable[[], dict]]] = {}
    for label, tool in tools.items():
        argv = [*tool, "sessions", "--since", "1h", "-o", "ndjson", "--limit", "1000", *conn,
                "--indexes", "recent-logs"]
        sessions[f"{label}, first use"] = (argv, lambda: fresh_cache_env(env, tmp))
        sessions[f"{label}, repeated"] = (argv, lambda: kept_cache)
    if "sessions" in only:
        for name, (argv, env_for) in sessions.items():
            if name.endswith("repeated"):  # the cache kept from one run before
                subprocess.run(argv, capture_output=True, env=env_for(), check=True)
    exports: dict[str, tuple[list[str], dict]] = {}
    if "export" in only and export_sid:
        for label, tool in tools.items():
            exports[label] = ([*tool, "logs", export_sid, "--all", "-o", "ndjson", *conn,
                               "--indexes", "bench-export-*"], env)
        ebody = json.loads(subprocess.run([*common.TOOL, "logs", export_sid, "--explain", "--all", *conn,
                                           "--indexes", "bench-export-*"], capture_output=True, env=env,
                                          check=True).stdout)["body"]
        ebody_path = tmp / "export.json"
        ebody_path.write_text(json.dumps(ebody))
        for mode, label in (("keepalive", "loop of orx's pages, one kept connection"),
                            ("curl", "curl loop of orx's pages (a connection per page)")):
            exports[label] = ([common.PYTHON, str(loop_py), mode, curl, url, key["encoded"], str(ebody_path), ca,
                               "bench-export-*", str(PAGE)], env)
        if use_dump:
            headers = f"--headers={json.dumps({'Authorization': 'ApiKey ' + key['encoded']})}"
            dump_env = {**env, "ORX_BENCH_ES_VERSION": args.version,
                        "ORX_BENCH_ELASTICDUMP_DIR": str(export_bench.ELASTICDUMP.resolve().parent.parent)}
            if ca != "-":
                dump_env["NODE_EXTRA_CA_CERTS"] = ca
            dump = ["node", "--require", str(export_bench.NOROOT_JS), str(export_bench.ELASTICDUMP),
                    f"--input={url}/bench-export-*", "--output=$", "--type=data", f"--limit={PAGE}", "--quiet",
                    headers]
            ordered = {"query": ebody["query"], "sort": [s for s in ebody["sort"]]}
            exports["elasticdump scroll (unordered)"] = (
                [*dump, f"--searchBody={json.dumps({'query': ebody['query']})}"], dump_env)
            exports["elasticdump --searchAfter --pit (orx's sort)"] = (
                [*dump, "--searchAfter", "--pit", f"--searchBody={json.dumps(ordered)}"], dump_env)
        # every contender exports exactly the session's lines (and warms up)
        proxy.set_delay(0)
        for name, (argv, e) in list(exports.items()):
            out_path = tmp / "export.out"
            with open(out_path, "wb") as out:
                r = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, env=e)
            if r.returncode != 0:
                print(f"  {name} failed, left out: {r.stderr.decode(errors='replace')[-800:]}", file=sys.stderr)
                del exports[name]
                continue
            count = (int(r.stderr.decode().strip().splitlines()[-1]) if "loop" in name
                     else _count_lines(out_path))
            print(f"  export: {name} wrote {count:,} lines", file=sys.stderr, flush=True)
            if count != EXPORT_SIZE:
                print(f"  WARNING: {name} exported {count:,}, expected {EXPORT_SIZE:,}", file=sys.stderr)

    for round_no in range(max(args.n, args.n_export if exports else 0)):
        for rtt in rtts:
            if round_no < args.n:
                if "logs" in only:
                    for name, (argv, env_for, expect) in lookup.items():
                        runner.run("logs <token>", name, rtt, argv, env_for(), expect)
                if "check" in only:
                    for name, argv in checks.items():
                        runner.run("check", name, rtt, argv, env, ok_codes=(0, 10))
                if "sessions" in only:
                    for name, (argv, env_for) in sessions.items():
                        runner.run("sessions --since 1h", name, rtt, argv, env_for())
            if round_no < args.n_export:
                for name, (argv, e) in exports.items():
                    runner.run("export 100,000 lines", name, rtt, argv, e)
        print(f"  round {round_no + 1} done ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f})",
              file=sys.stderr, flush=True)
    return runner


BASELINES = {
    "logs <token>": "python + client, one search (baseline)",
    "check": None,  # its own loopback time
    "sessions --since 1h": None,
    "export 100,000 lines": "elasticdump --searchAfter --pit (orx's sort)",
}


def report(args, node: ESNode, rtts: list[int], runner: Runner) -> None:
    print()
    print(f"Through the latency proxy ({'HTTPS' if args.https else 'plain HTTP'}), medians of {args.n} rounds "
          f"({args.n_export} for the export), every RTT interleaved; " + common.versions_line(node) +
          f"; load average {os.getloadavg()[0]:.1f} at the end")
    commands = list(dict.fromkeys(k[0] for k in runner.times))
    for command in commands:
        names = list(dict.fromkeys(k[1] for k in runner.times if k[0] == command))
        baseline = BASELINES.get(command)
        med = {(n, r): common.median(runner.times[(command, n, r)]) for n in names for r in rtts
               if (command, n, r) in runner.times}
        rows = []
        for name in names:
            row = [name]
            for rtt in rtts:
                t = med.get((name, rtt))
                if t is None:
                    row.append("-")
                    continue
                ratio = ""
                if baseline and (baseline, rtt) in med:
                    b = med[(baseline, rtt)]
                    ratio = f" ({t / b:.2f}x)" if command != "export 100,000 lines" else f" ({b / t:.2f}x)"
                elif not baseline and rtt and (name, 0) in med:
                    ratio = f" (+{(t - med[(name, 0)]) / (rtt / 1000):.1f} RTT)"
                row.append(f"{t * 1000:.0f} ms{ratio}")
            top = max(rtts)
            counts = runner.counts.get((command, name, top)) or []
            if counts:
                c = counts[len(counts) // 2]
                what = (f"{c.request_count} req" if not c.tls_connections else f"{c.turns} flights (TLS)")
                row.append(f"{what}, {c.connections} conn, {c.waves} seq")
                if rtts[0] == 0 and (name, 0) in med and top:
                    row.append(f"{(med[(name, top)] - med[(name, 0)]) / (top / 1000):.1f}")
                else:
                    row.append("-")
            if command.startswith("export"):
                peak = [max(runner.rss.get((command, name, r)) or [0]) for r in rtts]
                row.append(f"{max(peak):.0f} MB")
            rows.append(row)
        heads = ["contender"] + [f"RTT {r} ms" for r in rtts] + [f"at the proxy (RTT {max(rtts)})",
                                                                  "RTTs the times imply"]
        if command.startswith("export"):
            heads.append("peak RSS (max)")
        print()
        base_text = (f"ratio: time / {baseline!r}'s" if baseline and command != "export 100,000 lines"
                     else f"ratio: {baseline!r}'s time / this one's (above 1 is faster)" if baseline
                     else "in brackets: extra time over loopback, in RTTs")
        print(f"{command} ({base_text})")
        print(common.table(heads, rows))
        if command == "logs <token>":
            for name in names:
                for rtt in rtts:
                    if name.startswith("orx") and (baseline, rtt) in med and (rtt or rtt in LOOKUP_TARGETS):
                        target = LOOKUP_TARGETS.get(rtt, LOOKUP_TARGET)
                        print(f"  {name} at {rtt} ms: {med[(name, rtt)] / med[(baseline, rtt)]:.2f}x the client script "
                              f"(target <= {target}x)")
        if command == "check" and 0 in rtts:
            for name in names:
                for rtt in rtts:
                    if rtt:
                        extra = (med[(name, rtt)] - med[(name, 0)]) / (rtt / 1000)
                        print(f"  {name} at {rtt} ms: loopback + {extra:.1f} RTT (target <= {CHECK_EXTRA_RTTS})")
        if command.startswith("export"):
            loop = "loop of orx's pages, one kept connection"
            for name in (n for n in names if n.startswith("orx")):
                for rtt in rtts:
                    o = med.get((name, rtt))
                    for other, target in ((baseline, 1.5), (loop, 0.9)):
                        if o and (other, rtt) in med:
                            print(f"  {name} at {rtt} ms: {med[(other, rtt)] / o:.2f}x {other} (target >= {target}x)")
                peak = max(max(runner.rss.get((command, name, r)) or [0]) for r in rtts)
                print(f"  {name}: peak RSS {peak:.0f} MB (target < 100 MB)")
        for name in names:
            c = (runner.counts.get((command, name, max(rtts))) or [None])[0]
            if c is not None and c.requests:
                print(f"  {name} sends: " + ", ".join(r.split("?")[0] for r in c.requests[:8])
                      + (" ..." if len(c.requests) > 8 else ""))


if __name__ == "__main__":
    sys.exit(main())
