"""The detached sandbox node: started once, recorded in a state file, reused, stopped."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from es_sandbox import process
from es_sandbox.cluster import CERTS_DIR_PREFIX, ESCluster
from es_sandbox.common import cache_root, state_path
from es_sandbox.download import is_cached
from es_sandbox.node import ESNode
from es_sandbox.sample_data import RECENT_MINUTES_AGO, SampleSessions, load_sample_logs, recent_sessions

# A recent sample is made again once it is older than this (`check` judges sessions of the last day).
RECENT_SAMPLE_KEPT_MS = 12 * 3600 * 1000


@dataclass(frozen=True)
class Running:
    """A sandbox node that answers, and what this call did to get it."""

    state: Dict[str, Any]
    started: bool  # False: an already running node was reused
    loaded: Mapping[str, int]  # sample lines indexed per index (empty when reused)
    seconds: float = 0.0


def read_state() -> Optional[Dict[str, Any]]:
    path = state_path()
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def write_state(state: Mapping[str, Any]) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the admin password
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _members(state: Mapping[str, Any]) -> List[Mapping[str, Any]]:
    """The recorded node, or each node of a recorded cluster."""
    return list(state.get("nodes") or [state])


def _node_alive(node: Mapping[str, Any]) -> bool:
    pgid = node.get("pgid")
    return bool(pgid) and process.group_alive(pgid) and process.group_is_ours(pgid, node.get("workdir") or "")


def is_alive(state: Mapping[str, Any]) -> bool:
    return all(_node_alive(node) for node in _members(state))


def clean_up(state: Mapping[str, Any]) -> None:
    """Stop the recorded node(s) still ours, remove their files and the record."""
    ours = (process.NODE_WORKDIR_PREFIX, process.CLUSTER_WORKDIR_PREFIX, CERTS_DIR_PREFIX)
    for node in _members(state):
        workdir = node.get("workdir") or ""
        if _node_alive(node):
            process.kill_group(node["pgid"])
        if workdir and os.path.basename(workdir).startswith(ours) and os.path.isdir(workdir):
            shutil.rmtree(workdir, ignore_errors=True)
    certs = state.get("certs_dir") or ""
    if certs and os.path.basename(certs).startswith(ours) and os.path.isdir(certs):
        shutil.rmtree(certs, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        state_path().unlink()


def ensure_running(version: str, https: bool = False, say: Callable[[str], None] = print,
                   nodes: int = 1) -> Running:
    """Reuse the recorded node (or cluster) when it runs, else start one and load the sample logs."""
    state = read_state()
    if state and is_alive(state):
        return Running(state=state, started=False, loaded={})
    if state:
        clean_up(state)
    node: Union[ESNode, ESCluster] = (ESNode(version, https=https, detach=True) if nodes == 1
                                      else ESCluster(version, size=nodes, https=https, detach=True))
    what = f"Elasticsearch {version} ({f'{nodes} nodes, ' if nodes > 1 else ''}{node.scheme})"
    if is_cached(version):
        say(f"Starting {what} from {cache_root() / version} ...")
    else:  # said only when it happens: the wait is the download's
        say(f"Starting {what}; downloading it first from Maven Central "
            f"into {cache_root() / version} (once) ...")
    node.start()
    try:
        with node.admin_client() as client:
            loaded = load_sample_logs(client)
    except BaseException:
        node.stop()
        raise
    state = node.state()
    write_state(state)
    return Running(state=state, started=True, loaded=loaded, seconds=node.start_seconds or 0.0)


@dataclass(frozen=True)
class RecentSample:
    """The sample dated relative to now, on the sandbox node (the quick start's)."""

    sessions: SampleSessions
    loaded: Mapping[str, int]
    made: bool  # False: the one an earlier run made (less than 12 hours old) was indexed again


def ensure_recent_sample(state: Dict[str, Any], now_ms: int) -> RecentSample:
    """Index the sample's sessions as started minutes before now, beside the fixed 2024 sample, so
    `check` has a session of the last day to judge and `sessions --since 7d` lists them. The start is
    kept in the state file: a run within 12 hours reuses it (the same ids and tokens as before); an older
    one gets a new start, and its lines replace the earlier recent copy (same document ids)."""
    start_ms = state.get("recent_sample_start_ms")
    reuse = isinstance(start_ms, int) and 0 <= now_ms - start_ms < RECENT_SAMPLE_KEPT_MS
    sessions = recent_sessions(start_ms + RECENT_MINUTES_AGO * 60_000) if reuse else recent_sessions(now_ms)
    with admin_of(state).admin_client() as client:
        loaded = load_sample_logs(client, sessions=sessions)
    if not reuse:
        state["recent_sample_start_ms"] = now_ms - RECENT_MINUTES_AGO * 60_000
        write_state(state)
    return RecentSample(sessions=sessions, loaded=loaded, made=not reuse)


def loaded_summary(loaded: Mapping[str, int]) -> str:
    """`12 lines into app-logs, 5 lines into logs`: words, not a Python dict."""
    return ", ".join(f"{count} {'line' if count == 1 else 'lines'} into {index}"
                     for index, count in loaded.items()) or "nothing"


def admin_of(state: Mapping[str, Any]) -> ESNode:
    """Admin requests (`request`) to the recorded node."""
    node = ESNode(state["version"], https=state["url"].startswith("https"))
    node.url, node.admin_password = state["url"], state["password"]
    node.ca_path = Path(state["ca"]) if state.get("ca") else None
    return node


def health(state: Mapping[str, Any]) -> str:
    """The cluster health of the recorded node, in a word (or why it does not answer)."""
    node = admin_of(state)
    try:
        status, body = node.request("GET", "/_cluster/health", timeout=10)
        return json.loads(body).get("status") if status == 200 else f"HTTP {status}"
    except (OSError, ValueError) as exc:
        return f"unreachable ({exc})"

