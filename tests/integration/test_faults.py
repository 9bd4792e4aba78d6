"""Faults, bad input and secrets: the tool fails cleanly, loses nothing, leaks nothing.

The real node provides the data and the credentials; small loopback servers
(tests/faults.py) produce what a healthy node cannot: 429/503, a hang, a cut.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

import faults  # tests/faults.py (pyproject: pytest pythonpath)

SESSION = "31337313373133"
LINES = 15_000
PASSWORD_LIKE = "hunter2-not-a-real-password"


@pytest.fixture(scope="module")
def env(es_node, tmp_path_factory):
    from elasticsearch import helpers

    admin = es_node.admin_client()
    index = f"orxfault-{uuid.uuid4().hex[:8]}-logs"
    admin.indices.create(index=index, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    helpers.bulk(admin, ({"_index": index, "_source": {
        "message": f"openReplaySession.id={SESSION} line {n:05d} " + "x" * 200,
        "utc_time": f"2024-01-24T04:{n // 600:02d}:{(n // 10) % 60:02d}Z", "tags": ["error"]}}
        for n in range(LINES)), refresh="wait_for")
    key = admin.security.create_api_key(name="orx-fault-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": [index], "privileges": ["read"]}]}})
    config = tmp_path_factory.mktemp("faults") / "config.yaml"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_")}
    yield {"node": es_node, "admin": admin, "index": index, "key": key, "config": config, "env": clean}
    admin.indices.delete(index=index)


def cli(env, *args, host=None, key=None, timeout=120, extra_env=None):
    key = key or env["key"]
    # connection flags go right after the subcommand, so a `--` later in args still works
    flags = []
    if "--host" not in args:
        flags += ["--host", host or env["node"].url]
    if "--api-key" not in args:
        flags += ["--id", key["id"], "--api-key", key["api_key"]]
    if "--indexes" not in args:
        flags += ["--indexes", env["index"]]
    at = next(i for i, arg in enumerate(args) if arg in ("logs", "check")) + 1
    command = [sys.executable, "-m", "elastic_cli", "--config", str(env["config"])] + list(args[:at]) + flags + list(args[at:])
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env={**env["env"], **(extra_env or {})})
    shown = result.stdout + result.stderr
    for secret in (env["key"]["api_key"], env["key"]["encoded"], key["api_key"], key.get("encoded"), PASSWORD_LIKE):
        assert not secret or secret not in shown, "a secret was printed"
    if "--debug" not in args:
        assert "Traceback" not in result.stderr
    return result


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------- network


def test_connection_refused(env):
    with faults.serving(faults.never_answer) as server:
        port = server.port
    result = cli(env, "logs", SESSION, host=f"http://127.0.0.1:{port}")
    assert result.returncode == 4 and "connection refused" in one_error_line(result)


def test_dns_failure(env):
    result = cli(env, "logs", SESSION, host="http://no-such-host.invalid:9200")
    assert result.returncode == 4 and "cannot resolve" in one_error_line(result)


def test_host_names_that_contain_ssl_are_not_tls_failures(env):
    # a DNS failure over plain HTTP, whose host name happens to say "ssl"
    result = cli(env, "logs", SESSION, host="http://ssl-logs.invalid")
    assert result.returncode == 4 and "cannot resolve" in one_error_line(result)
    assert "TLS" not in result.stderr


def test_a_node_behind_a_reverse_proxy_path(env):
    with faults.serving(faults.proxy_to(env["node"].port, prefix="/es")) as server:
        result = cli(env, "logs", SESSION, "--limit", "2", "-o", "ndjson", host=f"http://127.0.0.1:{server.port}/es/")
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line)["_source"]["message"] for line in result.stdout.splitlines()]
    assert [m.split(" x")[0] for m in messages] == [f"openReplaySession.id={SESSION} line {n:05d}" for n in (0, 1)]


def test_server_that_never_answers_is_bounded_by_timeout(env):
    with faults.serving(faults.never_answer) as server:
        started = time.monotonic()
        result = cli(env, "logs", SESSION, "--timeout", "1", host=f"http://127.0.0.1:{server.port}")
        elapsed = time.monotonic() - started
    assert result.returncode == 4 and "did not answer within 1s" in one_error_line(result)
    assert elapsed < 15


def test_connection_dropped_mid_response(env):
    with faults.serving(faults.drop_mid_response) as server:
        result = cli(env, "logs", SESSION, host=f"http://127.0.0.1:{server.port}")
    assert result.returncode == 4, result.stderr
    assert server.requests >= 1


@pytest.mark.parametrize("status,code", [(429, 12), (503, 12)])
def test_overload_is_retried_a_bounded_number_of_times(env, status, code):
    with faults.serving(faults.answer_status(status, "busy")) as server:
        started = time.monotonic()
        result = cli(env, "logs", SESSION, host=f"http://127.0.0.1:{server.port}")
        elapsed = time.monotonic() - started
    assert result.returncode == code and f"HTTP {status}" in one_error_line(result)
    # _field_caps: one try and three retries, then a clear error; the search and `_resolve/index` (closed
    # indices) sent beside it, once each
    assert server.requests == 6
    assert elapsed < 30


def test_reads_wait_as_long_as_retry_after_says(env):
    with faults.serving(faults.answer_status(503, "busy", retry_after=1)) as server:
        result = cli(env, "logs", SESSION, host=f"http://127.0.0.1:{server.port}")
    assert result.returncode == 12 and "HTTP 503" in one_error_line(result)
    # _field_caps and its three retries; the search and `_resolve/index` sent beside it, once each
    assert server.requests == 6
    times = sorted(server.times)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert max(gaps[:2]) < 0.5 and min(gaps[2:]) >= 0.95, gaps


def test_creating_a_key_is_sent_once_even_when_the_gateway_times_out(env):
    node, name = env["node"], f"orx-once-{uuid.uuid4().hex[:8]}"
    # the node creates the key, the gateway answers 504 anyway: a retry would leave an orphan key
    with faults.serving(faults.proxy_to(node.port, answer_anyway=("PUT|POST", "/_security/api_key", 504))) as server:
        result = subprocess.run(
            [sys.executable, "-m", "elastic_cli", "--config", str(env["config"]), "create-key",
             "--host", f"http://127.0.0.1:{server.port}", "--username", node.admin_user,
             "--indexes", env["index"], "--name", name, "-o", "json"],
            capture_output=True, text=True, timeout=120,
            env={**env["env"], "ORX_ELASTIC_PASSWORD": node.admin_password})
    creates = [seen for seen in server.seen if seen[1] == "/_security/api_key" and seen[0] in ("PUT", "POST")]
    assert len(creates) == 1, server.seen
    assert len(env["admin"].security.get_api_key(name=name)["api_keys"]) == 1
    assert result.returncode == 12 and "504" in one_error_line(result)
    assert node.admin_password not in result.stdout + result.stderr


def test_overload_then_recovery_succeeds(env):
    with faults.serving(faults.forward_to(env["node"].port, first_failures=2, status=429)) as server:
        result = cli(env, "logs", SESSION, "--limit", "5", "-o", "ndjson", host=f"http://127.0.0.1:{server.port}")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5


def test_node_gone_in_the_middle_of_all_keeps_complete_lines(env):
    """The node goes away for good mid-export: it is waited out for --retry-for, then the lines
    written stay (whole NDJSON lines), and the exit code and message say the rest is missing."""
    with faults.serving(faults.forward_to(env["node"].port, cut_after_bytes=3_000_000)) as server:
        result = cli(env, "logs", SESSION, "--all", "-o", "ndjson", "--retry-for", "3s", "--page-size", "500",
                     host=f"http://127.0.0.1:{server.port}")
    assert result.returncode == 13, result.stderr
    assert "connection lost: retrying in" in result.stderr
    gave_up = re.search(r"connection lost after (\d+) lines, and the search could not go on within "
                        r"--retry-for \(3 s\): the lines after those are missing", result.stderr)
    assert gave_up, result.stderr
    lines = result.stdout.split("\n")
    assert lines[-1] == "", "the last line written is complete"
    parsed = [json.loads(line) for line in lines[:-1]]
    assert 0 < len(parsed) == int(gave_up.group(1)) < LINES
    assert [p["_source"]["message"][:36] for p in parsed] == sorted(p["_source"]["message"][:36] for p in parsed)


def test_follow_stopped_with_ctrl_c_does_not_wait_on_a_slow_cluster(env):
    """Ctrl-C ends --follow with its output closed; freeing the point in time is a courtesy (it
    expires by itself): a node slow to answer that request must not hold the exit for the request
    timeout (60 s here) and its retries. Seen as a README test that did not exit within 60 s of
    SIGINT on a loaded machine."""
    with faults.serving(faults.proxy_to(env["node"].port, hold=("DELETE", "/_pit"))) as server:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(env["config"]), "logs", SESSION, "--follow",
                   "-o", "ndjson", "--timeout", "60", "--host", f"http://127.0.0.1:{server.port}",
                   "--id", env["key"]["id"], "--api-key", env["key"]["api_key"], "--indexes", env["index"]]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env["env"])
        first = proc.stdout.readline()  # the first poll's walk is under way: its point in time is open
        proc.send_signal(signal.SIGINT)
        try:
            rest, err = proc.communicate(timeout=30)  # half the request timeout: the old wait was all of it
        finally:
            proc.kill()
        assert ("DELETE", "/_pit") in server.seen  # it was asked to free it, and did not wait for the answer
    assert proc.returncode == 0, err
    assert json.loads(first)["_source"]["message"].startswith(f"openReplaySession.id={SESSION}")
    assert all(json.loads(line) for line in rest.splitlines()), "every line written is whole"


# ---------------------------------------------------------------- TLS


def _expired_tls_context(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now - dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "expired.pem", tmp_path / "expired.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


def test_expired_certificate(env, tmp_path):
    context, cert_path = _expired_tls_context(tmp_path)
    with faults.serving(faults.never_answer, tls=context) as server:
        result = cli(env, "logs", SESSION, "--ca-certs", str(cert_path), host=f"https://127.0.0.1:{server.port}")
    assert result.returncode == 5 and "expired" in one_error_line(result)


def test_https_to_http_port_and_http_to_https_port(env, es_tls_node):
    result = cli(env, "logs", SESSION, host=env["node"].url.replace("http://", "https://"))
    assert result.returncode == 5 and "plain HTTP" in one_error_line(result)
    result = cli(env, "logs", SESSION, host=es_tls_node.url.replace("https://", "http://"))
    assert result.returncode == 5 and "speaks HTTPS" in one_error_line(result)


def test_self_signed_without_ca_and_wrong_fingerprint(env, es_tls_node):
    result = cli(env, "logs", SESSION, host=es_tls_node.url)
    assert result.returncode == 5 and "--ca-certs" in result.stderr
    result = cli(env, "logs", SESSION, "--fingerprint", "ab" * 32, host=es_tls_node.url)
    assert result.returncode == 5 and "fingerprint" in one_error_line(result)


# ---------------------------------------------------------------- credentials


def test_wrong_and_truncated_keys_are_authentication_failures(env):
    for secret in ("wrong-secret-value", env["key"]["api_key"][:-3]):
        result = cli(env, "logs", SESSION, "--api-key", secret, "--id", env["key"]["id"])
        assert result.returncode == 6 and "rejected the credentials" in one_error_line(result)
        assert secret not in result.stderr


def test_an_expired_or_invalidated_key_is_named_as_check_names_it(env):
    admin, index = env["admin"], env["index"]
    role = {"r": {"cluster": [], "index": [{"names": [index], "privileges": ["read"]}]}}
    short = admin.security.create_api_key(name="orx-fault-short", expiration="1s", role_descriptors=role)
    revoked = admin.security.create_api_key(name="orx-fault-revoked", role_descriptors=role)
    admin.security.invalidate_api_key(ids=[revoked["id"]])
    time.sleep(2.5)
    result = cli(env, "logs", SESSION, key=short)
    assert result.returncode == 6 and f"the API key (id {short['id']}) has expired" in one_error_line(result)
    result = cli(env, "logs", SESSION, key=revoked)
    assert result.returncode == 6 and "has been invalidated" in one_error_line(result)


def test_encoded_key_where_the_raw_key_belongs_brings_its_own_id(env):
    # a stale --id beside the encoded key: the id inside the encoded form wins, and the search runs
    result = cli(env, "logs", SESSION, "--limit", "1", "-o", "ndjson",
                 "--id", "stale-id-from-an-old-key", "--api-key", env["key"]["encoded"])
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert f"openReplaySession.id={SESSION} line" in json.loads(line)["_source"]["message"]


TRANSPORT = "debug: elastic_cli.http: "


def debug_requests(result) -> list[str]:
    return [line[len(TRANSPORT):] for line in result.stderr.splitlines() if line.startswith(TRANSPORT)]


def test_debug_shows_each_request_with_status_duration_and_took(env):
    result = cli(env, "--debug", "logs", SESSION, "--limit", "1", "-o", "ndjson")
    assert result.returncode == 0, result.stderr
    # a lookup: _field_caps and the first pages (one _msearch) side by side; no point in time for one page
    # (beside them, in the same wave, `_mtermvectors` for an index whose analysis the shape cache has not
    # learnt yet; and `_resolve/index`, which names the closed indices the patterns match)
    requests = [r for r in debug_requests(result) if "/_mtermvectors " not in r]
    assert any(re.fullmatch(rf"GET /_resolve/index/{env['index']}\?\S+ -> 200 in \d+\.\d{{3}} s", line)
               for line in requests), requests
    requests = [r for r in requests if "/_resolve/index" not in r]
    assert len(requests) == 2, requests
    assert any(re.fullmatch(rf"POST /{env['index']}/_field_caps\?\S+ -> 200 in \d+\.\d{{3}} s", line)
               for line in requests)
    assert any(re.fullmatch(r"POST /_msearch -> 200 in \d+\.\d{3} s, took \d+ ms", line) for line in requests)
    every = debug_requests(cli(env, "--debug", "logs", SESSION, "--all", "-o", "ndjson"))
    assert any(re.fullmatch(r"POST /_search -> 200 in \d+\.\d{3} s, took \d+ ms", line) for line in every)
    assert re.fullmatch(r"DELETE /_pit -> 200 in \d+\.\d{3} s", every[-1])


def test_debug_shows_the_answer_the_error_line_leaves_out(env):
    """The one-line error says "run with --debug for the full answer": --debug has it."""
    admin, small = env["admin"], f"{env['index']}-small"
    # the level filter's regular expression is longer than this index allows: HTTP 400 (a window too
    # small, the example before, is now read in smaller pages: test_result_window.py)
    admin.indices.create(index=small, settings={"index.max_regex_length": 10}, mappings={"properties": {
        "message": {"type": "text"}, "utc_time": {"type": "date"}, "tags": {"type": "keyword"}}})
    try:
        admin.index(index=small, refresh=True, document={
            "message": f"openReplaySession.id={SESSION} x", "utc_time": "2024-01-24T04:00:00Z", "tags": ["error"]})
        key = admin.security.create_api_key(name="orx-fault-small", role_descriptors={
            "r": {"cluster": [], "index": [{"names": [small], "privileges": ["read"]}]}})
        plain = cli(env, "logs", SESSION, "--indexes", small, key=key)
        assert plain.returncode == 11 and "max_regex_length" in one_error_line(plain), plain.stderr
        assert "run with --debug for the full answer" in plain.stderr
        debug = cli(env, "--debug", "logs", SESSION, "--indexes", small, key=key)
        assert debug.returncode == 11
        lines = debug.stderr.splitlines()
        at = next(i for i, line in enumerate(lines) if re.match(rf"{TRANSPORT}POST /\S*_search\S* -> 400 in ", line))
        answer = json.loads(next(line for line in lines[at:] if line.startswith("  < "))[4:])
        assert answer["error"]["type"] == "search_phase_execution_exception"  # the line said the root cause
        assert answer["error"]["failed_shards"][0]["index"] == small
        sent = lines[at + 1:lines.index(next(line for line in lines[at:] if line.startswith("  < ")))]
        assert "  > authorization: ApiKey ***" in sent and any('"match_phrase"' in line for line in sent)
    finally:
        admin.indices.delete(index=small)


# --debug shows what was sent with an error (the Authorization header) and the answers (create-key's holds
# the new key). Each test below fails when the masking fails: checked by making `redact` return its input.


def test_debug_masks_the_key_sent_with_an_error(env):
    # `check` counts the lines of `logs`, which the key may not read; cli() fails if the key or its
    # encoded form is printed
    result = cli(env, "--debug", "check")
    assert any(re.match(r"POST /logs/_count\S* -> 403 in ", line) for line in debug_requests(result)), result.stderr
    assert "  > authorization: ApiKey ***" in result.stderr.splitlines()


def test_debug_masks_a_wrong_secret_typed(env):
    wrong = cli(env, "--debug", "logs", SESSION, "--api-key", "wrong-secret-value", "--id", env["key"]["id"])
    assert wrong.returncode == 6 and any(" -> 401 in " in line for line in debug_requests(wrong))
    assert "  > authorization: ApiKey ***" in wrong.stderr.splitlines()
    assert "wrong-secret-value" not in wrong.stderr
    assert base64.b64encode(f"{env['key']['id']}:wrong-secret-value".encode()).decode() not in wrong.stderr


def admin_orx(env, *args: str, password: str) -> subprocess.CompletedProcess:
    node = env["node"]
    return subprocess.run([sys.executable, "-m", "elastic_cli", "--config", str(env["config"]), *args,
                           "--host", node.url, "--username", node.admin_user, "--debug"],
                          capture_output=True, text=True, timeout=120,
                          env={**env["env"], "ORX_ELASTIC_PASSWORD": password})


def test_debug_masks_the_admin_password(env):
    rejected = admin_orx(env, "keys", "list", password=PASSWORD_LIKE)
    assert rejected.returncode == 6, rejected.stderr
    assert "  > authorization: Basic ***" in rejected.stderr.splitlines()
    basic = base64.b64encode(f"{env['node'].admin_user}:{PASSWORD_LIKE}".encode()).decode()
    assert PASSWORD_LIKE not in rejected.stderr and basic not in rejected.stderr


def test_debug_masks_the_new_key_in_create_keys_answer(env):
    # printed once on stdout, by design (Elasticsearch cannot show it again); never in --debug's lines
    made = admin_orx(env, "create-key", "--indexes", env["index"], "--name", "orx-fault-debug", "-o", "json",
                     password=env["node"].admin_password)
    assert made.returncode == 0, made.stderr
    new = json.loads(made.stdout)
    try:
        assert any(re.match(r"PUT /_security/api_key -> 200 in ", line) for line in debug_requests(made))
        assert '"api_key":"***"' in made.stderr and '"encoded":"***"' in made.stderr
        for secret in (new["api_key"], new["encoded"], env["node"].admin_password):
            assert secret not in made.stderr
    finally:
        env["admin"].security.invalidate_api_key(ids=[new["id"]])


def test_key_without_privilege_on_the_index(env):
    other = env["admin"].security.create_api_key(name="orx-fault-other", role_descriptors={
        "r": {"cluster": [], "index": [{"names": ["somewhere-else-*"], "privileges": ["read"]}]}})
    result = cli(env, "logs", SESSION, key=other)
    assert other["api_key"] not in result.stdout + result.stderr
    # field_caps hides indices the key may not read: to the key they do not exist
    assert result.returncode == 8, result.stderr
    assert "no index matches" in one_error_line(result)


# ---------------------------------------------------------------- input


@pytest.mark.parametrize("session", ["", " ", "x" * 100_000, "\x01\x02\x1b[31m", "abc*", 'a" OR "b',
                                     "openReplaySessionToken=*", "12345678901234567890123", "-1"])
def test_hostile_session_arguments_are_usage_errors(env, session):
    result = cli(env, "logs", "--", session, host="http://127.0.0.1:9")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr) < 600


@pytest.mark.parametrize("indexes,code", [
    ("app logs", 2),   # index names have no spaces: a usage error, before connecting
    ("a,,b", 8),       # the empty item is dropped; `a` and `b` match no index
    (" , ", 2),        # no pattern at all
])
def test_odd_index_patterns_fail_cleanly(env, indexes, code):
    result = cli(env, "logs", SESSION, "--indexes", indexes)
    assert result.returncode == code, result.stderr
    one_error_line(result)


@pytest.mark.parametrize("content", ["", "not: [yaml", "profiles: 3\n", "profiles:\n  default:\n    port: x\n"])
def test_broken_config_files_are_left_untouched(env, tmp_path, content):
    path = tmp_path / "config.yaml"
    path.write_text(content)
    path.chmod(0o600)
    before = path.read_bytes()
    result = subprocess.run([sys.executable, "-m", "elastic_cli", "--config", str(path), "configure",
                             "--host", "http://x"], capture_output=True, text=True, env=env["env"])
    if content == "":
        assert result.returncode == 0  # an empty file is an empty config
    else:
        assert result.returncode == 3 and str(path) in result.stderr
        assert path.read_bytes() == before


def test_config_path_is_a_directory(env, tmp_path):
    result = subprocess.run([sys.executable, "-m", "elastic_cli", "--config", str(tmp_path), "logs", SESSION],
                            capture_output=True, text=True, env=env["env"])
    assert result.returncode == 3 and "directory" in result.stderr


# ---------------------------------------------------------------- soak


def test_soak_200_sequential_and_50_concurrent_runs(env):
    """In-process for the 200 (they share one interpreter: leaks would pile up), subprocesses for the 50."""
    import io
    from contextlib import redirect_stdout

    from elastic_cli.cli import main

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    args = ["--config", str(env["config"]), "logs", SESSION, "--limit", "3", "-o", "ndjson",
            "--host", env["node"].url, "--id", env["key"]["id"], "--api-key", env["key"]["api_key"],
            "--indexes", env["index"]]
    baseline = None
    for n in range(200):
        buffer = io.StringIO()
        with redirect_stdout(buffer), pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 0
        assert len(buffer.getvalue().splitlines()) == 3
        if n == 10:
            baseline = open_fds()
    assert open_fds() <= baseline + 5, "file descriptors leak across runs"

    def one(_):
        return cli(env, "logs", SESSION, "--limit", "3", "-o", "ndjson", timeout=300)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode][:3]
    assert all(len(r.stdout.splitlines()) == 3 for r in results)
