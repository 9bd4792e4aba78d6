"""Secrets never reach the output: typed ones, Authorization headers, keys inside JSON bodies."""

from __future__ import annotations

import base64
import string

import pytest
from elastic_cli.cluster.connection import translate
from elastic_cli.config.file import ConfigFile
from elastic_cli.config.settings import Path, resolve
from elastic_cli.errors import IndexNotFound, TLSFailed
from elastic_cli.redaction import redact, register_secret
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from hypothesis import given, settings
from hypothesis import strategies as st


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


@pytest.fixture
def fresh_secrets(monkeypatch):
    """A short common word as the password (as ORX_ELASTIC_PASSWORD=elastic), for this test only."""
    from elastic_cli import redaction

    monkeypatch.setattr(redaction, "_secrets", set())
    monkeypatch.setattr(redaction, "_pattern", None, raising=False)
    register_secret("elastic")


def test_a_common_word_password_never_rewrites_ordinary_words(fresh_secrets):
    for text in ("orx-elastic create-key --host https://es.example.com",
                 "run `orx-elastic configure`", "elastic_transport: GET /_search",
                 "Elasticsearch at https://elastic.example.com:9200 said no", "see elastic.co/docs"):
        assert redact(text) == text


def test_a_common_word_password_is_masked_where_it_is_a_value(fresh_secrets):
    shown = redact("--password elastic --password=elastic user:elastic 'elastic' "
                   '{"password": "elastic"} authenticate elastic. Basic elastic')
    assert "elastic" not in shown.replace("orx-elastic", "")
    assert shown.count("***") == 7


WORD = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)
GLUE = st.sampled_from(["-", "_", ".", "/", "+"])


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.tuples(WORD, GLUE, st.booleans()), max_size=8),
       sep=st.sampled_from([" ", "\n", ", ", "\t"]))
def test_a_secret_glued_into_a_word_is_left_alone_and_a_standalone_one_is_masked(words, sep):
    from elastic_cli import redaction

    saved = set(redaction._secrets), getattr(redaction, "_pattern", None)
    try:
        redaction._secrets.clear()
        register_secret("elastic")
        glued = sep.join(f"{w}{g}elastic" if before else f"elastic{g}{w}" for w, g, before in words)
        assert redact(glued) == glued
        standalone = sep.join(["elastic"] + [w for w, _, _ in words if w != "elastic"])
        assert redact(standalone).split(sep)[0] == "***"
    finally:
        redaction._secrets.clear()
        redaction._secrets.update(saved[0])
        redaction._pattern = saved[1]
