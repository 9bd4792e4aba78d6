"""Settings: file parsing, precedence, masking, malformed files, atomic concurrent writes."""

from __future__ import annotations

import base64
import multiprocessing
import stat
import sys

import pytest
import yaml
from elastic_cli.config import file as config_file
from elastic_cli.config import settings
from elastic_cli.errors import ConfigError, UsageError


def write(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


def test_missing_file_is_empty_config_with_defaults(tmp_path):
    config = config_file.load_config_file(tmp_path / "none.yaml")
    resolved = settings.resolve(config, None, {}, environ={})
    assert resolved.host == "http://localhost"
    assert resolved.port == 9200
    assert resolved.indexes == "*log*"
    assert resolved.sources["host"] == "default"


def test_precedence_flag_over_env_over_file_over_default(tmp_path):
    path = write(tmp_path / "c.yaml", "profiles:\n  default:\n    host: https://file\n    port: 1111\n    indexes: file-*\n")
    config = config_file.load_config_file(path)
    env = {"ORX_ELASTIC_PORT": "2222", "ORX_ELASTIC_INDEXES": "env-*"}
    resolved = settings.resolve(config, None, {"indexes": "flag-*"}, environ=env)
    assert resolved.indexes == "flag-*" and resolved.sources["indexes"] == "flag"
    assert resolved.port == 2222 and resolved.sources["port"] == "env ORX_ELASTIC_PORT"
    assert resolved.host == "https://file" and resolved.sources["host"].startswith("file")
    assert resolved.timeout == 10.0 and resolved.sources["timeout"] == "default"


def test_profile_from_env_and_default_profile(tmp_path):
    path = write(tmp_path / "c.yaml", "default_profile: prod\nprofiles:\n  prod: {host: https://prod}\n  dev: {host: http://dev}\n")
    config = config_file.load_config_file(path)
    assert settings.resolve(config, None, {}, environ={}).host == "https://prod"
    assert settings.resolve(config, "dev", {}, environ={}).host == "http://dev"


def test_config_and_profile_env_are_read_in_one_place(tmp_path, capsys, monkeypatch):
    from elastic_cli.cli import main

    for name in [n for n in __import__("os").environ if n.startswith("ORX_ELASTIC_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "env.yaml"
    monkeypatch.setenv("ORX_ELASTIC_CONFIG", str(path))
    monkeypatch.setenv("ORX_ELASTIC_PROFILE", "dev")
    with pytest.raises(SystemExit) as exit_info:
        main(["configure", "--host", "http://dev.example"])
    assert exit_info.value.code == 0, capsys.readouterr().err
    assert yaml.safe_load(path.read_text())["profiles"] == {"dev": {"host": "http://dev.example"}}
    # resolve itself reads no ORX_ELASTIC_PROFILE: the flag (or click's env) is the one source
    config = config_file.load_config_file(path)
    assert settings.resolve(config, None, {}, environ={"ORX_ELASTIC_PROFILE": "other"}).profile == "dev"


def test_default_config_path_is_clicks_app_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("ORX_ELASTIC_CONFIG", str(tmp_path / "ignored-here.yaml"))
    if sys.platform.startswith("linux"):
        assert config_file.default_config_path() == tmp_path / "orx-elastic" / "config.yaml"


def test_unknown_profile_is_named(tmp_path):
    path = write(tmp_path / "c.yaml", "profiles:\n  prod: {host: https://prod}\n")
    with pytest.raises(ConfigError, match="no profile 'nope'.*prod"):
        settings.resolve(config_file.load_config_file(path), "nope", {}, environ={}, require_profile=True)


def test_url_host_sets_port_unless_port_given():
    config = config_file.ConfigFile(path=settings.Path("/nonexistent"))
    resolved = settings.resolve(config, None, {"host": "https://es.example.com:9243/"}, environ={})
    assert (resolved.host, resolved.port) == ("https://es.example.com", 9243)
    resolved = settings.resolve(config, None, {"host": "https://es.example.com:9243", "port": 443}, environ={})
    assert resolved.port == 443


def test_configure_with_a_new_host_without_port_drops_the_saved_port(tmp_path, capsys, monkeypatch):
    from elastic_cli.cli import main

    for name in [n for n in __import__("os").environ if n.startswith("ORX_ELASTIC_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "c.yaml"
    for host in ("http://old.example:39473", "http://new.example"):
        with pytest.raises(SystemExit) as exit_info:
            main(["--config", str(path), "configure", "--host", host])
        assert exit_info.value.code == 0, capsys.readouterr().err
    resolved = settings.resolve(config_file.load_config_file(path), None, {}, environ={})
    assert resolved.url == "http://new.example:9200"


def test_mask_secret_hides_most_of_the_key():
    assert settings.mask_secret("dZ5ycVRJTU-5UW_RYfi1_w") == "dZ5y" + "*" * 18
    assert "dZ5ycVRJTU" not in settings.mask_secret("dZ5ycVRJTU-5UW_RYfi1_w")
    assert settings.mask_secret("short") == "*****"
    assert settings.mask_secret(None) == "(not set)"


def test_split_api_key_accepts_raw_and_encoded():
    encoded = base64.b64encode(b"eQWAIG0Bo0VqB8HXFH9-:dZ5ycVRJTU-5UW_RYfi1_w").decode()
    assert settings.split_api_key(None, encoded) == ("eQWAIG0Bo0VqB8HXFH9-", "dZ5ycVRJTU-5UW_RYfi1_w", "encoded")
    assert settings.split_api_key("eQWAIG0Bo0VqB8HXFH9-", "dZ5ycVRJTU-5UW_RYfi1_w") == (
        "eQWAIG0Bo0VqB8HXFH9-", "dZ5ycVRJTU-5UW_RYfi1_w", "raw")
    # an encoded key for another id is not silently swapped in
    assert settings.split_api_key("other", encoded)[2] == "raw"


# ---------------------------------------------------------------- malformed files


@pytest.mark.parametrize("text,where", [
    ("profiles:\n  default:\n    host: [unclosed\n", ":4"),
    ("profiles:\n  default:\n    hots: https://x\n", ":3: unknown key 'hots' in profile 'default'"),
    ("profiles:\n  default:\n    port: ninety\n", ":3: key 'port' in profile 'default'"),
    ("profiles:\n  default:\n    port: 70000\n", ":3: key 'port'"),
    ("profiles:\n  default:\n    verify_certs: maybe\n", ":3: key 'verify_certs'"),
    ("profiles:\n  default:\n    host: {a: 1}\n", ":3: key 'host' in profile 'default' must be a single value"),
    ("profiles:\n  - default\n", ":2: 'profiles' must be a mapping"),
    ("- just\n- a list\n", ":1: the file must be a mapping"),
    ("colour: red\n", ":1: unknown key 'colour'"),
    ("profiles:\n  default: 12\n", ":2: profile 'default' must be a mapping"),
])
def test_malformed_file_names_file_line_and_key(tmp_path, text, where):
    path = write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError) as info:
        config_file.load_config_file(path)
    assert str(path) in info.value.message
    assert where in info.value.message


def test_empty_file_is_an_empty_config(tmp_path):
    config = config_file.load_config_file(write(tmp_path / "c.yaml", ""))
    assert config.profiles == {}


def test_directory_and_unreadable_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        config_file.load_config_file(tmp_path)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read"):
        config_file.load_config_file(binary)


def test_world_readable_file_warns(tmp_path):
    path = write(tmp_path / "c.yaml", "profiles: {}\n", mode=0o644)
    assert any("chmod 600" in w for w in config_file.load_config_file(path).warnings)
    path.chmod(0o600)
    assert config_file.load_config_file(path).warnings == []


# ---------------------------------------------------------------- writing


def test_save_creates_private_file_and_dir(tmp_path):
    path = tmp_path / "new" / "config.yaml"
    config_file.save_profile(path, "default", {"host": "https://es", "port": 9243, "api_key": "secret-value"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = yaml.safe_load(path.read_text())
    assert data["default_profile"] == "default"
    assert data["profiles"]["default"] == {"host": "https://es", "port": 9243, "api_key": "secret-value"}


def test_save_merges_and_keeps_other_profiles(tmp_path):
    path = tmp_path / "c.yaml"
    config_file.save_profile(path, "prod", {"host": "https://prod", "indexes": "app-*"})
    config_file.save_profile(path, "dev", {"host": "http://dev"})
    config_file.save_profile(path, "prod", {"port": 9243})
    config = config_file.load_config_file(path)
    assert config.default_profile == "prod"
    assert config.profiles["prod"] == {"host": "https://prod", "port": 9243, "indexes": "app-*"}
    assert config.profiles["dev"] == {"host": "http://dev"}


def test_save_never_overwrites_a_file_it_cannot_parse(tmp_path):
    path = write(tmp_path / "c.yaml", "profiles:\n  default:\n    hots: typo\n")
    before = path.read_bytes()
    with pytest.raises(ConfigError):
        config_file.save_profile(path, "default", {"host": "https://x"})
    assert path.read_bytes() == before


def test_save_through_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "dotfiles" / "orx.yaml"
    real.parent.mkdir()
    write(real, "profiles: {}\n")
    link = tmp_path / "config.yaml"
    link.symlink_to(real)
    config_file.save_profile(link, "default", {"host": "https://x"})
    assert link.is_symlink()
    assert config_file.load_config_file(real).profiles["default"]["host"] == "https://x"


def _writer(path: str, profile: str, rounds: int) -> None:
    for n in range(rounds):
        config_file.save_profile(settings.Path(path), profile, {"host": f"https://{profile}-{n}", "port": 9200 + n})


def test_concurrent_writers_leave_a_valid_file_with_both_profiles(tmp_path):
    path = tmp_path / "c.yaml"
    procs = [multiprocessing.Process(target=_writer, args=(str(path), f"p{i}", 25)) for i in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    config = config_file.load_config_file(path)
    assert sorted(config.profiles) == ["p0", "p1", "p2", "p3"]
    for i in range(4):
        assert config.profiles[f"p{i}"] == {"host": f"https://p{i}-24", "port": 9224}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".c.yaml.")], "temporary files left behind"


def test_bad_env_value_is_a_usage_error_naming_the_variable(tmp_path):
    config = config_file.ConfigFile(path=tmp_path / "c.yaml")
    with pytest.raises(UsageError, match="ORX_ELASTIC_TIMEOUT"):
        settings.resolve(config, None, {}, environ={"ORX_ELASTIC_TIMEOUT": "soon"})


def test_port_in_an_env_url_beats_the_file_port(tmp_path):
    path = write(tmp_path / "c.yaml", "profiles:\n  default:\n    host: http://file\n    port: 9\n")
    resolved = settings.resolve(config_file.load_config_file(path), None, {}, environ={"ORX_ELASTIC_HOST": "http://env:9400"})
    assert (resolved.host, resolved.port, resolved.sources["port"]) == ("http://env", 9400, "env ORX_ELASTIC_HOST")
    # but an explicit port flag beats a URL from the environment
    resolved = settings.resolve(config_file.load_config_file(path), None, {"port": 9500},
                                environ={"ORX_ELASTIC_HOST": "http://env:9400"})
    assert resolved.port == 9500


from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_yaml_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_loads_or_fails_with_a_config_error(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        config = config_file.load_config_file(path)
    except ConfigError as exc:
        assert str(path) in exc.message and "\n" not in exc.message
    else:
        for profile in config.profiles.values():
            assert set(profile) <= set(settings.KEYS_BY_NAME)


@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(st.sampled_from(["profiles", "default_profile", "x"]),
                                st.dictionaries(st.text(max_size=8), _yaml_like, max_size=3) | _yaml_like,
                                max_size=3))
def test_any_yaml_document_loads_validated_or_fails_cleanly(tmp_path, document):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        config = config_file.load_config_file(path)
    except ConfigError as exc:
        assert str(path) in exc.message
        return
    for profile in config.profiles.values():
        for name, value in profile.items():
            assert settings.KEYS_BY_NAME[name].parse(value) == value


def test_settings_are_typed_frozen_and_copy_and_pickle_as_values():
    import copy
    import dataclasses
    import pickle

    resolved = settings.resolve(config_file.ConfigFile(path=settings.Path("/nonexistent")), None,
                                {"host": "https://es.example.com:9243/es", "api_key": "s3cret-value"}, environ={})
    assert [f.name for f in dataclasses.fields(settings.Settings)
            if f.name not in ("profile", "path", "sources", "api_key_ref", "api_key_problem")] == [
        key.name for key in settings.KEYS]
    for clone in (copy.copy(resolved), copy.deepcopy(resolved), pickle.loads(pickle.dumps(resolved))):
        assert clone == resolved and clone.url == "https://es.example.com:9243/es"
        assert clone.sources["port"] == "flag"
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.port = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        resolved.no_such_setting  # noqa: B018 — no __getattr__ that invents values
    assert "s3cret-value" not in repr(resolved) and "es.example.com" in repr(resolved)
