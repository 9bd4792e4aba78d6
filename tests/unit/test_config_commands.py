"""configure / config show / config path through the real entry point (exit codes, stderr)."""

from __future__ import annotations

import base64
import json
import stat

import yaml

from conftest import Env, run_cli

SECRET = "dZ5ycVRJTU-5UW_RYfi1_w"


def run(env, *args):
    result = run_cli(*args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_configure_with_flags_writes_a_private_profile(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    code, out, err = run(clean_env, "--config", str(path), "configure", "--host", "https://es.example.com:9243",
                         "--id", "keyid", "--api-key", SECRET, "--indexes", "app-*,*log*")
    assert code == 0, err
    assert SECRET not in out + err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert profile == {"host": "https://es.example.com", "port": 9243, "id": "keyid", "api_key": SECRET,
                       "indexes": "app-*,*log*"}


def test_configure_splits_an_encoded_key(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    encoded = base64.b64encode(f"keyid:{SECRET}".encode()).decode()
    code, _, err = run(clean_env, "--config", str(path), "configure", "--api-key", encoded)
    assert code == 0, err
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert (profile["id"], profile["api_key"]) == ("keyid", SECRET)


def test_configure_refuses_to_touch_a_malformed_file(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    path.write_text("profiles:\n  default:\n    port: [1\n")
    before = path.read_bytes()
    code, out, err = run(clean_env, "--config", str(path), "configure", "--host", "https://x")
    assert code == 3
    assert str(path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2
    assert path.read_bytes() == before


def test_configure_without_flags_off_a_terminal_is_a_usage_error(tmp_path, clean_env):
    code, _, err = run(clean_env, "--config", str(tmp_path / "c.yaml"), "configure")
    assert code == 2 and "nothing to configure" in err
    assert not (tmp_path / "c.yaml").exists()


def test_configure_rejects_bad_values_before_writing(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    code, _, err = run(clean_env, "--config", str(path), "configure", "--host", "ftp://nope")
    assert code == 2 and "http" in err
    assert not path.exists()


def test_profiles_are_separate(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    run(clean_env, "--config", str(path), "configure", "--host", "https://prod")
    run(clean_env, "--config", str(path), "--profile", "dev", "configure", "--host", "http://dev:9201")
    code, out, _ = run(clean_env, "--config", str(path), "--profile", "dev", "config", "show", "-o", "json")
    assert code == 0
    shown = json.loads(out)
    assert shown["settings"]["host"]["value"] == "http://dev"
    assert shown["settings"]["port"]["value"] == 9201
    code, out, _ = run(clean_env, "--config", str(path), "config", "show", "-o", "json")
    assert json.loads(out)["settings"]["host"]["value"] == "https://prod"


def test_config_show_masks_the_key_and_prints_both_openreplay_forms(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    run(clean_env, "--config", str(path), "configure", "--host", "https://es:9243", "--id", "keyid", "--api-key", SECRET)
    code, out, err = run(clean_env, "--config", str(path), "config", "show", "-o", "json")
    assert code == 0 and SECRET not in out, err
    shown = json.loads(out)
    assert shown["settings"]["api_key"]["source"] == "file (profile default)"
    forms = list(shown["openreplay"].values())
    assert forms[0] == {"host": "https://es", "port": 9243, "apiKeyId": "keyid", "apiKey": shown["settings"]["api_key"]["value"], "indexes": "*log*"}
    assert forms[1]["url"] == "https://es:9243" and forms[1]["api_key_id"] == "keyid"
    code, out, _ = run(clean_env, "--config", str(path), "config", "show", "--reveal", "-o", "json")
    assert json.loads(out)["openreplay"][list(shown["openreplay"])[1]]["api_key"] == SECRET
    code, out, _ = run(clean_env, "--config", str(path), "config", "show")
    assert code == 0 and SECRET not in out and "apiKeyId" in out and "api_key_id" in out


def test_env_overrides_file_in_config_show(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    run(clean_env, "--config", str(path), "configure", "--host", "https://es")
    clean_env = clean_env.with_vars(ORX_ELASTIC_HOST="http://from-env:9999")
    code, out, _ = run(clean_env, "--config", str(path), "config", "show", "-o", "json")
    settings = json.loads(out)["settings"]
    assert settings["host"] == {"value": "http://from-env", "source": "env ORX_ELASTIC_HOST"}
    assert settings["port"]["value"] == 9999


def test_config_path_follows_flag_env_and_xdg(tmp_path, clean_env):
    code, out, _ = run(clean_env, "--config", str(tmp_path / "x.yaml"), "config", "path")
    assert out.strip() == str(tmp_path / "x.yaml")
    clean_env = clean_env.with_vars(ORX_ELASTIC_CONFIG=str(tmp_path / "env.yaml"))
    code, out, _ = run(clean_env, "config", "path")
    assert out.strip() == str(tmp_path / "env.yaml")
    clean_env = Env(vars={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    code, out, _ = run(clean_env, "config", "path")
    assert out.strip() == str(tmp_path / "xdg" / "orx-elastic" / "config.yaml")


def test_usage_errors_never_echo_a_secret(tmp_path, clean_env):
    code, out, err = run(clean_env, "--config", str(tmp_path / "c.yaml"), "logs", "a", "b", "--api-key", SECRET)
    assert code == 2 and "unexpected extra argument" in err
    assert SECRET not in out + err
    code, out, err = run(clean_env, "--config", str(tmp_path / "c.yaml"), "logs", "a", "b", f"--api-key={SECRET}")
    assert code == 2 and SECRET not in out + err


def test_every_command_has_help_with_an_example(clean_env):
    import click
    from elastic_cli.cli import cli

    def walk(command, path):
        yield path, command
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), path + [name])

    for path, _ in walk(cli, []):
        code, out, _ = run(clean_env, *path, "--help")
        assert code == 0
        assert "orx-elastic" in out.split("Options:")[0].split("Usage:", 1)[1].split("\n", 1)[1], \
            f"`orx-elastic {' '.join(path)} --help` shows no example"


def test_a_mistyped_profile_is_an_error_not_the_defaults(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    run(clean_env, "--config", str(path), "--profile", "prod", "configure", "--host", "https://prod")
    code, out, err = run(clean_env, "--config", str(path), "--profile", "prdo", "logs", "12", "--explain")
    assert code == 3 and "no profile 'prdo'" in err and "prod" in err


def test_configure_can_replace_just_the_secret(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    run(clean_env, "--config", str(path), "configure", "--id", "keyid", "--api-key", SECRET)
    code, _, err = run(clean_env, "--config", str(path), "configure", "--api-key", "n3wSecretValue_x")
    assert code == 0, err
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert (profile["id"], profile["api_key"]) == ("keyid", "n3wSecretValue_x")


def test_an_encoded_key_from_the_environment_brings_its_own_id(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    run(clean_env, "--config", str(path), "configure", "--id", "oldid", "--api-key", SECRET)
    clean_env = clean_env.with_vars(ORX_ELASTIC_API_KEY=base64.b64encode(b"newid:n3wSecretValue_x").decode())
    code, out, _ = run(clean_env, "--config", str(path), "config", "show", "-o", "json", "--reveal")
    shown = json.loads(out)["settings"]
    assert shown["id"]["value"] == "newid" and shown["api_key"]["value"] == "n3wSecretValue_x"


def test_replay_link_settings_are_configured_shown_and_used_by_logs(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    code, _, err = run(clean_env, "--config", str(path), "configure", "--openreplay-url",
                       "https://openreplay.example.com/", "--project-id", "3", "--session-margin", "12h")
    assert code == 0, err  # configure sets every setting, the margin too (issue 26)
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert profile == {"openreplay_url": "https://openreplay.example.com", "project_id": "3", "session_margin": "12h"}
    code, out, _ = run(clean_env, "--config", str(path), "config", "show", "-o", "json")
    shown = json.loads(out)["settings"]
    assert shown["openreplay_url"]["value"] == "https://openreplay.example.com"
    assert shown["project_id"] == {"value": "3", "source": "file (profile default)"}
    assert shown["session_margin"] == {"value": "12h", "source": "file (profile default)"}
    # logs names the replay before its lines, on stderr only (here --explain: no connection)
    code, out, err = run(clean_env, "--config", str(path), "logs", "2618307011354435587", "--explain")
    assert code == 0
    assert "replay: https://openreplay.example.com/3/session/2618307011354435587" in err
    assert "openreplay.example.com" not in out


def test_a_bad_dashboard_url_or_margin_is_refused_before_writing(tmp_path, clean_env):
    path = tmp_path / "c.yaml"
    code, _, err = run(clean_env, "--config", str(path), "configure", "--openreplay-url", "openreplay.example.com")
    assert code == 2 and "https://" in err and not path.exists()
    clean_env.vars["ORX_ELASTIC_SESSION_MARGIN"] = "a day"
    code, _, err = run(clean_env, "--config", str(path), "logs", "12", "--explain")
    assert code == 2 and "ORX_ELASTIC_SESSION_MARGIN must be a duration" in err
