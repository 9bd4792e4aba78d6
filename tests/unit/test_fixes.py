"""The alias fix's requests and the shipper advice (pure)."""

from __future__ import annotations

from elastic_cli.cluster.curl import console_post, curl_post
from elastic_cli.openreplay import fixes


def test_the_alias_body_marks_the_alias_and_remove_undoes_it():
    body = fixes.add_alias_body(["logs-*", "app-*"])
    assert [a["add"]["index"] for a in body["actions"]] == ["logs-*", "app-*"]
    assert {a["add"]["alias"] for a in body["actions"]} == {"logs"}
    assert fixes.is_our_alias(body["actions"][0]["add"])
    assert not fixes.is_our_alias({}) and not fixes.is_our_alias({"filter": {"term": {"service": "x"}}})
    assert fixes.remove_alias_body(["x"]) == {"actions": [{"remove": {"index": "x", "alias": "logs"}}]}
    assert console_post(fixes.ENDPOINT, body).startswith("POST /_aliases\n{")


def test_curl_never_holds_a_password_or_key():
    curl = curl_post("https://es:9243", fixes.ENDPOINT, fixes.add_alias_body(["a"]), "elastic", ca_certs="/ca.pem")
    assert curl.startswith("curl -sS -X POST https://es:9243/_aliases -u elastic --cacert /ca.pem")
    by_key = curl_post("https://es", fixes.ENDPOINT, {}, "ENV", api_key_env="ENV")
    assert '"Authorization: ApiKey $ENV"' in by_key


def test_advice_only_for_what_the_shipper_must_change():
    assert fixes.advice_for({"index-not-logs", "beyond-1000"}) == []
    level = fixes.advice_for({"no-level"})
    assert [t for t, _ in level] and all("level" in t for t, _ in level)
    assert any("lowercase" in snippet for _, snippet in level)
    assert any("@timestamp" in t for t, _ in fixes.advice_for({"no-timestamp"}))
