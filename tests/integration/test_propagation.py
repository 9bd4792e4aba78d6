"""The propagation kit, end to end on real parts: the code `orx-elastic instrument` prints, written to a
file and run as is in a Flask app (shipped by the printed ElasticsearchHandler) and an Express app (pino,
shipped by pino-elasticsearch), each behind Debian's nginx with its stock settings, into a real node;
then `logs`, `shows` and `canary` as a user runs them.

OpenReplay v1.21+ reads the index `logs`, global to the node: this module points an alias `logs` at its
own indices with `orx-elastic alias` and removes it afterwards (as test_shows does).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from elastic_cli.openreplay.session_token import to_base36

from conftest import Env, run_cli
from logs_index import drop_logs
from propagation_apps import EXPRESS_WINSTON_APP, get, start_express, start_flask, start_nginx

SIG = "ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"  # 32 bytes in base58, as a real token's signature
STACKS = ("python-flask", "node-express-pino")


@dataclass(frozen=True)
class Session:
    id: str
    token: str


def new_session() -> Session:
    """A session that starts now (a flake id: start time above 24 bits), and a token of its shape."""
    now = int(time.time() * 1000)
    sid = ((now - 1550000000000) << 24) | secrets.randbits(24)
    return Session(str(sid), f"{to_base36(sid)}.0.{to_base36(now + 7_200_000)}.{SIG}")


@pytest.fixture(scope="module")
def cluster(es_node, tmp_path_factory):
    admin = es_node.admin_client()
    prefix = f"orxprop-{uuid.uuid4().hex[:8]}"
    for stack in STACKS:
        admin.indices.create(index=f"{prefix}-{stack}")  # dynamic mappings, as a fresh index gets
    drop_logs(admin)
    writer = admin.security.create_api_key(name=f"{prefix}-writer", role_descriptors={
        "writer": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["create_doc"]}]}})
    reader = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*", "logs"], "privileges": ["read"]}]}})
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path_factory.mktemp("prop") / "config.yaml"),
                    "ORX_ELASTIC_HOST": es_node.url, "ORX_ELASTIC_ID": reader["id"],
                    "ORX_ELASTIC_API_KEY": reader["api_key"], "ORX_ELASTIC_INDEXES": f"{prefix}-*"})
    made = run_cli("alias", "--username", es_node.admin_user, env=env.with_vars(
        ORX_ELASTIC_PASSWORD=es_node.admin_password))
    assert made.exit_code == 0, made.output
    yield SimpleNamespace(admin=admin, prefix=prefix, env=env, url=es_node.url, writer=writer["encoded"])
    drop_logs(admin)
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[writer["id"], reader["id"]])


def printed(stack: str, folder, name: str):
    result = run_cli("instrument", stack)
    assert result.exit_code == 0, result.output
    path = folder / name
    path.write_text(result.stdout)
    return path


def shipping(cluster, stack: str) -> dict:
    return {"ES_URL": cluster.url, "ES_INDEX": f"{cluster.prefix}-{stack}", "ES_API_KEY": cluster.writer}


@pytest.fixture(scope="module")
def backends(cluster, tmp_path_factory):
    """Each stack's app, running the printed file, behind its own nginx."""
    work = tmp_path_factory.mktemp("backends")
    printed("python-flask", work, "openreplay_logging.py")
    node_module = printed("node-express-pino", work, "openreplay-logging.js")
    running = []
    try:
        flask = start_flask(work, work, "elasticsearch", shipping(cluster, "python-flask"))
        running.append(flask)
        express = start_express(work, node_module, shipping(cluster, "node-express-pino"))
        running.append(express)
        proxies = {"python-flask": start_nginx(work, flask.port, "flask"),
                   "node-express-pino": start_nginx(work, express.port, "express")}
        running += proxies.values()
        yield SimpleNamespace(work=work, apps={"python-flask": flask, "node-express-pino": express},
                              proxies=proxies)
    finally:
        for process in running:
            process.stop()


def lines_of(env: Env, ref: str, count: int, deadline: float = 60.0) -> list[dict]:
    """`orx-elastic logs REF -o ndjson`, polled until it returns `count` lines (shipping takes a moment)."""
    end = time.monotonic() + deadline
    while True:
        result = run_cli("logs", ref, "-o", "ndjson", env=env)
        found = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        if len(found) >= count or time.monotonic() > end:
            assert result.exit_code in (0, 9), result.output
            return found
        time.sleep(0.5)


@pytest.mark.parametrize("stack", STACKS)
def test_the_printed_code_marks_every_line_of_a_session_and_only_its_own(cluster, backends, stack):
    a, b = new_session(), new_session()
    proxy = backends.proxies[stack]
    # two sessions at once, through nginx: the tracker's header, and its axios plugin's
    requests = [(f"{proxy.url}/checkout?cart=a&together=1", {"X-OpenReplay-SessionToken": a.token}),
                (f"{proxy.url}/checkout?cart=b&together=1", {"X-OpenReplay-Session-Token": b.token})]
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda r: get(*r), requests)) == [402, 402], backends.apps[stack].output()

    for session, cart, other in ((a, "a", b), (b, "b", a)):
        by_token = lines_of(cluster.env, session.token, 2)
        messages = sorted(line["message"] for line in by_token)
        marker = f"openReplaySessionToken={session.token} openReplaySession.id={session.id} "
        # the app's logger and its child logger, each line marked once, at its start
        assert messages == sorted([f"{marker}checkout failed for cart {cart}", f"{marker}card declined"]), \
            backends.apps[stack].output()
        assert not any(other.id in m or to_base36(int(other.id)) in m for m in messages)
        assert all(m.count("openReplaySession.id=") == 1 for m in messages)
        by_id = lines_of(cluster.env, session.id, 2)
        assert sorted(line["_id"] for line in by_id) == sorted(line["_id"] for line in by_token)
        for line in by_token:
            source = line["_source"]
            assert source["level"] == "error" and source["openreplay"] == {"session_id": session.id}
            assert source["@timestamp"] and source["tags"] == ["error"]

        shows = run_cli("shows", session.id, "-o", "json", env=cluster.env)
        assert shows.exit_code == 0, shows.output
        summary = shows.json()["summary"]
        # v1.21+ through the alias `logs`, v1.20 through `indexes`: every line, both generations
        assert {g: (s["shown"], s["lines"]) for g, s in summary.items()} == {"v1.20": (2, 2), "v1.21+": (2, 2)}, \
            summary


@pytest.mark.parametrize("stack", STACKS)
def test_canary_finds_its_line_through_the_proxy(cluster, backends, stack):
    result = run_cli("canary", backends.proxies[stack].url + "/", "--wait", "60s", env=cluster.env)
    assert result.exit_code == 0, result.output + backends.apps[stack].output()
    assert "s after the request" in result.stdout and "orx-elastic canary" in result.stdout
    assert "OpenReplay v1.21+: shows lines like it" in result.stdout


def test_canary_says_when_the_proxy_drops_the_header(cluster, backends):
    # OpenReplay's v1.21+ docs name the header openReplaySession.id: nginx drops a name with dots
    direct = run_cli("canary", backends.apps["python-flask"].url + "/", "--header", "openReplaySession.id",
                     env=cluster.env)
    assert direct.exit_code == 0, direct.output  # the app itself takes it
    proxied = run_cli("canary", backends.proxies["python-flask"].url + "/", "--header", "openReplaySession.id",
                      env=cluster.env)
    assert proxied.exit_code == 14, proxied.output
    assert "openReplaySession.id did not reach it" in proxied.stderr and "X-OpenReplay-Session-Id" in proxied.stderr
    # the header without dots arrives through the same nginx
    no_dots = run_cli("canary", backends.proxies["python-flask"].url + "/", "--header", "X-OpenReplay-Session-Id",
                      env=cluster.env)
    assert no_dots.exit_code == 0, no_dots.output


def test_canary_says_when_the_line_lacks_the_marker(cluster, backends):
    # the filter on the root logger, as OpenReplay's own Python example does: child loggers skip it
    app = start_flask(backends.work, backends.work, "root-logger", shipping(cluster, "python-flask"))
    try:
        result = run_cli("canary", app.url + "/", env=cluster.env)
    finally:
        app.stop()
    assert result.exit_code == 15, result.output
    assert "without its marker" in result.stderr and "handler" in result.stderr


def test_canary_says_when_nothing_arrives_in_time(cluster, backends):
    app = start_flask(backends.work, backends.work, "stderr-only", {})  # lines on stderr: no shipper runs
    try:
        started = time.monotonic()
        result = run_cli("canary", app.url + "/", "--wait", "3s", env=cluster.env)
        took = time.monotonic() - started
        assert "orx-elastic canary" in app.output()  # the backend did log it
    finally:
        app.stop()
    assert result.exit_code == 17, result.output
    assert "within 3s" in result.stderr and "shipper" in result.stderr
    assert took < 20


def test_the_printed_winston_format_marks_child_loggers_and_keeps_sessions_apart(tmp_path):
    """No cluster needed: the printed winston file in an Express app, writing the lines a shipper reads."""
    module = printed("node-express-winston", tmp_path, "openreplay-logging.js")
    log_file = tmp_path / "app.log"
    app = start_express(tmp_path, module, {"LOG_FILE": str(log_file)}, script=EXPRESS_WINSTON_APP)
    a, b = new_session(), new_session()
    try:
        requests = [(f"{app.url}/checkout?cart=a&together=1", {"X-OpenReplay-SessionToken": a.token}),
                    (f"{app.url}/checkout?cart=b&together=1", {"X-OpenReplay-Session-Id": b.id})]
        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(lambda r: get(*r), requests)) == [402, 402], app.output()
        end = time.monotonic() + 20
        while (not log_file.exists() or len(log_file.read_text().splitlines()) < 4) and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        app.stop()
    docs = [json.loads(line) for line in log_file.read_text().splitlines()]
    marker_a = f"openReplaySessionToken={a.token} openReplaySession.id={a.id} "
    marker_b = f"openReplaySession.id={b.id} "  # an id header: no token to write
    assert sorted(d["message"] for d in docs) == sorted([
        f"{marker_a}checkout failed for cart a", f"{marker_a}card declined",
        f"{marker_b}checkout failed for cart b", f"{marker_b}card declined"]), app.output()
    for doc in docs:
        session = a if doc["message"].startswith(marker_a) else b
        assert doc["openreplay"] == {"session_id": session.id} and doc["level"] == "error"
        assert doc["@timestamp"] and doc["tags"] == ["error"]
