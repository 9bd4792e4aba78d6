"""The ordered checks of `orx-elastic check`: why would logs not show? (no printing here)

Each check returns a Finding (ok / warning / failure / skipped). The order is the
order in which a user would fix things: reach the port, agree on TLS, authenticate,
hold `read`, match indices, have the right mapping, have marked lines, and finally
OpenReplay v1.21's hard-coded `logs` index. A check that cannot run because an
earlier one failed is `skipped`, with the reason. Every request is bounded by
settings.timeout and by the overall deadline.

Never call `GET /` (info/ping): a read-only key may not (it needs `monitor`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Sequence

from elastic_cli.api_keys import epoch_ms_to_iso
from elastic_cli.connection import body_of as _body
from elastic_cli.connection import classify_auth_failure, describe_auth_failure, status_of
from elastic_cli.log_search import KEYWORD_TYPES
from elastic_cli.session_token import SESSION_ID_MARKER_PREFIX, TOKEN_MARKER_PREFIX

if TYPE_CHECKING:
    from elastic_cli.settings import Settings

OK, WARNING, FAILURE, SKIPPED = "ok", "warning", "failure", "skipped"
STATUSES = (OK, WARNING, FAILURE, SKIPPED)

# in the order they run
CHECK_IDS = ("connect", "tls", "auth", "privileges", "indices", "message_field", "time_field",
             "tags_field", "marked_logs", "logs_index")
TITLES = {
    "connect": "TCP connection",
    "tls": "TLS",
    "auth": "API key authentication",
    "privileges": "read privilege on the index patterns",
    "indices": "indices matching the patterns",
    "message_field": "message field mapping",
    "time_field": "time field mapping",
    "tags_field": "tags field mapping",
    "marked_logs": "log lines with an OpenReplay marker",
    "logs_index": "index `logs` for OpenReplay v1.21+",
}

DEFAULT_DEADLINE = 30.0
TEXT_TYPES = {"text", "match_only_text"}
DATE_TYPES = {"date", "date_nanos"}
PROPAGATE_FIX = ("propagate the session token to the backend and log it with every line "
                 f"({TOKEN_MARKER_PREFIX}<token> or {SESSION_ID_MARKER_PREFIX}<id>): see the README section "
                 "'Getting the session token into your logs'")
HTTP_PROBE = b"GET /_security/_authenticate HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
# OpenSSL's words for "the other side answered, but not with TLS"
_NOT_TLS_REASONS = ("wrong version number", "wrong_version_number", "record layer failure", "record_layer_failure",
                    "packet length too long", "http request", "unknown protocol", "unexpected eof")


@dataclass
class Finding:
    id: str
    status: str
    title: str
    detail: str = ""
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def finding(check_id: str, status: str, detail: str = "", fix: str = "", **data: Any) -> Finding:
    assert status in STATUSES, status
    return Finding(check_id, status, TITLES[check_id], detail, fix, data)


class Deadline:
    """The overall budget of the run; every request gets min(timeout, what is left)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds

    def left(self) -> float:
        return self.end - self.clock()

    def expired(self) -> bool:
        return self.left() <= 0

    def bound(self, timeout: float) -> float:
        return max(0.05, min(timeout, self.left()))


# ---------------------------------------------------------------- host parsing


def _is_local(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return address.is_loopback


# ---------------------------------------------------------------- 1. TCP


def check_connect(settings: Settings, deadline: Deadline) -> Finding:
    hostname, port = settings.endpoint.hostname, settings.port
    where = f"{hostname}:{port}"
    timeout = deadline.bound(settings.timeout)
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return finding("connect", FAILURE, f"cannot resolve {hostname!r}: {exc.strerror or exc}",
                       "check the host name for typos (and DNS or /etc/hosts)", host=hostname, port=port)
    last: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        started = time.monotonic()
        try:
            sock.connect(address)
        except OSError as exc:
            last = exc
            continue
        finally:
            sock.close()
        millis = round((time.monotonic() - started) * 1000, 1)
        return finding("connect", OK, f"{where} ({address[0]}) accepted a connection in {millis:g} ms",
                       host=hostname, port=port, address=address[0], millis=millis)
    if isinstance(last, socket.timeout):
        return finding("connect", FAILURE, f"{where} did not accept a connection within {timeout:g}s",
                       "check host, port and firewalls (self-managed: 9200; Elastic Cloud: 443 or 9243), "
                       "or raise --timeout", host=hostname, port=port)
    if isinstance(last, ConnectionRefusedError):
        return finding("connect", FAILURE, f"connection refused by {where}",
                       "is Elasticsearch running, and on this port? (self-managed: 9200; Elastic Cloud: 443 or 9243)",
                       host=hostname, port=port)
    reason = getattr(last, "strerror", None) or str(last)
    return finding("connect", FAILURE, f"cannot connect to {where}: {reason}",
                   "check host, port, network and firewalls", host=hostname, port=port)


# ---------------------------------------------------------------- 2. TLS


def _socket(hostname: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((hostname, port), timeout=timeout)


def probe_plain_http(hostname: str, port: int, timeout: float) -> tuple[str, bytes]:
    """Send a plain HTTP request: ('http', first bytes) | ('tls-alert', ..) | ('closed', b'') | ('other', ..)."""
    try:
        with _socket(hostname, port, timeout) as sock:
            sock.sendall(HTTP_PROBE % hostname.encode("idna" if hostname.isascii() else "utf-8"))
            first = sock.recv(64)
    except (ConnectionResetError, BrokenPipeError):
        return "closed", b""
    except socket.timeout:
        return "silent", b""
    except OSError:
        return "closed", b""
    if first.startswith(b"HTTP/"):
        return "http", first
    if not first:
        return "closed", first
    if first[:1] == b"\x15" and first[1:2] == b"\x03":  # a TLS alert record
        return "tls-alert", first
    return "other", first


def tls_handshake(hostname: str, port: int, timeout: float, context: ssl.SSLContext) -> tuple[bytes, str]:
    """(DER certificate, TLS version) after a handshake; raises ssl/OS errors."""
    with _socket(hostname, port, timeout) as sock:
        with context.wrap_socket(sock, server_hostname=hostname) as tls:
            return tls.getpeercert(binary_form=True) or b"", tls.version() or ""


def _unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def sha256_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _der_read(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at offset."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    return tag, start, start + length


def is_self_signed(der: bytes) -> bool | None:
    """Issuer == subject in the certificate (raw DER comparison); None if it cannot be parsed."""
    try:
        _, cert_start, _ = _der_read(der, 0)
        _, tbs_start, tbs_end = _der_read(der, cert_start)
        parts: list[tuple[int, bytes]] = []
        offset = tbs_start
        while offset < tbs_end and len(parts) < 7:
            tag, start, end = _der_read(der, offset)
            parts.append((tag, der[offset:end]))
            offset = end
        if parts and parts[0][0] == 0xA0:  # [0] version
            parts = parts[1:]
        # serial, signature algorithm, issuer, validity, subject
        return parts[2][1] == parts[4][1]
    except (IndexError, ValueError):
        return None


def check_tls(settings: Settings, deadline: Deadline) -> Finding:
    scheme, hostname, port = settings.endpoint.scheme, settings.endpoint.hostname, settings.port
    timeout = deadline.bound(settings.timeout)
    return _check_https(settings, hostname, port, timeout) if scheme == "https" else \
        _check_plain(hostname, port, timeout)


def _check_plain(hostname: str, port: int, timeout: float) -> Finding:
    kind, first = probe_plain_http(hostname, port, timeout)
    if kind == "http":
        if _is_local(hostname):
            return finding("tls", OK, "plain HTTP (no TLS), on this machine", scheme="http")
        return finding("tls", WARNING, "plain HTTP: the API key and the logs cross the network unencrypted",
                       "enable TLS on the cluster's HTTP layer and use https://", scheme="http")
    # not an HTTP answer: does it speak TLS?
    try:
        der, version = tls_handshake(hostname, port, timeout, _unverified_context())
    except (ssl.SSLError, OSError):
        der, version = b"", ""
    if der or kind == "tls-alert":
        return finding("tls", FAILURE, f"the server expects HTTPS: it {'answered with a TLS alert' if kind == 'tls-alert' else 'closed the connection'} "
                       "on a plain HTTP request" + (f" and completed a TLS handshake ({version})" if version else ""),
                       "use https:// in --host (Elasticsearch 8+ enables TLS on HTTP by default)",
                       scheme="http", expects_https=True)
    if kind == "silent":
        return finding("tls", FAILURE, f"no answer to a plain HTTP request within {timeout:g}s",
                       "check that this port is Elasticsearch's HTTP port (not 9300, the transport port)", scheme="http")
    return finding("tls", FAILURE, "the server did not answer an HTTP request"
                   + (f" (it sent {first[:16]!r})" if first else " (it closed the connection)"),
                   "check that this port is Elasticsearch's HTTP port (not 9300, the transport port)", scheme="http")


def _check_https(settings: Settings, hostname: str, port: int, timeout: float) -> Finding:
    from elastic_cli.connection import normalize_fingerprint
    from elastic_cli.errors import ConfigError

    pinned = None
    if settings.fingerprint:
        try:
            pinned = normalize_fingerprint(settings.fingerprint)
        except ConfigError as exc:
            return finding("tls", FAILURE, exc.message, exc.hint or "", scheme="https")
    if pinned or not settings.verify_certs:
        context = _unverified_context()
    else:
        try:
            context = ssl.create_default_context(cafile=settings.ca_certs or None)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            return finding("tls", FAILURE, f"cannot load the CA file {settings.ca_certs}: {reason}",
                           "pass --ca-certs with a readable PEM file (e.g. config/certs/http_ca.crt)", scheme="https")
    try:
        der, version = tls_handshake(hostname, port, timeout, context)
    except ssl.SSLCertVerificationError as exc:
        return _untrusted(settings, hostname, port, timeout, exc)
    except ssl.SSLError as exc:
        return _handshake_failed(hostname, port, timeout, exc)
    except socket.timeout:
        return finding("tls", FAILURE, f"no TLS handshake within {timeout:g}s",
                       "check that this port serves HTTPS, or raise --timeout", scheme="https")
    except OSError as exc:
        return _handshake_failed(hostname, port, timeout, exc)
    actual = sha256_fingerprint(der)
    data = {"scheme": "https", "tls_version": version, "fingerprint": actual}
    if pinned:
        if actual != pinned:
            return finding("tls", FAILURE, f"the certificate's SHA-256 fingerprint is {actual}, "
                           f"not the pinned {pinned}",
                           "check --fingerprint against the one Elasticsearch printed at first start "
                           "(or `openssl x509 -fingerprint -sha256` on its http certificate)", **data)
        return finding("tls", OK, f"{version}, certificate matches the pinned fingerprint", **data)
    if not settings.verify_certs:
        return finding("tls", WARNING, f"{version}, certificate NOT verified (--insecure / verify_certs: false)",
                       "pass --ca-certs or --fingerprint instead of turning verification off", **data)
    trusted_by = f"the CA in {settings.ca_certs}" if settings.ca_certs else "the system's trust store"
    return finding("tls", OK, f"{version}, certificate verified by {trusted_by}", **data)


def _untrusted(settings: Settings, hostname: str, port: int, timeout: float, exc: ssl.SSLCertVerificationError) -> Finding:
    code, message = exc.verify_code, (exc.verify_message or str(exc))
    try:
        der, _ = tls_handshake(hostname, port, timeout, _unverified_context())
    except (ssl.SSLError, OSError):
        der = b""
    actual = sha256_fingerprint(der) if der else None
    self_signed = code in (18, 19) or (is_self_signed(der) if der else None)
    data = {"scheme": "https", "verify_code": code, "fingerprint": actual, "self_signed": bool(self_signed)}
    pin = (f" To pin it instead, compare {actual} with the fingerprint Elasticsearch printed at "
           "first start and pass it with --fingerprint.") if actual else ""
    if code == 10 or "expired" in message:
        return finding("tls", FAILURE, f"the server's certificate has expired ({message})",
                       "renew the node's HTTP certificate", **data)
    if code == 62 or "hostname mismatch" in message or "IP address mismatch" in message:
        return finding("tls", FAILURE, f"the certificate is not valid for {hostname!r} ({message})",
                       "use the host name the certificate was issued for" + pin, **data)
    kind = "a self-signed certificate" if self_signed else "a certificate"
    if settings.ca_certs:
        return finding("tls", FAILURE, f"the server presents {kind} that the CA in {settings.ca_certs} did not sign "
                       f"({message})", "pass the CA that signed the node's HTTP certificate with --ca-certs "
                       "(e.g. config/certs/http_ca.crt)." + pin, **data)
    return finding("tls", FAILURE, f"the server presents {kind} that the system's trust store does not trust "
                   f"({message})", "pass --ca-certs with the cluster's CA (e.g. config/certs/http_ca.crt)." + pin,
                   **data)


def _handshake_failed(hostname: str, port: int, timeout: float, exc: BaseException) -> Finding:
    reason = str(getattr(exc, "reason", None) or exc)
    lowered = (reason + " " + str(exc)).lower()
    kind, _ = probe_plain_http(hostname, port, timeout)
    if kind == "http" or any(word in lowered for word in _NOT_TLS_REASONS):
        if kind == "http":
            detail = f"the server speaks plain HTTP, not TLS (the handshake failed: {reason})"
        else:
            detail = f"the TLS handshake failed ({reason}): the port probably speaks plain HTTP"
        return finding("tls", FAILURE, detail, "use http:// in --host, or enable TLS on the cluster's HTTP layer",
                       scheme="https", plain_http=kind == "http")
    return finding("tls", FAILURE, f"the TLS handshake failed: {reason}",
                   "check --ca-certs, --fingerprint and the https:// scheme", scheme="https")


# ---------------------------------------------------------------- 3-8: API checks




def _reason(exc: BaseException, settings: Settings, action: str) -> tuple[str, str]:
    """(message, fix) for an exception raised by the client."""
    from elastic_cli.connection import translate
    from elastic_cli.errors import OrxError
    from elastic_cli.redaction import redact

    if isinstance(exc, OrxError):
        return exc.message, exc.hint or ""
    mapped = translate(exc, settings, action)
    if mapped is not None:
        return mapped.message, mapped.hint or ""
    return f"{type(exc).__name__}: {redact(str(exc))[:300]}", "run again with --debug"


def check_auth(es: Any, settings: Settings, deadline: Deadline, key_id: str | None) -> Finding:
    try:
        me = _body(es.options(request_timeout=deadline.bound(settings.timeout)).security.authenticate())
    except Exception as exc:  # noqa: BLE001 — every failure becomes a finding
        if status_of(exc) == 401:
            why = classify_auth_failure(exc)
            fix = ("create a new key with `orx-elastic create-key --save`, or fix id/api_key with "
                   "`orx-elastic configure`")
            return finding("auth", FAILURE, describe_auth_failure(why, key_id), fix, reason=why, key_id=key_id)
        message, fix = _reason(exc, settings, "authenticate")
        return finding("auth", FAILURE, message, fix, key_id=key_id)
    api_key = me.get("api_key") or {}
    who = me.get("username") or "?"
    data = {"username": who, "authentication_type": me.get("authentication_type"),
            "api_key_id": api_key.get("id") or key_id, "api_key_name": api_key.get("name")}
    if me.get("authentication_type") not in (None, "api_key"):
        return finding("auth", OK, f"authenticated as {who} ({me.get('authentication_type')})", **data)
    expiration = _own_key_expiration(es, settings, deadline, data["api_key_id"])
    data["expiration"] = expiration
    name = f"API key {data['api_key_name']!r}" if data["api_key_name"] else "an API key"
    detail = f"{name} (id {data['api_key_id']}) of user {who}"
    if expiration is None:
        return finding("auth", OK, detail + ", expiry unknown", **data)
    if expiration == "never":
        return finding("auth", OK, detail + ", never expires", **data)
    days = (datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            - datetime.now(timezone.utc)).total_seconds() / 86400
    data["expires_in_days"] = round(days, 1)
    if days < 7:
        return finding("auth", WARNING, detail + f", expires {expiration} (in {days:.1f} days)",
                       "rotate it soon: `orx-elastic create-key --save`, then update OpenReplay's dashboard", **data)
    return finding("auth", OK, detail + f", expires {expiration}", **data)


def _own_key_expiration(es: Any, settings: Settings, deadline: Deadline, key_id: str | None) -> str | None:
    """'never', an ISO time, or None when the key may not look itself up."""
    if not key_id or deadline.expired():
        return None
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).security.get_api_key(id=key_id))
    except Exception:  # noqa: BLE001 — optional information
        return None
    for key in body.get("api_keys") or []:
        if key.get("id") == key_id:
            return epoch_ms_to_iso(key.get("expiration")) or "never"
    return None


def check_privileges(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str]) -> Finding:
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).security.has_privileges(
            index=[{"names": list(patterns), "privileges": ["read"]}]))
    except Exception as exc:  # noqa: BLE001
        message, fix = _reason(exc, settings, "check privileges")
        return finding("privileges", FAILURE, message, fix)
    read = {name: bool((body.get("index") or {}).get(name, {}).get("read")) for name in patterns}
    lacking = [name for name, ok in read.items() if not ok]
    fix = ("create a key with read on them: `orx-elastic create-key --indexes '" + ",".join(patterns) + "'`")
    if not lacking:
        return finding("privileges", OK, "read on " + ", ".join(patterns), read=read)
    if len(lacking) == len(patterns):
        return finding("privileges", FAILURE, "the key may not read " + ", ".join(lacking), fix, read=read)
    return finding("privileges", WARNING, "the key may not read " + ", ".join(lacking) + " (it may read "
                   + ", ".join(p for p in patterns if read[p]) + ")", fix, read=read)


def field_caps(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str]) -> dict:
    fields = [settings.message_field, settings.time_field, settings.tags_field]
    return _body(es.options(request_timeout=deadline.bound(settings.timeout)).field_caps(
        index=",".join(patterns), fields=list(dict.fromkeys(fields)),  # a list: a comma string is URL-encoded
        ignore_unavailable=True, allow_no_indices=True))


def check_indices(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str], caps: dict) -> Finding:
    indices = sorted(caps.get("indices") or [])
    shown = ", ".join(indices[:10]) + (f", ... ({len(indices) - 10} more)" if len(indices) > 10 else "")
    if not indices:
        return finding("indices", FAILURE, "no index matches " + ", ".join(patterns) + " (or none the key may read)",
                       "check `indexes` (orx-elastic configure --indexes 'app-*,*log*'); "
                       "the patterns must match the indices that hold the backend logs", indices=[], count=0)
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).search(
            index=",".join(patterns), size=0, track_total_hits=True, ignore_unavailable=True, allow_no_indices=True))
    except Exception as exc:  # noqa: BLE001
        message, fix = _reason(exc, settings, "search " + ",".join(patterns))
        return finding("indices", FAILURE, f"{len(indices)} indices match, but a search fails: {message}", fix,
                       indices=indices, count=len(indices))
    total = (body.get("hits") or {}).get("total") or {}
    docs = total.get("value") if isinstance(total, dict) else total
    data: dict[str, Any] = {"indices": indices, "count": len(indices), "documents": docs}
    if not docs:
        return finding("indices", WARNING, f"{len(indices)} indices match ({shown}), but they hold no documents",
                       "ship the backend logs to these indices, or change `indexes`", **data)
    return finding("indices", OK, f"{len(indices)} indices match ({shown}), {docs} documents; a search works", **data)


def _types(caps: dict, name: str) -> dict[str, list[str] | None]:
    """type -> indices having it (None = all matched indices), from a field_caps answer."""
    entry = (caps.get("fields") or {}).get(name) or {}
    return {kind: info.get("indices") for kind, info in entry.items() if kind != "unmapped"}


def _where(indices: list[str] | None) -> str:
    if not indices:
        return ""
    return " in " + ", ".join(indices[:5]) + (" ..." if len(indices) > 5 else "")


def check_message_field(settings: Settings, caps: dict) -> Finding:
    name = settings.message_field
    types = _types(caps, name)
    data: dict[str, Any] = {"field": name, "types": sorted(types)}
    if not types:
        return finding("message_field", FAILURE, f"no matched index has a field {name!r}",
                       "set --message-field to the field that holds the log line (OpenReplay reads `message`)",
                       **data)
    keyword = {t: i for t, i in types.items() if t in KEYWORD_TYPES}
    if keyword:
        kinds = "/".join(sorted(keyword))
        where = "" if len(types) == 1 else "".join(_where(i) for i in keyword.values())
        return finding("message_field", WARNING,
                       f"{name!r} is {kinds}{where}: `logs` must use a regexp that scans every distinct value, and "
                       "lines longer than ignore_above are not indexed at all (invisible); OpenReplay's match_phrase "
                       "only finds a line that is exactly the marker",
                       f"map {name!r} as text in the index template (then reindex or wait for the next index)",
                       **data)
    others = [t for t in types if t not in TEXT_TYPES]
    if others:
        return finding("message_field", WARNING, f"{name!r} is {'/'.join(sorted(types))}; a phrase search needs text",
                       f"map {name!r} as text", **data)
    return finding("message_field", OK, f"{name!r} is {'/'.join(sorted(types))} (a phrase search works)", **data)


def check_time_field(settings: Settings, caps: dict) -> Finding:
    name = settings.time_field
    types = _types(caps, name)
    data: dict[str, Any] = {"field": name, "types": sorted(types)}
    if not types:
        return finding("time_field", FAILURE, f"no matched index has a field {name!r}: OpenReplay up to v1.20 "
                       "filters on it (so it finds nothing) and `logs` sorts by it",
                       f"set --time-field to the field with the log time, or add {name!r} (a date) to the logs",
                       **data)
    if not set(types) <= DATE_TYPES:
        return finding("time_field", WARNING, f"{name!r} is {'/'.join(sorted(types))}, not a date: "
                       "time ranges and sorting compare it as text",
                       f"map {name!r} as date in the index template", **data)
    return finding("time_field", OK, f"{name!r} is {'/'.join(sorted(types))}", **data)


def check_tags_field(settings: Settings, caps: dict) -> Finding:
    name = settings.tags_field
    types = _types(caps, name)
    data: dict[str, Any] = {"field": name, "types": sorted(types)}
    if not types:
        return finding("tags_field", WARNING, f"no matched index has a field {name!r}: OpenReplay up to v1.20 "
                       "shows only lines tagged 'error' there, and `logs` filters on it unless --all-levels",
                       f"add {name!r} (keyword, with 'error' on error lines) to the logs, or set --tags-field",
                       **data)
    return finding("tags_field", OK, f"{name!r} is {'/'.join(sorted(types))}", **data)


def marker_query(message_field: str, message_types: Sequence[str]) -> dict:
    """Documents carrying either OpenReplay marker (any session), for the mapping's type(s).

    On text, the standard analyzer indexes `openreplaysessiontoken` and `openreplaysession.id`
    as terms, so a phrase of the marker name (without `=`) finds them; on keyword, a wildcard.
    """
    clauses: list[dict] = []
    types = set(message_types) or {"text"}
    if types - KEYWORD_TYPES:
        for prefix in (TOKEN_MARKER_PREFIX, SESSION_ID_MARKER_PREFIX):
            clauses.append({"match_phrase": {message_field: prefix.rstrip("=")}})
    if types & KEYWORD_TYPES:
        for prefix in (TOKEN_MARKER_PREFIX, SESSION_ID_MARKER_PREFIX):
            clauses.append({"wildcard": {message_field: {"value": f"*{prefix}*"}}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _one_marker(message_field: str, message_types: Sequence[str], prefix: str) -> dict:
    query = marker_query(message_field, message_types)
    query["bool"]["should"] = [c for c in query["bool"]["should"]
                               if prefix.rstrip("=") in str(c)]
    return query


def check_marked_logs(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str], caps: dict) -> Finding:
    message_types = sorted(_types(caps, settings.message_field))
    time_is_date = bool(_types(caps, settings.time_field)) and set(_types(caps, settings.time_field)) <= DATE_TYPES
    aggs: dict[str, Any] = {
        "generation": {"filters": {"filters": {
            "token": _one_marker(settings.message_field, message_types, TOKEN_MARKER_PREFIX),
            "session_id": _one_marker(settings.message_field, message_types, SESSION_ID_MARKER_PREFIX),
        }}},
        "errors": {"filter": {"term": {settings.tags_field: "error"}}},
    }
    if time_is_date:
        aggs["newest"] = {"max": {"field": settings.time_field}}
        aggs["oldest"] = {"min": {"field": settings.time_field}}
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).search(
            index=",".join(patterns), size=0, track_total_hits=True,
            query=marker_query(settings.message_field, message_types), aggs=aggs,
            ignore_unavailable=True, allow_no_indices=True))
    except Exception as exc:  # noqa: BLE001
        message, fix = _reason(exc, settings, "search for marked lines")
        return finding("marked_logs", FAILURE, f"the search for marked lines failed: {message}", fix)
    total = (body.get("hits") or {}).get("total") or {}
    marked = total.get("value") if isinstance(total, dict) else total or 0
    aggregations = body.get("aggregations") or {}
    buckets = (aggregations.get("generation") or {}).get("buckets") or {}
    data = {
        "marked": marked,
        "token_markers": (buckets.get("token") or {}).get("doc_count", 0),
        "session_id_markers": (buckets.get("session_id") or {}).get("doc_count", 0),
        "errors": (aggregations.get("errors") or {}).get("doc_count", 0),
        "newest": (aggregations.get("newest") or {}).get("value_as_string"),
        "oldest": (aggregations.get("oldest") or {}).get("value_as_string"),
    }
    if not marked:
        return finding("marked_logs", WARNING,
                       f"no log line carries {TOKEN_MARKER_PREFIX} or {SESSION_ID_MARKER_PREFIX}: "
                       "OpenReplay cannot link any backend log to a session", PROPAGATE_FIX, **data)
    span = f", from {data['oldest']} to {data['newest']}" if data["newest"] else ""
    detail = (f"{marked} marked lines ({data['token_markers']} with {TOKEN_MARKER_PREFIX}, "
              f"{data['session_id_markers']} with {SESSION_ID_MARKER_PREFIX}), {data['errors']} tagged error{span}")
    if not data["errors"]:
        return finding("marked_logs", WARNING, detail + ": OpenReplay up to v1.20 and `logs` show only lines "
                       f"tagged 'error' in {settings.tags_field!r}",
                       f"add 'error' to {settings.tags_field!r} on error lines (or use `logs --all-levels`)", **data)
    return finding("marked_logs", OK, detail, **data)


def check_logs_index(es: Any, settings: Settings, deadline: Deadline) -> Finding:
    why = "OpenReplay v1.21+ searches only the index `logs`, and its dashboard refuses to save when it is missing or empty"
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).count(index="logs"))
    except Exception as exc:  # noqa: BLE001
        status = status_of(exc)
        if status == 404:
            return finding("logs_index", WARNING, "no index named `logs` (only matters for OpenReplay v1.21+: "
                           + why + ")", "for v1.21+, send the logs to an index (or alias) named `logs`",
                           exists=False, documents=0)
        if status == 403:
            return finding("logs_index", WARNING, "the key may not read the index `logs` (only matters for "
                           "OpenReplay v1.21+: " + why + ")", "for v1.21+, include `logs` in the key's index "
                           "patterns", exists=None)
        message, fix = _reason(exc, settings, "count index logs")
        return finding("logs_index", WARNING, f"cannot count the index `logs`: {message}", fix, exists=None)
    docs = body.get("count", 0)
    if not docs:
        return finding("logs_index", WARNING, "the index `logs` is empty (only matters for OpenReplay v1.21+: "
                       + why + ")", "for v1.21+, send the logs to the index `logs`", exists=True, documents=0)
    return finding("logs_index", OK, f"the index `logs` holds {docs} documents", exists=True, documents=docs)


# ---------------------------------------------------------------- the run


def run_checks(settings: Settings, deadline_seconds: float = DEFAULT_DEADLINE, *,
               client_factory: Callable[[Settings], Any] | None = None,
               connect: Callable[[Settings, Deadline], Finding] = check_connect,
               tls: Callable[[Settings, Deadline], Finding] = check_tls,
               clock: Callable[[], float] = time.monotonic) -> list[Finding]:
    """Run every check in order; skip what cannot run, with the reason. Always returns all CHECK_IDS."""
    from elastic_cli.settings import split_api_key

    deadline = Deadline(deadline_seconds, clock)
    findings: dict[str, Finding] = {}
    blocked: str | None = None  # why everything from here on is skipped
    blocked_from_privileges: str | None = None  # why the index checks are skipped
    patterns = settings.index_patterns
    state: dict[str, Any] = {}

    def skip(check_id: str, reason: str) -> None:
        findings[check_id] = finding(check_id, SKIPPED, reason)

    def step(check_id: str, fn: Callable[[], Finding]) -> Finding | None:
        if check_id in findings:
            return findings[check_id]
        if blocked:
            skip(check_id, blocked)
            return None
        if deadline.expired():
            skip(check_id, f"the overall deadline of {deadline_seconds:g}s passed (raise --deadline)")
            return None
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 — a bug or an unmapped error must not hide other checks
            message, fix = _reason(exc, settings, TITLES[check_id])
            result = finding(check_id, FAILURE, message, fix)
        findings[check_id] = result
        return result

    result = step("connect", lambda: connect(settings, deadline))
    if result is not None and result.status == FAILURE:
        blocked = "no connection to the host (see `connect`)"
    result = step("tls", lambda: tls(settings, deadline))
    if result is not None and result.status == FAILURE:
        blocked = "HTTP/TLS does not work (see `tls`)"

    es = None
    if not blocked and not deadline.expired():
        try:
            from elastic_cli.connection import build_client

            es = (client_factory or (lambda s: build_client(s, max_retries=0)))(settings)
        except Exception as exc:  # noqa: BLE001 — e.g. ConfigError: no key configured
            message, fix = _reason(exc, settings, "set up the client")
            findings["auth"] = finding("auth", FAILURE, message, fix)
    try:
        key_id = split_api_key(settings.id, settings.api_key)[0]
    except Exception:  # noqa: BLE001
        key_id = settings.id
    result = step("auth", lambda: check_auth(es, settings, deadline, key_id))
    if result is not None and result.status == FAILURE:
        blocked = "authentication failed (see `auth`)"

    result = step("privileges", lambda: check_privileges(es, settings, deadline, patterns))
    if result is not None and result.status == FAILURE and result.data.get("read") is not None:
        blocked_from_privileges = "the key may not read " + ", ".join(patterns) + " (see `privileges`)"

    def with_caps(fn: Callable[[dict], Finding]) -> Callable[[], Finding]:
        def run() -> Finding:
            if "caps" not in state:
                state["caps"] = field_caps(es, settings, deadline, patterns)
            return fn(state["caps"])
        return run

    for check_id, fn in (
        ("indices", with_caps(lambda caps: check_indices(es, settings, deadline, patterns, caps))),
        ("message_field", with_caps(lambda caps: check_message_field(settings, caps))),
        ("time_field", with_caps(lambda caps: check_time_field(settings, caps))),
        ("tags_field", with_caps(lambda caps: check_tags_field(settings, caps))),
        ("marked_logs", with_caps(lambda caps: check_marked_logs(es, settings, deadline, patterns, caps))),
    ):
        if blocked_from_privileges and not blocked:
            skip(check_id, blocked_from_privileges)
            continue
        result = step(check_id, fn)
        if check_id == "indices" and result is not None and result.status == FAILURE:
            blocked_from_privileges = "no index to look into (see `indices`)"
        if check_id == "message_field" and result is not None and result.status == FAILURE \
                and not blocked_from_privileges:
            findings.setdefault("marked_logs", finding(
                "marked_logs", SKIPPED, f"no field {settings.message_field!r} to search (see `message_field`)"))

    step("logs_index", lambda: check_logs_index(es, settings, deadline))
    return [findings[check_id] for check_id in CHECK_IDS]
