"""Several nodes (`hosts`): the setting (flags, environment, file, configure), the transport's move to
the next node, and `check`'s connect test of every node."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from elastic_cli.checks.findings import Deadline
from elastic_cli.checks.network import check_connect
from elastic_cli.cluster.transport import ReadRetryingTransport
from elastic_cli.config.file import ConfigFile, load_config_file
from elastic_cli.config.settings import resolve
from elastic_cli.errors import ConfigError, UsageError
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders, NodeConfig
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport._node import NodeApiResponse

from conftest import run_cli

EMPTY = ConfigFile(path=Path("/nonexistent/config.yaml"))


def settings(flags=None, environ=None, config=EMPTY):
    return resolve(config, None, flags or {}, environ or {})


# ---------------------------------------------------------------- the setting


def test_hosts_from_a_flag_are_every_node_and_the_first_is_host_and_port():
    s = settings({"hosts": "http://127.0.0.1:9201, http://es2, http://[::1]:9203/es"})
    assert s.node_urls == ["http://127.0.0.1:9201", "http://es2:9200", "http://[::1]:9203/es"]
    assert (s.host, s.port, s.url) == ("http://127.0.0.1", 9201, "http://127.0.0.1:9201")
    assert s.sources["host"] == s.sources["port"] == s.sources["hosts"] == "flag"


def test_a_single_host_stays_the_common_case():
    s = settings({"host": "https://es.example.com:9243"})
    assert s.hosts is None and s.node_urls == ["https://es.example.com:9243"]


def test_a_host_flag_wins_over_saved_hosts_and_saved_hosts_win_over_a_saved_host(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("profiles:\n  default:\n    host: https://old\n    hosts:\n    - https://a:9200\n"
                    "    - https://b:9201\n")
    config = load_config_file(path)
    assert settings(config=config).node_urls == ["https://a:9200", "https://b:9201"]
    one = settings({"host": "https://c"}, config=config)
    assert one.node_urls == ["https://c:9200"] and one.sources["hosts"].startswith("overridden by host")
    assert settings(environ={"ORX_ELASTIC_HOSTS": "https://d,https://e"}, config=config).node_urls == \
        ["https://d:9200", "https://e:9200"]


@pytest.mark.parametrize("value,said", [
    ("http://a,,http://b", "empty entry"),
    ("http://a,https://b", "mixes http:// and https://"),
    ("http://a,http://a:9200", "names http://a:9200 twice"),
    ("http://[::1,http://b", "not a node's URL"),
    ("http://user:pw@a", "not a node's URL"),
])
def test_a_malformed_list_is_one_usage_error(value, said):
    with pytest.raises(UsageError) as caught:
        settings({"hosts": value})
    assert said in caught.value.message and "--hosts" in caught.value.message


@pytest.mark.parametrize("text,said", [
    ("hosts: [http://a, [http://b]]", "must be a list of URLs"),
    ("hosts: {a: 1}", "must be a single value"),
    ("hosts: []", "at least one node"),
    ("hosts: [http://a, 9200]", "not a URL"),
])
def test_a_malformed_list_in_the_file_names_its_line(tmp_path, text, said):
    path = tmp_path / "c.yaml"
    path.write_text(f"profiles:\n  default:\n    {text}\n")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert said in caught.value.message and f"{path}:3" in caught.value.message


def test_configure_writes_the_list_in_place_of_host_and_port_and_back(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    first = run_cli("--config", str(path), "configure", "--host", "https://old:9243", "--id", "i", "--api-key", "k",
                    env=clean_env)
    assert first.exit_code == 0, first.stderr
    listed = run_cli("--config", str(path), "configure", "--hosts", "https://a,https://b:9201", env=clean_env)
    assert listed.exit_code == 0, listed.stderr
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert profile == {"hosts": ["https://a:9200", "https://b:9201"], "id": "i", "api_key": "k"}
    shown = run_cli("--config", str(path), "config", "show", "-o", "json", env=clean_env)
    assert shown.json()["settings"]["hosts"]["value"] == ["https://a:9200", "https://b:9201"]
    back = run_cli("--config", str(path), "configure", "--host", "https://c", env=clean_env)
    assert back.exit_code == 0, back.stderr
    assert yaml.safe_load(path.read_text())["profiles"]["default"] == {"host": "https://c", "id": "i",
                                                                        "api_key": "k"}


@pytest.mark.parametrize("args,said", [
    (("--hosts", "https://a,,https://b"), "hosts has an empty entry"),
    (("--hosts", "https://a", "--port", "9201"), "--hosts and --host/--port/--cloud-id"),
])
def test_configure_refuses_a_malformed_list_and_leaves_the_file_as_it_was(tmp_path, clean_env, args, said):
    path = tmp_path / "c.yaml"
    assert run_cli("--config", str(path), "configure", "--host", "https://old", env=clean_env).exit_code == 0
    before = path.read_bytes()
    result = run_cli("--config", str(path), "configure", *args, env=clean_env)
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1
    assert "Traceback" not in result.stderr and path.read_bytes() == before


def test_configure_says_which_nodes_get_the_key_in_clear(tmp_path, clean_env):
    result = run_cli("--config", str(tmp_path / "c.yaml"), "configure", "--hosts",
                     "http://127.0.0.1:9200,http://10.1.2.3:9200", env=clean_env)
    assert result.exit_code == 0
    warning = next(line for line in result.stderr.splitlines() if "unencrypted" in line)
    assert "http://10.1.2.3:9200" in warning and "127.0.0.1" not in warning


# ---------------------------------------------------------------- the transport


class ByPort(BaseNode):
    """A node answering from a per-port script: an exception to raise, or 200."""

    fail: dict = {}
    calls: list = []

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # noqa: ARG002
        ByPort.calls.append(self.config.port)
        failure = ByPort.fail.get(self.config.port)
        if failure is not None:
            raise failure
        meta = ApiResponseMeta(status=200, http_version="1.1", duration=0.0, node=self.config,
                               headers=HttpHeaders({"content-type": "application/json"}))
        return NodeApiResponse(meta, b"{}")


def refused() -> TransportConnectionError:
    cause = ConnectionRefusedError("refused")
    error = TransportConnectionError("refused", errors=(cause,))
    error.__cause__ = cause
    return error


@pytest.fixture
def three(monkeypatch):
    ByPort.calls, ByPort.fail = [], {}
    made = ReadRetryingTransport([NodeConfig("http", "127.0.0.1", port) for port in (9201, 9202, 9203)],
                                 node_class=ByPort, max_retries=3, randomize_nodes_in_pool=False)
    waits: list = []
    monkeypatch.setattr(made, "sleep", waits.append)
    made.waits = waits  # type: ignore[attr-defined]
    return made


def test_a_read_moves_to_the_next_node_at_once(three):
    ByPort.fail = {9201: refused()}
    assert three.perform_request("GET", "/_security/_authenticate").meta.status == 200
    assert ByPort.calls[0] == 9201 and len(ByPort.calls) == 2 and three.waits == []


def test_a_read_cut_mid_answer_is_sent_to_the_next_node(three):
    ByPort.fail = {9201: TransportConnectionError("reset")}
    three.perform_request("POST", "/logs/_search", headers={"content-type": "application/json"}, body={})
    assert ByPort.calls[0] == 9201 and len(ByPort.calls) == 2 and three.waits == []


def test_a_write_moves_only_when_nothing_was_sent(three):
    ByPort.fail = {9201: refused()}
    send = {"headers": {"content-type": "application/json"}, "body": {"name": "k"}}
    assert three.perform_request("POST", "/_security/api_key", **send).meta.status == 200
    assert ByPort.calls[0] == 9201 and len(ByPort.calls) == 2
    ByPort.calls = []
    ByPort.fail = {port: TransportConnectionError("reset") for port in (9201, 9202, 9203)}
    with pytest.raises(TransportConnectionError):  # the server may have made the key: never twice
        three.perform_request("POST", "/_security/api_key", **send)
    assert len(ByPort.calls) == 1 and three.waits == []


def test_every_node_down_is_said_after_each_was_tried_once(three):
    ByPort.fail = {port: refused() for port in (9201, 9202, 9203)}
    with pytest.raises(TransportConnectionError):
        three.perform_request("GET", "/_security/_authenticate")
    assert sorted(ByPort.calls) == [9201, 9202, 9203] and three.waits == []


# ---------------------------------------------------------------- check


def test_check_connect_names_the_node_that_is_down():
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(8)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    down = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    up = listening.getsockname()[1]
    try:
        s = settings({"hosts": f"http://127.0.0.1:{down},http://127.0.0.1:{up}", "timeout": 5})
        result = check_connect(s, Deadline(10))
        assert result.status == "warning"
        assert result.data["down"] == [f"127.0.0.1:{down}"]
        assert result.detail.startswith(f"1 of 2 nodes down (127.0.0.1:{down}: connection refused")
        assert f"127.0.0.1:{up} accepted a connection" in result.detail
        both_down = settings({"hosts": f"http://127.0.0.1:{down},http://127.0.0.1:{down + 1 if down < 65535 else 1}"})
        assert check_connect(both_down, Deadline(10)).status == "failure"
        alone = check_connect(settings({"host": f"http://127.0.0.1:{up}"}), Deadline(10))
        assert alone.status == "ok" and "nodes" not in alone.data  # one host: the finding it always was
    finally:
        listening.close()


# ---------------------------------------------------------------- create-key --save


def test_create_key_save_keeps_the_list_of_nodes(tmp_path):
    from elastic_cli.keys.api_keys import CreatedKey, save_created_key

    path = tmp_path / "c.yaml"
    created = CreatedKey(id="kid", name="n", api_key="secret", encoded="ZW5j")
    listed = resolve(ConfigFile(path=path), None, {"hosts": "https://a,https://b:9201"}, {})
    save_created_key(listed, created, ["*log*"])
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert profile["hosts"] == ["https://a:9200", "https://b:9201"] and "host" not in profile
    one = resolve(load_config_file(path), None, {"host": "https://c"}, {})
    save_created_key(one, created, ["*log*"])
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert profile["host"] == "https://c" and "hosts" not in profile


def test_configure_says_a_node_without_a_scheme_is_taken_as_https(tmp_path, clean_env):
    result = run_cli("--config", str(tmp_path / "c.yaml"), "configure", "--hosts", "es1:9200,es2:9200", env=clean_env)
    assert result.exit_code == 0, result.stderr
    assert "assumed https://es1:9200" in result.stderr
    assert yaml.safe_load((tmp_path / "c.yaml").read_text())["profiles"]["default"]["hosts"] == \
        ["https://es1:9200", "https://es2:9200"]
