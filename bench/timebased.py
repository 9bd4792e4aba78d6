#!/usr/bin/env python3
"""One session lookup over 30 daily indices: orx (with and without the session window) against OpenReplay's queries.

    .venv/bin/python bench/timebased.py [--version 9.5.4|8.19.21] [-n 10] [--lines-per-day 50000]

Starts its own node (1 GB heap) and loads, with a fixed seed, 30 daily indices `app-logs-YYYY.MM.DD`
(the last 30 UTC days up to today; 1 shard, 0 replicas each) of ECS-like documents with 32 leaf fields
(@timestamp, utc_time, message, tags, log.level/logger, service.*, host.*, container.*, kubernetes.*,
http.*, url.path, event.*, trace.id, transaction.id, user.id, client.ip, user_agent.original,
process.*, cloud.*, ecs.version): 50,000 background lines a day (1.5 million), a fifth of them carrying
the marker of a background session of that day, plus 300 sessions whose lines (20-200 each, half of
them tagged error, half the markers `openReplaySessionToken=<token>`, half `openReplaySession.id=<id>`)
sit in the last two days. Every session id is a flake id whose decoded start is the time of its first
line. Strings are keyword, `message` text. Older indices are force-merged (as ILM's warm phase does).

One session is looked up, over the same index pattern `*log*`, with a read-only key on it, by:

  * orx-elastic logs ID -v              (the session window: its start minus 1 day)
  * orx-elastic logs ID -v --no-session-window
  * orx-elastic logs ID -v -o csv       (fixed columns: only 3 source fields are asked for)
  * with --baseline-tool PATH: the same two orx commands run by another build (before/after)
  * OpenReplay v1.21's query shape: match_phrase message `openReplaySession.id=<id>`, size 1000,
    no sort, no time filter (curl, one request)
  * OpenReplay's old poller shape (<= v1.20): bool.filter match message `openReplaySessionToken=<token>`,
    range utc_time (epoch ms, the session's span), term tags error, sort utc_time asc, size 1000 (curl)

For each, interleaved N rounds: wall time of the whole command, the server's `took` (for orx: summed
over the requests its pager sends, measured through elastic_cli.search.lines in this process; the CLI's
own `_field_caps` request is not in it), shards searched and skipped (orx: the CLI's `-v` line), hits.
Targets: the window searches at most 3 of the 30 indices' shards; orx's `took` <= 0.5x v1.21's shape.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

DAYS = 30
SESSIONS = 300
PATTERN = "*log*"
PREFIX = "app-logs-"
TOOK_TARGET = 0.5
SHARDS_TARGET = 3

SERVICES = [f"{n}-svc" for n in ["checkout", "cart", "payments", "users", "search", "orders", "inventory", "auth", "gateway", "mailer"]]
HOSTS = [f"ip-10-0-{i // 16}-{i % 16 * 7}.ec2.internal" for i in range(48)]
PATHS = ["/api/v1/users", "/api/v1/orders", "/api/v1/cart", "/api/v1/payments", "/health", "/login",
         "/api/v2/search", "/api/v1/inventory/items", "/checkout/confirm", "/static/app.js"]
LOGGERS = ["app.http", "app.db", "app.worker", "app.cache", "app.auth", "org.hibernate.SQL", "uvicorn.error"]
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
          "okhttp/4.12.0", "python-requests/2.31.0"]
LEVELS = ["info"] * 6 + ["debug"] * 2 + ["warning"] + ["error"]
STATUS = [200] * 12 + [201, 204, 301, 400, 401, 403, 404, 500, 502, 503]

MAPPINGS = {
    "dynamic_templates": [{"strings": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}}],
    "properties": {
        "@timestamp": {"type": "date"}, "utc_time": {"type": "date"}, "message": {"type": "text"},
        "tags": {"type": "keyword"}, "host": {"properties": {"ip": {"type": "ip"}}},
        "client": {"properties": {"ip": {"type": "ip"}}},
        "event": {"properties": {"duration": {"type": "long"}}},
        "http": {"properties": {"response": {"properties": {"status_code": {"type": "long"}}}}},
    },
}


def day_start(day: datetime) -> datetime:
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def index_of(moment: datetime) -> str:
    return f"{PREFIX}{moment:%Y.%m.%d}"


class Data:
    """The documents, built from one seed; times relative to `now` (today's UTC day is the last index)."""

    def __init__(self, rng: random.Random, now: datetime, lines_per_day: int):
        self.rng, self.now, self.lines_per_day = rng, now, lines_per_day
        self.today = day_start(now)
        self.days = [self.today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
        # sessions of interest: start in the last two days, at least 2 h before now
        earliest = self.today - timedelta(days=1)
        span = int((now - timedelta(hours=2) - earliest).total_seconds() * 1000)
        self.sessions = []
        for _ in range(SESSIONS):
            start = earliest + timedelta(milliseconds=rng.randrange(span))
            sid = common.flake_id(rng, start)
            self.sessions.append({"id": str(sid), "start": start, "lines": rng.randrange(20, 201),
                                  "token": common.make_token(rng, sid, start + timedelta(hours=2))})
        # background sessions: 200 a day, markers on a fifth of the background lines
        self.background: dict[datetime, list[str]] = {}
        for day in self.days:
            markers = []
            for _ in range(200):
                start = day + timedelta(milliseconds=rng.randrange(86_400_000))
                if start > now:
                    start = now - timedelta(minutes=rng.randrange(1, 600))
                sid = common.flake_id(rng, start)
                markers.append(f"openReplaySession.id={sid}")
                markers.append("openReplaySessionToken=" + common.make_token(rng, sid, start + timedelta(hours=2)))
            self.background[day] = markers

    def fragments(self, count: int = 4000) -> list[str]:
        """The fields besides time, message and level, as JSON text: `count` variants drawn once
        (building 1.5 million documents field by field would cost minutes of Python)."""
        r = self.rng
        out = []
        for _ in range(count):
            out.append(json.dumps({
                "service": {"name": r.choice(SERVICES), "version": f"1.{r.randrange(40)}.{r.randrange(10)}",
                            "environment": "production"},
                "host": {"name": r.choice(HOSTS), "ip": f"10.0.{r.randrange(4)}.{r.randrange(1, 255)}",
                         "architecture": "x86_64"},
                "container": {"id": f"{r.getrandbits(64):016x}", "image": {"name": "registry.local/app:stable"}},
                "kubernetes": {"namespace": "prod", "pod": {"name": f"app-{r.getrandbits(20):05x}"}},
                "http": {"request": {"method": r.choice(("GET", "GET", "GET", "POST", "PUT", "DELETE"))},
                         "response": {"status_code": r.choice(STATUS)}},
                "url": {"path": r.choice(PATHS)},
                "event": {"duration": r.randrange(100_000, 900_000_000), "dataset": "app.log", "module": "app"},
                "trace": {"id": f"{r.getrandbits(128):032x}"}, "transaction": {"id": f"{r.getrandbits(64):016x}"},
                "user": {"id": f"u{r.randrange(50_000)}"},
                "client": {"ip": f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"},
                "user_agent": {"original": r.choice(AGENTS)},
                "process": {"pid": r.randrange(1, 65_000), "thread": {"name": f"worker-{r.randrange(16)}"}},
                "cloud": {"provider": "aws", "region": "eu-west-1"},
                "ecs": {"version": "8.11.0"},
            }, separators=(",", ":"))[1:-1])
        return out

    def actions(self):
        """(index, document as JSON bytes); messages hold only words, '=', '.', '-' and base58: no escaping."""
        r = self.rng
        frags = self.fragments()
        words = common.WORDS

        def doc(moment: datetime, message: str, level: str) -> bytes:
            stamp = common.iso(moment)
            return (f'{{"@timestamp":"{stamp}","utc_time":"{stamp}","message":"{message}","tags":["{level}"],'
                    f'"log":{{"level":"{level.upper()}","logger":"{r.choice(LOGGERS)}"}},{r.choice(frags)}}}'
                    ).encode()

        for sess in self.sessions:
            for i in range(sess["lines"]):
                moment = sess["start"] + timedelta(milliseconds=0 if i == 0 else r.randrange(3_600_000))
                moment = min(moment, self.now)
                marker = (f"openReplaySessionToken={sess['token']}" if i % 2 == 0
                          else f"openReplaySession.id={sess['id']}")
                level = "error" if i % 4 < 2 else r.choice(("info", "warning"))
                message = f"{' '.join(r.choices(words, k=6))} {marker} {' '.join(r.choices(words, k=4))}"
                yield index_of(moment), doc(moment, message, level)
        for day in self.days:
            length = min(86_400_000, int((self.now - day).total_seconds() * 1000))
            markers = self.background[day]
            name = index_of(day)
            for _ in range(self.lines_per_day):
                moment = day + timedelta(milliseconds=r.randrange(length))
                message = " ".join(r.choices(words, k=r.randrange(6, 18)))
                if r.random() < 0.2:
                    message = f"{message} {r.choice(markers)}"
                yield name, doc(moment, message, r.choice(LEVELS))


def load(admin, data: Data) -> int:
    for day in data.days:
        admin.indices.create(index=index_of(day), settings={
            "number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1",
            "translog": {"durability": "async"}}, mappings=MAPPINGS)
    t = time.perf_counter()
    from elasticsearch import helpers

    loaded, _ = helpers.bulk(admin.options(request_timeout=600), data.actions(), chunk_size=10_000,
                             max_chunk_bytes=50 * 1024 * 1024, refresh=False, raise_on_error=True,
                             expand_action_callback=lambda a: ({"index": {"_index": a[0]}}, a[1]))
    print(f"  loaded {loaded:,} lines in {time.perf_counter() - t:.0f}s", file=sys.stderr, flush=True)
    t = time.perf_counter()
    admin.indices.put_settings(index=f"{PREFIX}*", settings={"refresh_interval": "1s"})
    admin.indices.refresh(index=f"{PREFIX}*")
    older = ",".join(index_of(day) for day in data.days[:-1])
    admin.options(request_timeout=1800).indices.forcemerge(index=older, max_num_segments=1)
    admin.indices.refresh(index=f"{PREFIX}*")
    print(f"  refreshed and force-merged the 29 older indices in {time.perf_counter() - t:.0f}s",
          file=sys.stderr, flush=True)
    return loaded


def curl_search(curl: str, url: str, key: dict, body: dict) -> tuple[float, dict]:
    argv = [curl, "-s", "-f", "-X", "POST", "-H", f"Authorization: ApiKey {key['encoded']}",
            "-H", "Content-Type: application/json", "--data-binary", json.dumps(body), f"{url}/{PATTERN}/_search"]
    start = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - start, json.loads(r.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.version_arg(parser)
    parser.add_argument("-n", type=int, default=10, help="rounds (default 10)")
    parser.add_argument("--lines-per-day", type=int, default=50_000, help="background lines per daily index")
    parser.add_argument("--session", type=int, default=0, help="which of the 300 sessions to look up")
    parser.add_argument("--baseline-tool", help="another orx-elastic executable (e.g. a build of main) to run beside")
    args = parser.parse_args()
    curl = common.curl_available()
    rng = random.Random(common.SEED)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    data = Data(rng, now, args.lines_per_day)
    sess = data.sessions[args.session]

    with common.node(args.version, heap="1g") as node, common.tmpdir() as tmp:
        admin = node.admin_client()
        total = load(admin, data)
        key = common.read_key(admin, PATTERN)
        env = common.clean_env(tmp)
        from elastic_cli.openreplay.session_token import markers, parse_session_ref, session_start
        from elastic_cli.search import lines as search_lines
        from elastic_cli.search import plan as search_plan
        from elastic_cli.search.query import LogQuery
        from elasticsearch import Elasticsearch

        es = Elasticsearch(node.url, api_key=(key["id"], key["api_key"]), request_timeout=60)
        shards = len(data.days)  # one primary each, no replicas

        def orx_lib(window: bool) -> tuple[int, int, int, int]:
            """(took ms summed over the pager's requests, shards searched, skipped, lines) via the library."""
            ref = parse_session_ref(sess["id"])
            started = session_start(ref.session_id, datetime.now(timezone.utc))
            win = search_plan.session_window(started, search_lines.DEFAULT_SESSION_MARGIN) if window else None
            query = LogQuery(markers=markers(ref), since=win.since if win else None)
            plan = search_plan.plan_search(es, [PATTERN], query, session_start=started)
            stats = search_lines.SearchStats()
            lines = list(search_lines.session_lines(es, plan, limit=101, stats=stats))
            took = sum(s.took_ms for s in stats.streams)
            return took, stats.shards_total - stats.shards_skipped, stats.shards_skipped, min(len(lines), 100)

        def orx_cli(*extra: str, tool: list[str] | None = None, fmt: str = "ndjson"):
            argv = common.cli(node, key, PATTERN, sess["id"], "-o", fmt, *extra)
            if tool:
                argv[:len(common.TOOL)] = tool
            argv.insert(len(tool or common.TOOL), "-v")  # a global flag: before the command
            start = time.perf_counter()
            r = subprocess.run(argv, capture_output=True, env=env)
            wall = time.perf_counter() - start
            if r.returncode != 0:
                raise RuntimeError(r.stderr.decode()[-2000:])
            m = re.search(r"shards: (\d+) searched, (\d+) skipped", r.stderr.decode())
            total_shards, skipped = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
            return wall, total_shards - skipped, skipped, len(r.stdout.splitlines())

        start_ms = int(sess["start"].timestamp() * 1000)
        v121 = {"query": {"match_phrase": {"message": f"openReplaySession.id={sess['id']}"}}, "size": 1000}
        old_poller = {"query": {"bool": {"filter": [
            {"match": {"message": f"openReplaySessionToken={sess['token']}"}},
            {"range": {"utc_time": {"gte": start_ms - 300_000, "lte": start_ms + 3_900_000, "format": "epoch_millis"}}},
            {"term": {"tags": "error"}}]}}, "sort": [{"utc_time": "asc"}], "size": 1000}

        def curl_run(body):
            def run():
                wall, resp = curl_search(curl, node.url, key, body)
                sh = resp["_shards"]
                return wall, resp["took"], sh["total"] - sh.get("skipped", 0), sh.get("skipped", 0), len(resp["hits"]["hits"])
            return run

        contenders = {
            "orx logs ID (session window)": (lambda: orx_cli(), lambda: orx_lib(True)),
            "orx logs ID --no-session-window": (lambda: orx_cli("--no-session-window"), lambda: orx_lib(False)),
            "orx logs ID -o csv (window; _source: the 3 columns)": (lambda: orx_cli(fmt="csv"), lambda: orx_lib(True)),
            "OpenReplay v1.21 shape (match_phrase id, no time filter, size 1000)": curl_run(v121),
            "OpenReplay old poller shape (match token, range, tags error, sort, size 1000)": curl_run(old_poller),
        }
        if args.baseline_tool:
            base_tool = [args.baseline_tool]
            contenders["baseline build: orx logs ID (session window)"] = (
                lambda: orx_cli(tool=base_tool), lambda: orx_lib(True))
            contenders["baseline build: orx logs ID -o csv (whole _source)"] = (
                lambda: orx_cli(tool=base_tool, fmt="csv"), lambda: orx_lib(True))
        results: dict[str, dict[str, list]] = {name: {"wall": [], "took": [], "searched": [], "skipped": [],
                                                      "hits": []} for name in contenders}
        for round_ in range(args.n + 1):  # round 0 warms up and is not counted
            for name, c in contenders.items():
                if isinstance(c, tuple):
                    wall, searched, skipped, hits = c[0]()
                    # another build's took is not measured (the library in this process is this tree's)
                    took = c[1]()[0] if not name.startswith("baseline") else float("nan")
                else:
                    wall, took, searched, skipped, hits = c()
                if round_ == 0:
                    continue
                for k, v in (("wall", wall), ("took", took), ("searched", searched), ("skipped", skipped),
                             ("hits", hits)):
                    results[name][k].append(v)

        print()
        print(f"Session lookup over {DAYS} daily indices ({total:,} lines, {shards} shards) through `{PATTERN}`, "
              f"{args.n} rounds interleaved; " + common.versions_line(node))
        print(f"session {sess['id']} (#{args.session}): started {common.iso(sess['start'])}, {sess['lines']} lines "
              f"({(sess['lines'] + 1) // 2} with the token, {sess['lines'] // 2} with the id)")
        base = common.median(results["OpenReplay v1.21 shape (match_phrase id, no time filter, size 1000)"]["took"])
        rows = []
        for name, r in results.items():
            took = common.median(r["took"])
            measured = took == took  # NaN: another build's took is not measured
            rows.append([name, f"{common.median(r['wall']) * 1000:.0f}ms", f"{took:.1f}ms" if measured else "-",
                         f"{took / base:.2f}x" if base and measured else "-", f"{common.median(r['searched']):.0f}",
                         f"{common.median(r['skipped']):.0f}", f"{common.median(r['hits']):.0f}"])
        print(common.table(["contender", "wall (median)", "server took (median)", "took vs v1.21",
                            "shards searched", "skipped", "hits"], rows))
        win = results["orx logs ID (session window)"]
        searched, ratio = max(win["searched"]), common.median(win["took"]) / base if base else float("inf")
        print(f"\nwindow: at most {searched} of {shards} shards searched (target <= {SHARDS_TARGET}): "
              f"{'ok' if searched <= SHARDS_TARGET else 'OVER'}")
        print(f"window: server took {ratio:.2f}x v1.21's shape (target <= {TOOK_TARGET}x): "
              f"{'ok' if ratio <= TOOK_TARGET else 'OVER'}")
        print("orx took: summed over its pager's requests (open PIT and _field_caps report no took); "
              "the old poller shape's hits are only the token-marked error lines of the session's hour")
    return 0


if __name__ == "__main__":
    sys.exit(main())
