"""create-key and keys against real Elasticsearch nodes (8.19 and 9.5): what the key can and cannot do.

The CLI runs in process through its entry point (conftest.run_cli), ORX_ELASTIC_* cleared.
"""

from __future__ import annotations

import json
import uuid

import pytest
from elastic_cli.keys import api_keys

from conftest import Env, run_cli

PATTERN = "orx-ck-*log*"
LOG_INDEX = "orx-ck-app-logs"
PRIVATE_INDEX = "orx-ck-private"


def orx(tmp_path, *args, password=None, extra_env=None):
    """orx-elastic with the config file in tmp_path, and the admin password in the environment."""
    env = {"NO_COLOR": "1", "ORX_ELASTIC_CONFIG": str(tmp_path / "config.yaml"), **(extra_env or {})}
    if password is not None:
        env["ORX_ELASTIC_PASSWORD"] = password
    return run_cli(*args, env=Env(vars=env))


def connect(node):
    args = ["--host", node.url]
    if node.ca_path:
        args += ["--ca-certs", str(node.ca_path)]
    return args


def key_client(node, key_id, secret):
    from elasticsearch import Elasticsearch

    kwargs = {"ca_certs": str(node.ca_path)} if node.ca_path else {}
    return Elasticsearch(node.url, api_key=(key_id, secret), request_timeout=30, max_retries=0, **kwargs)


@pytest.fixture(scope="session")
def log_indices(es_node):
    admin = es_node.admin_client()
    for index in (LOG_INDEX, PRIVATE_INDEX):
        if not admin.indices.exists(index=index):
            admin.indices.create(index=index, mappings={"properties": {"message": {"type": "text"},
                                                                       "utc_time": {"type": "date"},
                                                                       "tags": {"type": "keyword"}}})
        admin.index(index=index, document={"message": f"[openReplaySessionToken=abc] boom in {index}",
                                           "utc_time": "2024-01-24T04:00:00Z", "tags": ["error"]}, refresh=True)
    return admin


def create(tmp_path, node, *extra):
    result = orx(tmp_path, "create-key", *connect(node), "--username", node.admin_user, "--indexes", PATTERN,
                     "-o", "json", *extra, password=node.admin_password)
    assert result.exit_code == 0, result.stderr
    assert node.admin_password not in result.stdout + result.stderr
    return json.loads(result.stdout)


def assert_status(call, status):
    from elasticsearch import ApiError

    with pytest.raises(ApiError) as exc:
        call()
    assert exc.value.meta.status == status, exc.value.body
    return exc.value


def test_created_key_is_least_privilege(tmp_path, es_node, log_indices):
    key = create(tmp_path, es_node, "--name", f"lp-{uuid.uuid4().hex[:6]}", "--expiration", "1d")
    assert key["expiration"]
    es = key_client(es_node, key["id"], key["api_key"])
    # what `check` and `logs` need, with `read` alone
    assert es.search(index=PATTERN, query={"match_phrase": {"message": "openReplaySessionToken=abc"}})["hits"]["total"]["value"] >= 1
    assert es.count(index=LOG_INDEX)["count"] >= 1
    assert "message" in es.field_caps(index=PATTERN, fields="message")["fields"]
    pit = es.open_point_in_time(index=PATTERN, keep_alive="1m")
    pit_id = pit["id"]
    page = es.search(pit={"id": pit_id, "keep_alive": "1m"}, size=10, sort=[{"utc_time": "asc"}])
    assert page["hits"]["hits"]
    es.close_point_in_time(id=pit_id)
    assert es.security.authenticate()["api_key"]["id"] == key["id"]
    privileges = es.security.has_privileges(index=[{"names": [LOG_INDEX], "privileges": ["read"]}])
    assert privileges["has_all_requested"] is True
    # and nothing else
    assert_status(lambda: es.search(index=PRIVATE_INDEX), 403)
    assert_status(lambda: es.index(index=LOG_INDEX, document={"message": "x"}), 403)
    assert_status(lambda: es.cluster.put_settings(persistent={"cluster.routing.allocation.enable": "all"}), 403)
    assert_status(lambda: es.security.create_api_key(name="escalate", role_descriptors={
        "r": {"cluster": ["all"], "indices": [{"names": ["*"], "privileges": ["all"]}]}}), 403)


def test_dry_run_body_creates_an_equivalent_key(tmp_path, es_node, log_indices):
    dry = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user,
                  "--indexes", PATTERN, "--name", "dry-run-key", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    console = dry.stdout.split("# or curl")[0].splitlines()
    body = json.loads("\n".join(console[console.index("POST /_security/api_key") + 1:]))
    admin = log_indices
    pasted = admin.perform_request("POST", "/_security/api_key", body=body,
                                   headers={"content-type": "application/json", "accept": "application/json"})
    created = create(tmp_path, es_node, "--name", "dry-run-key")

    def descriptors(key_id):
        info = admin.security.get_api_key(id=key_id)["api_keys"][0]
        assert info["metadata"]["created_by"] == "orx-elastic"
        return info["role_descriptors"]

    assert descriptors(pasted.body["id"]) == descriptors(created["id"])
    role = descriptors(created["id"])["openreplay-role"]
    assert role["cluster"] == []
    assert [(i["names"], i["privileges"]) for i in role["indices"]] == [([PATTERN], ["read"])]


def test_save_writes_a_working_profile(tmp_path, es_node, log_indices):
    from elastic_cli.cluster.connection import build_client
    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve

    result = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user,
                     "--indexes", PATTERN, "--save", "-o", "table", password=es_node.admin_password)
    assert result.exit_code == 0, result.stderr
    assert "Saved to" in result.stdout
    path = tmp_path / "config.yaml"
    assert path.stat().st_mode & 0o077 == 0
    settings = resolve(load_config_file(path), None, {}, environ={})
    assert settings.indexes == PATTERN and settings.port == es_node.port
    es = build_client(settings)
    assert es.count(index=PATTERN)["count"] >= 1


def test_rotate_leaves_a_working_config_and_invalidates_the_old_key(tmp_path, es_node, log_indices):
    from elastic_cli.cluster.connection import build_client
    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve

    run = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, "--indexes", PATTERN,
                  "--expiration", "7d", "--name", "rotate-me", "--save", password=es_node.admin_password)
    assert run.exit_code == 0, run.stderr
    path = tmp_path / "config.yaml"
    old = resolve(load_config_file(path), None, {}, environ={})
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "-o", "json",
                      password=es_node.admin_password)
    assert rotated.exit_code == 0, rotated.stderr
    new = resolve(load_config_file(path), None, {}, environ={})
    assert new.id == json.loads(rotated.stdout)["id"] != old.id
    assert build_client(new).security.authenticate()["api_key"]["id"] == new.id
    admin = log_indices
    old_info = admin.security.get_api_key(id=old.id)["api_keys"][0]
    new_info = admin.security.get_api_key(id=new.id)["api_keys"][0]
    assert old_info["invalidated"] is True
    assert new_info["name"] == "rotate-me" and new_info["metadata"]["rotated_from"] == old.id
    assert api_keys.patterns_of(new_info["role_descriptors"]) == [PATTERN]
    assert api_keys.expiration_policy(new_info) == "7d"
    assert_status(lambda: key_client(es_node, old.id, old.api_key).security.authenticate(), 401)


def test_rotate_shows_the_new_secret_once_like_create_key(tmp_path, es_node, log_indices):
    """One rule for every command that makes a key: its secret in full once, then masked (README)."""
    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve

    made = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, "--indexes", PATTERN,
               "--save", password=es_node.admin_password)
    first = resolve(load_config_file(tmp_path / "config.yaml"), None, {}, environ={})
    assert made.exit_code == 0 and made.stdout.count(first.api_key) == 1, made.stderr
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, "-o", "table",
                  password=es_node.admin_password)
    assert rotated.exit_code == 0, rotated.stderr
    new = resolve(load_config_file(tmp_path / "config.yaml"), None, {}, environ={})
    assert new.api_key != first.api_key
    assert rotated.stdout.count(new.api_key) == 1 and "shown only this once" in rotated.stdout
    shown = orx(tmp_path, "config", "show")
    assert shown.exit_code == 0 and new.api_key not in shown.output
    assert new.api_key in orx(tmp_path, "config", "show", "--reveal").stdout


def test_rotate_rolls_back_when_the_new_key_cannot_be_saved(tmp_path, es_node, log_indices):
    """The step after creating the new key fails for real (the file's lock cannot be opened):
    the new key is invalidated, the config file is unchanged, the old key still works."""
    made = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, "--indexes", PATTERN,
               "--name", f"rollback-{uuid.uuid4().hex[:6]}", "--save", "-o", "json", password=es_node.admin_password)
    assert made.exit_code == 0, made.stderr
    old = made.json()
    config = tmp_path / "config.yaml"
    before = config.read_bytes()
    (tmp_path / "config.yaml.lock").unlink(missing_ok=True)
    (tmp_path / "config.yaml.lock").mkdir()  # what save_profile opens first: a directory cannot be
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, password=es_node.admin_password)
    assert rotated.exit_code == 3, rotated.stderr
    errors = [line for line in rotated.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(config) in errors[0] and "Traceback" not in rotated.stderr
    assert config.read_bytes() == before
    admin = log_indices
    replacements = admin.security.query_api_keys(query={"term": {"metadata.rotated_from": old["id"]}})["api_keys"]
    assert len(replacements) == 1 and replacements[0]["invalidated"] is True
    assert replacements[0]["id"] not in rotated.stdout, "a key that was rolled back is not shown as made"
    assert key_client(es_node, old["id"], old["api_key"]).security.authenticate()["api_key"]["id"] == old["id"]


def test_rotate_rolls_back_when_the_new_key_does_not_verify(tmp_path, es_node, log_indices):
    """api_keys.rotate from Python, as the CLI calls it, with a store whose check of the saved key
    goes to a closed port: the file is put back, the new key invalidated, the old key still works."""
    import socket

    from elastic_cli import errors
    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve

    made = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, "--indexes", PATTERN,
               "--save", "-o", "json", password=es_node.admin_password)
    assert made.exit_code == 0, made.stderr
    old = made.json()
    config = tmp_path / "config.yaml"
    before = config.read_bytes()
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = resolve(load_config_file(config), None, {"port": closed_port}, environ={})
    warnings: list = []
    with pytest.raises(errors.ConnectionFailed):
        api_keys.rotate(es_node.admin_client(), old["id"], api_keys.ProfileKeyStore.of(unreachable),
                        warn=warnings.append)
    assert config.read_bytes() == before
    assert warnings == [f"the new key did not work: the profile keeps the old key {old['id']}"]
    replacements = log_indices.security.query_api_keys(
        query={"term": {"metadata.rotated_from": old["id"]}})["api_keys"]
    assert len(replacements) == 1 and replacements[0]["invalidated"] is True
    assert key_client(es_node, old["id"], old["api_key"]).security.authenticate()["api_key"]["id"] == old["id"]


def test_rotate_with_wrong_admin_password_keeps_the_config(tmp_path, es_node, log_indices):
    run = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, "--indexes", PATTERN,
                  "--save", password=es_node.admin_password)
    assert run.exit_code == 0, run.stderr
    before = (tmp_path / "config.yaml").read_text()
    rotated = orx(tmp_path, "keys", "rotate", "--username", es_node.admin_user, password="wrong-password-1")
    assert rotated.exit_code == 6
    assert (tmp_path / "config.yaml").read_text() == before


def test_keys_list_and_invalidate(tmp_path, es_node, log_indices):
    name = f"list-{uuid.uuid4().hex[:6]}"
    key = create(tmp_path, es_node, "--name", name)
    listed = orx(tmp_path, "keys", "list", *connect(es_node), "--username", es_node.admin_user, "-o", "json",
                     password=es_node.admin_password)
    assert listed.exit_code == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows[key["id"]]["name"] == name and rows[key["id"]]["invalidated"] is False
    table = orx(tmp_path, "keys", "list", *connect(es_node), "--username", es_node.admin_user,
                    password=es_node.admin_password)
    assert table.exit_code == 0, table.stderr
    assert key["id"] in table.stdout
    gone = orx(tmp_path, "keys", "invalidate", "--name", name, *connect(es_node),
                   "--username", es_node.admin_user, password=es_node.admin_password)
    assert gone.exit_code == 0, gone.stderr
    assert gone.stdout.split() == [key["id"]]
    assert log_indices.security.get_api_key(id=key["id"])["api_keys"][0]["invalidated"] is True
    unknown = orx(tmp_path, "keys", "invalidate", "no-such-key-id", *connect(es_node),
                      "--username", es_node.admin_user, password=es_node.admin_password)
    assert unknown.exit_code == 2


def test_wrong_admin_password_is_exit_6(tmp_path, es_node):
    result = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user,
                     password="not-the-password-42")
    assert result.exit_code == 6
    assert "not-the-password-42" not in result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and "fix: " in result.stderr
    assert not (tmp_path / "config.yaml").exists()


def test_user_without_manage_api_key_is_exit_7(tmp_path, es_node, log_indices):
    admin = log_indices
    admin.security.put_role(name="orx-ck-reader", cluster=["monitor"],
                            indices=[{"names": [PATTERN], "privileges": ["read"]}])
    admin.security.put_user(username="orx-ck-reader", password="reader-password-1", roles=["orx-ck-reader"])
    result = orx(tmp_path, "create-key", *connect(es_node), "--username", "orx-ck-reader", "--save",
                     password="reader-password-1")
    assert result.exit_code == 7, result.stderr
    assert "manage_api_key" in result.stderr
    assert "reader-password-1" not in result.stdout + result.stderr
    assert not (tmp_path / "config.yaml").exists()
    # and the read-only key itself cannot create keys either (fallback to the profile's key)
    key = create(tmp_path, es_node)
    fallback = orx(tmp_path, "create-key", *connect(es_node), "--id", key["id"], "--api-key", key["api_key"])
    assert fallback.exit_code == 7, fallback.stderr
    assert key["api_key"] not in fallback.stdout + fallback.stderr


@pytest.mark.parametrize("command", [["create-key"], ["keys", "list"]], ids=["create-key", "keys-list"])
def test_only_the_saved_read_only_key_says_to_pass_username(tmp_path, es_node, log_indices, command):
    """Granting OpenReplay's read-only key more privileges would be the wrong fix: ask for an admin."""
    saved = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, "--indexes", PATTERN,
                "--save", password=es_node.admin_password)
    assert saved.exit_code == 0, saved.stderr
    result = orx(tmp_path, *command)
    assert result.exit_code == 7, result.stderr
    error, fix = result.stderr.splitlines()[:2]
    assert error.startswith("error: the profile's API key (read-only) may not")
    assert "--username" in fix and "--admin-api-key" in fix and "grant" not in fix


def test_admin_api_key_lists_but_cannot_create(tmp_path, es_node):
    """Elasticsearch lets an API key create only keys with no privileges ("derived" keys)."""
    admin_key = es_node.admin_client().security.create_api_key(name="orx-ck-admin")
    for value in (admin_key["encoded"], f"{admin_key['id']}:{admin_key['api_key']}"):
        env = {"ORX_ELASTIC_ADMIN_API_KEY": value}
        listed = orx(tmp_path, "keys", "list", *connect(es_node), "-o", "json", extra_env=env)
        assert listed.exit_code == 0, listed.stderr
        assert isinstance(json.loads(listed.stdout), list)
        result = orx(tmp_path, "create-key", *connect(es_node), "--indexes", PATTERN, extra_env=env)
        assert result.exit_code == 11, result.stderr
        assert "--username" in result.stderr
        assert admin_key["api_key"] not in result.stdout + result.stderr


def _server_error(es_node, body):
    """Send a body that local validation would refuse, and map the answer as create-key does."""
    from pathlib import Path

    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve
    from elastic_cli.errors import OrxError
    from elastic_cli.keys.admin import key_errors

    settings = resolve(load_config_file(Path("/nonexistent/config.yaml")), None, {"host": es_node.url}, environ={})
    with pytest.raises(OrxError) as exc, key_errors(settings, "create API keys", "user 'admin'"):
        api_keys.create_key(es_node.admin_client(), body)
    return exc.value


def test_bad_pattern_and_expiration_are_exit_11(tmp_path, es_node):
    body = api_keys.create_key_body("bad", ["*log*"])
    body["role_descriptors"]["openreplay-role"]["indices"][0]["names"] = ["/[/"]
    error = _server_error(es_node, body)
    assert error.exit_code == 11 and "index patterns" in error.message and "/[/" in error.message
    body = api_keys.create_key_body("bad", ["*log*"])
    body["expiration"] = "1.5h"
    error = _server_error(es_node, body)
    assert error.exit_code == 11 and "expiration" in error.message and "fractional" in error.message
    # the CLI refuses both before sending: usage errors
    for args in (["--indexes", "/[/"], ["--expiration", "1.5h"]):
        result = orx(tmp_path, "create-key", *connect(es_node), "--username", es_node.admin_user, *args,
                         password=es_node.admin_password)
        assert result.exit_code == 2, result.stderr


def test_https_node_with_ca_and_save(tmp_path, es_tls_node):
    from elastic_cli.cluster.connection import build_client
    from elastic_cli.config.file import load_config_file
    from elastic_cli.config.settings import resolve

    result = orx(tmp_path, "create-key", *connect(es_tls_node), "--username", es_tls_node.admin_user,
                     "--save", password=es_tls_node.admin_password)
    assert result.exit_code == 0, result.stderr
    settings = resolve(load_config_file(tmp_path / "config.yaml"), None, {}, environ={})
    assert settings.ca_certs == str(es_tls_node.ca_path)
    assert build_client(settings).security.authenticate()["authentication_type"] == "api_key"


def test_api_keys_disabled_is_exit_12(tmp_path):
    """One version only (a node of its own): xpack.security.authc.api_key.enabled: false."""
    import es_sandbox

    with es_sandbox.ESNode(es_sandbox.DEFAULT_VERSION,
                           extra_settings={"xpack.security.authc.api_key.enabled": False}) as node:
        result = orx(tmp_path, "create-key", "--host", node.url, "--username", node.admin_user,
                         password=node.admin_password)
        assert result.exit_code == 12, result.stderr
        assert "API keys are disabled" in result.stderr
        assert "api_key.enabled" in result.stderr
        listed = orx(tmp_path, "keys", "list", "--host", node.url, "--username", node.admin_user,
                         password=node.admin_password)
        assert listed.exit_code == 12, listed.stderr
