"""API keys for OpenReplay: the least-privilege request body (pure), and create / list / invalidate / rotate.

The pure half (role descriptors, bodies, validation, the Dev Tools and curl
forms of the request) never imports the Elasticsearch client; the cluster half
takes a client built by `connection.build_client` and returns plain values.
Nothing here prints.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from elastic_cli.connection import body_of
from elastic_cli.errors import UsageError

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
        from elastic_cli.settings import split_indexes

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


def guide_body(patterns: Sequence[str] = ("*log*",)) -> dict[str, Any]:
    """The setup guide's body, exactly (cluster `all`): see GUIDE_WARNING."""
    return {"name": DEFAULT_KEY_NAME, "role_descriptors": guide_role_descriptors(patterns)}


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


def console_request(body: Mapping[str, Any]) -> str:
    """Kibana Dev Tools form: paste it into Console."""
    return f"POST {ENDPOINT}\n{json.dumps(body, indent=2, ensure_ascii=False)}\n"


ADMIN_API_KEY_ENV = "ORX_ELASTIC_ADMIN_API_KEY"


def curl_command(url: str, body: Mapping[str, Any], auth_hint: str | None = None, ca_certs: str | None = None,
                 insecure: bool = False) -> str:
    """A curl command for the same request, safe to paste into a POSIX shell.

    The password is never in it: `-u USER` makes curl prompt for it. With
    auth_hint == ADMIN_API_KEY_ENV the key is read from that environment variable.
    """
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url.rstrip("/") + ENDPOINT)]
    if auth_hint == ADMIN_API_KEY_ENV:
        parts += ["-H", f'"Authorization: ApiKey ${ADMIN_API_KEY_ENV}"']
    else:
        parts += ["-u", shlex.quote(auth_hint or "USERNAME")]
    if ca_certs:
        parts += ["--cacert", shlex.quote(ca_certs)]
    elif insecure:
        parts.append("-k")
    parts += ["-H", shlex.quote("Content-Type: application/json")]
    parts += ["--data-binary", shlex.quote(json.dumps(body, indent=2, ensure_ascii=False))]
    return " ".join(parts) + "\n"


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


def key_summary(info: Mapping[str, Any]) -> dict[str, Any]:
    """One row of `keys list` from a get/query API key answer."""
    return {
        "name": info.get("name"),
        "id": info.get("id"),
        "created": epoch_ms_to_iso(info.get("creation")),
        "expires": epoch_ms_to_iso(info.get("expiration")),
        "invalidated": bool(info.get("invalidated")),
        "username": info.get("username"),
    }


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


def server_reason(exc: Any) -> str:
    """The most specific reason of an API error: the deepest `caused_by`, which names the bad value."""
    from elastic_cli.connection import error_details
    from elastic_cli.redaction import redact

    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    reason = None
    while isinstance(error, dict):
        if error.get("reason"):
            reason = str(error["reason"])
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("type") == "number_format_exception":
            break  # its parent says it better ("fractional time values are not supported")
        error = caused
    if reason is None:
        return error_details(exc)[1]
    return (redact(reason).strip().splitlines() or [""])[0][:400]


# ---------------------------------------------------------------- cluster calls


def create_key(client: Any, body: Mapping[str, Any]) -> CreatedKey:
    response = client.security.create_api_key(**body)
    return CreatedKey.from_response(body_of(response))


def get_key(client: Any, key_id: str) -> dict[str, Any] | None:
    """The key's info (name, creation, expiration, invalidated, role_descriptors), None if unknown."""
    import elasticsearch

    try:
        response = client.security.get_api_key(id=key_id)
    except elasticsearch.NotFoundError:
        return None
    keys = response.get("api_keys") or []
    return dict(keys[0]) if keys else None


def list_keys(client: Any, everything: bool = False, size: int = 1000) -> list[dict[str, Any]]:
    """Keys created by orx-elastic (metadata.created_by), newest first; every key with everything=True."""
    query = {"match_all": {}} if everything else {"term": {"metadata.created_by": CREATED_BY}}
    response = client.security.query_api_keys(query=query, size=size, sort=[{"creation": {"order": "desc"}}])
    return [key_summary(info) for info in response.get("api_keys") or []]


@dataclass
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
