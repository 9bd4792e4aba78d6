"""Shared pieces of the benchmarks: a node, fake OpenReplay logs, a read-only key, the CLI argv, statistics.

Not a test helper: the benchmarks are scripts (see bench/RESULTS.md for how to run them).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from elastic_cli.openreplay.session_token import to_base36  # noqa: E402
from es_sandbox import ESNode  # noqa: E402

DEFAULT_VERSION = "9.5.4"
VERSIONS = ("8.19.21", "9.5.4")
SEED = 20240124
PYTHON = sys.executable
ENTRY = Path(PYTHON).parent / "orx-elastic"
TOOL = [str(ENTRY)] if ENTRY.exists() else [PYTHON, "-m", "elastic_cli"]

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
T0 = datetime(2024, 1, 20, tzinfo=timezone.utc)
FLAKE_EPOCH_MS = 1550000000000
WORDS = ["GET", "POST", "PUT", "/api/v1/users", "/api/v1/orders", "/health", "/login", "timeout", "upstream", "retry", "cache", "miss", "hit", "user", "order", "payment", "db", "query", "slow", "connection", "reset", "refused", "ok", "done", "started", "stopped", "worker", "job", "queue", "redis", "postgres", "kafka", "consumer", "lag", "rebalance", "shard", "node", "pod", "container", "oom", "killed"]


# ------------------------------------------------------------------ node

def version_arg(parser) -> None:
    parser.add_argument("--version", default=DEFAULT_VERSION, choices=VERSIONS,
                        help=f"Elasticsearch version (default {DEFAULT_VERSION})")


def compile_bytecode() -> None:
    """Write the .pyc files a `pip install` writes: the tool and its dependencies, as users run them.

    This machine sets PYTHONDONTWRITEBYTECODE=1, so the venv has none, and every run of a
    contender would compile ~150 modules from source first (0.5-0.9 s of CPU per run).
    """
    import compileall
    import sysconfig

    for path in (sysconfig.get_paths()["purelib"], str(ROOT / "elastic_cli")):
        compileall.compile_dir(path, quiet=2, workers=0)


def pin_node(n: ESNode, cpu: int) -> None:
    """Pin every thread of the node's processes to one CPU (`taskset`)."""
    pids = subprocess.run(["pgrep", "-g", str(n.pid)], capture_output=True, text=True).stdout.split() or [str(n.pid)]
    for pid in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), pid], check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def node(version: str, heap: str = "512m") -> Iterator[ESNode]:
    """A started node, stopped at the end (also on error or Ctrl-C)."""
    compile_bytecode()
    print(f"starting Elasticsearch {version} (heap {heap}) ...", file=sys.stderr, flush=True)
    n = ESNode(version, heap=heap)
    try:
        n.start()
        print(f"  up at {n.url} in {n.start_seconds:.0f}s", file=sys.stderr, flush=True)
        yield n
    finally:
        n.stop()


def read_key(client, pattern: str) -> dict:
    """A read-only API key on the pattern, as `create-key` makes it: returns id, api_key, encoded."""
    resp = client.security.create_api_key(
        name=f"bench-{secrets.token_hex(4)}",
        role_descriptors={"bench_read": {"indices": [{"names": [pattern], "privileges": ["read"]}]}},
    )
    return {"id": resp["id"], "api_key": resp["api_key"], "encoded": resp["encoded"]}


# ------------------------------------------------------------------ data

def make_token(rng: random.Random, session_id: int, expiry: datetime) -> str:
    """A token in OpenReplay's format (signature is random, 32 bytes in base58)."""
    sig_int = int.from_bytes(bytes(rng.getrandbits(8) for _ in range(32)), "big") | (1 << 255)
    sig = ""
    while sig_int:
        sig_int, r = divmod(sig_int, 58)
        sig = BASE58[r] + sig
    return ".".join((to_base36(session_id), to_base36(rng.randrange(1, 5000)),
                     to_base36(int(expiry.timestamp() * 1000)), sig))


def noise(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bulk_load(client, actions, chunk_size: int = 5000) -> int:
    from elasticsearch import helpers

    ok, _ = helpers.bulk(client.options(request_timeout=300), actions, chunk_size=chunk_size, refresh=False,
                         raise_on_error=True, max_chunk_bytes=50 * 1024 * 1024)
    return ok


def flake_id(rng: random.Random, start: datetime) -> int:
    """An OpenReplay session id whose decoded start is `start`: ((ms - epoch) << 24) | 24 random bits."""
    return ((int(start.timestamp() * 1000) - FLAKE_EPOCH_MS) << 24) | rng.getrandbits(24)


def create_index(client, name: str, message_type: str = "text", shards: int = 1) -> None:
    client.indices.create(index=name, settings={"number_of_shards": shards, "number_of_replicas": 0,
                                                "refresh_interval": "-1"},
                          mappings={"properties": {"message": {"type": message_type},
                                                   "utc_time": {"type": "date"},
                                                   "tags": {"type": "keyword"}}})


def finish_indices(client, pattern: str) -> None:
    client.indices.put_settings(index=pattern, settings={"refresh_interval": "1s"})
    client.indices.refresh(index=pattern)
    client.indices.forcemerge(index=pattern, max_num_segments=1, request_timeout=300)
    client.indices.refresh(index=pattern)


# ------------------------------------------------------------------ the CLI

def clean_env(tmp: str) -> dict:
    """No user config, no ORX_ELASTIC_* from the caller: only the flags count."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_")}
    env["ORX_ELASTIC_CONFIG"] = str(Path(tmp) / "absent-config.yaml")
    env["NO_COLOR"] = "1"
    return env


def cli(n: ESNode, key: dict, indexes: str, *args: str) -> list[str]:
    return [*TOOL, "logs", *args, "--host", n.url, "--id", key["id"], "--api-key", key["api_key"],
            "--indexes", indexes]


def explain_body(n: ESNode, key: dict, indexes: str, ref: str, env: dict, *extra: str) -> dict:
    out = subprocess.run(cli(n, key, indexes, ref, "--explain", *extra), capture_output=True, env=env, check=True)
    return json.loads(out.stdout)


def curl_available() -> str:
    path = shutil.which("curl")
    if not path:
        sys.exit("curl is needed for this benchmark")
    return path


# ------------------------------------------------------------------ timing

def run_timed(argv: Sequence[str], env: dict | None = None, stdout=subprocess.DEVNULL, check: bool = True,
              **kw) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, env=env, **kw)
    elapsed = time.perf_counter() - start
    if check and result.returncode != 0:
        raise RuntimeError(f"failed ({result.returncode}): {' '.join(map(str, argv))[:300]}\n"
                           f"{result.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def interleave(commands: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    """Each callable once per round, in the same order, so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, fn in commands.items():
            times[name].append(fn())
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def versions_line(n: ESNode) -> str:
    import elasticsearch

    return (f"Elasticsearch {n.version}; Python {sys.version.split()[0]}; elasticsearch-py "
            f"{elasticsearch.__versionstr__}; nproc {os.cpu_count()}; "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")


def tmpdir():
    return tempfile.TemporaryDirectory(prefix="orx-bench-")
