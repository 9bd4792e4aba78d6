"""One single-node Elasticsearch cluster with security on, in its own temp dir."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional

from es_sandbox import process, tls, users
from es_sandbox.common import DEFAULT_VERSION, ESSandboxError
from es_sandbox.download import ensure_distribution
from es_sandbox.java import find_java_home

ADMIN_USER = "elastic-admin"
START_TIMEOUT = 120.0
LOG_TAIL_LINES = 30


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        data = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data[-lines:]) if data else f"(empty log {path})"


class AdminAccess:
    """Admin requests to a cluster; needs url, https, admin_user, admin_password, ca_path.

    Shared by ESNode and by the tests' ExternalNode (a cluster the developer already runs).
    """

    url: str
    https: bool
    admin_user: str
    admin_password: str
    ca_path: Optional[Path]

    def ssl_context(self) -> Optional[ssl.SSLContext]:
        if not self.https:
            return None
        return ssl.create_default_context(cafile=str(self.ca_path) if self.ca_path else None)

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30):
        """Plain urllib request with admin basic auth: returns (status, text)."""
        data = None
        headers = {
            "Authorization": "Basic " + base64.b64encode(
                f"{self.admin_user}:{self.admin_password}".encode()).decode(),
        }
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context()) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def admin_client(self, **kwargs):
        """An ``elasticsearch.Elasticsearch`` client with the admin's basic auth."""
        from elasticsearch import Elasticsearch

        kw: Dict[str, Any] = {"basic_auth": (self.admin_user, self.admin_password),
                              "request_timeout": 30}
        if self.ca_path:
            kw["ca_certs"] = str(self.ca_path)
        kw.update(kwargs)
        return Elasticsearch(self.url, **kw)



class ESNode(AdminAccess):
    """One single-node Elasticsearch cluster with security on, in its own temp dir.

    Attributes (valid after ``start()``): ``version``, ``url``, ``scheme``,
    ``host``, ``port``, ``admin_user``, ``admin_password``, ``ca_path`` and
    ``fingerprint`` (``None`` over HTTP; ``fingerprint`` is the SHA-256 of the
    node's HTTP certificate in lower-case hex, as Elasticsearch prints it),
    ``ca_fingerprint``, ``workdir``, ``log_path`` (the node's console output),
    ``pid``, ``pgid``.

    A member of a bigger cluster (es_sandbox/cluster.py) is the same node with
    other discovery settings, fixed ports, and certificates and a password it
    shares: ``launch()`` and ``wait_ready()`` start nodes side by side, ``kill()``
    stops one keeping its data, ``relaunch()`` starts it again on that data.
    """

    def __init__(
        self,
        version: str = DEFAULT_VERSION,
        https: bool = False,
        *,
        detach: bool = False,
        start_timeout: float = START_TIMEOUT,
        heap: str = "512m",
        extra_settings: Optional[Dict[str, Any]] = None,
        name: str = "orx-node",
        http_port: int = 0,
        transport_port: int = 0,
        admin_password: Optional[str] = None,
        certs: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.version = version
        self.https = https
        self.name = name
        self.scheme = "https" if https else "http"
        self.host = "127.0.0.1"
        self.port: Optional[int] = None
        self.url: Optional[str] = None
        self.admin_user = ADMIN_USER
        self.admin_password = admin_password or secrets.token_urlsafe(18)
        self.ca_path: Optional[Path] = None
        self.fingerprint: Optional[str] = None
        self.ca_fingerprint: Optional[str] = None
        self.workdir: Optional[Path] = None
        self.log_path: Optional[Path] = None
        self.pid: Optional[int] = None
        self.pgid: Optional[int] = None
        self.java_home: Optional[Path] = None
        self.start_seconds: Optional[float] = None
        self._detach = detach
        self._timeout = start_timeout
        self._heap = heap
        self._extra = dict(extra_settings or {})
        self._http_port = http_port
        self._transport_port = transport_port
        self._certs = certs  # tls.write_certificates' answer, to copy instead of making new ones
        self._home: Optional[Path] = None
        self._uid: Optional[int] = None
        self._gid: Optional[int] = None
        self._proc: Optional[subprocess.Popen] = None

    # temp dirs named so are swept by any later start once their node is gone (process.py)
    workdir_prefix = process.NODE_WORKDIR_PREFIX

    def __repr__(self) -> str:
        return f"<ESNode {self.version} {self.name} {self.url or 'not started'}>"

    # context manager
    def __enter__(self) -> "ESNode":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- start
    def discovery_settings(self) -> Dict[str, Any]:
        """How the node finds its cluster: alone, here."""
        return {"discovery.type": "single-node"}

    def settings(self) -> Dict[str, Any]:
        s: Dict[str, Any] = {
            "cluster.name": "orx-sandbox",
            "node.name": self.name,
            **self.discovery_settings(),
            "network.host": self.host,
            "http.port": self._http_port,
            "transport.port": self._transport_port,
            "node.portsfile": True,
            "path.data": str(self.workdir / "data"),
            "path.logs": str(self.workdir / "logs"),
            "xpack.security.enabled": True,
            "xpack.security.http.ssl.enabled": self.https,
            "xpack.security.transport.ssl.enabled": False,
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
        }
        if self.https:
            s.update({
                "xpack.security.http.ssl.certificate": "certs/http.crt",
                "xpack.security.http.ssl.key": "certs/http.key",
                "xpack.security.http.ssl.certificate_authorities": ["certs/ca.crt"],
            })
        s.update(self._extra)
        return s

    def start(self) -> "ESNode":
        """Launch the node and wait until it answers (the cluster is yellow or green)."""
        self.launch()
        self.wait_ready()
        return self

    def launch(self) -> "ESNode":
        """Prepare the workdir and start the process, without waiting for it."""
        if self._proc is not None or self.pgid is not None:
            raise ESSandboxError(f"{self!r} already started")
        self._t0 = time.monotonic()
        process.install_handlers()
        with process.LIVE_LOCK:
            process.LIVE.add(self)
        try:
            self._prepare()
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self) -> "ESNode":
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - self._t0
        if self._detach:
            with process.LIVE_LOCK:
                process.LIVE.discard(self)
        return self

    def relaunch(self) -> "ESNode":
        """After ``kill()``: start the process again on the same data, config and ports."""
        if self.workdir is None or not self.workdir.exists():
            raise ESSandboxError(f"{self!r} has no workdir to start again from")
        if self._proc is not None or self.pgid is not None:
            raise ESSandboxError(f"{self!r} is still running")
        self._t0 = time.monotonic()
        with process.LIVE_LOCK:
            process.LIVE.add(self)
        self._write_config()
        self._launch()
        return self

    def _prepare(self) -> None:
        """Distribution, Java, workdir, config, certificates, users: everything but the process."""
        if self.https:
            tls.require_cryptography()  # fail early, before the download, if missing
        home = ensure_distribution(self.version)
        self.java_home = find_java_home(self.version)
        if os.geteuid() == 0:
            self._uid, self._gid = process.ensure_system_user()

        with contextlib.suppress(OSError):
            process.sweep_stale_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.workdir_prefix}{self.version}-"))
        wd = self.workdir
        config = wd / "config"
        shutil.copytree(home / "config", config)
        if self._uid is not None:
            # /root is 0700: the node's user could not read the cache there.
            process.link_tree(home, wd / "dist")
            home = wd / "dist"
        self._home = home
        for sub in ("data", "logs", "tmp"):
            (wd / sub).mkdir()
        if self.https:
            if self._certs is None:
                certs = tls.write_certificates(config)
            else:
                shutil.copytree(Path(self._certs["ca_path"]).parent, config / "certs")
                certs = dict(self._certs, ca_path=config / "certs" / "ca.crt")
            self.ca_path = certs["ca_path"]
            self.fingerprint = certs["fingerprint"]
            self.ca_fingerprint = certs["ca_fingerprint"]
        (config / "users").write_text(users.users_file(self.admin_user, self.admin_password))
        (config / "users_roles").write_text(users.users_roles_file(self.admin_user))
        self.log_path = wd / "logs" / "console.log"
        self.log_path.touch()
        self._write_config()
        if self._uid is not None:
            process.chown_tree(config, self._uid, self._gid)
            for sub in ("data", "logs", "tmp"):
                process.chown_tree(wd / sub, self._uid, self._gid)
            os.chown(wd, self._uid, self._gid)
            os.chmod(wd, 0o750)
        else:
            os.chmod(wd, 0o700)

    def _write_config(self) -> None:
        path = self.workdir / "config" / "elasticsearch.yml"
        path.write_text(
            "# written by orx-elastic es_sandbox/node.py\n"
            + "".join(f"{k}: {json.dumps(v)}\n" for k, v in self.settings().items())
        )
        if self._uid is not None:
            os.chown(path, self._uid, self._gid)

    def _launch(self) -> None:
        wd = self.workdir
        # a ports file left by an earlier run would name the old ports before the node is up
        for stale in (wd / "logs" / "http.ports", wd / "logs" / "transport.ports", wd / "es.kept"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        env = {
            k: v for k, v in os.environ.items()
            if k not in ("JAVA_HOME", "ES_JAVA_OPTS", "ES_HOME", "ES_PATH_CONF", "CLI_JAVA_OPTS",
                         "ES_JAVA_HOME", "ES_TMPDIR")
        }
        env.update({
            "ES_JAVA_HOME": str(self.java_home),
            "ES_PATH_CONF": str(wd / "config"),
            "ES_TMPDIR": str(wd / "tmp"),
            "ES_JAVA_OPTS": f"-Xms{self._heap} -Xmx{self._heap}",
            "HOME": str(wd),
            "ORX_ES_WORKDIR": str(wd),  # lets `stop` recognise the process group
        })
        popen_kw: Dict[str, Any] = dict(
            cwd=str(wd / "logs"),  # gc.log, hs_err files land here
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() kills all of it
        )
        # Not detached: if this process is killed (even with SIGKILL), the
        # launcher gets SIGKILL and the server exits when its stdin closes.
        popen_kw["preexec_fn"] = process.child_preexec(self._uid, self._gid, die_with_parent=not self._detach)
        executable = self._home / "bin" / "elasticsearch"
        with open(self.log_path, "ab") as log:
            try:
                self._proc = subprocess.Popen([str(executable)], stdout=log, stderr=subprocess.STDOUT, **popen_kw)
            except OSError as exc:
                raise ESSandboxError(f"could not start {executable}: {exc}") from None
        self.pid = self.pgid = self._proc.pid
        (wd / "es.pid").write_text(f"{self.pid}\n")

    def _fail(self, why: str) -> ESSandboxError:
        return ESSandboxError(
            f"Elasticsearch {self.version} {self.name} ({'https' if self.https else 'http'}) {why}.\n"
            f"Java: {self.java_home}; workdir: {self.workdir}\n"
            f"--- last {LOG_TAIL_LINES} lines of {self.log_path} ---\n{_tail(self.log_path)}"
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._timeout
        ports = self.workdir / "logs" / "http.ports"
        while True:
            if self._proc.poll() is not None:
                raise self._fail(f"exited with code {self._proc.returncode} while starting")
            if ports.exists():
                text = ports.read_text().strip()
                if text:
                    addr = text.splitlines()[0]
                    self.port = int(addr.rsplit(":", 1)[1])
                    self.url = f"{self.scheme}://{self.host}:{self.port}"
                    break
            if time.monotonic() > deadline:
                raise self._fail(f"did not write {ports} within {self._timeout:.0f}s")
            time.sleep(0.1)
        last_error = ""
        while True:
            if self._proc.poll() is not None:
                raise self._fail(f"exited with code {self._proc.returncode} while starting")
            try:
                status, body = self.request(
                    "GET", "/_cluster/health?wait_for_status=yellow&timeout=5s", timeout=10)
                if status == 200 and json.loads(body).get("status") in ("yellow", "green"):
                    return
                last_error = f"HTTP {status}: {body[:300]!r}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last_error = repr(exc)
            if time.monotonic() > deadline:
                raise self._fail(
                    f"did not answer GET /_cluster/health within {self._timeout:.0f}s "
                    f"(last: {last_error})")
            time.sleep(0.25)

    # ------------------------------------------------------------- requests
    # ----------------------------------------------------------------- stop
    def kill(self, hard: bool = False) -> None:
        """Stop the node's process group (TERM, then KILL; ``hard``: KILL at once), keeping its workdir."""
        grace = 0.0 if hard else 20.0
        with process.LIVE_LOCK:
            process.LIVE.discard(self)
        if self.pgid is not None:
            process.kill_group(self.pgid, grace=grace)
            if self._proc is not None:
                with contextlib.suppress(Exception):
                    self._proc.wait(timeout=5)
            self.pgid = None
            if self.workdir is not None and self.workdir.exists():
                # kept for relaunch(): no longer a dead node's dir to sweep, while this process lives
                process.mark_kept(self.workdir)
        self._proc = None

    def stop(self) -> None:
        """Kill the node's process group (TERM, then KILL) and remove its workdir."""
        self.kill()
        if self.workdir is not None and self.workdir.exists():
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def state(self) -> Dict[str, Any]:
        return {
            "version": self.version,
            "pid": self.pid,
            "pgid": self.pgid,
            "url": self.url,
            "user": self.admin_user,
            "password": self.admin_password,
            "ca": str(self.ca_path) if self.ca_path else None,
            "fingerprint": self.fingerprint,
            "workdir": str(self.workdir),
            "log": str(self.log_path),
        }
