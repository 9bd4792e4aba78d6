#!/usr/bin/env python3
"""Where the server's time goes when a session is exported in time order, and what would not help.

    .venv/bin/python bench/fetch_cost.py [--version 9.5.4|8.19.21] [-n 2]

Starts its own node and loads export.py's data twice (fixed seed): `bench-export-*` with the
lines in random time order (export.py's default layout) and `bench-shipped-*` with the same
lines in time order (as a shipper writes them). For the 1,000,000-line session it walks every
hit with a point in time and search_after, pages of export.py's size, one keep-alive HTTP
connection and no JSON parsing (the bytes are counted, the last sort value is cut out), so the
figures are the server's. Variants, N rounds interleaved, medians:

  * orx's body (time sort, then _shard_doc), whole hits;
  * the same without `_source` (the `_id` is still read from the stored fields);
  * the same with `stored_fields: _none_` (no stored field read at all);
  * `_shard_doc` order only (what an unordered scroll reads), whole hits, and without stored fields;
  * windows: a histogram of the matching lines' times cut into windows of at most W lines,
    each window read in `_shard_doc` order (with its times as doc values) to be sorted on the
    client: the way around time-ordered paging that was tried and not built.

While the first variant runs, `_nodes/hot_threads` is sampled once and its top frames printed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import export  # noqa: E402
from elastic_cli.search.pager import PAGE_SIZE  # noqa: E402

SIZE = 1_000_000
WINDOWS = (20_000, 50_000)
TIME_FIELD = "utc_time"
_LAST_SORT = re.compile(rb'"sort":(\[[^\]]*\])')


class Raw:
    """Requests over one keep-alive connection; answers as bytes."""

    def __init__(self, url: str, auth: str):
        parsed = urlparse(url)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
        self.auth = auth

    def call(self, method: str, path: str, body: dict | None = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        self.conn.request(method, path, body=data, headers={"Authorization": self.auth,
                                                             "Content-Type": "application/json"})
        response = self.conn.getresponse()
        raw = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
        return raw


def walk(raw: Raw, pattern: str, query: dict, sort: list, extra: dict | None = None) -> int:
    pit = json.loads(raw.call("POST", f"/{pattern}/_pit?keep_alive=5m"))["id"]
    hits = page_through(raw, {"id": pit, "keep_alive": "5m"}, query, sort, extra)
    raw.call("DELETE", "/_pit", {"id": pit})
    return hits


def page_through(raw: Raw, pit: dict, query: dict, sort: list, extra: dict | None = None) -> int:
    """Hits read by search_after through the point in time, counted in the bytes."""
    hits, after = 0, None
    while True:
        body = {"query": query, "sort": sort, "size": PAGE_SIZE, "pit": pit, "track_total_hits": False,
                **(extra or {})}
        if after is not None:
            body["search_after"] = after
        page = raw.call("POST", "/_search", body)
        count = page.count(b'"sort":[')
        hits += count
        if count < PAGE_SIZE:
            return hits
        after = json.loads(_LAST_SORT.findall(page)[-1])


def windowed(raw: Raw, pattern: str, query: dict, limit: int) -> int:
    """Histogram windows of at most `limit` lines, each read in _shard_doc order."""
    pit = json.loads(raw.call("POST", f"/{pattern}/_pit?keep_alive=5m"))["id"]
    keep = {"id": pit, "keep_alive": "5m"}
    bounds = json.loads(raw.call("POST", "/_search", {
        "query": query, "size": 0, "pit": keep, "track_total_hits": False,
        "aggs": {"lo": {"min": {"field": TIME_FIELD}}, "hi": {"max": {"field": TIME_FIELD}}}}))["aggregations"]
    low, high = int(bounds["lo"]["value"]), int(bounds["hi"]["value"])
    step = max(1, (high - low) // 4000 + 1)
    buckets = json.loads(raw.call("POST", "/_search", {
        "query": query, "size": 0, "pit": keep, "track_total_hits": False,
        "aggs": {"h": {"histogram": {"field": TIME_FIELD, "interval": step, "offset": low % step,
                                     "min_doc_count": 1}}}}))["aggregations"]["h"]["buckets"]
    windows, start, count = [], None, 0
    for bucket in buckets:
        key = int(bucket["key"])
        start = key if start is None else start
        if count and count + bucket["doc_count"] > limit:
            windows.append((start, key))
            start, count = key, 0
        count += bucket["doc_count"]
    windows.append((start, high + 1))
    hits = 0
    for lo, hi in windows:
        inside = {"bool": {"filter": [query, {"range": {TIME_FIELD: {"gte": lo, "lt": hi, "format": "epoch_millis"}}}]}}
        hits += page_through(raw, keep, inside, [{"_shard_doc": {"order": "asc"}}],
                             {"docvalue_fields": [{"field": TIME_FIELD, "format": "epoch_millis"}]})
    raw.call("DELETE", "/_pit", {"id": pit})
    return hits


def hot_threads(node, delay: float, out: list) -> None:
    time.sleep(delay)
    status, text = node.request("GET", "/_nodes/hot_threads?threads=2&interval=500ms&snapshots=10"
                                       "&ignore_idle_threads=true")
    out.append(text if status == 200 else f"hot_threads: {status}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("-n", type=int, default=2, help="rounds (default 2)")
    args = parser.parse_args()
    rng = random.Random(common.SEED)
    with common.node(args.version, heap="1g") as node:
        admin = node.admin_client()
        sessions = export.load(admin, rng, (SIZE,), "shuffled")
        rng = random.Random(common.SEED)  # the same lines again, in time order, in other indices
        export.load(admin, rng, (SIZE,), "shipped", prefix="bench-shipped")
        key = common.read_key(admin, "bench-*")
        with common.tmpdir() as tmp:
            body = common.explain_body(node, key, export.PATTERN, sessions[SIZE], common.clean_env(tmp))["body"]
        raw = Raw(node.url, "ApiKey " + key["encoded"])
        time_sort = body["sort"] + [{"_shard_doc": {"order": "asc"}}]
        doc_sort = [{"_shard_doc": {"order": "asc"}}]
        query = body["query"]
        variants = {}
        for layout, pattern in (("random time order", "bench-export-*"), ("time order", "bench-shipped-*")):
            variants[(layout, "orx's body: time sort, then _shard_doc")] = (
                lambda p=pattern: walk(raw, p, query, time_sort))
            variants[(layout, "  same, _source: false (the _id is still read)")] = (
                lambda p=pattern: walk(raw, p, query, time_sort, {"_source": False}))
            variants[(layout, "  same, stored_fields: _none_ (nothing read)")] = (
                lambda p=pattern: walk(raw, p, query, time_sort, {"stored_fields": "_none_"}))
            variants[(layout, "_shard_doc order (as a scroll reads)")] = (
                lambda p=pattern: walk(raw, p, query, doc_sort))
            variants[(layout, "  same, stored_fields: _none_")] = (
                lambda p=pattern: walk(raw, p, query, doc_sort, {"stored_fields": "_none_"}))
            for limit in WINDOWS:
                variants[(layout, f"windows of <= {limit:,}, each in _shard_doc order")] = (
                    lambda p=pattern, w=limit: windowed(raw, p, query, w))
        seconds: dict = {name: [] for name in variants}
        sampled: list = []
        # sampled once, two seconds into the first walk (orx's body on the randomly ordered lines)
        threading.Thread(target=hot_threads, args=(node, 2.0, sampled), daemon=True).start()
        for round_ in range(args.n):
            for name, run in variants.items():
                start = time.perf_counter()
                hits = run()
                seconds[name].append(time.perf_counter() - start)
                if hits != SIZE:
                    print(f"  WARNING: {name} read {hits:,} hits, expected {SIZE:,}", file=sys.stderr)
            print(f"  round {round_ + 1} done", file=sys.stderr, flush=True)
        base = {layout: common.median(seconds[(layout, "orx's body: time sort, then _shard_doc")])
                for layout, _ in variants}
        rows = [[layout, name, f"{common.median(s):.2f}s", f"{min(s):.2f}s", f"{common.median(s) / base[layout]:.2f}x"]
                for (layout, name), s in seconds.items()]
        print(f"\nServer cost of reading the {SIZE:,}-line session, pages of {PAGE_SIZE}, bytes only, "
              f"{args.n} rounds interleaved; " + common.versions_line(node))
        print(common.table(["lines indexed in", "walk", "wall (median)", "min", "vs orx's body"], rows))
        frames = [line.strip() for line in "".join(sampled).splitlines()
                  if "cpu usage by thread" in line or line.strip().startswith("app/org.apache.lucene")]
        print("\nhot_threads during the first walk (orx's body, random time order), top frames:")
        print("\n".join(frames[:12]) or "(none sampled)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
