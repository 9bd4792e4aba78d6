#!/usr/bin/env python3
"""Server cost: Elasticsearch's `took` for the query `logs` sends, against OpenReplay's own queries.

    .venv/bin/python bench/server_cost.py [--version 9.5.4|8.19.21] [-n 50]

Starts its own node and loads the same 100,000 lines as bench/lookup.py (fixed seed) twice:
`bench-text-0..3` (message mapped `text`) and `bench-kw-0..3` (message mapped `keyword`).
For one session (its token and id), with a read-only API key, each query runs N times
interleaved after 5 warm-up runs, with `request_cache=false`; the median `took` (ms, measured
by Elasticsearch) is printed with the lines each query returns:

  * orx: the body `orx-elastic logs TOKEN --explain` prints (text body on text, keyword body on
    keyword, as `logs` picks after _field_caps): both markers, tags:error, sort utc_time, size 100;
  * OpenReplay old poller (<= v1.20): bool.filter match message `openReplaySessionToken=<token>`,
    range utc_time (epoch ms, the session's 30 minutes), term tags:error, sort utc_time asc, size 1000;
  * OpenReplay newer (v1.21+): match_phrase message `openReplaySession.id=<id>`, size 1000, no sort.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import lookup  # noqa: E402

WARMUP = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("-n", type=int, default=50, help="runs per query (default 50)")
    args = parser.parse_args()
    rng = random.Random(common.SEED)

    with common.node(args.version) as node, common.tmpdir() as tmp:
        admin = node.admin_client()
        mappings = {"text": "bench-text", "keyword": "bench-kw"}
        for message_type, prefix in mappings.items():
            for i in range(lookup.INDICES):
                common.create_index(admin, f"{prefix}-{i}", message_type)
        docs, sessions = lookup.generate(rng)
        t = time.perf_counter()

        def both():
            for doc in docs:
                number = doc["_index"].rsplit("-", 1)[1]
                for prefix in mappings.values():
                    yield {"_index": f"{prefix}-{number}", "_source": doc["_source"]}

        loaded = common.bulk_load(admin, both())
        for prefix in mappings.values():
            common.finish_indices(admin, f"{prefix}-*")
        print(f"  loaded {loaded} lines in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        key = common.read_key(admin, "bench-*")
        env = common.clean_env(tmp)
        from elasticsearch import Elasticsearch

        es = Elasticsearch(node.url, api_key=(key["id"], key["api_key"]), request_timeout=60)
        session = sessions[0]
        explained = common.explain_body(node, key, "bench-text-*", session["token"], env)
        start_ms = int((session["start"] - timedelta(minutes=5)).timestamp() * 1000)
        end_ms = int((session["start"] + timedelta(minutes=25)).timestamp() * 1000)
        old_poller = {
            "query": {"bool": {"filter": [
                {"match": {"message": f"openReplaySessionToken={session['token']}"}},
                {"range": {"utc_time": {"gte": start_ms, "lte": end_ms, "format": "epoch_millis"}}},
                {"term": {"tags": "error"}},
            ]}},
            "sort": [{"utc_time": "asc"}],
            "size": 1000,
        }
        newer = {"query": {"match_phrase": {"message": f"openReplaySession.id={session['id']}"}}, "size": 1000}
        queries = {}
        for message_type, prefix in mappings.items():
            orx_body = explained["body"] if message_type == "text" else explained["body_if_message_is_keyword"]
            queries[(message_type, "orx logs (both markers, errors, sorted, size 100)")] = (f"{prefix}-*", orx_body)
            queries[(message_type, "OpenReplay old poller (match token, range, errors, size 1000)")] = (
                f"{prefix}-*", old_poller)
            queries[(message_type, "OpenReplay v1.21+ (match_phrase id, size 1000)")] = (f"{prefix}-*", newer)

        def run(index, body) -> tuple[int, int]:
            resp = es.search(index=index, body=body, request_cache=False)
            return resp["took"], len(resp["hits"]["hits"])

        hits = {}
        for name, (index, body) in queries.items():
            for _ in range(WARMUP):
                _, hits[name] = run(index, body)
        took = {name: [] for name in queries}
        for _ in range(args.n):
            for name, (index, body) in queries.items():
                took[name].append(run(index, body)[0])

        # lines of the session each query returns: the ones carrying one of its markers, any level
        def session_lines(index, body) -> int:
            resp = es.search(index=index, body=body, request_cache=False)
            markers = (f"openReplaySessionToken={session['token']}", f"openReplaySession.id={session['id']}")
            return sum(1 for h in resp["hits"]["hits"] if any(m in h["_source"]["message"] for m in markers))

        print()
        print(f"Server cost: median `took` of {args.n} runs per query, interleaved, request_cache=false, "
              f"100,000 lines in 4 indices per mapping; " + common.versions_line(node))
        print(f"the session has {lookup.LINES_PER_SESSION} lines ({lookup.LINES_PER_SESSION // 2} per marker), "
              f"{lookup.LINES_PER_SESSION // 2} tagged error")
        rows = []
        for (message_type, label), values in took.items():
            index, body = queries[(message_type, label)]
            base = common.median(took[(message_type, "orx logs (both markers, errors, sorted, size 100)")])
            med = common.median(values)
            rows.append([f"message: {message_type}", label, f"{med:.1f}", f"{min(values)}", f"{max(values)}",
                         hits[(message_type, label)], session_lines(index, body),
                         f"{med / base:.2f}x" if base else "-"])
        print(common.table(["mapping", "query", "took median ms", "min", "max", "hits returned",
                            "of them this session's", "vs orx"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
