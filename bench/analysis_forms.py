#!/usr/bin/env python3
"""Server cost of the slower query forms (issue 35): the wildcard on the terms and `unknown`'s every form,
against the phrase form, on a large index.

    .venv/bin/python bench/analysis_forms.py [--version 9.5.4|8.19.21] [--lines 1000000] [-n 15]

Starts its own node and loads the same lines (fixed seed) into two one-shard indices, force-merged to one
segment: `forms-std` (message `text`, standard analyzer) and `forms-ws` (whitespace analyzer). One line in
ten carries a marker (of 50,000 sessions, in the contexts loggers write: plain, `ctx:`, JSON); every line
carries a request id and numbers of its own, so the term dictionary holds about as many terms as lines
(what a leading wildcard walks). Each query runs N times interleaved after 3 warm-up runs, with
`request_cache=false`; the median and slowest `took` (ms, measured by Elasticsearch) are printed with the
hits, and the ratio to the baseline, the phrase form `logs` sends to a standard index:

  * logs, one session (size 100, errors only, sorted by time, as `logs <id>` sends it, from
    `query.build_search_body`): `split` on forms-std (the baseline: phrase and the id's prefix), `unknown`
    on forms-std (every form: what an index not learnt yet gets), `whole` on forms-ws (a wildcard `*<id>*`);
  * sessions, any session (every match counted: `track_total_hits`, size 0, the cost of finding every marked
    line the walk reads): the markers' words only (what `sessions` sent before: misses glued markers),
    `split` on forms-std (the words and `*openreplaysession*`), `whole` on forms-ws.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from elastic_cli.openreplay.session_token import markers, parse_session_ref  # noqa: E402
from elastic_cli.search.query import LogQuery, build_search_body  # noqa: E402
from elastic_cli.search.sessions import marked_lines_query  # noqa: E402

WARMUP = 3
SESSIONS = 50_000
TARGET_LINES = 20
CONTEXTS = ("openReplaySession.id={id} {words}", "ctx:openReplaySession.id={id} {words}",
            '{{"ctx":"openReplaySession.id={id}","msg":"{words}"}}', "[openReplaySessionToken={token}] {words}")
START = datetime(2024, 1, 24, tzinfo=timezone.utc)


def generate(rng: random.Random, lines: int):
    sessions = [common.flake_id(rng, START + timedelta(seconds=rng.randrange(7 * 86400))) for _ in range(SESSIONS)]
    target = sessions[0]
    expiry = START + timedelta(days=8)
    targets = set(rng.sample(range(lines), TARGET_LINES))
    for n in range(lines):
        moment = START + timedelta(milliseconds=rng.randrange(7 * 86400 * 1000))
        words = common.noise(rng, 6)
        own = f"req={rng.getrandbits(48):x} user={rng.randrange(10**6)} took={rng.randrange(5000)}ms"
        if n in targets or rng.random() < 0.1:
            session = target if n in targets else rng.choice(sessions)
            context = rng.choice(CONTEXTS)
            token = common.make_token(rng, session, expiry) if "{token}" in context else ""
            message = context.format(id=session, token=token, words=f"{words} {own}")
        else:
            message = f"{words} {own}"
        yield {"message": message, "utc_time": common.iso(moment),
               "tags": ["error"] if rng.random() < 0.3 else ["info"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in each index (default 1,000,000)")
    parser.add_argument("-n", type=int, default=15, help="runs per query (default 15)")
    args = parser.parse_args()
    rng = random.Random(common.SEED)

    with common.node(args.version, heap="1g") as node:
        admin = node.admin_client()
        indices = {"forms-std": "standard", "forms-ws": "whitespace"}
        for name, analyzer in indices.items():
            admin.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0,
                                                       "refresh_interval": "-1"},
                                 mappings={"properties": {"message": {"type": "text", "analyzer": analyzer},
                                                          "utc_time": {"type": "date"},
                                                          "tags": {"type": "keyword"}}})
        t = time.perf_counter()
        docs = list(generate(rng, args.lines))
        loaded = common.bulk_load(admin, ({"_index": name, "_source": doc} for doc in docs for name in indices))
        common.finish_indices(admin, "forms-*")
        print(f"  loaded {loaded} lines in {time.perf_counter() - t:.0f}s", file=sys.stderr, flush=True)
        segments = admin.indices.stats(index="forms-std", metric="segments")["indices"]["forms-std"]["primaries"][
            "segments"]["count"]
        key = common.read_key(admin, "forms-*")
        from elasticsearch import Elasticsearch

        es = Elasticsearch(node.url, api_key=(key["id"], key["api_key"]), request_timeout=300)

        ref = parse_session_ref(_target_id(docs))

        def logs_body(kind: str) -> dict:
            q = LogQuery(markers=markers(ref), message_terms=kind, source_fields=None)
            return build_search_body(q, 100)

        def sessions_body(query: dict) -> dict:
            return {"query": query, "size": 0, "track_total_hits": True}

        old_words = {"bool": {"should": [{"match_phrase": {"message": "openReplaySessionToken"}},
                                         {"match_phrase": {"message": "openReplaySession.id"}}],
                              "minimum_should_match": 1}}
        queries = {
            "logs: split (phrase + id prefix), std  [baseline]": ("forms-std", logs_body("split")),
            "logs: unknown (every form), std": ("forms-std", logs_body("unknown")),
            "logs: whole (wildcard *id*), ws": ("forms-ws", logs_body("whole")),
            "sessions: marker words only (before), std": ("forms-std", sessions_body(old_words)),
            "sessions: split (words + *openreplaysession*), std": (
                "forms-std", sessions_body(marked_lines_query("message", False, "split"))),
            "sessions: whole (*openreplaysession*), ws": (
                "forms-ws", sessions_body(marked_lines_query("message", False, "whole"))),
        }

        def run(index: str, body: dict) -> tuple[int, int]:
            answer = es.search(index=index, request_cache=False, **body)
            total = answer["hits"]["total"]["value"] if body.get("track_total_hits") is True else len(
                answer["hits"]["hits"])
            return int(answer["took"]), int(total)

        for index, body in queries.values():
            for _ in range(WARMUP):
                run(index, body)
        took: dict[str, list[int]] = {name: [] for name in queries}
        hits: dict[str, int] = {}
        for _ in range(args.n):
            for name, (index, body) in queries.items():
                ms, hits[name] = run(index, body)
                took[name].append(ms)
        baseline = common.median(took[next(iter(queries))]) or 1
        rows = [(name, f"{common.median(values):.0f}", max(values), hits[name],
                 f"{common.median(values) / baseline:.1f}x") for name, values in took.items()]
        print(common.versions_line(node))
        print(f"{args.lines:,} lines an index, one shard, {segments} segment(s); session "
              f"{ref.session_id} ({TARGET_LINES} lines, errors among them); runs {args.n}, request_cache off")
        print(common.table(("query", "median took ms", "max", "hits", "vs baseline"), rows))
    return 0


def _target_id(docs) -> str:
    """The session generate() gave TARGET_LINES lines: the most frequent id among the marked lines."""
    from collections import Counter

    from elastic_cli.search.sessions import sessions_in_line

    counts: Counter[str] = Counter()
    for doc in docs:
        counts.update(list(sessions_in_line(doc["message"])[0]))
    return counts.most_common(1)[0][0]


if __name__ == "__main__":
    sys.exit(main())
