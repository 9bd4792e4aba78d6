"""The cluster harness's pure parts: ports, discovery settings, what a sweep keeps."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from es_sandbox import process, sandbox
from es_sandbox.cluster import PORT_RANGE, ClusterNode, free_ports


def test_free_ports_are_distinct_bindable_and_below_the_ephemeral_range():
    ports = free_ports(6)
    assert len(set(ports)) == 6
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert all(PORT_RANGE[0] <= port < PORT_RANGE[1] < low for port in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_initial_master_nodes_only_until_the_cluster_formed():
    node = ClusterNode("9.5.4", seed_hosts=["127.0.0.1:1", "127.0.0.1:2"], masters=["a", "b"], name="a",
                       http_port=3, transport_port=1)
    node.workdir = Path("/nonexistent")
    first = node.settings()
    assert first["cluster.initial_master_nodes"] == ["a", "b"]
    assert first["discovery.seed_hosts"] == ["127.0.0.1:1", "127.0.0.1:2"]
    assert "discovery.type" not in first and first["http.port"] == 3 and first["transport.port"] == 1
    node.bootstrapped = True
    assert "cluster.initial_master_nodes" not in node.settings()


def _old_dir(prefix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=prefix + "unit-"))
    past = time.time() - 3600
    os.utime(d, (past, past))
    return d


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_stopped_node_kept_for_a_restart_survives_sweeps_while_its_owner_lives():
    kept = _old_dir(process.CLUSTER_WORKDIR_PREFIX)
    orphan = _old_dir(process.CLUSTER_WORKDIR_PREFIX)
    try:
        (kept / "es.pid").write_text(f"{_dead_pid()}\n")
        process.mark_kept(kept)  # what ESNode.kill() does: this process owns it now
        (orphan / "es.kept").write_text(f"{_dead_pid()}\n")
        for d in (kept, orphan):
            past = time.time() - 3600
            os.utime(d, (past, past))
        removed = process.sweep_stale_workdirs()
        assert str(orphan) in removed and not orphan.exists()
        assert str(kept) not in removed and kept.exists() and not (kept / "es.pid").exists()
    finally:
        for d in (kept, orphan):
            if d.exists():
                shutil.rmtree(d)


def test_stopping_a_recorded_cluster_removes_every_node_and_the_record(tmp_path, monkeypatch):
    monkeypatch.setenv("ORX_ES_SANDBOX_STATE", str(tmp_path / "state.json"))
    dirs = [_old_dir(process.CLUSTER_WORKDIR_PREFIX) for _ in range(3)]
    certs = Path(tempfile.mkdtemp(prefix="orx-cluster-certs-"))
    state = {"url": "http://127.0.0.1:1", "pgid": None, "workdir": str(dirs[0]), "certs_dir": str(certs),
             "nodes": [{"pgid": None, "workdir": str(d)} for d in dirs]}
    sandbox.write_state(state)
    assert not sandbox.is_alive(sandbox.read_state())
    sandbox.clean_up(sandbox.read_state())
    assert not any(d.exists() for d in dirs) and not certs.exists()
    assert sandbox.read_state() is None
