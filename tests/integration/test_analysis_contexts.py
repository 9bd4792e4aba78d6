"""An index's analysis is judged from every context a logger writes a marker in, on a real node (issue 35).

A custom analyzer may split one context as the standard analyzer does and keep another whole: the
`uax_url_email` tokenizer keeps a URL as one term (`https://app.example.com/api?openReplaySession.id=<id>`),
and a `pattern` analyzer splitting on spaces and `=` keeps `openReplaySession.id:<id>` (modelled in
tests/unit/test_analysis_context_rules.py: the test distribution lacks analysis-common, where `pattern` lives;
`uax_url_email` is there through es_sandbox's shim). The one sample line the probe analysed before
(`ctx:openReplaySession.id=<id> failed`) is split as the standard analyzer splits it, so the index was
planned as `split` (a phrase and the id's prefix) and the URL lines were lost, exit 0. `logs` and
`sessions` must find every marked line of the session, as the admin reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import FLAKE_EPOCH_MS, contains_marker, markers, parse_session_ref

NOW = datetime.now(timezone.utc)
SESSION = str(((int((NOW - timedelta(minutes=20)).timestamp() * 1000) - FLAKE_EPOCH_MS) << 24) | 77)
LINES = [
    f"openReplaySession.id={SESSION} plain",
    f"GET https://app.example.com/api?openReplaySession.id={SESSION} 500",
    f"ctx:openReplaySession.id={SESSION} after a key",
    f'{{"ctx":"openReplaySession.id={SESSION}","msg":"in json"}}',
    f"POST https://app.example.com/cart?x=1&OPENREPLAYSESSION.ID={SESSION} 502",
    f"GET https://app.example.com/api?openReplaySession.id={SESSION}1 another session",
]
ANALYSIS = {"analyzer": {"urls": {"type": "custom", "tokenizer": "uax_url_email"}}}


@pytest.fixture(scope="module")
def patterned(es_node, tmp_path_factory):
    admin = es_node.admin_client()
    prefix = f"orxctx-{uuid.uuid4().hex[:8]}"
    index = f"{prefix}-urls"
    admin.indices.create(index=index, settings={"analysis": ANALYSIS}, mappings={"properties": {
        "message": {"type": "text", "analyzer": "urls"}, "utc_time": {"type": "date"},
        "tags": {"type": "keyword"}}})
    operations: list[dict] = []
    for n, line in enumerate(LINES):
        moment = (NOW - timedelta(seconds=n + 1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        operations += [{"index": {"_index": index}}, {"message": line, "utc_time": moment, "tags": ["error"]}]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_") and k != "NO_COLOR"}
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "elastic_cli", "--config", str(tmp_path_factory.mktemp("c") / "c.yaml"),
                   *args, "--host", es_node.url, "--id", key["id"], "--api-key", key["api_key"], "--indexes", index]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in result.stderr
        return result

    hits = admin.search(index=index, size=100)["hits"]["hits"]
    ours = markers(parse_session_ref(SESSION))
    truth = sorted(h["_source"]["message"] for h in hits if any(contains_marker(h["_source"]["message"], m)
                                                                for m in ours))
    yield {"cli": cli, "truth": truth, "index": index}
    admin.indices.delete(index=f"{prefix}-*")


def test_an_analysis_that_loses_one_context_is_named_not_planned_as_split(patterned):
    """`uax_url_email` splits every context as the standard analyzer does but two: a URL is one term (only a
    wildcard finds the id there) and `openReplaySession.id:<id>` is read as a host and a port
    (`openReplaySession.id:26183`, `07011354435587`: no query finds the id). Planned from the one sample line
    it was `split`: 3 of the 5 lines, exit 0. Now the index is a named reason, exit 13, for logs and sessions."""
    assert len(patterned["truth"]) == 5  # every context but the longer id
    for run in (1, 2):  # learnt, then from the cache
        logs = patterned["cli"]("logs", SESSION, "-o", "ndjson", "--all")
        assert logs.returncode == 13, (run, logs.stderr)
        assert patterned["index"] in logs.stderr and "no search can find" in logs.stderr, logs.stderr
        sessions = patterned["cli"]("sessions", "--since", "2h", "-o", "json")
        assert sessions.returncode == 13, (run, sessions.stderr)
        assert patterned["index"] in sessions.stderr and "no search can find" in sessions.stderr, sessions.stderr
    check = patterned["cli"]("check", "-o", "json")
    message = {f["id"]: f for f in json.loads(check.stdout)}["message_field"]
    assert message["status"] == "failure" and patterned["index"] in message["detail"], message
