"""api_keys kept outside the config file, against real nodes: $(env:VAR) and $(file:PATH) drive `check`
and `logs`; the OS keychain is a real Secret Service (gnome-keyring on a private D-Bus session, the
`secret_service` fixture): create-key --save --keychain, check, logs, keys rotate in place, moving the key
out again; and every reference that cannot be read, with its exit code and message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import es_sandbox
import pytest
import yaml

from conftest import Env, run_cli

TOKEN = es_sandbox.SAMPLE_TOKEN


def sample_key(node):
    """Sample logs in this test's own indices, and a read-only key for them."""
    admin = node.admin_client()
    prefix = f"orxsec-{uuid.uuid4().hex[:8]}"
    es_sandbox.load_sample_logs(admin, app_index=f"{prefix}-app-logs", v121_index=f"{prefix}-v121-logs")
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": [f"{prefix}-*"], "privileges": ["read"]}]}})
    return prefix, key


def cli(config, *args, env=None):
    return run_cli("--config", str(config), *args, env=Env(vars={"NO_COLOR": "1", **(env or {})}))


def profile_of(config, name="default"):
    return yaml.safe_load(config.read_text())["profiles"][name]


def statuses(result):
    return {f["id"]: f["status"] for f in result.json()}


def assert_logs_found(result, secret):
    assert result.exit_code == 0, result.stderr
    messages = [hit["_source"]["message"] for hit in result.json()]
    assert messages and all("openReplaySession" in m for m in messages)
    assert secret not in result.output


def configured(tmp_path, node, prefix, key, api_key):
    config = tmp_path / "config.yaml"
    written = cli(config, "configure", "--host", node.url, "--id", key["id"], "--api-key", api_key,
                  "--indexes", f"{prefix}-*")
    assert written.exit_code == 0, written.stderr
    assert profile_of(config)["api_key"] == api_key  # the reference is stored as written, not resolved
    return config


# ---------------------------------------------------------------- env and file, end to end


def test_env_reference_drives_check_and_logs(tmp_path, es_node):
    prefix, key = sample_key(es_node)
    config = configured(tmp_path, es_node, prefix, key, "$(env:ORX_TEST_ES_KEY)")
    env = {"ORX_TEST_ES_KEY": key["api_key"]}
    checked = cli(config, "check", "-o", "json", env=env)
    assert checked.exit_code == 0, checked.output
    found = {f["id"]: f for f in checked.json()}
    assert found["secret"]["status"] == "ok" and found["secret"]["detail"] == (
        "read from the environment variable ORX_TEST_ES_KEY")
    assert found["auth"]["status"] == "ok" and found["marked_logs"]["status"] == "ok"
    assert key["api_key"] not in checked.output
    assert_logs_found(cli(config, "logs", TOKEN, "-o", "json", env=env), key["api_key"])

    # unset: check names the reference and runs what needs no key; logs stops with exit 3
    unset = cli(config, "check", "-o", "json")
    assert unset.exit_code == 10
    assert statuses(unset)["secret"] == "failure" and statuses(unset)["connect"] == "ok"
    assert statuses(unset)["auth"] == "skipped"
    logs = cli(config, "logs", TOKEN)
    assert logs.exit_code == 3 and logs.stdout == ""
    assert logs.stderr.splitlines()[0] == ("error: the api_key $(env:ORX_TEST_ES_KEY) cannot be read: "
                                           "the environment variable ORX_TEST_ES_KEY is not set")


def test_file_reference_drives_check_and_logs_and_never_shows_the_key(tmp_path, es_node):
    prefix, key = sample_key(es_node)
    secret_file = tmp_path / "secrets" / "es.key"
    secret_file.parent.mkdir(mode=0o700)
    secret_file.write_text(key["encoded"] + "\n")  # the encoded form: its id comes with it
    secret_file.chmod(0o600)
    config = configured(tmp_path, es_node, prefix, key, "$(file:secrets/es.key)")
    checked = cli(config, "check", "-o", "json")
    assert checked.exit_code == 0, checked.output
    assert statuses(checked)["secret"] == "ok" and statuses(checked)["auth"] == "ok"
    # --debug logs every request: the key read from the file is masked in each line
    found = cli(config, "--debug", "logs", TOKEN, "-o", "json")
    assert_logs_found(found, key["api_key"])
    assert key["encoded"] not in found.output and "debug:" in found.stderr

    for mode, why in ((0o644, "is open to other users (mode 0644)"), (0o660, "is open to other users (mode 0660)")):
        secret_file.chmod(mode)
        checked = cli(config, "check", "-o", "json")
        secret = {f["id"]: f for f in checked.json()}["secret"]
        assert checked.exit_code == 10 and why in secret["detail"] and secret["fix"] == f"run chmod 600 {secret_file}"
        logs = cli(config, "logs", TOKEN)
        assert logs.exit_code == 3 and why in logs.stderr and f"fix: run chmod 600 {secret_file}" in logs.stderr
    secret_file.unlink()
    logs = cli(config, "logs", TOKEN)
    assert logs.exit_code == 3 and f"{secret_file} does not exist" in logs.stderr


def test_rotate_refuses_an_env_reference_before_making_a_key(tmp_path, es_node):
    prefix, key = sample_key(es_node)
    config = configured(tmp_path, es_node, prefix, key, "$(env:ORX_TEST_ES_KEY)")
    before = config.read_bytes()
    rotated = cli(config, "keys", "rotate", "--username", es_node.admin_user,
                  env={"ORX_TEST_ES_KEY": key["api_key"], "ORX_ELASTIC_PASSWORD": es_node.admin_password})
    assert rotated.exit_code == 3 and "environment variable ORX_TEST_ES_KEY" in rotated.stderr
    assert config.read_bytes() == before
    admin = es_node.admin_client()
    made = admin.security.query_api_keys(query={"term": {"metadata.rotated_from": key["id"]}})["api_keys"]
    assert made == []


def test_rotate_replaces_a_file_reference_in_place(tmp_path, es_node):
    prefix, key = sample_key(es_node)
    secret_file = tmp_path / "es.key"
    secret_file.write_text(key["api_key"])
    secret_file.chmod(0o600)
    config = configured(tmp_path, es_node, prefix, key, f"$(file:{secret_file})")
    rotated = cli(config, "keys", "rotate", "--username", es_node.admin_user, "-o", "json",
                  env={"ORX_ELASTIC_PASSWORD": es_node.admin_password})
    assert rotated.exit_code == 0, rotated.stderr
    new = rotated.json()
    assert profile_of(config)["api_key"] == f"$(file:{secret_file})" and profile_of(config)["id"] == new["id"]
    assert secret_file.read_text().strip() == new["api_key"] and secret_file.stat().st_mode & 0o777 == 0o600
    assert_logs_found(cli(config, "logs", TOKEN, "-o", "json"), new["api_key"])


# ---------------------------------------------------------------- the keychain: a real Secret Service


def keychain_entry(service, name):
    """The entry as another program on the desktop sees it: a separate process, over D-Bus."""
    probe = subprocess.run([sys.executable, "-c", "import keyring, sys; "
                            "print(keyring.get_password('orx-elastic', sys.argv[1]))", name],
                           env={**os.environ, **service.env}, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    value = probe.stdout.strip()
    return None if value == "None" else value


def test_keychain_store_read_rotate_and_move_out(tmp_path, es_node, secret_service):
    admin = es_node.admin_client()
    prefix = f"orxkc-{uuid.uuid4().hex[:8]}"
    es_sandbox.load_sample_logs(admin, app_index=f"{prefix}-app-logs", v121_index=f"{prefix}-v121-logs")
    profile = f"kc-{uuid.uuid4().hex[:6]}"  # the service is shared by the session: an entry of our own
    entry = f"{profile}/api_key"
    config = tmp_path / "config.yaml"
    env = {**secret_service.env, "ORX_ELASTIC_PASSWORD": es_node.admin_password}

    # store: the key goes to the keychain, the file holds only the reference
    created = cli(config, "--profile", profile, "create-key", "--host", es_node.url, "--username",
                  es_node.admin_user, "--indexes", f"{prefix}-*", "--save", "--keychain", "-o", "json", env=env)
    assert created.exit_code == 0, created.stderr
    first = created.json()
    assert profile_of(config, profile)["api_key"] == f"$(keychain:{entry})"
    assert first["api_key"] not in config.read_text()
    assert keychain_entry(secret_service, entry) == first["api_key"]

    # read: check and logs take it from the keychain
    checked = cli(config, "--profile", profile, "check", "-o", "json", env=env)
    assert checked.exit_code == 0, checked.output
    secret = {f["id"]: f for f in checked.json()}["secret"]
    assert secret["detail"] == f"read from the keychain entry '{entry}' (service orx-elastic)"
    assert_logs_found(cli(config, "--profile", profile, "logs", TOKEN, "-o", "json", env=env), first["api_key"])
    shown = cli(config, "--profile", profile, "config", "show", "-o", "json", env=env).json()["settings"]["api_key"]
    assert shown["kept_in"] == f"keychain entry '{entry}' (service orx-elastic)"
    assert first["api_key"] not in json.dumps(shown)

    # rotate: the same entry gets the new key, the file keeps its reference, the old key dies
    rotated = cli(config, "--profile", profile, "keys", "rotate", "--username", es_node.admin_user, "-o", "json",
                  env=env)
    assert rotated.exit_code == 0, rotated.stderr
    second = rotated.json()
    assert keychain_entry(secret_service, entry) == second["api_key"] != first["api_key"]
    assert profile_of(config, profile)["api_key"] == f"$(keychain:{entry})"
    assert profile_of(config, profile)["id"] == second["id"]
    assert admin.security.get_api_key(id=first["id"])["api_keys"][0]["invalidated"] is True
    assert_logs_found(cli(config, "--profile", profile, "logs", TOKEN, "-o", "json", env=env), second["api_key"])

    # a configure without a flag keeps a keychain key in the keychain
    again = cli(config, "--profile", profile, "configure", "--api-key", second["api_key"], env=env)
    assert again.exit_code == 0 and profile_of(config, profile)["api_key"] == f"$(keychain:{entry})"

    # move out: the file gets the key back and the entry is removed
    moved = cli(config, "--profile", profile, "configure", "--no-keychain", env=env)
    assert moved.exit_code == 0, moved.stderr
    assert profile_of(config, profile)["api_key"] == second["api_key"]
    assert keychain_entry(secret_service, entry) is None
    assert cli(config, "--profile", profile, "check", "-o", "json", env=env).exit_code == 0

    # and in again: configure --keychain alone moves the saved key into the keychain
    moved_in = cli(config, "--profile", profile, "configure", "--keychain", env=env)
    assert moved_in.exit_code == 0, moved_in.stderr
    assert profile_of(config, profile)["api_key"] == f"$(keychain:{entry})"
    assert keychain_entry(secret_service, entry) == second["api_key"]


def test_keychain_entry_missing_or_no_service(tmp_path, es_node, secret_service):
    prefix, key = sample_key(es_node)
    entry = f"missing-{uuid.uuid4().hex[:6]}"
    config = configured(tmp_path, es_node, prefix, key, f"$(keychain:{entry})")

    checked = cli(config, "check", "-o", "json", env=secret_service.env)
    found = {f["id"]: f for f in checked.json()}
    assert checked.exit_code == 10 and found["secret"]["status"] == "failure"
    assert found["secret"]["detail"] == (f"the api_key $(keychain:{entry}) cannot be read: "
                                         f"the keychain has no entry '{entry}' (service orx-elastic)")
    assert "orx-elastic configure --keychain" in found["secret"]["fix"]
    assert found["connect"]["status"] == "ok" and found["auth"]["status"] == "skipped"
    logs = cli(config, "logs", TOKEN, env=secret_service.env)
    assert logs.exit_code == 3 and logs.stdout == ""
    assert logs.stderr.startswith(f"error: the api_key $(keychain:{entry}) cannot be read: the keychain has no entry")

    # no session bus at all (a headless box): keyring finds no backend
    headless = cli(config, "logs", TOKEN, env={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
    assert headless.exit_code == 3
    assert headless.stderr.splitlines()[0] == (f"error: the api_key $(keychain:{entry}) cannot be read: "
                                               "no keychain backend is available")
    assert len(headless.stderr.strip().splitlines()) == 2 and "Traceback" not in headless.stderr


@pytest.mark.parametrize("store", ["keychain", "file"])
def test_secret_store_setting_is_the_default_for_configure(tmp_path, es_node, secret_service, store):
    prefix, key = sample_key(es_node)
    profile = f"ss-{uuid.uuid4().hex[:6]}"
    config = tmp_path / "config.yaml"
    env = {**secret_service.env, "ORX_ELASTIC_SECRET_STORE": store}
    written = cli(config, "--profile", profile, "configure", "--host", es_node.url, "--id", key["id"],
                  "--api-key", key["api_key"], "--indexes", f"{prefix}-*", env=env)
    assert written.exit_code == 0, written.stderr
    stored = profile_of(config, profile)["api_key"]
    if store == "keychain":
        assert stored == f"$(keychain:{profile}/api_key)"
        assert keychain_entry(secret_service, f"{profile}/api_key") == key["api_key"]
    else:
        assert stored == key["api_key"]
    assert_logs_found(cli(config, "--profile", profile, "logs", TOKEN, "-o", "json", env=env), key["api_key"])


def test_rotate_that_cannot_save_puts_the_old_key_back_in_the_keychain(tmp_path, es_node, secret_service):
    prefix, key = sample_key(es_node)
    profile = f"rb-{uuid.uuid4().hex[:6]}"
    entry = f"{profile}/api_key"
    config = tmp_path / "config.yaml"
    env = {**secret_service.env, "ORX_ELASTIC_PASSWORD": es_node.admin_password}
    assert cli(config, "--profile", profile, "configure", "--host", es_node.url, "--id", key["id"], "--api-key",
               key["api_key"], "--indexes", f"{prefix}-*", "--keychain", env=env).exit_code == 0
    before = config.read_bytes()
    (tmp_path / "config.yaml.lock").unlink(missing_ok=True)
    (tmp_path / "config.yaml.lock").mkdir()  # what save_profile opens first: a directory cannot be
    rotated = cli(config, "--profile", profile, "keys", "rotate", "--username", es_node.admin_user, env=env)
    assert rotated.exit_code == 3, rotated.stderr
    assert config.read_bytes() == before
    assert keychain_entry(secret_service, entry) == key["api_key"]  # the old key, which still works
    admin = es_node.admin_client()
    made = admin.security.query_api_keys(query={"term": {"metadata.rotated_from": key["id"]}})["api_keys"]
    assert len(made) == 1 and made[0]["invalidated"] is True  # no orphan key with read access
    (tmp_path / "config.yaml.lock").rmdir()
    assert_logs_found(cli(config, "--profile", profile, "logs", TOKEN, "-o", "json", env=env), key["api_key"])


def test_a_missing_entry_is_typed_again_at_the_prompt(tmp_path, secret_service):
    """The fix `check` gives for a missing entry, followed as written: configure --keychain asks for the key."""
    profile = f"tty-{uuid.uuid4().hex[:6]}"
    entry = f"{profile}/api_key"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"profiles": {profile: {"host": "http://127.0.0.1:9", "id": "i",
                                                             "api_key": f"$(keychain:{entry})"}}}))
    config.chmod(0o600)
    typed = run_cli("--config", str(config), "--profile", profile, "configure", "--keychain",
                    env=Env(vars=secret_service.env, tty=True, stdin="typed-secret-value\n"))
    assert typed.exit_code == 0, typed.output
    assert "api_key" in typed.stderr and "typed-secret-value" not in typed.output
    assert keychain_entry(secret_service, entry) == "typed-secret-value"
    assert profile_of(config, profile)["api_key"] == f"$(keychain:{entry})"
    # without a terminal the same command says what is wrong instead of asking
    headless = cli(config, "--profile", profile, "configure", "--keychain",
                   env={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
    assert headless.exit_code == 3 and "no keychain backend" in headless.stderr


def test_configure_that_cannot_write_the_file_leaves_the_keychain_as_it_was(tmp_path, secret_service):
    profile = f"cw-{uuid.uuid4().hex[:6]}"
    entry = f"{profile}/api_key"
    config = tmp_path / "config.yaml"
    first = cli(config, "--profile", profile, "configure", "--host", "http://127.0.0.1:9", "--id", "old-id",
                "--api-key", "old-secret-value", "--keychain", env=secret_service.env)
    assert first.exit_code == 0, first.stderr
    before = config.read_bytes()
    (tmp_path / "config.yaml.lock").unlink(missing_ok=True)
    (tmp_path / "config.yaml.lock").mkdir()  # the file's lock cannot be taken: the write fails
    failed = cli(config, "--profile", profile, "configure", "--id", "new-id", "--api-key", "new-secret-value",
                 env=secret_service.env)
    assert failed.exit_code != 0 and "new-secret-value" not in failed.output
    assert config.read_bytes() == before
    assert keychain_entry(secret_service, entry) == "old-secret-value"  # still the key of old-id
    # a profile new to the keychain leaves no entry behind either
    other = f"cw2-{uuid.uuid4().hex[:6]}"
    failed = cli(config, "--profile", other, "configure", "--api-key", "another-secret", "--keychain",
                 env=secret_service.env)
    assert failed.exit_code != 0 and keychain_entry(secret_service, f"{other}/api_key") is None
