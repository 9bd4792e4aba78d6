"""Real backends for the propagation tests: the printed code in a Flask app and an Express app, and a
stock nginx in front of them. A missing tool fails the test with the reason (never a skip)."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

TESTS = Path(__file__).resolve().parent
NODE_DIR = TESTS / "node"
FLASK_APP = TESTS / "apps" / "flask_app.py"
EXPRESS_APP = NODE_DIR / "express_app.js"  # pino, shipped by pino-elasticsearch
EXPRESS_WINSTON_APP = NODE_DIR / "express_winston_app.js"  # winston, to a file


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    port: int
    log: Path
    extra: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def _need(tool: str, why: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if path is None:
        pytest.fail(f"{tool} is not installed: {why} (.ci/run installs it)", pytrace=False)
    return path


def _port_line(popen: subprocess.Popen, log: Path, name: str, deadline: float = 30.0) -> int:
    """The first line the app prints: its port."""
    end = time.monotonic() + deadline
    assert popen.stdout is not None
    while time.monotonic() < end:
        ready, _, _ = select.select([popen.stdout], [], [], 0.2)
        if ready:
            line = popen.stdout.readline().strip()
            if line.isdigit():
                return int(line)
        if popen.poll() is not None:
            break
    popen.kill()
    pytest.fail(f"{name} did not start: {log.read_text(errors='replace')[-2000:]}", pytrace=False)


def start_flask(workdir: Path, module_dir: Path, mode: str, env: dict) -> Process:
    log = workdir / f"flask-{mode}.log"
    popen = subprocess.Popen([sys.executable, str(FLASK_APP), str(module_dir)], stdout=subprocess.PIPE,
                             stderr=log.open("w"), text=True, env={**os.environ, **env, "APP_LOGGING": mode})
    return Process(f"flask ({mode})", popen, _port_line(popen, log, "the Flask app"), log)


def start_express(workdir: Path, module: Path, env: dict, script: Path = EXPRESS_APP) -> Process:
    node = _need("node", "the Express app runs the printed middleware")
    if not (NODE_DIR / "node_modules" / "pino-elasticsearch").is_dir():
        pytest.fail(f"the test's Node packages are not installed: run `npm ci --prefix {NODE_DIR}` (.ci/run does)",
                    pytrace=False)
    log = workdir / f"{script.stem}.log"
    popen = subprocess.Popen([node, str(script), str(module)], stdout=subprocess.PIPE, stderr=log.open("w"),
                             text=True, cwd=NODE_DIR,
                             env={**os.environ, **env, "NODE_PATH": str(NODE_DIR / "node_modules")})
    return Process("express", popen, _port_line(popen, log, "the Express app"), log)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NGINX_CONF = """daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # nothing about headers: nginx's defaults (ignore_invalid_headers on: a name with dots is dropped)
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    }}
}}
"""


def start_nginx(workdir: Path, upstream: int, name: str) -> Process:
    nginx = _need("nginx", "the proxy in front of the apps (Debian's nginx, stock settings)")
    home = workdir / f"nginx-{name}"
    home.mkdir()
    port = _free_port()
    conf = home / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=home, port=port, upstream=upstream))
    log = home / "error.log"
    popen = subprocess.Popen([nginx, "-p", str(home), "-c", str(conf), "-e", str(log)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.STDOUT)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if popen.poll() is not None:
            pytest.fail(f"nginx did not start: {log.read_text(errors='replace')[-2000:]}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Process(f"nginx ({name})", popen, port, log)
        except OSError:
            time.sleep(0.05)
    popen.kill()
    pytest.fail(f"nginx did not listen on {port} within 20 s: {log.read_text(errors='replace')[-2000:]}",
                pytrace=False)


def get(url: str, headers: Optional[dict] = None) -> int:
    """A browser's request, as the tracker sends it: the status (HTTP errors are answers too)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
