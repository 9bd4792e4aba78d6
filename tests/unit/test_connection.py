"""Errors from the client are classified by their type and cause chain, never by words in them."""

from __future__ import annotations

import http.client
import socket
import ssl

import elastic_transport
import pytest
import urllib3.exceptions
from elastic_cli import errors
from elastic_cli.cluster.connection import translate
from elastic_cli.config.file import ConfigFile
from elastic_cli.config.settings import Path, resolve


def settings_for(host: str, **flags):
    return resolve(ConfigFile(path=Path("/nonexistent")), None, {"host": host, **flags}, environ={})


def transport_error(kind, message: str, cause: BaseException):
    """An error shaped as elastic_transport's urllib3 node raises it: errors=(cause,), raised from it."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise kind(message, errors=(inner,)) from inner
    except kind as outer:
        return outer


def dns_failure(host: str):
    gai = socket.gaierror(-2, "Name or service not known")
    resolution = urllib3.exceptions.NameResolutionError(host, None, gai)  # type: ignore[arg-type]
    resolution.__cause__ = gai
    return transport_error(elastic_transport.ConnectionError, str(resolution), resolution)


def refused(host: str):
    cause = urllib3.exceptions.NewConnectionError(None, f"HTTPConnection(host='{host}', port=1): Failed to "
                                                  "establish a new connection: [Errno 111] Connection refused")
    cause.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return transport_error(elastic_transport.ConnectionError, str(cause), cause)


@pytest.mark.parametrize("host", ["http://ssl-logs.invalid", "http://certificate-store.invalid:9200"])
def test_a_dns_failure_on_a_host_named_ssl_is_a_connection_failure(host):
    mapped = translate(dns_failure(host.split("//")[1]), settings_for(host), "search")
    assert type(mapped) is errors.ConnectionFailed and mapped.exit_code == 4
    assert "cannot resolve" in mapped.message


def test_a_refused_connection_to_a_host_named_ssl_is_a_connection_failure():
    mapped = translate(refused("ssl.localhost"), settings_for("http://ssl.localhost:1"), "search")
    assert type(mapped) is errors.ConnectionFailed and "connection refused" in mapped.message


def test_a_certificate_error_is_a_tls_failure_even_without_telling_words():
    cause = ssl.SSLCertVerificationError(1, "[SSL] nondescript")
    cause.verify_code, cause.verify_message = 10, "nondescript"  # X509_V_ERR_CERT_HAS_EXPIRED
    mapped = translate(transport_error(elastic_transport.TlsError, "nondescript", cause),
                       settings_for("https://es.example.com"), "search")
    assert type(mapped) is errors.TLSFailed and "expired" in mapped.message


def test_https_to_a_plain_http_port_is_named():
    cause = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    cause.reason = "WRONG_VERSION_NUMBER"
    mapped = translate(transport_error(elastic_transport.TlsError, str(cause), cause),
                       settings_for("https://es.example.com"), "search")
    assert type(mapped) is errors.TLSFailed and "plain HTTP port" in mapped.message


def test_http_to_a_server_that_hangs_up_suggests_https_but_a_cut_body_does_not():
    hung_up = urllib3.exceptions.ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed"))
    mapped = translate(transport_error(elastic_transport.ConnectionError, str(hung_up), hung_up),
                       settings_for("http://es.example.com"), "search")
    assert type(mapped) is errors.TLSFailed and "https" in mapped.hint
    cut = urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead", http.client.IncompleteRead(b"x", 10))
    mapped = translate(transport_error(elastic_transport.ConnectionError, str(cut), cut),
                       settings_for("http://es.example.com"), "search")
    assert type(mapped) is errors.ConnectionFailed and "lost the connection" in mapped.message


def api_error(status: int, body: dict):
    import elasticsearch
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig

    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.01,
                           node=NodeConfig("http", "localhost", 9200))
    return elasticsearch.ApiError(str(status), meta, body)


@pytest.mark.parametrize("text,says", [
    ("API key: api key is expired", "the API key (id key-id) has expired"),
    ("API key: api key [key-id] has been invalidated", "the API key (id key-id) has been invalidated"),
    ("API key: invalid credentials for API key [key-id]", "the API key secret is wrong for key id key-id"),
    ("API key: unable to find apikey with id key-id", "no API key with id key-id exists"),
])
def test_a_rejected_key_says_why_as_check_does(text, says):
    body = {"error": {"type": "security_exception", "reason": "unable to authenticate with provided credentials",
                      "additional_unsuccessful_credentials": text,
                      "root_cause": [{"type": "security_exception", "additional_unsuccessful_credentials": text}]},
            "status": 401}
    mapped = translate(api_error(401, body), settings_for("http://es.example.com", id="key-id", api_key="s3cret"),
                       "search")
    assert type(mapped) is errors.AuthenticationFailed and says in mapped.message
    assert "rejected the credentials" in mapped.message
