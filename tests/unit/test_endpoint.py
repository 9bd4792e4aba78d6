"""Where Elasticsearch is: one parser for host URLs, ports, path prefixes and cloud ids."""

from __future__ import annotations

import base64

import pytest
from elastic_cli.checks import run as check_run
from elastic_cli.config import endpoint, settings
from elastic_cli.config import file as config_file
from elastic_cli.errors import UsageError


def resolved(flags, stored=None, environ=None):
    config = config_file.ConfigFile(path=settings.Path("/nonexistent"), exists=True,
                                 profiles={"default": stored or {}})
    return settings.resolve(config, None, flags, environ=environ or {})


@pytest.mark.parametrize("text,scheme,hostname,port,path", [
    ("es.example.com", "https", "es.example.com", None, ""),
    ("http://127.0.0.1:9200", "http", "127.0.0.1", 9200, ""),
    ("https://[::1]:9243/", "https", "::1", 9243, ""),
    ("https://proxy.example.com/es", "https", "proxy.example.com", None, "/es"),
    ("HTTPS://Proxy.example.com:8443/es/v8/", "https", "proxy.example.com", 8443, "/es/v8"),
])
def test_parse_host(text, scheme, hostname, port, path):
    parsed = endpoint.parse_host(text)
    assert (parsed.scheme, parsed.hostname, parsed.port, parsed.path) == (scheme, hostname, port, path)


@pytest.mark.parametrize("text", ["ftp://x", "http://", "https://host:99999", "https://host:0",
                                  "https://es.example.com/es?x=1", "https://es.example.com/#top"])
def test_parse_host_rejects(text):
    with pytest.raises(UsageError):
        endpoint.parse_host(text)


def test_credentials_in_the_url_are_refused_without_echoing_them():
    with pytest.raises(UsageError) as caught:
        endpoint.parse_host("https://elastic:s3cret-pw@es.example.com:9200")
    assert "s3cret-pw" not in caught.value.message + (caught.value.hint or "")
    assert "user:password@" in caught.value.message


def test_a_path_prefix_reaches_the_url():
    assert resolved({"host": "https://proxy.example.com/es"}).url == "https://proxy.example.com:9200/es"
    assert resolved({"host": "https://proxy.example.com:8443/es/"}).url == "https://proxy.example.com:8443/es"


def test_a_path_prefix_reaches_the_client():
    from elastic_cli.cluster.connection import build_client

    client = build_client(resolved({"host": "http://proxy.example.com:8080/es", "id": "k", "api_key": "secret"}))
    assert [node.base_url for node in client.transport.node_pool.all()] == ["http://proxy.example.com:8080/es"]


def test_a_host_without_port_means_9200_not_the_saved_port():
    stored = {"host": "http://old.example", "port": 39473}
    assert resolved({"host": "http://new.example"}, stored).url == "http://new.example:9200"
    assert resolved({}, stored, {"ORX_ELASTIC_HOST": "http://env.example"}).url == "http://env.example:9200"
    assert resolved({"host": "http://new.example"}, stored).sources["port"] == "flag"


def test_an_explicit_port_still_wins():
    stored = {"host": "http://old.example", "port": 39473}
    assert resolved({"host": "http://new.example", "port": 1234}, stored).url == "http://new.example:1234"
    assert resolved({"host": "http://new.example:9243", "port": 1234}, stored).url == "http://new.example:1234"
    assert resolved({}, stored).url == "http://old.example:39473"
    assert resolved({"port": 1234}, stored).url == "http://old.example:1234"


def test_cloud_id_gives_https_host_and_port():
    encoded = base64.b64encode(b"us-east-1.aws.found.io:9243$abc123$kib456").decode()
    parsed = endpoint.parse_cloud_id(f"my-deployment:{encoded}")
    assert (parsed.host, parsed.port) == ("https://abc123.us-east-1.aws.found.io", 9243)
    encoded = base64.b64encode(b"eu-west-1.aws.found.io$esuuid$kib").decode()
    assert endpoint.parse_cloud_id(f"name:{encoded}").url(None) == "https://esuuid.eu-west-1.aws.found.io:443"
    with pytest.raises(UsageError):
        endpoint.parse_cloud_id("name:not base64!")


def test_check_probes_the_host_and_port_of_the_same_endpoint():
    parsed = resolved({"host": "https://[::1]:9243/es"}).endpoint
    assert (parsed.scheme, parsed.hostname, parsed.port, parsed.path) == ("https", "::1", 9243, "/es")
    assert not hasattr(check_run, "host_port")
