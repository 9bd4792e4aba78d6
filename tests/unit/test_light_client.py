"""The lookup's client sends what the official client sends, call by call, and answers as it does.

Both clients are built from the same settings (`build_client`, `build_lookup_client`); the node
under them records each request instead of sending it and answers from a script."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
import warnings

import elasticsearch
import pytest
from elastic_cli.cluster import light_client
from elastic_cli.cluster.connection import build_client, build_lookup_client, translate
from elastic_cli.config.file import ConfigFile
from elastic_cli.config.settings import Path, resolve
from elastic_transport import ApiResponseMeta, HttpHeaders, Urllib3HttpNode
from elastic_transport._node import NodeApiResponse

KEY = {"id": "key-id", "api_key": "s3cret-value"}


def settings_for(host: str, **flags):
    return resolve(ConfigFile(path=Path("/nonexistent")), None, {"host": host, **KEY, **flags}, environ={})


class Recorder:
    """Replaces the urllib3 node's request: records it, answers `answer` (status, headers, body)."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.answer = (200, {"x-elastic-product": "Elasticsearch"}, b'{"ok":true}')

    def __call__(self, node, method, target, body=None, headers=None, request_timeout=None):
        self.sent.append({"node": node.base_url, "method": method, "target": target, "body": body,
                          "headers": dict(headers or {}), "timeout": request_timeout})
        status, extra, data = self.answer
        meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.0, node=node.config,
                               headers=HttpHeaders({"content-type": "application/json", **extra}))
        return NodeApiResponse(meta, data)


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(Urllib3HttpNode, "perform_request",
                        lambda self, method, target, body=None, headers=None, request_timeout=None:
                        rec(self, method, target, body, headers, request_timeout))
    return rec


SETTINGS = {
    "https, one node": dict(host="https://es.example.com:9243"),
    "https, pinned": dict(host="https://es.example.com:9243", fingerprint="AB" * 32),
    "https, no verification": dict(host="https://10.0.0.7:9200", verify_certs=False),
    "https, a CA": dict(host="https://es.example.com", ca_certs=str(Path(__file__))),
    "https, several nodes": dict(host="https://a.example.com:9200",
                                 hosts=["https://a.example.com:9200", "https://b.example.com:9201"]),
    "a path prefix": dict(host="https://proxy.example.com:443/es"),
}

# every call form of the lookup path (search/*, early_pages, analysis), as the code makes it
CALLS = [
    ("field_caps", dict(index="logs-*,app-*", fields=["message", "utc_time", "log.level"], include_unmapped=True,
                        ignore_unavailable=True, allow_no_indices=True)),
    ("field_caps", dict(index="logs-*", fields=["message"], ignore_unavailable=True, allow_no_indices=True)),
    ("msearch", dict(searches=[{"index": "a,b", "ignore_unavailable": True, "allow_no_indices": True},
                               {"query": {"match_all": {}}, "size": 100, "sort": [{"utc_time": "asc"}]}])),
    ("search", dict(index="logs-*", body={"query": {"match_all": {}}, "size": 5}, ignore_unavailable=True)),
    ("search", dict(body={"pit": {"id": "p1d==", "keep_alive": "2m"}, "size": 10, "search_after": [1, "x"]})),
    ("search", dict(index="logs", query={"term": {"tags": "error"}}, size=0, terminate_after=1,
                    track_total_hits=1, ignore_unavailable=True, allow_no_indices=True)),
    ("search", dict(index="a,b", size=0, query={"bool": {"filter": []}},
                    aggs={"by_index": {"terms": {"field": "_index", "size": 2}}},
                    ignore_unavailable=True, allow_no_indices=True)),
    ("search", dict(index=["x y", "ü*"], body={"query": {"match_all": {}}})),
    ("search", dict(index="logs", body={"query": {"match_all": {}}}, source=["message"])),  # mixed: delegated
    ("search", dict(index="logs", q="error", size=3)),  # an argument not listed: delegated
    ("open_point_in_time", dict(index="logs-*,app", keep_alive="2m", ignore_unavailable=True)),
    ("close_point_in_time", dict(body={"id": "p1d=="})),
    ("close_point_in_time", dict(id="p1d==")),
    ("mtermvectors", dict(body={"docs": [{"_index": "a", "doc": {"message": "x"}, "fields": ["message"]}]})),
    ("indices.resolve_index", dict(name="logs-*,app", expand_wildcards="closed", ignore_unavailable=True,
                                   allow_no_indices=True)),
    ("indices.resolve_index", dict(name=["x y", "ü*"])),
]


@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_same_nodes_tls_options_and_headers(name):
    settings = settings_for(**SETTINGS[name])
    official, light = build_client(settings), build_lookup_client(settings)
    assert [n.config for n in light.transport.node_pool.all()] == [n.config for n in official.transport.node_pool.all()]
    assert light.transport._transport_client_meta == official.transport._transport_client_meta
    assert dict(light._headers) == dict(official._headers)


@pytest.mark.filterwarnings("ignore:Received 'source' via a specific parameter:DeprecationWarning")
@pytest.mark.parametrize("method,kwargs", CALLS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CALLS)])
@pytest.mark.parametrize("options", [{}, {"max_retries": 0}, {"request_timeout": 1.5}])
def test_each_call_is_sent_as_the_official_client_sends_it(recorder, method, kwargs, options):
    settings = settings_for(**SETTINGS["https, several nodes"])
    official, light = build_client(settings), build_lookup_client(settings)
    for client in (official, light):
        target = client.options(**options) if options else client
        call = functools.reduce(getattr, method.split("."), target)
        answer = call(**copy.deepcopy(kwargs))
        assert answer.body == {"ok": True}
    assert len(recorder.sent) == 2
    assert recorder.sent[1] == recorder.sent[0]


def test_the_lookup_calls_need_no_official_client():
    script = ("import sys\n"
              "from elastic_cli.cluster.connection import build_lookup_client\n"
              "from elastic_cli.config.file import ConfigFile\n"
              "from elastic_cli.config.settings import Path, resolve\n"
              "s = resolve(ConfigFile(path=Path('/nonexistent')), None, {'host': 'https://es.example.com', "
              "'id': 'i', 'api_key': 'k'}, environ={})\n"
              "build_lookup_client(s)\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'elasticsearch'))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


@pytest.mark.parametrize("status,kind", [(404, elasticsearch.NotFoundError), (400, elasticsearch.BadRequestError),
                                         (401, elasticsearch.AuthenticationException),
                                         (403, elasticsearch.AuthorizationException),
                                         (503, elasticsearch.ApiError)])
def test_an_error_answer_raises_the_official_class_and_translates_alike(recorder, status, kind):
    settings = settings_for(**SETTINGS["https, one node"])
    body = {"error": {"type": "some_exception", "reason": "because", "root_cause": [{"type": "some_exception",
                                                                                     "reason": "because"}]},
            "status": status}
    recorder.answer = (status, {"x-elastic-product": "Elasticsearch"}, json.dumps(body).encode())
    raised = []
    for client in (build_client(settings).options(max_retries=0), build_lookup_client(settings).options(max_retries=0)):
        with pytest.raises(kind) as info:
            client.search(index="logs", body={"query": {"match_all": {}}})
        raised.append(info.value)
    official, light = raised
    assert type(light) is type(official)
    assert (light.message, light.body, light.meta.status) == (official.message, official.body, official.meta.status)
    assert str(translate(light, settings, "search")) == str(translate(official, settings, "search"))


def test_not_elasticsearch_and_warnings_as_the_official_client(recorder):
    settings = settings_for(**SETTINGS["https, one node"])
    recorder.answer = (200, {}, b'{"ok":true}')
    for client in (build_client(settings), build_lookup_client(settings)):
        with pytest.raises(elasticsearch.UnsupportedProductError):
            client.field_caps(index="logs", fields=["message"])
    recorder.answer = (200, {"x-elastic-product": "Elasticsearch", "warning": '299 Elasticsearch-9 "deprecated thing"'},
                       b'{"ok":true}')
    for client in (build_client(settings), build_lookup_client(settings)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            client.field_caps(index="logs", fields=["message"])
        assert [(w.category, str(w.message)) for w in seen] == [(elasticsearch.ElasticsearchWarning, "deprecated thing")]


def test_other_calls_go_to_the_official_client_on_the_same_transport(recorder):
    settings = settings_for(**SETTINGS["https, one node"])
    light = build_lookup_client(settings).options(request_timeout=4.0)
    official = build_client(settings).options(request_timeout=4.0)
    for client in (official, light):
        client.security.has_privileges(index=[{"names": ["logs"], "privileges": ["read"]}])
        client.indices.resolve_index(name="logs*", expand_wildcards="all")
    assert recorder.sent[2:] == recorder.sent[:2]
    assert light.official().transport is light.transport


def test_the_version_is_the_installed_clients():
    from importlib.metadata import version

    assert light_client.VERSION == version("elasticsearch") == elasticsearch.__versionstr__
    assert light_client.USER_AGENT.startswith(f"elasticsearch-py/{elasticsearch.__versionstr__} (")
