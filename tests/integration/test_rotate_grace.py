"""`keys rotate --grace` on real nodes: the old key keeps working until the grace ends, then expires.

Measured on 8.19.21 and 9.5.4: `PUT /_security/api_key/<id>` with only `expiration` (owner credentials) sets a
new expiration and keeps the key's role descriptors.
"""

from __future__ import annotations

import json
import time

import test_create_key
from elastic_cli.config.file import load_config_file
from elastic_cli.config.settings import resolve
from test_create_key import LOG_INDEX, PATTERN, connect, key_client, orx  # noqa: F401

log_indices = test_create_key.log_indices  # the fixture, shared with test_create_key


def made_key(tmp_path, es_node, *extra):
    run = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, "--indexes", PATTERN,
              "--name", "grace-me", "--save", *extra, password=es_node.admin_password)
    assert run.exit_code == 0, run.stderr
    return resolve(load_config_file(tmp_path / "config.yaml"), None, {}, environ={})


def test_grace_leaves_the_old_key_working_and_sets_its_expiration(tmp_path, es_node, log_indices):
    old = made_key(tmp_path, es_node)
    before = time.time() * 1000
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "--grace", "24h", "-o", "json",
                  password=es_node.admin_password)
    assert rotated.exit_code == 0, rotated.stderr
    data = json.loads(rotated.stdout)
    new = resolve(load_config_file(tmp_path / "config.yaml"), None, {}, environ={})
    assert new.id == data["id"] != old.id
    info = log_indices.security.get_api_key(id=old.id)["api_keys"][0]
    assert info["invalidated"] is False
    day = 24 * 3600 * 1000
    assert before + day - 60_000 <= info["expiration"] <= time.time() * 1000 + day + 60_000
    assert data["old_expires_at"] and data["old_invalidated"] is False
    # during the grace the old key still authenticates, and still reads the log index
    old_client = key_client(es_node, old.id, old.api_key)
    assert old_client.security.authenticate()["api_key"]["id"] == old.id
    assert old_client.count(index=LOG_INDEX)["count"] >= 1
    # the form values of both generations carry the new id (the api_key is the one shown once)
    forms = data["openreplay_forms"]
    assert [f["apiKeyId"] for f in forms.values() if "apiKeyId" in f] == [new.id]
    assert [f["api_key_id"] for f in forms.values() if "api_key_id" in f] == [new.id]
    assert json.dumps(forms).count(new.api_key) == 0


def test_grace_in_the_table_says_when_the_old_key_stops_working(tmp_path, es_node, log_indices):
    old = made_key(tmp_path, es_node)
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "--grace", "2h", "-o", "table",
                  password=es_node.admin_password)
    assert rotated.exit_code == 0, rotated.stderr
    assert f"the old key {old.id} keeps working until 20" in rotated.stderr
    assert "paste into OpenReplay up to v1.20" in rotated.stdout and "paste into OpenReplay v1.21" in rotated.stdout
    new = resolve(load_config_file(tmp_path / "config.yaml"), None, {}, environ={})
    assert rotated.stdout.count(new.api_key) == 1  # shown once, as create-key does


def test_grace_never_extends_a_key_that_expires_sooner(tmp_path, es_node, log_indices):
    old = made_key(tmp_path, es_node, "--expiration", "1h")
    expiration = log_indices.security.get_api_key(id=old.id)["api_keys"][0]["expiration"]
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "--grace", "24h", "-o", "json",
                  password=es_node.admin_password)
    assert rotated.exit_code == 0, rotated.stderr
    assert log_indices.security.get_api_key(id=old.id)["api_keys"][0]["expiration"] == expiration
    assert "expires before the grace ends" in rotated.stderr


def test_without_grace_it_says_openreplay_needs_the_new_key_now(tmp_path, es_node, log_indices):
    old = made_key(tmp_path, es_node)
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "-o", "table",
                  password=es_node.admin_password)
    assert rotated.exit_code == 0, rotated.stderr
    assert "OpenReplay needs the new key now" in rotated.stderr and old.id in rotated.stderr
    assert log_indices.security.get_api_key(id=old.id)["api_keys"][0]["invalidated"] is True


def test_grace_with_keep_old_is_a_usage_error(tmp_path, es_node, log_indices):
    made_key(tmp_path, es_node)
    result = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "--grace", "24h", "--keep-old",
                 password=es_node.admin_password)
    assert result.exit_code == 2 and "do not go together" in result.stderr
    bad = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "--grace", "soon",
              password=es_node.admin_password)
    assert bad.exit_code == 2 and "invalid --grace 'soon'" in bad.stderr
