"""Several nodes over http:// (`hosts`): each node gets the single host's guarantee. A node whose port
speaks TLS receives no byte of the key, whether it comes first in the list or after a node that
answered plain HTTP; the CLI names that node. A recording pass-through (tests/faults.py `record_and_forward`)
in front of the real HTTPS node keeps every byte sent to it.
"""

from __future__ import annotations

import base64

import pytest

import faults  # tests/faults.py (pyproject: pytest pythonpath)
from conftest import run_cli

SESSION = "2618307011354435587"


@pytest.fixture(scope="module")
def plain_key(es_node):
    admin = es_node.admin_client()
    key = admin.security.create_api_key(name="orx-cleartext-nodes", role_descriptors={
        "r": {"cluster": [], "index": [{"names": ["*log*"], "privileges": ["read"]}]}}).body
    yield key
    admin.security.invalidate_api_key(ids=[key["id"]])


@pytest.mark.parametrize("command", ["logs", "check"])
def test_a_second_node_that_speaks_tls_gets_no_byte_of_the_key(es_node, es_tls_node, plain_key, clean_env,
                                                               tmp_path, command):
    env = clean_env.with_vars(XDG_CACHE_HOME=str(tmp_path / "cache"))
    secrets = [plain_key["api_key"].encode(), plain_key["encoded"].encode(),
               base64.b64encode(f"{plain_key['id']}:{plain_key['api_key']}".encode())]
    extra = (SESSION,) if command == "logs" else ("-o", "json")
    with faults.serving(faults.record_and_forward(es_node.port)) as plain, \
            faults.serving(faults.record_and_forward(es_tls_node.port)) as tls:
        nodes = [f"http://127.0.0.1:{plain.port}", f"http://127.0.0.1:{tls.port}"]
        # check tests every node; a lookup's first request goes to the first node: the TLS one
        hosts = ",".join(nodes if command == "check" else nodes[::-1])
        result = run_cli(command, *extra, "--hosts", hosts, "--id", plain_key["id"], "--api-key",
                         plain_key["api_key"], "--indexes", "*log*", env=env)
        to_tls = bytes(tls.received)
    assert to_tls, "nothing reached the TLS node: the test proves nothing"
    assert not any(secret in to_tls for secret in secrets), "the API key crossed the network in clear"
    assert b"authorization" not in to_tls.lower()
    if command == "check":
        by_id = {f["id"]: f for f in result.json()}
        tls_finding = by_id["tls"]
        assert tls_finding["status"] == "failure", tls_finding
        assert f"1 of 2 nodes failed: 127.0.0.1:{tls.port}: the server expects HTTPS" in tls_finding["detail"]
        assert by_id["connect"]["status"] == "ok", by_id["connect"]
        assert result.exit_code == 10
    else:
        # a node that speaks TLS to an http:// list is a mistake to fix, said at once, not skipped
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.exit_code == 5 and len(errors) == 1 and "speaks HTTPS" in errors[0], result.stderr
        assert f"127.0.0.1:{tls.port}" in errors[0], errors[0]
