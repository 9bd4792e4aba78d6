"""The test harness itself, against a real Elasticsearch node (security on)."""

from __future__ import annotations

import es_sandbox
import pytest
from elasticsearch import AuthenticationException, AuthorizationException, Elasticsearch


@pytest.fixture(scope="module")
def admin(es_node):
    client = es_node.admin_client()
    yield client
    client.close()


def test_admin_is_a_superuser(es_node, admin):
    me = admin.security.authenticate()
    assert me["username"] == es_node.admin_user
    assert "superuser" in me["roles"]
    if es_node.version != "external":
        assert admin.cluster.health()["status"] in ("green", "yellow")


def test_admin_password_is_a_standard_library_pbkdf2_hash_the_file_realm_accepts(es_node, admin):
    """No bcrypt: the users file holds {PBKDF2} (hashlib) and Elasticsearch logs the admin in with it."""
    if es_node.workdir is not None:  # a node we started (not ORX_TEST_ES_URL)
        users = (es_node.workdir / "config" / "users").read_text()
        assert users.startswith(f"{es_node.admin_user}:{{PBKDF2}}10000$")
        assert admin.security.authenticate()["authentication_realm"]["type"] == "file"
    wrong = Elasticsearch(es_node.url, basic_auth=(es_node.admin_user, es_node.admin_password + "x"),
                          ca_certs=str(es_node.ca_path) if es_node.ca_path else None)
    with wrong, pytest.raises(AuthenticationException):
        wrong.security.authenticate()


def test_read_only_api_key_reads_its_index_only(es_node, admin):
    admin.indices.create(
        index="harness-logs",
        mappings={"properties": {"message": {"type": "text"}, "utc_time": {"type": "date"},
                                 "tags": {"type": "keyword"}}},
    )
    admin.indices.create(index="other-index")
    try:
        admin.index(index="harness-logs", id="1", refresh=True, document={
            "message": "boom openReplaySessionToken=" + es_sandbox.SAMPLE_TOKEN,
            "utc_time": "2024-01-24T03:51:12Z", "tags": ["error"]})
        admin.index(index="other-index", id="1", refresh=True, document={"message": "secret"})

        key = admin.security.create_api_key(
            name="harness-read",
            expiration="1d",
            role_descriptors={"harness-read": {
                "indices": [{"names": ["harness-*"], "privileges": ["read"]}]}},
        )
        assert key["encoded"]
        with Elasticsearch(es_node.url, api_key=(key["id"], key["api_key"]),
                           ca_certs=str(es_node.ca_path) if es_node.ca_path else None) as reader:
            assert reader.security.authenticate()["api_key"]["id"] == key["id"]
            hits = reader.search(index="harness-logs", query={"match_phrase": {
                "message": "openReplaySessionToken=" + es_sandbox.SAMPLE_TOKEN}})["hits"]
            assert hits["total"]["value"] == 1
            assert hits["hits"][0]["_source"]["tags"] == ["error"]

            with pytest.raises(AuthorizationException) as denied:
                reader.search(index="other-index")
            assert denied.value.meta.status == 403
        admin.security.invalidate_api_key(ids=[key["id"]])
    finally:
        admin.indices.delete(index="harness-logs,other-index", ignore_unavailable=True)


def test_sample_logs_load(es_node, admin):
    # Own index names: the node is shared with every other integration test.
    app, v121 = "harness-sample-app-logs", "harness-sample-logs"
    try:
        counts = es_sandbox.load_sample_logs(admin, app_index=app, v121_index=v121)
        assert counts[app] > 0 and counts[v121] > 0
        token_hits = admin.search(index=app, query={"match_phrase": {
            "message": "openReplaySessionToken=" + es_sandbox.SAMPLE_TOKEN}})["hits"]
        assert token_hits["total"]["value"] >= 3
        assert any("Traceback" in h["_source"]["message"] for h in token_hits["hits"])
        id_hits = admin.search(index=v121, query={"match_phrase": {
            "message": f"openReplaySession.id={es_sandbox.SAMPLE_SESSION_ID}"}})["hits"]
        assert id_hits["total"]["value"] == 2
        assert admin.count(index=v121)["count"] == counts[v121]
        mapping = admin.indices.get_mapping(index=app)[app]["mappings"]["properties"]
        assert mapping["message"]["type"] == "text" and mapping["tags"]["type"] == "keyword"
    finally:
        admin.indices.delete(index=f"{app},{v121}", ignore_unavailable=True)


def test_https_with_ca_certs(es_tls_node):
    assert es_tls_node.url.startswith("https://")
    assert es_tls_node.ca_path is not None
    with Elasticsearch(es_tls_node.url, ca_certs=str(es_tls_node.ca_path),
                       basic_auth=(es_tls_node.admin_user, es_tls_node.admin_password)) as c:
        assert c.security.authenticate()["username"] == es_tls_node.admin_user


def test_https_with_pinned_fingerprint(es_tls_node):
    assert es_tls_node.fingerprint and len(es_tls_node.fingerprint) == 64
    with Elasticsearch(es_tls_node.url, ssl_assert_fingerprint=es_tls_node.fingerprint,
                       basic_auth=(es_tls_node.admin_user, es_tls_node.admin_password)) as c:
        assert c.security.authenticate()["username"] == es_tls_node.admin_user
