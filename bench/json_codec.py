#!/usr/bin/env python3
"""JSON cost per page of hits: the standard library against orjson, decoding responses and writing lines.

    .venv/bin/python bench/json_codec.py [-n 15]

No node: a search response of 5,000 hits is built (fixed seed) twice, with the ECS-like documents of
bench/timebased.py (~1.2 KB of source each) and with the 3-field lines of bench/export.py. For each:

  * decoding the response: json.loads (what the client does by default), orjson.loads (what the client's
    OrjsonSerializer does), and orjson.loads behind a guard that sends responses holding an integer
    beyond 64 bits to json.loads (orjson reads those as floats: a silent change of the data);
  * writing the hits as JSON lines: elastic_cli.output._json_line with orjson and with the standard
    library (the same text either way).

CPU time of this process (time.process_time, the minimum of N runs: the machine is shared), ms per page.
Needs orjson installed (`pip install orjson`).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import timebased  # noqa: E402

PAGE = 5000


def ecs_hits(rng: random.Random) -> list[dict]:
    data = timebased.Data(rng, datetime(2026, 1, 30, tzinfo=timezone.utc), PAGE)
    hits = []
    for i, (index, doc) in enumerate(data.actions()):
        hits.append({"_index": index, "_id": f"{rng.getrandbits(60):015x}", "_score": None,
                     "_source": json.loads(doc), "sort": [1769731200000 + i, i]})
        if len(hits) == PAGE:
            return hits
    return hits


def small_hits(rng: random.Random) -> list[dict]:
    sid = common.flake_id(rng, common.T0)
    return [{"_index": "bench-export-0", "_id": f"{rng.getrandbits(60):015x}", "_score": None, "_source": {
        "message": f"{common.noise(rng, rng.randrange(6, 16))} openReplaySession.id={sid} "
                   f"request_id={rng.getrandbits(64):016x} {common.noise(rng, 4)}",
        "utc_time": "2024-01-20T10:00:00.000Z", "tags": ["error"]}, "sort": [1705744800000 + i, i]}
        for i in range(PAGE)]


def cpu_ms(fn, arg, n: int) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.process_time()
        fn(arg)
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs of each (default 15); the minimum is kept")
    args = parser.parse_args()
    try:
        import orjson
    except ImportError:
        sys.exit("orjson is not installed")
    import elastic_cli.output as output

    guard = re.compile(rb"[0-9]{20}|-[0-9]{19}")

    def guarded(data: bytes):
        return json.loads(data) if guard.search(data) else orjson.loads(data)

    def lines(records):
        for record in records:
            output._json_line(record)

    rng = random.Random(common.SEED)
    print(f"CPU ms per page of {PAGE} hits (min of {args.n}); python {sys.version.split()[0]}, "
          f"orjson {orjson.__version__}")
    rows = []
    for label, hits in (("ECS-like, 32 fields", ecs_hits(rng)), ("3 fields (export.py)", small_hits(rng))):
        page = json.dumps({"took": 5, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0,
                                                                        "failed": 0},
                           "hits": {"max_score": None, "hits": hits}}).encode()
        assert orjson.loads(page) == json.loads(page)
        records = [{"_index": h["_index"], "_id": h["_id"], "_source": h["_source"]} for h in hits]
        decode_std = cpu_ms(json.loads, page, args.n)
        decode_or = cpu_ms(orjson.loads, page, args.n)
        decode_guard = cpu_ms(guarded, page, args.n)
        output._orjson_dumps = None  # looked up again: orjson
        write_or = cpu_ms(lines, records, args.n)
        output._orjson_dumps = False  # the standard library path
        write_std = cpu_ms(lines, records, args.n)
        output._orjson_dumps = None
        rows += [
            [label, f"{len(page) / 1e6:.1f} MB", "decode: json.loads (baseline)", f"{decode_std:.1f}", "1.00x"],
            [label, "", "decode: orjson.loads", f"{decode_or:.1f}", f"{decode_std / decode_or:.2f}x"],
            [label, "", "decode: orjson.loads + 64-bit guard", f"{decode_guard:.1f}", f"{decode_std / decode_guard:.2f}x"],
            [label, "", "write lines: stdlib (baseline)", f"{write_std:.1f}", "1.00x"],
            [label, "", "write lines: orjson", f"{write_or:.1f}", f"{write_std / write_or:.2f}x"],
        ]
    print(common.table(["documents", "page", "step", "CPU ms", "speed vs baseline"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
