"""Secrets never reach the output: typed ones, Authorization headers, keys inside JSON bodies."""

from __future__ import annotations

import base64

from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig

from elastic_cli.connection import translate
from elastic_cli.errors import IndexNotFound, TLSFailed
from elastic_cli.redaction import redact, register_secret
from elastic_cli.settings import ConfigFile, Path, resolve


def test_registered_secret_and_its_encoded_form_are_masked():
    register_secret("keyid:s3cr3t-value-xyz")
    encoded = base64.b64encode(b"keyid:s3cr3t-value-xyz").decode()
    shown = redact(f"boom keyid:s3cr3t-value-xyz and {encoded}")
    assert "s3cr3t-value-xyz" not in shown and encoded not in shown


def test_authorization_headers_and_json_secrets_are_masked_whatever_the_key():
    shown = redact("headers={'authorization': 'ApiKey QUJDOkRFRg=='} "
                   '{"id":"k1","name":"n","api_key":"never-seen-before","encoded":"QUJDOkRFRg==","password" : "pw"}')
    for secret in ("QUJDOkRFRg==", "never-seen-before", '"pw"'):
        assert secret not in shown
    assert '"id":"k1"' in shown


def test_an_api_error_mentioning_ssl_is_not_a_tls_failure():
    import elasticsearch

    meta = ApiResponseMeta(status=404, http_version="1.1", headers=HttpHeaders(), duration=0.01,
                           node=NodeConfig("http", "localhost", 9200))
    body = {"error": {"type": "index_not_found_exception", "reason": "no such index [nginx-ssl-logs]",
                      "root_cause": [{"type": "index_not_found_exception", "reason": "no such index [nginx-ssl-logs]"}]},
            "status": 404}
    exc = elasticsearch.NotFoundError("index_not_found_exception", meta, body)
    settings = resolve(ConfigFile(path=Path("/nonexistent")), None, {}, environ={})
    mapped = translate(exc, settings, "search")
    assert isinstance(mapped, IndexNotFound) and not isinstance(mapped, TLSFailed)
    assert "nginx-ssl-logs" in mapped.message
