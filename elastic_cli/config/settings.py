"""Settings: the keys (one table: parsers, defaults, environment variables), the resolved model,
and precedence.

Precedence everywhere: command-line flags, then ORX_ELASTIC_* environment
variables, then the profile in the file (`config.file`), then defaults. Each resolved
value remembers where it came from, for `config show`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from elastic_cli.config.endpoint import DEFAULT_PORT, Endpoint, parse_host
from elastic_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from elastic_cli.config.file import ConfigFile
    from elastic_cli.config.secret_store import SecretRef, SecretUnavailable

ENV_PREFIX = "ORX_ELASTIC_"
DEFAULT_PROFILE = "default"


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _parse_port(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a port number")
    port = int(str(value).strip()) if isinstance(value, str) else value
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError("must be a port number from 1 to 65535")
    return port


def _parse_hosts(value: Any) -> list[str]:
    """Every node's address: a YAML list, or URLs separated by commas (a flag, the environment).
    Each is read by the one host parser and kept as `scheme://host:port[/path]` (9200 when it names
    no port); one scheme for all (the TLS options apply to every node), none twice."""
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",")]
        if any(not part for part in items):
            raise ValueError("has an empty entry (write the URLs separated by single commas)")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError("must be a list of URLs, e.g. [https://es1:9200, https://es2:9200]")
    if not items:
        raise ValueError("must name at least one node")
    urls: list[str] = []
    schemes: set[str] = set()
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"has an entry that is not a URL ({str(item)[:40]!r})")
        try:
            endpoint = parse_host(item)
        except UsageError as exc:
            raise ValueError(f"has an entry that is not a node's URL: {exc.message}") from None
        url = endpoint.url(None)
        if url in urls:
            raise ValueError(f"names {url} twice")
        urls.append(url)
        schemes.add(endpoint.scheme)
    if len(schemes) > 1:
        raise ValueError("mixes http:// and https:// (every node is reached the same way)")
    return urls


def _parse_timeout(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds")
    seconds = float(value)
    if not 0 < seconds <= 3600:
        raise ValueError("must be a number of seconds above 0 and at most 3600")
    return seconds


def _parse_indexes(value: Any) -> str:
    patterns = split_indexes(_parse_text(value))
    if not patterns:
        raise ValueError("must name at least one index pattern")
    if any(" " in pattern or "\t" in pattern for pattern in patterns):
        raise ValueError("has a space inside a pattern (index names have none)")
    return ",".join(patterns)


def _parse_duration(value: Any) -> str:
    import re

    text = _parse_text(value)
    if not re.fullmatch(r"[0-9]{1,9}[smhdw]", text):
        raise ValueError("must be a duration such as 12h, 1d or 2w")
    return text


def _parse_dashboard_url(value: Any) -> str:
    text = _parse_text(value).rstrip("/")
    if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1]) == 0:
        raise ValueError("must be the dashboard's URL, starting with https:// or http://")
    return text


def _parse_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _parse_secret(value: Any) -> str:
    """A key, or a reference to where it lives (elastic_cli.config.secret_store): a malformed one is refused here."""
    from elastic_cli.config.secret_store import parse_ref

    text = _parse_text(value)
    parse_ref(text)
    return text


SECRET_STORES = ("file", "keychain", "auto")


def _parse_secret_store(value: Any) -> str:
    text = _parse_text(value).lower()
    if text not in SECRET_STORES:
        raise ValueError("must be file, keychain or auto")
    return text


@dataclass(frozen=True)
class Key:
    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    secret: bool = False
    many: bool = False  # a YAML list in the file (a comma separated string elsewhere)

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


# The keys of a profile, in the order they are shown and written.
KEYS: tuple[Key, ...] = (
    Key("host", _parse_text, "http://localhost", "Elasticsearch host with scheme, e.g. https://es.example.com"),
    Key("port", _parse_port, DEFAULT_PORT, "HTTP port (Elastic Cloud: 443 or 9243)"),
    Key("hosts", _parse_hosts, None, "several nodes of one cluster: a YAML list of URLs (comma separated in a "
        "flag or the environment), e.g. [https://es1:9200, https://es2:9200]", many=True),
    Key("id", _parse_text, None, "API key id"),
    Key("api_key", _parse_secret, None, "API key secret (or the encoded id:key form), or where it lives: "
        "`$(keychain:NAME)`, `$(env:VAR)`, `$(file:PATH)`", secret=True),
    Key("indexes", _parse_indexes, "*log*", "index patterns, comma separated"),
    Key("ca_certs", _parse_text, None, "path of a CA certificate (PEM) to trust"),
    Key("fingerprint", _parse_text, None, "SHA-256 fingerprint of the server certificate to pin"),
    Key("verify_certs", _parse_bool, True, "verify TLS certificates (--insecure turns off)"),
    Key("timeout", _parse_timeout, 10.0, "request timeout in seconds"),
    Key("message_field", _parse_text, "message", "field that holds the log line"),
    Key("time_field", _parse_text, "utc_time",
        "field that holds the log time (where an index lacks it: @timestamp, utc_time or timestamp)"),
    Key("tags_field", _parse_text, "tags",
        "field that holds the level, e.g. tags: [error] (where an index lacks it: log.level, level or severity)"),
    Key("session_margin", _parse_duration, "1d", "logs searches from the session's start minus this"),
    Key("openreplay_url", _parse_dashboard_url, None, "OpenReplay dashboard URL, for replay links"),
    Key("project_id", _parse_text, None, "OpenReplay project id, for replay links"),
    Key("secret_store", _parse_secret_store, "file",
        "where configure and create-key --save keep a new api_key: file, keychain, or auto "
        "(the keychain when one is available, else the file)"),
)
KEYS_BY_NAME = {key.name: key for key in KEYS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one profile; `sources` says where each value came from
    (flag, env NAME, file (profile P), default). Fields follow KEYS, which holds
    their defaults, parsers and help; `resolve` is the way to build one."""

    profile: str
    path: Path
    host: str  # scheme://host[/path prefix], no port
    port: int
    hosts: list[str] | None  # every node's URL (with its port) when several are configured, else None
    id: str | None
    api_key: str | None = field(repr=False)  # never in a repr or traceback
    indexes: str
    ca_certs: str | None
    fingerprint: str | None
    verify_certs: bool
    timeout: float
    message_field: str
    time_field: str
    tags_field: str
    session_margin: str
    openreplay_url: str | None
    project_id: str | None
    secret_store: str
    sources: Mapping[str, str]
    # where the api_key lives when it is a reference ($(keychain:...), ...), and why it could
    # not be read: the key is then None, and whatever needs it raises api_key_problem
    api_key_ref: SecretRef | None = None
    api_key_problem: SecretUnavailable | None = field(default=None, repr=False, compare=False)

    def replay_url(self, session_id: str) -> str | None:
        """`<dashboard>/<project id>/session/<session id>`, as OpenReplay's dashboard routes a replay."""
        if not self.openreplay_url or not self.project_id:
            return None
        return f"{self.openreplay_url.rstrip('/')}/{self.project_id}/session/{session_id}"

    @property
    def values(self) -> dict[str, Any]:
        """The profile keys and their values, in KEYS order (as `config show` lists them)."""
        return {key.name: getattr(self, key.name) for key in KEYS}

    @property
    def endpoint(self) -> Endpoint:
        """Scheme, host name, port and path prefix, parsed by the one parser."""
        return replace(parse_host(self.host), port=self.port)

    @property
    def url(self) -> str:
        return self.endpoint.url(None)

    @property
    def node_urls(self) -> list[str]:
        """Every node the tool may talk to, the first one first: `hosts`, or `host` and `port`."""
        return list(self.hosts) if self.hosts else [self.url]

    @property
    def node_endpoints(self) -> list[Endpoint]:
        return [parse_host(url) for url in self.node_urls]

    @property
    def where(self) -> str:
        """The address to name in a message: the URL, or the first node and how many more."""
        urls = self.node_urls
        return urls[0] if len(urls) == 1 else f"{urls[0]} (and {len(urls) - 1} other node{'s' if len(urls) > 2 else ''})"

    @property
    def index_patterns(self) -> list[str]:
        return split_indexes(self.indexes)


def split_indexes(indexes: str) -> list[str]:
    return [part.strip() for part in indexes.split(",") if part.strip()]


# ---------------------------------------------------------------- file location


def resolve(
    config: ConfigFile,
    profile: str | None,
    flags: Mapping[str, Any],
    environ: Mapping[str, str] = os.environ,
    require_profile: bool = False,
) -> Settings:
    """Merge flags > environment > profile > defaults, validating every value.
    `profile` is --profile or ORX_ELASTIC_PROFILE (read by click, in cli.py)."""
    name = profile or config.default_profile
    if require_profile and config.exists and name not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConfigError(f"no profile '{name}' in {config.path} (profiles: {known})", "run `orx-elastic configure --profile NAME`")
    stored = config.profiles.get(name, {})
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        if flags.get(key.name) is not None:
            raw, source = flags[key.name], "flag"
        elif environ.get(key.env):
            raw, source = environ[key.env], f"env {key.env}"
        elif key.name in stored:
            raw, source = stored[key.name], f"file (profile {name})"
        else:
            values[key.name], sources[key.name] = key.default, "default"
            continue
        try:
            values[key.name] = key.parse(raw)
        except (ValueError, TypeError) as exc:
            where = "--" + key.name.replace("_", "-") if source == "flag" else source
            raise UsageError(f"{key.name} from {where} {exc}", f"fix {where} ({key.help})") from None
        sources[key.name] = source
    ref, problem = None, None
    if values["api_key"] is not None:
        values["api_key"], ref, problem = _dereference(values["api_key"], sources["api_key"], config.path, environ)
    # an encoded key (base64 id:secret) carries its own id: it wins over an id from a weaker source
    key_id, secret, form = split_api_key(None, values["api_key"])
    if form == "encoded" and _rank(sources["api_key"]) >= _rank(sources["id"]):
        values["id"], values["api_key"] = key_id, secret
        sources["id"] = sources["api_key"]
    if values["hosts"] is not None:
        if _rank(sources["hosts"]) >= _rank(sources["host"]):
            # the first node is `host` and `port` for whatever names one address (messages, the form)
            first = parse_host(values["hosts"][0])
            values["host"], values["port"] = first.host, first.port
            sources["host"] = sources["port"] = sources["hosts"]
        else:  # a --host (or ORX_ELASTIC_HOST) over a saved list: that one node
            values["hosts"], sources["hosts"] = None, f"overridden by host ({sources['host']})"
    address = parse_host(values["host"])
    values["host"] = address.host
    # a host from a stronger source brings its own port, 9200 when it names none: a port
    # saved for another host must not follow a new one (an explicit --port still wins)
    if _rank(sources["host"]) > _rank(sources["port"]):
        values["port"], sources["port"] = address.port or DEFAULT_PORT, sources["host"]
    return Settings(profile=name, path=config.path, sources=sources, api_key_ref=ref, api_key_problem=problem,
                    **values)


def _dereference(value: str, source: str, path: Path,
                 environ: Mapping[str, str]) -> tuple[str | None, SecretRef | None, SecretUnavailable | None]:
    """(secret, reference, problem) of an api_key value: a plain value is its own secret. A relative
    $(file:...) is relative to the config file when the file holds it, else to the working directory."""
    from elastic_cli.config import secret_store

    ref = secret_store.parse_ref(value)
    if ref is None:
        return value, None, None
    base = path.parent if source.startswith("file") else Path.cwd()
    try:
        return secret_store.resolve(ref, base, environ), ref, None
    except secret_store.SecretUnavailable as exc:
        return None, ref, exc


def _rank(source: str) -> int:
    """Strength of a source: flag > env > file > default."""
    return {"flag": 3, "env": 2, "file": 1}.get(source.split(" ")[0], 0)


def mask_secret(secret: str | None) -> str:
    """Enough to recognise a key, not enough to use it."""
    if not secret:
        return "(not set)"
    if len(secret) <= 8:
        return "*" * len(secret)
    return secret[:4] + "*" * (len(secret) - 4)


# ---------------------------------------------------------------- writing


def split_api_key(key_id: str | None, api_key: str | None) -> tuple[str | None, str | None, str]:
    """Accept the raw secret with its id, or the `encoded` value Elasticsearch returns.

    Returns (id, secret, form) where form is 'raw' or 'encoded', so the tool can say which it used.
    """
    import base64
    import binascii

    if not api_key:
        return key_id, api_key, "raw"
    try:
        decoded = base64.b64decode(api_key + "=" * (-len(api_key) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return key_id, api_key, "raw"
    decoded_id, sep, secret = decoded.partition(":")
    if sep and decoded_id and secret and (key_id is None or key_id == decoded_id) and decoded.isprintable():
        return decoded_id, secret, "encoded"
    return key_id, api_key, "raw"
