"""A cluster of several Elasticsearch nodes of one version on loopback, security on.

Each node is an ``ESNode`` (one JVM, its own workdir) with a shared cluster name,
``discovery.seed_hosts`` naming every node's transport port and, on the first boot
only, ``cluster.initial_master_nodes``. The ports are chosen before the nodes start
(below the kernel's ephemeral range, so nothing else is handed them meanwhile) and
kept: a node stopped with ``stop_node(i)`` comes back with ``start_node(i)`` on the
same data, ports and URL.

Transport TLS stays off: with ``network.host`` on loopback the node runs in
development mode, where the "transport TLS with security on" bootstrap check is
only a warning (checked on 8.19.21 and 9.5.4). The users file, the admin password
and, over HTTPS, one CA and certificate are the same on every node; API keys live
in the replicated ``.security`` index, so a key made through one node works on all.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import socket
import tempfile
import time
import urllib.error
from pathlib import Path
from typing import Any, Dict, List, Optional

from es_sandbox import process, tls
from es_sandbox.common import DEFAULT_VERSION, ESSandboxError
from es_sandbox.node import ADMIN_USER, START_TIMEOUT, AdminAccess, ESNode

CERTS_DIR_PREFIX = "orx-cluster-certs-"
PORT_RANGE = (20000, 32000)  # under Linux's ephemeral range (32768-60999): no port 0 node lands here


def free_ports(count: int, rng: Optional[random.Random] = None) -> List[int]:
    """``count`` distinct loopback ports that nothing listens on now."""
    rng = rng or random.SystemRandom()
    ports: List[int] = []
    for _ in range(2000):
        port = rng.randrange(*PORT_RANGE)
        if port in ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise ESSandboxError(f"found no {count} free ports in {PORT_RANGE[0]}-{PORT_RANGE[1]} on 127.0.0.1")


class ClusterNode(ESNode):
    """A member of an ``ESCluster``: seeds instead of single-node discovery."""

    workdir_prefix = process.CLUSTER_WORKDIR_PREFIX

    def __init__(self, *args: Any, seed_hosts: List[str], masters: List[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seed_hosts = list(seed_hosts)
        self._masters = list(masters)
        self.bootstrapped = False  # set once the cluster formed: the setting is for the first boot only

    def discovery_settings(self) -> Dict[str, Any]:
        s: Dict[str, Any] = {"discovery.seed_hosts": self._seed_hosts}
        if not self.bootstrapped:
            s["cluster.initial_master_nodes"] = self._masters
        return s


class ESCluster(AdminAccess):
    """``size`` nodes of one version forming one cluster; ``url`` is node 0's.

    ``urls`` lists every node's URL; ``stop_node(i)`` stops node ``i`` keeping its
    data, ``start_node(i)`` starts it again; ``wait_for_health()`` waits for a
    status and a number of nodes; ``all_up()`` brings back every stopped node.
    Admin requests go to a node that runs (``admin_client()`` knows them all).
    """

    def __init__(
        self,
        version: str = DEFAULT_VERSION,
        size: int = 3,
        https: bool = False,
        *,
        heap: str = "384m",
        extra_settings: Optional[Dict[str, Any]] = None,
        start_timeout: float = 2 * START_TIMEOUT,
        detach: bool = False,
    ) -> None:
        if size < 2:
            raise ESSandboxError("a cluster has at least 2 nodes (ESNode is the single one)")
        self.version = version
        self.size = size
        self.https = https
        self.scheme = "https" if https else "http"
        self.host = "127.0.0.1"
        self.name = f"orx-cluster-{random.SystemRandom().randrange(16**6):06x}"
        self.admin_user = ADMIN_USER
        self.admin_password = ""
        self.ca_path: Optional[Path] = None
        self.fingerprint: Optional[str] = None
        self.ca_fingerprint: Optional[str] = None
        self.nodes: List[ClusterNode] = []
        self.start_seconds: Optional[float] = None
        self._heap = heap
        self._extra = dict(extra_settings or {})
        self._timeout = start_timeout
        self._detach = detach
        self._certs_dir: Optional[Path] = None

    def __repr__(self) -> str:
        return f"<ESCluster {self.version} {self.name} x{self.size}>"

    def __enter__(self) -> "ESCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ attributes
    @property
    def url(self) -> Optional[str]:  # type: ignore[override]
        return self.nodes[0].url if self.nodes else None

    @property
    def port(self) -> Optional[int]:
        return self.nodes[0].port if self.nodes else None

    @property
    def urls(self) -> List[str]:
        return [node.url for node in self.nodes if node.url]

    @property
    def workdir(self) -> Optional[Path]:
        return self.nodes[0].workdir if self.nodes else None

    @property
    def log_path(self) -> Optional[Path]:
        return self.nodes[0].log_path if self.nodes else None

    # ---------------------------------------------------------------- start
    def start(self) -> "ESCluster":
        t0 = time.monotonic()
        process.install_handlers()
        with process.LIVE_LOCK:
            process.LIVE.add(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        if self._detach:
            with process.LIVE_LOCK:
                process.LIVE.discard(self)
        return self

    def _start(self) -> None:
        import secrets

        self.admin_password = secrets.token_urlsafe(18)
        certs = None
        if self.https:
            tls.require_cryptography()
            self._certs_dir = Path(tempfile.mkdtemp(prefix=CERTS_DIR_PREFIX))
            certs = tls.write_certificates(self._certs_dir)
            self.fingerprint, self.ca_fingerprint = certs["fingerprint"], certs["ca_fingerprint"]
        ports = free_ports(2 * self.size)
        http, transport = ports[: self.size], ports[self.size:]
        names = [f"{self.name}-{i}" for i in range(self.size)]
        seeds = [f"127.0.0.1:{port}" for port in transport]
        settings = {"cluster.name": self.name, **self._extra}
        for i in range(self.size):
            self.nodes.append(ClusterNode(
                self.version, self.https, detach=self._detach, start_timeout=self._timeout, heap=self._heap,
                extra_settings=settings, name=names[i], http_port=http[i], transport_port=transport[i],
                admin_password=self.admin_password, certs=certs, seed_hosts=seeds, masters=names))
        for node in self.nodes:  # side by side: the cluster forms once a majority of them runs
            node.launch()
        for node in self.nodes:
            node.wait_ready()
            node.bootstrapped = True
        self.ca_path = self.nodes[0].ca_path
        self.wait_for_health("green", nodes=self.size)

    # ------------------------------------------------------------ requests
    def running_nodes(self) -> List[ClusterNode]:
        return [node for node in self.nodes if node.running and node.url]

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30):
        """An admin request to the first node that runs."""
        running = self.running_nodes()
        if not running:
            raise ESSandboxError(f"{self!r}: no node runs")
        return running[0].request(method, path, body=body, timeout=timeout)

    def admin_client(self, **kwargs):
        """An ``elasticsearch.Elasticsearch`` client for every node (it moves on when one is down)."""
        from elasticsearch import Elasticsearch

        kw: Dict[str, Any] = {"basic_auth": (self.admin_user, self.admin_password), "request_timeout": 30,
                              "retry_on_timeout": True, "max_retries": 2 * self.size}
        if self.ca_path:
            kw["ca_certs"] = str(self.ca_path)
        kw.update(kwargs)
        return Elasticsearch(self.urls, **kw)

    def wait_for_health(self, status: str = "green", nodes: Optional[int] = None, timeout: float = 120.0) -> Dict[str, Any]:
        """Wait until the cluster has ``status`` (or better), ``nodes`` nodes and no shard moving."""
        wanted = f"&wait_for_nodes={nodes}" if nodes is not None else ""
        path = (f"/_cluster/health?wait_for_status={status}{wanted}&wait_for_no_initializing_shards=true"
                "&wait_for_no_relocating_shards=true&wait_for_events=languid&timeout=10s")
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            try:
                code, body = self.request("GET", path, timeout=20)
                answer = json.loads(body)
                if code == 200 and not answer.get("timed_out"):
                    return answer
                last = f"HTTP {code}: {body[:300]}"
            except (urllib.error.URLError, OSError, ValueError, ESSandboxError) as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise ESSandboxError(f"{self!r} did not reach {status} with {nodes} nodes within {timeout:.0f}s "
                                     f"(last: {last})")
            time.sleep(0.25)

    # ------------------------------------------------------- stop and start
    def stop_node(self, i: int, hard: bool = False) -> None:
        """Stop node ``i`` (``hard``: SIGKILL, a crash), keeping its data; returns once the others see it gone."""
        node = self.nodes[i]
        node.kill(hard=hard)
        if self.running_nodes():  # any status: an index whose every copy was there is red now
            self.wait_for_health("red", nodes=len(self.running_nodes()))

    def start_node(self, i: int) -> None:
        """Start node ``i`` again on its data and ports; returns once all nodes are back and green."""
        node = self.nodes[i]
        node.relaunch()
        node.wait_ready()
        self.wait_for_health("green", nodes=len(self.running_nodes()))

    def all_up(self) -> None:
        """Every stopped node started again, the cluster green (what the next test expects)."""
        down = [i for i, node in enumerate(self.nodes) if not node.running]
        for i in down:
            self.nodes[i].relaunch()
        for i in down:
            self.nodes[i].wait_ready()
        self.wait_for_health("green", nodes=self.size)

    def node_of_primary(self, index: str, shard: int = 0) -> int:
        """The position in ``nodes`` of the node holding primary ``shard`` of ``index``."""
        code, body = self.request("GET", f"/_cat/shards/{index}?format=json&h=shard,prirep,state,node")
        if code != 200:
            raise ESSandboxError(f"GET /_cat/shards/{index}: HTTP {code}: {body[:300]}")
        for row in json.loads(body):
            if row["prirep"] == "p" and int(row["shard"]) == shard and row["state"] == "STARTED":
                return [node.name for node in self.nodes].index(row["node"])
        raise ESSandboxError(f"no started primary {shard} of {index}: {body[:300]}")

    def stop(self) -> None:
        """Stop every node and remove their files."""
        with process.LIVE_LOCK:
            process.LIVE.discard(self)
        for node in self.nodes:
            node.stop()
        if self._certs_dir is not None:
            shutil.rmtree(self._certs_dir, ignore_errors=True)

    def state(self) -> Dict[str, Any]:
        with contextlib.suppress(IndexError):
            first = self.nodes[0].state()
            return {**first, "cluster": self.name, "urls": self.urls,
                    "certs_dir": str(self._certs_dir) if self._certs_dir else None,
                    "nodes": [node.state() for node in self.nodes]}
        return {"cluster": self.name, "nodes": []}
