"""API keys for OpenReplay: the least-privilege request body (pure), and create / list / invalidate / rotate.

The pure half (role descriptors, bodies, validation, the Dev Tools and curl
forms of the request) never imports the Elasticsearch client; the cluster half
takes a client built by `connection.build_client` and returns plain values.
Nothing here prints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from elastic_cli.cluster.connection import body_of
from elastic_cli.errors import UsageError, new_key_command
from elastic_cli.keys.admin import ADMIN_API_KEY_ENV, NEW_KEY, key_errors, server_reason  # noqa: F401

DEFAULT_KEY_NAME = "openreplay-api-key"
ROLE_NAME = "openreplay-role"  # the guide's role name, kept so keys look alike in Kibana
CREATED_BY = "orx-elastic"
ENDPOINT = "/_security/api_key"

# What the key needs, measured on real 8.19 and 9.5 nodes (tests/integration/test_create_key.py):
# `read` alone allows _search, _count, _field_caps, open/close point in time on the
# patterns, and every authenticated key may call _security/_authenticate and
# _security/user/_has_privileges. No cluster privilege is needed (the guide's
# `"cluster": ["all"]` would let the key create keys, change settings, read every user).
INDEX_PRIVILEGES = ("read",)

GUIDE_WARNING = (
    "--guide-body grants the key the cluster privilege 'all' (as the setup guide does): whoever holds it "
    "can change cluster settings, create users and API keys, and read or delete any data it can reach. "
    "OpenReplay needs only `read` on the log indices: drop --guide-body for a least-privilege key."
)

# Elasticsearch time units (TimeValue): fractional values are refused by the server.
_EXPIRATION = re.compile(r"^([0-9]+)(nanos|micros|ms|s|m|h|d)$")
# Characters Elasticsearch refuses in index names (MetadataCreateIndexService), minus the
# wildcard `*`; `,` separates patterns; `?` and regex `/.../` do not work in OpenReplay's searches.
_FORBIDDEN = set('\\/"<>|,#?: ')
MAX_NAME_LENGTH = 256  # the server's limit for key names


# ---------------------------------------------------------------- validation (pure)


def validate_expiration(text: str | None) -> str | None:
    """`90d`, `12h`, `30m`... normalised to lower case; None means the key never expires."""
    if text is None:
        return None
    value = text.strip().lower()
    match = _EXPIRATION.match(value)
    if not match:
        raise UsageError(
            f"invalid --expiration {text[:40]!r}",
            "use a whole number and a unit: d, h, m, s (e.g. 90d, 12h, 30m)",
        )
    if int(match.group(1)) == 0:
        # the server accepts 0d and even -1d and creates a key that is already expired
        raise UsageError(f"--expiration {text!r} would create a key that is already expired",
                         "use a positive duration such as 90d")
    return value


def validate_patterns(patterns: Iterable[str] | str) -> list[str]:
    """Index patterns as Elasticsearch names them: lower case, no spaces or reserved characters."""
    if isinstance(patterns, str):
        from elastic_cli.config.settings import split_indexes

        patterns = split_indexes(patterns) if patterns.strip() else []
    result: list[str] = []
    for pattern in patterns:
        problem = _pattern_problem(pattern)
        if problem:
            raise UsageError(f"invalid index pattern {pattern[:60]!r}: {problem}",
                             "use names or wildcards such as 'app-logs,*log*' (comma separated, lower case)")
        if pattern not in result:
            result.append(pattern)
    if not result:
        raise UsageError("no index pattern given", "pass --indexes, e.g. --indexes '*log*'")
    return result


def _pattern_problem(pattern: str) -> str | None:
    if not pattern or not pattern.strip():
        return "it is empty"
    if any(ch.isspace() for ch in pattern):
        return "it contains a space"
    bad = sorted({ch for ch in pattern if ch in _FORBIDDEN})
    if bad:
        return "it contains " + " ".join(repr(ch) for ch in bad)
    if pattern != pattern.lower():
        return "index names are lower case, so it would match nothing"
    if pattern[0] in "-_+":
        return f"index names cannot start with {pattern[0]!r}"
    if pattern in (".", ".."):
        return "'.' and '..' are not index names"
    if len(pattern.encode("utf-8")) > 255:
        return "it is longer than 255 bytes"
    if not pattern.isprintable():
        return "it contains control characters"
    return None


def validate_name(name: str) -> str:
    if not name or not name.strip():
        raise UsageError("the key name is empty", f"pass --name, e.g. --name {DEFAULT_KEY_NAME}")
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(f"the key name is longer than {MAX_NAME_LENGTH} characters", "pass a shorter --name")
    if not name.isprintable() or name != name.strip():
        raise UsageError("the key name has control characters or surrounding spaces", "pass a plain --name")
    return name


# ---------------------------------------------------------------- bodies (pure)


def role_descriptors(patterns: Sequence[str]) -> dict[str, Any]:
    """Least privilege for OpenReplay and for `check`/`logs`: `read` on the patterns, nothing on the cluster."""
    return {
        ROLE_NAME: {
            "cluster": [],
            "indices": [{"names": list(patterns), "privileges": list(INDEX_PRIVILEGES)}],
        }
    }


def guide_role_descriptors(patterns: Sequence[str]) -> dict[str, Any]:
    return {
        ROLE_NAME: {
            "cluster": ["all"],
            "index": [{"names": list(patterns), "privileges": ["read"]}],
        }
    }


def key_metadata(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    from elastic_cli import __version__

    metadata = {"created_by": CREATED_BY, "orx_elastic_version": __version__}
    metadata.update(extra or {})
    bad = [key for key in metadata if str(key).startswith("_")]
    if bad:  # the server refuses them (keys starting with _ are reserved)
        raise ValueError(f"metadata keys may not start with '_': {bad}")
    return metadata


def create_key_body(name: str, patterns: Sequence[str], expiration: str | None = None, guide: bool = False,
                    metadata: Mapping[str, Any] | None = None,
                    descriptors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of `POST /_security/api_key` (validated): name, role descriptors, expiration, metadata."""
    validate_name(name)
    patterns = validate_patterns(patterns)
    if descriptors is None:
        descriptors = guide_role_descriptors(patterns) if guide else role_descriptors(patterns)
    body: dict[str, Any] = {"name": name, "role_descriptors": dict(descriptors)}
    expiration = validate_expiration(expiration)
    if expiration:
        body["expiration"] = expiration
    body["metadata"] = key_metadata(metadata)
    return body


# ---------------------------------------------------------------- results (pure)


def epoch_ms_to_iso(millis: Any) -> str | None:
    """Elasticsearch's epoch milliseconds as UTC ISO 8601 (what `keys list` and `check` show)."""
    if millis in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(millis)


@dataclass(frozen=True)
class CreatedKey:
    id: str
    name: str
    api_key: str = field(repr=False)
    encoded: str = field(repr=False)
    expiration: str | None = None  # ISO 8601 UTC, None = never

    @classmethod
    def from_response(cls, response: Mapping[str, Any]) -> "CreatedKey":
        import base64

        encoded = response.get("encoded") or base64.b64encode(
            f"{response['id']}:{response['api_key']}".encode()).decode()
        return cls(id=response["id"], name=response.get("name", ""), api_key=response["api_key"],
                   encoded=encoded, expiration=epoch_ms_to_iso(response.get("expiration")))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "api_key": self.api_key, "encoded": self.encoded,
                "expiration": self.expiration}


@dataclass(frozen=True)
class KeyInfo:
    """One row of `keys list`: what get/query API key says about a key (never its secret)."""

    name: str | None
    id: str | None
    created: str | None   # ISO 8601 UTC
    expires: str | None   # ISO 8601 UTC, None = never
    invalidated: bool
    username: str | None
    expired: bool = False  # its expiration has passed (Elasticsearch rejects it, though not invalidated)
    invalidated_at: str | None = None  # ISO 8601 UTC, when Elasticsearch says (8.12+)

    @classmethod
    def from_response(cls, info: Mapping[str, Any], now: datetime | None = None) -> "KeyInfo":
        expiration = info.get("expiration")
        now_ms = (now or datetime.now(timezone.utc)).timestamp() * 1000
        try:
            expired = expiration not in (None, "") and int(expiration) <= now_ms
        except (TypeError, ValueError):
            expired = False
        return cls(name=info.get("name"), id=info.get("id"), created=epoch_ms_to_iso(info.get("creation")),
                   expires=epoch_ms_to_iso(expiration), invalidated=bool(info.get("invalidated")),
                   username=info.get("username"), expired=expired,
                   invalidated_at=epoch_ms_to_iso(info.get("invalidation")))

    @property
    def state(self) -> str:
        """What a user asks first: does it still work? invalidated, expired, or active."""
        return "invalidated" if self.invalidated else "expired" if self.expired else "active"


def patterns_of(descriptors: Mapping[str, Any]) -> list[str]:
    """Every index pattern named in role descriptors (as returned by get_api_key)."""
    found: list[str] = []
    for descriptor in (descriptors or {}).values():
        for entry in (descriptor or {}).get("indices") or (descriptor or {}).get("index") or []:
            names = entry.get("names") or []
            for name in [names] if isinstance(names, str) else names:
                if name not in found:
                    found.append(name)
    return found


def expiration_policy(info: Mapping[str, Any]) -> str | None:
    """The old key's lifetime as a duration (`90d`, or hours/minutes/seconds), None if it never expired."""
    created, expires = info.get("creation"), info.get("expiration")
    if created is None or expires is None:
        return None
    seconds = max(1, round((int(expires) - int(created)) / 1000))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# ---------------------------------------------------------------- cluster calls


def create_key(client: Any, body: Mapping[str, Any]) -> CreatedKey:
    from elastic_cli.redaction import register_secret

    created = CreatedKey.from_response(body_of(client.security.create_api_key(**body)))
    register_secret(created.api_key)  # from here on no message or debug log may show it
    register_secret(created.encoded)
    return created


def get_key(client: Any, key_id: str) -> dict[str, Any] | None:
    """The key's info (name, creation, expiration, invalidated, role_descriptors), None if unknown."""
    import elasticsearch

    try:
        response = client.security.get_api_key(id=key_id)
    except elasticsearch.NotFoundError:
        return None
    keys = response.get("api_keys") or []
    return dict(keys[0]) if keys else None


def list_keys(client: Any, everything: bool = False, size: int = 1000) -> list[KeyInfo]:
    """Keys created by orx-elastic (metadata.created_by), newest first; every key with everything=True."""
    query = {"match_all": {}} if everything else {"term": {"metadata.created_by": CREATED_BY}}
    response = client.security.query_api_keys(query=query, size=size, sort=[{"creation": {"order": "desc"}}])
    return [KeyInfo.from_response(info) for info in response.get("api_keys") or []]


def find_keys(client: Any, ids: Sequence[str] | None = None, name: str | None = None) -> list[KeyInfo]:
    """The keys with these ids, or with this name, invalidated ones too (what invalidation would
    touch, and what it already did); [] when Elasticsearch knows none."""
    import elasticsearch

    try:
        if ids:
            found = [info for key_id in ids for info in
                     client.security.get_api_key(id=key_id).get("api_keys") or []]
        else:
            found = list(client.security.get_api_key(name=name).get("api_keys") or [])
    except elasticsearch.NotFoundError:
        return []
    return [KeyInfo.from_response(info) for info in found]


@dataclass(frozen=True)
class Invalidation:
    invalidated: list[str]
    previously_invalidated: list[str]
    errors: list[str]


def invalidate_keys(client: Any, ids: Sequence[str] | None = None, name: str | None = None) -> Invalidation:
    kwargs: dict[str, Any] = {"ids": list(ids)} if ids else {"name": name}
    response = client.security.invalidate_api_key(**kwargs)
    details = [str(d.get("reason") or d.get("type") or d) for d in response.get("error_details") or []]
    return Invalidation(list(response.get("invalidated_api_keys") or []),
                        list(response.get("previously_invalidated_api_keys") or []), details)


def authenticate(client: Any) -> dict[str, Any]:
    """`GET /_security/_authenticate`: any valid key may call it (unlike `GET /`)."""
    response = client.security.authenticate()
    return dict(body_of(response))


def save_created_key(settings: Any, created: CreatedKey, patterns: Sequence[str], store: str = "file") -> str:
    """Write the new key to the profile with what this connection needed; returns where, for the user.

    With store="keychain" the secret goes into the keychain (see secret_store.choose) and the
    file holds the reference; a key of the profile's that was in the tool's entry and is no more is removed."""
    from elastic_cli.config import secret_store
    from elastic_cli.config.file import load_config_file, save_profile

    current = load_config_file(settings.path).profiles.get(settings.profile, {}).get("api_key")
    stored, undo = secret_store.place(settings.profile, created.api_key, store, current)
    updates = {"host": settings.host, "port": settings.port, "id": created.id, "api_key": stored,
               "indexes": ",".join(patterns)}
    hosts = getattr(settings, "hosts", None)
    if hosts:  # several nodes: the list, not its first node alone (a saved host would lose to it anyway)
        updates.update(hosts=list(hosts), host=None, port=None)
    else:
        updates["hosts"] = None  # one host (a --host over a saved list): the list would win over it
    for name in ("ca_certs", "fingerprint", "verify_certs", "timeout"):  # given by flag or env, not yet in the file
        if settings.sources.get(name, "default") != "default" and not settings.sources[name].startswith("file"):
            updates[name] = settings.values[name]
    stale = secret_store.stale_entry(settings.profile, current, stored)
    try:
        save_profile(settings.path, settings.profile, updates)
    except BaseException:
        undo()
        raise
    if stale:
        secret_store.keychain_delete(stale)
    where = f"{settings.path} (profile {settings.profile})"
    return where + (f", api_key in the keychain {stored}" if store == "keychain" else "")


# ---------------------------------------------------------------- rotate


class KeyStore(Protocol):
    """Where the key being rotated is kept (the profile in the config file)."""

    def replace(self, key: CreatedKey) -> None: ...     # save the new key in place of the old one
    def verify(self) -> None: ...                       # raise unless the saved key authenticates
    def restore(self) -> None: ...                      # put back what replace() overwrote


@dataclass(frozen=True)
class Rotation:
    old_id: str
    new: CreatedKey
    old_invalidated: bool          # this run invalidated the old key
    notes: tuple[str, ...] = ()    # what the user should know: narrowed privileges, the old key kept...
    old_expires_at: str | None = None  # with a grace: when the old key stops working (ISO 8601 UTC)


def rotation_body(info: Mapping[str, Any], fallback_patterns: Sequence[str],
                  keep_privileges: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The new key's body from the old key's info: same name, patterns and lifetime (pure).

    Least privilege on the old patterns unless keep_privileges copies its role descriptors;
    the notes say when that narrows what the key may do."""
    old_id = info.get("id")
    descriptors = info.get("role_descriptors") or {}
    patterns = patterns_of(descriptors) or list(fallback_patterns)
    body = create_key_body(info.get("name") or DEFAULT_KEY_NAME, patterns, expiration_policy(info),
                           descriptors=descriptors if keep_privileges and descriptors else None,
                           metadata={"rotated_from": old_id})
    notes = []
    if info.get("invalidated"):
        notes.append(f"the profile's key {old_id} was already invalidated; this created its replacement")
    if descriptors and not keep_privileges and _privileges(descriptors) != _privileges(body["role_descriptors"]):
        notes.append("the new key gets only `read` on " + ",".join(patterns) +
                     " (the old one had more; --keep-privileges copies them)")
    return body, notes


def _privileges(descriptors: Mapping[str, Any]) -> list[tuple[list[str], list[str]]]:
    """Cluster and index privileges of role descriptors, in a form that compares equal when they grant the same."""
    simplified = []
    for descriptor in descriptors.values():
        indices = descriptor.get("indices") or descriptor.get("index") or []
        simplified.append((sorted(descriptor.get("cluster") or []),
                           sorted(json.dumps(sorted(i.get("privileges") or [])) for i in indices)))
    return sorted(simplified)


def rotate(client: Any, old_id: str, store: KeyStore, *, fallback_patterns: Sequence[str] = ("*log*",),
           keep_privileges: bool = False, keep_old: bool = False, grace: str | None = None,
           warn: Callable[[str], None] = lambda message: None) -> Rotation:
    """Replace a key: create the new one, save it, check that it authenticates, then invalidate the old one.

    Terraform's order (create before destroy), so OpenReplay never holds a dead key. If the save
    or the check fails, the store is put back and the new key invalidated (no orphan key with
    read access), and the error is raised. `warn` hears about the rollback as it happens."""
    from elastic_cli.errors import ConfigError

    info = get_key(client, old_id)
    if info is None:
        raise ConfigError(f"Elasticsearch knows no API key {old_id} (the profile's key)",
                          f"create a new one with `{new_key_command()}`")
    body, notes = rotation_body({"id": old_id, **info}, fallback_patterns, keep_privileges)
    created = create_key(client, body)
    try:
        store.replace(created)
    except BaseException:
        _discard(client, created.id, warn)
        raise
    try:
        store.verify()
    except BaseException:
        try:
            store.restore()
        finally:
            _discard(client, created.id, warn)
        warn(f"the new key did not work: the profile keeps the old key {old_id}")
        raise
    invalidated = False
    if grace:
        # OpenReplay's form still holds the old key: it keeps working until the grace ends, then expires
        expires_at, note = _expire_after(client, old_id, info, grace)
        if note:
            notes.append(note)
        return Rotation(old_id, created, False, tuple(notes), old_expires_at=expires_at)
    if keep_old:
        notes.append(f"the old key {old_id} still works: invalidate it with `orx-elastic keys invalidate {old_id}` "
                     "once OpenReplay uses the new one")
    elif not info.get("invalidated"):
        # the new key is saved and works: a failure here leaves the old key alive, not the rotation undone
        try:
            result = invalidate_keys(client, ids=[old_id])
            problem = result.errors[0] if result.errors else None
            invalidated = old_id in result.invalidated
        except Exception as exc:  # noqa: BLE001 — reported as a note, with the way out
            problem = server_reason(exc)
        if problem:
            notes.append(f"could not invalidate the old key {old_id}: {problem}; "
                         f"run `orx-elastic keys invalidate {old_id}`")
    return Rotation(old_id, created, invalidated, tuple(notes))


def _expire_after(client: Any, key_id: str, info: Mapping[str, Any], grace: str) -> tuple[str | None, str | None]:
    """Set the key to expire after `grace` (the update API key API; owner credentials), never later
    than it would have anyway: (when it stops working, a note when that could not be done)."""
    import time

    current = info.get("expiration")
    grace_ms = _duration_ms(grace)
    if isinstance(current, (int, float)) and current <= time.time() * 1000 + grace_ms:
        return epoch_ms_to_iso(current), f"the old key {key_id} expires before the grace ends, as it was made to"
    try:
        answer = client.security.update_api_key(id=key_id, expiration=grace)
        updated = bool((answer.body if hasattr(answer, "body") else answer).get("updated"))
        after = (get_key(client, key_id) or {}).get("expiration")
    except Exception as exc:  # noqa: BLE001 — the old key then still works: said, with the way out
        return None, (f"could not set the old key {key_id} to expire: {server_reason(exc)}; it still works: "
                      f"invalidate it with `orx-elastic keys invalidate {key_id}` once OpenReplay uses the new one")
    if not updated or not isinstance(after, (int, float)):
        return None, (f"Elasticsearch did not set an expiration on the old key {key_id}; it still works: invalidate "
                      f"it with `orx-elastic keys invalidate {key_id}` once OpenReplay uses the new one")
    return epoch_ms_to_iso(after), None


_UNIT_MS = {"nanos": 1e-6, "micros": 1e-3, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _duration_ms(text: str) -> float:
    match = _EXPIRATION.match(text)
    return int(match.group(1)) * _UNIT_MS[match.group(2)] if match else 0.0


def _discard(client: Any, key_id: str, warn: Callable[[str], None]) -> None:
    """Invalidate a key this run created and could not use: no orphan keys."""
    try:
        invalidate_keys(client, ids=[key_id])
    except Exception:  # noqa: BLE001 — best effort: the caller re-raises the real error
        warn(f"could not invalidate the unused new key {key_id}: run `orx-elastic keys invalidate {key_id}`")


@dataclass
class ProfileKeyStore:
    """The profile's key, for rotate: `settings` are the connection settings in use.

    The key is replaced where it lives: the config file, or the keychain entry or file its
    api_key refers to (the reference itself stays); restore() puts back what was there."""

    settings: Any
    key_id: str = ""  # the key the file holds now: the one to rotate
    _before: dict[str, Any] = field(default_factory=dict, repr=False)
    _before_secret: str | None = field(default=None, repr=False)  # the referenced entry's or file's old secret

    @classmethod
    def of(cls, settings: Any) -> "ProfileKeyStore":
        """The profile's store; ConfigError unless the config file itself holds the key or a reference
        to a keychain entry or a file (not env or flags)."""
        from elastic_cli.config.settings import split_api_key
        from elastic_cli.errors import ConfigError
        from elastic_cli.redaction import register_secret

        key_id, secret, _ = split_api_key(settings.id, settings.api_key)
        if not key_id or not settings.sources.get("api_key", "").startswith("file"):
            raise ConfigError(f"profile '{settings.profile}' has no API key to rotate in {settings.path}",
                              f"create one with `{new_key_command()}`")
        ref = settings.api_key_ref
        if ref is not None and ref.kind == "env":
            raise ConfigError(f"profile '{settings.profile}' reads its api_key from the {ref.where}: "
                              "rotate cannot change a variable",
                              f"run `orx-elastic create-key --username USER`, set {ref.target} to the new key, then invalidate "
                              "the old one; or keep the key in the keychain (`orx-elastic configure --keychain`)")
        if ref is not None and ref.kind == "keychain":
            from elastic_cli.config import secret_store

            problem = secret_store.keychain_problem()  # before a new key exists, not after
            if problem:
                raise secret_store.SecretUnavailable(
                    f"cannot rotate the key kept in the {ref.where}: {problem}",
                    secret_store.INSTALL_HINT if "not installed" in problem else secret_store.NO_BACKEND_FIX)
        register_secret(secret)
        return cls(settings, key_id)

    def _stored(self) -> dict[str, Any]:
        from elastic_cli.config.file import load_config_file

        return dict(load_config_file(self.settings.path).profiles.get(self.settings.profile, {}))

    def _ref(self, stored: Mapping[str, Any]) -> Any:
        from elastic_cli.config.secret_store import parse_ref

        return parse_ref(stored.get("api_key"))

    def replace(self, key: CreatedKey) -> None:
        from elastic_cli.config import secret_store
        from elastic_cli.config.file import save_profile
        from elastic_cli.errors import ConfigError

        stored = self._stored()  # what the file held (not what env or flags said): restore() puts it back
        self._before = {"id": stored.get("id"), "api_key": stored.get("api_key")}
        ref = self._ref(stored)
        updates = {"id": key.id, "api_key": key.api_key}
        try:
            if ref is not None and ref.kind == "keychain":
                self._before_secret = secret_store.keychain_peek(ref.target, "write to")
                secret_store.keychain_set(ref.target, key.api_key)
                updates.pop("api_key")  # the file keeps the reference
            elif ref is not None and ref.kind == "file":
                path = secret_store.file_path(ref, self.settings.path.parent)
                self._before_secret = path.read_text(encoding="utf-8") if path.exists() else None
                secret_store.write_file(path, key.api_key)
                updates.pop("api_key")
            try:
                save_profile(self.settings.path, self.settings.profile, updates)
            except BaseException:
                if "api_key" not in updates:  # the new secret went to the entry or file: put the old one back
                    self._put_back(ref)
                raise
        except OSError as exc:
            raise ConfigError(f"could not save the new key to {self.settings.path}: {exc.strerror or exc}",
                              "make the file and its directory writable, then run `orx-elastic keys rotate` again "
                              "(the new key was invalidated; the profile keeps the old one)") from None

    def verify(self) -> None:
        """Authenticate with the key read back from where it was saved, over the connection settings in use."""
        from dataclasses import replace

        from elastic_cli.cluster.connection import build_client
        from elastic_cli.config import secret_store

        stored = self._stored()
        ref = self._ref(stored)
        secret = secret_store.resolve(ref, self.settings.path.parent) if ref is not None else stored.get("api_key")
        saved = replace(self.settings, id=stored.get("id"), api_key=secret, api_key_problem=None)
        with key_errors(saved, "authenticate", NEW_KEY):
            authenticate(build_client(saved, max_retries=1))

    def restore(self) -> None:
        from elastic_cli.config.file import save_profile

        self._put_back(self._ref(self._before))
        save_profile(self.settings.path, self.settings.profile, self._before)

    def _put_back(self, ref: Any) -> None:
        """The referenced keychain entry or file as it was before replace()."""
        from elastic_cli.config import secret_store

        if ref is not None and ref.kind == "keychain":
            if self._before_secret is None:
                secret_store.keychain_delete(ref.target)
            else:
                secret_store.keychain_set(ref.target, self._before_secret)
        elif ref is not None and ref.kind == "file" and self._before_secret is not None:
            secret_store.write_file(secret_store.file_path(ref, self.settings.path.parent),
                                    self._before_secret.strip())
