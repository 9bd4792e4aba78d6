"""api_key references: $(env:VAR) and $(file:PATH) resolved with the settings, every way they can fail
(exit 3, one line, the fix), the keychain without a backend or without the keyring library, and
keyring imported only when a keychain reference is used. The real keychain: tests/integration/test_secrets.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from elastic_cli.config import file as config_file
from elastic_cli.config import secret_store, settings
from elastic_cli.errors import ConfigError

from conftest import Env, run_cli

SECRET = "dZ5ycVRJTU-5UW_RYfi1_w"
NO_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def write_config(tmp_path, api_key, **more):
    path = tmp_path / "config.yaml"
    profile = {"host": "http://127.0.0.1:9", "id": "key-id", "api_key": api_key, **more}
    path.write_text(yaml.safe_dump({"profiles": {"default": profile}}))
    path.chmod(0o600)
    return path


def cli(path, *args, env=None):
    return run_cli("--config", str(path), *args, env=Env(vars=env or {}))


def one_error(result, code=3):
    """The failure as a user sees it: the exit code, one error line, one fix line, no traceback."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    fixes = [line for line in lines if line.strip().startswith("fix:")]
    return errors[0], (fixes[0] if fixes else "")


def resolved(path, environ=None):
    return settings.resolve(config_file.load_config_file(path), None, {}, environ=environ or {})


# ---------------------------------------------------------------- the syntax


@pytest.mark.parametrize("value, kind, target", [
    ("$(keychain:default/api_key)", "keychain", "default/api_key"),
    ("$(env:ES_KEY)", "env", "ES_KEY"),
    ("$(file:~/.secrets/es key)", "file", "~/.secrets/es key"),
    ("$(file:/tmp/odd(name))", "file", "/tmp/odd(name)"),  # the last `)` closes it
])
def test_references_parse(value, kind, target):
    ref = secret_store.parse_ref(value)
    assert (ref.kind, ref.target, ref.text) == (kind, target, value)


@pytest.mark.parametrize("value", [SECRET, "ZWxhc3RpYzpjaGFuZ2VtZQ==", "a$(env:X)"])
def test_plain_values_are_not_references(value):
    assert secret_store.parse_ref(value) is None


@pytest.mark.parametrize("value, problem", [
    ("$(vault:x)", "unknown store 'vault'"),
    ("$(env:)", "empty env"),
    ("$(env:NOT-A-NAME)", "invalid environment variable"),
    ("$(env:X", "is not $(keychain:NAME)"),
])
def test_a_malformed_reference_in_the_file_is_a_config_error_with_the_line(tmp_path, value, problem):
    path = write_config(tmp_path, value)
    with pytest.raises(ConfigError) as exc:
        config_file.load_config_file(path)
    assert f"{path}:" in exc.value.message and problem in exc.value.message


def test_plain_values_keep_working(tmp_path):
    got = resolved(write_config(tmp_path, SECRET))
    assert got.api_key == SECRET and got.api_key_ref is None and got.api_key_problem is None


# ---------------------------------------------------------------- env


def test_env_reference_resolves_and_says_where(tmp_path):
    got = resolved(write_config(tmp_path, "$(env:MY_ES_KEY)"), {"MY_ES_KEY": f" {SECRET}\n"})
    assert got.api_key == SECRET and got.api_key_ref.where == "environment variable MY_ES_KEY"
    assert got.sources["api_key"] == "file (profile default)"


def test_env_reference_to_the_encoded_form_brings_its_id(tmp_path):
    import base64

    encoded = base64.b64encode(f"other-id:{SECRET}".encode()).decode()
    got = resolved(write_config(tmp_path, "$(env:MY_ES_KEY)"), {"MY_ES_KEY": encoded})
    assert (got.id, got.api_key) == ("other-id", SECRET)


@pytest.mark.parametrize("environ, why", [({}, "MY_ES_KEY is not set"), ({"MY_ES_KEY": "  "}, "MY_ES_KEY is empty")])
def test_unset_or_empty_variable_fails_logs_with_exit_3_and_the_fix(tmp_path, environ, why):
    path = write_config(tmp_path, "$(env:MY_ES_KEY)")
    error, fix = one_error(cli(path, "logs", "2618307011354435587", env=environ))
    assert error == f"error: the api_key $(env:MY_ES_KEY) cannot be read: the environment variable {why}"
    assert "MY_ES_KEY" in fix


# ---------------------------------------------------------------- file


def key_file(tmp_path, text=SECRET + "\n", mode=0o600, name="es.key"):
    path = tmp_path / name
    path.write_text(text)
    path.chmod(mode)
    return path


def test_file_reference_resolves_relative_to_the_config_file(tmp_path, monkeypatch):
    key_file(tmp_path)
    monkeypatch.chdir("/")
    got = resolved(write_config(tmp_path, "$(file:es.key)"))
    assert got.api_key == SECRET and got.api_key_ref.where == "file es.key"


def test_file_reference_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    key_file(tmp_path)
    assert resolved(write_config(tmp_path / "..", "$(file:~/es.key)")).api_key == SECRET


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("make, why, fix", [
    (lambda d: key_file(d, mode=0o644), "is open to other users (mode 0644)", "chmod 600"),
    (lambda d: key_file(d, mode=0o640), "is open to other users (mode 0640)", "chmod 600"),
    (lambda d: None, "does not exist", "write the API key alone"),
    (lambda d: (d / "es.key").mkdir(mode=0o700), "is not a regular file", "point the reference"),
    (lambda d: os.mkfifo(d / "es.key", 0o600), "is not a regular file", "point the reference"),
    (lambda d: key_file(d, text="x" * 5000), "is larger than 4096 bytes", "only the API key"),
    (lambda d: key_file(d, text="\n \n"), "is empty", "write the API key"),
    (lambda d: key_file(d, text="line1\nline2\n"), "holds more than one line", "on one line"),
    (lambda d: key_file(d).write_bytes(b"\xff\xfe"), "is not UTF-8", "only"),
])
def test_every_unreadable_file_is_exit_3_naming_the_file_and_the_fix(tmp_path, make, why, fix):
    make(tmp_path)
    path = write_config(tmp_path, "$(file:es.key)")
    error, hint = one_error(cli(path, "logs", "2618307011354435587"))
    assert error.startswith(f"error: the api_key $(file:es.key) cannot be read: {tmp_path / 'es.key'} {why}")
    assert fix in hint


def test_check_names_the_reference_as_its_own_failure_and_still_tests_the_network(tmp_path):
    key_file(tmp_path, mode=0o604)
    path = write_config(tmp_path, "$(file:es.key)")
    result = cli(path, "check", "-o", "json", "--deadline", "5")
    assert result.exit_code == 10
    findings = {f["id"]: f for f in result.json()}
    assert findings["secret"]["status"] == "failure" and "mode 0604" in findings["secret"]["detail"]
    assert findings["secret"]["fix"] == f"run chmod 600 {tmp_path / 'es.key'}"
    assert findings["connect"]["status"] == "failure"  # port 9: refused, reported as itself
    assert findings["auth"]["status"] == "skipped"
    assert SECRET not in result.output


def test_config_show_says_where_the_key_lives_never_the_value(tmp_path):
    key_file(tmp_path)
    path = write_config(tmp_path, "$(file:es.key)")
    shown = cli(path, "config", "show", "-o", "json").json()["settings"]["api_key"]
    assert shown["kept_in"] == "file es.key" and shown["reference"] == "$(file:es.key)"
    assert SECRET not in str(shown)
    revealed = cli(path, "config", "show", "--reveal", "-o", "json").json()["settings"]["api_key"]
    assert revealed["value"] == SECRET
    table = cli(path, "config", "show", "-o", "table", env={"NO_COLOR": "1"}).stdout
    assert "kept in" in table and "file es.key" in table and SECRET not in table


def test_config_show_reports_an_unreadable_reference_with_its_fix_exit_0(tmp_path):
    path = write_config(tmp_path, "$(env:MISSING_ES_KEY)")
    result = cli(path, "config", "show", "-o", "json")
    assert result.exit_code == 0
    shown = result.json()["settings"]["api_key"]
    assert shown["value"] == "(cannot be read: the environment variable MISSING_ES_KEY is not set)"
    assert "export MISSING_ES_KEY" in shown["problem"]["fix"]


# ---------------------------------------------------------------- no keychain backend


def test_no_backend_a_keychain_reference_is_exit_3_with_what_to_do(tmp_path):
    path = write_config(tmp_path, "$(keychain:default/api_key)")
    error, fix = one_error(cli(path, "logs", "2618307011354435587", env=NO_BACKEND))
    assert error == "error: the api_key $(keychain:default/api_key) cannot be read: no keychain backend is available"
    assert "Secret Service" in fix and "$(file:PATH)" in fix
    checked = cli(path, "check", "-o", "json", "--deadline", "5", env=NO_BACKEND)
    secret = {f["id"]: f for f in checked.json()}["secret"]
    assert checked.exit_code == 10 and secret["status"] == "failure" and "no keychain backend" in secret["detail"]


def test_no_backend_configure_keychain_refuses_and_leaves_the_file_as_it_was(tmp_path):
    path = write_config(tmp_path, SECRET)
    before = path.read_bytes()
    result = cli(path, "configure", "--api-key", "another-secret-value", "--keychain", env=NO_BACKEND)
    error, fix = one_error(result)
    assert error == "error: cannot write to the keychain: no keychain backend is available"
    assert "--no-keychain" in fix
    assert path.read_bytes() == before and "another-secret-value" not in result.output


def test_no_backend_create_key_save_keychain_stops_before_making_a_key(tmp_path):
    path = tmp_path / "config.yaml"
    # port 9 refuses: an exit 3 here proves no connection was tried, so no key was made
    result = cli(path, "create-key", "--host", "http://127.0.0.1:9", "--username", "elastic", "--save",
                 "--keychain", env={**NO_BACKEND, "ORX_ELASTIC_PASSWORD": "admin-password-1"})
    error, _ = one_error(result)
    assert error == "error: cannot keep the new key in the keychain: no keychain backend is available"
    assert not path.exists()


def test_auto_falls_back_to_the_file_with_a_warning(tmp_path):
    path = tmp_path / "config.yaml"
    result = cli(path, "configure", "--host", "http://es:9200", "--id", "i", "--api-key", SECRET,
                 env={**NO_BACKEND, "ORX_ELASTIC_SECRET_STORE": "auto"})
    assert result.exit_code == 0, result.stderr
    assert "secret_store is auto and no keychain backend is available" in result.stderr
    assert yaml.safe_load(path.read_text())["profiles"]["default"]["api_key"] == SECRET


def test_keychain_flag_needs_save_on_create_key(tmp_path):
    error, _ = one_error(cli(tmp_path / "c.yaml", "create-key", "--keychain", "--dry-run"), code=2)
    assert "--save" in error


def test_without_the_keyring_library_the_fix_is_the_extra(tmp_path, monkeypatch):
    for name in [n for n in sys.modules if n == "keyring" or n.startswith("keyring.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "keyring", None)  # `import keyring` raises ImportError
    path = write_config(tmp_path, "$(keychain:default/api_key)")
    error, fix = one_error(cli(path, "logs", "2618307011354435587"))
    assert error.endswith("cannot be read: the keyring library is not installed")
    assert "pip install 'orx-elastic[keychain]'" in fix


# ---------------------------------------------------------------- keyring only when used


def test_keyring_is_imported_only_for_a_keychain_reference(tmp_path):
    plain = write_config(tmp_path, SECRET)
    script = ("import sys\nfrom elastic_cli.cli import main\n"
              "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              "sys.stderr.write('KEYRING=%s' % ('keyring' in sys.modules))\n")

    def imported(*args, env=None):
        run = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                             env={**os.environ, **NO_BACKEND, **(env or {})}, cwd=Path(__file__).parents[2])
        return run.stderr.rsplit("KEYRING=", 1)[1]

    assert imported("--help") == "False"
    assert imported("--config", str(plain), "config", "show") == "False"
    assert imported("--config", str(plain), "configure", "--api-key", SECRET) == "False"
    referenced = write_config(tmp_path / "..", "$(keychain:default/api_key)")
    assert imported("--config", str(referenced), "config", "show") == "True"


def test_keys_list_with_the_profiles_unreadable_key_names_the_reference(tmp_path):
    """Without --username the profile's own key is the credential: its reference is the problem, not 'no credentials'."""
    path = write_config(tmp_path, "$(env:MISSING_ES_KEY)")
    error, fix = one_error(cli(path, "keys", "list"))
    assert error.endswith("the environment variable MISSING_ES_KEY is not set") and "export MISSING_ES_KEY" in fix


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_reference_given_by_flag_or_env_is_named_in_the_message_not_masked(tmp_path, how):
    args, env = ["logs", "2618307011354435587", "--host", "http://127.0.0.1:9", "--id", "i"], {}
    if how == "flag":
        args += ["--api-key", "$(env:MISSING_ES_KEY)"]
    else:
        env["ORX_ELASTIC_API_KEY"] = "$(env:MISSING_ES_KEY)"
    error, _ = one_error(cli(tmp_path / "none.yaml", *args, env=env))
    assert error == "error: the api_key $(env:MISSING_ES_KEY) cannot be read: the environment variable MISSING_ES_KEY is not set"


def test_a_flag_reference_to_a_file_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    key_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    got = settings.resolve(config_file.ConfigFile(path=Path("/nonexistent/c.yaml")), None,
                           {"api_key": "$(file:es.key)"}, environ={})
    assert got.api_key == SECRET and got.sources["api_key"] == "flag"


def test_a_bad_secret_store_setting_is_a_usage_error_and_writes_nothing(tmp_path):
    path = tmp_path / "config.yaml"
    error, _ = one_error(cli(path, "configure", "--api-key", SECRET, env={"ORX_ELASTIC_SECRET_STORE": "vault"}),
                         code=2)
    assert "must be file, keychain or auto" in error and not path.exists()


def test_no_backend_rotate_of_a_keychain_key_stops_before_connecting(tmp_path):
    path = write_config(tmp_path, "$(keychain:default/api_key)")
    before = path.read_bytes()
    result = cli(path, "keys", "rotate", "--username", "elastic", env={**NO_BACKEND, "ORX_ELASTIC_PASSWORD": "pw-12345"})
    error, _ = one_error(result)  # exit 3, not 4: port 9 was never tried, so no key was made
    assert error == ("error: cannot rotate the key kept in the keychain entry 'default/api_key' (service orx-elastic): "
                     "no keychain backend is available")
    assert path.read_bytes() == before
