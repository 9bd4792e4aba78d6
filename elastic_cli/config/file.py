"""The YAML config file: its profiles read and checked, and a profile written back.

The file is written atomically (temporary file + rename) with mode 0600 in a 0700 directory,
under an exclusive lock so concurrent writers never lose each other's profiles. A file that
cannot be read or parsed is never overwritten.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from elastic_cli.config.atomic import atomic_write
from elastic_cli.config.settings import DEFAULT_PROFILE, KEYS, KEYS_BY_NAME
from elastic_cli.errors import ConfigError, write_failed


def default_config_path() -> Path:
    """The platform's config place, as click knows it: XDG_CONFIG_HOME or ~/.config on Linux,
    Application Support on macOS, APPDATA on Windows. --config / ORX_ELASTIC_CONFIG (read by
    click, in cli.py) override it."""
    import click

    return Path(click.get_app_dir("orx-elastic")) / "config.yaml"


# ---------------------------------------------------------------- reading


@dataclass
class ConfigFile:
    path: Path
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_profile: str = DEFAULT_PROFILE
    exists: bool = False
    warnings: list[str] = field(default_factory=list)


def _where(path: Path, node: Any) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _refuse_duplicates(path: Path, node: Any, within: str) -> None:
    """YAML reads a key given twice as its last value: a profile edited by hand would silently use
    the second `api_key` or `host`. Refused, naming both lines."""
    first: dict[str, Any] = {}
    for key_node, _ in node.value:
        name = str(key_node.value)
        if name in first:
            raise ConfigError(
                f"{_where(path, key_node)}: '{name}' is given twice {within} (first on line "
                f"{first[name].start_mark.line + 1})", "keep one of them and delete the other")
        first[name] = key_node


def load_config_file(path: Path) -> ConfigFile:
    """Read and validate the file; a missing file is an empty config, anything else wrong is a ConfigError."""
    config = ConfigFile(path=path)
    if not path.exists() and not path.is_symlink():
        return config
    import yaml  # only commands that read an existing file pay for it
    if path.is_dir():
        raise ConfigError(f"{path} is a directory, not a config file", "point --config at a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(f"cannot read {path}: {reason}", "fix its permissions or content") from None
    config.exists = True
    if sys.platform != "win32":
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            config.warnings.append(
                f"{path} is readable by others (mode {mode:04o}); it holds an API key: run chmod 600 {path}"
            )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{line}: not valid YAML ({problem})", "fix the file or move it away") from None
    if root is None:
        return config
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{_where(path, root)}: the file must be a mapping with 'profiles:'", "see `orx-elastic config --help`")
    _refuse_duplicates(path, root, "at the top level")
    for key_node, value_node in root.value:
        top = key_node.value
        if top == "default_profile":
            if not isinstance(value_node, yaml.ScalarNode) or not value_node.value:
                raise ConfigError(f"{_where(path, value_node)}: 'default_profile' must be a profile name")
            config.default_profile = value_node.value
        elif top == "profiles":
            if not isinstance(value_node, yaml.MappingNode):
                raise ConfigError(f"{_where(path, value_node)}: 'profiles' must be a mapping of profile names")
            _refuse_duplicates(path, value_node, "under 'profiles' (a profile name)")
            for name_node, profile_node in value_node.value:
                config.profiles[str(name_node.value)] = _read_profile(path, name_node.value, profile_node)
        else:
            raise ConfigError(
                f"{_where(path, key_node)}: unknown key '{top}'",
                "the top level holds only 'default_profile' and 'profiles'",
            )
    return config


def _read_profile(path: Path, name: str, node: Any) -> dict[str, Any]:
    import yaml

    if node.tag == "tag:yaml.org,2002:null":
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{_where(path, node)}: profile '{name}' must be a mapping of settings")
    _refuse_duplicates(path, node, f"in profile '{name}'")
    profile: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = KEYS_BY_NAME.get(key_node.value)
        if key is None:
            raise ConfigError(
                f"{_where(path, key_node)}: unknown key '{key_node.value}' in profile '{name}'",
                "known keys: " + ", ".join(KEYS_BY_NAME),
            )
        if key.many and isinstance(value_node, yaml.SequenceNode):
            items = value_node.value
            nested = next((item for item in items if not isinstance(item, yaml.ScalarNode)), None)
            if nested is not None:
                raise ConfigError(f"{_where(path, nested)}: key '{key.name}' in profile '{name}' must be a list of "
                                  "URLs, one per entry", "write it as hosts: [https://es1:9200, https://es2:9200]")
            raw: Any = [_scalar(item) for item in items]
        elif not isinstance(value_node, yaml.ScalarNode):
            raise ConfigError(f"{_where(path, value_node)}: key '{key.name}' in profile '{name}' must be a single value")
        else:
            raw = _scalar(value_node)
        if raw is None:
            continue
        try:
            profile[key.name] = key.parse(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{_where(path, value_node)}: key '{key.name}' in profile '{name}' {exc}") from None
    return profile


def _scalar(node: Any) -> Any:
    """The Python value of a YAML scalar node, with YAML's own typing rules."""
    import yaml

    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


# ---------------------------------------------------------------- resolving


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside the file (fcntl on Unix, msvcrt on Windows, by filelock),
    so read-modify-write cycles of concurrent writers do not interleave."""
    from filelock import FileLock  # only writers pay for the import

    with FileLock(path.with_name(path.name + ".lock"), mode=0o600):
        yield


def _ensure_dir(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)


def save_profile(path: Path, profile: str, updates: Mapping[str, Any], make_default: bool = False) -> ConfigFile:
    """Merge `updates` into `profile` and write the file atomically (0600).

    The file is re-read under the lock; if it cannot be read or parsed, ConfigError
    is raised and the file is left exactly as it was.
    """
    import yaml

    unknown = set(updates) - set(KEYS_BY_NAME)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    if path.is_symlink():  # keep a dotfile manager's link: write where it points
        path = path.resolve()
    _ensure_dir(path.parent)
    with _locked(path):
        config = load_config_file(path)
        merged = dict(config.profiles.get(profile, {}))
        for name, value in updates.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = KEYS_BY_NAME[name].parse(value)
        config.profiles[profile] = {key.name: merged[key.name] for key in KEYS if key.name in merged}
        if make_default or not config.exists:
            config.default_profile = profile
        document = {"default_profile": config.default_profile, "profiles": config.profiles}
        text = "# orx-elastic settings: holds an API key, keep it private (mode 0600).\n"
        text += yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
        try:
            atomic_write(path, text)
        except OSError as exc:  # a full disk, a read-only or foreign directory: the file is as it was
            raise write_failed(f"{path}", exc, f"free space or fix the permissions in {path.parent}, then run "
                               "the command again (the file was left as it was)") from exc
    return config
