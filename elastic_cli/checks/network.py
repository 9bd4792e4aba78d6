"""Checks 1 and 2: reach the port (TCP), then agree on HTTP or TLS (certificate, CA, fingerprint).

Plain sockets and ssl, not the client: they say what the client's errors hide (which address
refused, which certificate was offered, whether the other side speaks TLS at all).
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from elastic_cli.checks.findings import FAILURE, OK, SKIPPED, WARNING, Deadline, Finding, finding
from elastic_cli.cluster.plain_http import probe_plain_http
from elastic_cli.config.endpoint import DEFAULT_PORT, UNENCRYPTED, UNENCRYPTED_FIX, Endpoint, is_loopback

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

# OpenSSL's words for "the other side answered, but not with TLS"
_NOT_TLS_REASONS = ("wrong version number", "wrong_version_number", "record layer failure", "record_layer_failure",
                    "packet length too long", "http request", "unknown protocol", "unexpected eof")


def host_port(settings: Settings) -> tuple[str, str, int]:
    """(scheme, hostname without brackets, port), from the one endpoint parser."""
    endpoint = settings.endpoint
    return endpoint.scheme, endpoint.hostname, settings.port


def is_local(hostname: str) -> bool:
    return is_loopback(hostname)


# ---------------------------------------------------------------- 1. TCP


def check_connect(settings: Settings, deadline: Deadline) -> Finding:
    """Every configured node (`hosts`), side by side: which ones accept a connection and which are down."""
    nodes = settings.node_endpoints
    if len(nodes) == 1:
        _, hostname, port = host_port(settings)
        return _connect(hostname, port, deadline.bound(settings.timeout))
    timeout = deadline.bound(settings.timeout)
    results = _each_node(nodes, lambda node: _connect(node.hostname, _port(node), timeout))
    return _nodes_finding("connect", nodes, results, "accepted a connection",
                          "start it (or remove it from hosts); meanwhile the other nodes answer")


def _port(endpoint: Endpoint) -> int:
    return endpoint.port if endpoint.port is not None else DEFAULT_PORT


def _each_node(nodes: list[Endpoint], check: Callable[[Endpoint], Finding]) -> list[Finding]:
    """One check per node, side by side (far away each is a round trip or a timeout)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(nodes), thread_name_prefix="node") as pool:
        return list(pool.map(check, nodes))


def _nodes_finding(check_id: str, nodes: list[Endpoint], results: list[Finding], works: str,
                   down_fix: str) -> Finding:
    """One finding for a check run on every node: ok when each passed, a warning naming the nodes that
    failed while others work (the tool moves to a live node), a failure when none passed."""
    names = [f"{node.hostname}:{_port(node)}" for node in nodes]
    per_node = [{"node": name, "status": result.status, "detail": result.detail}
                for name, result in zip(names, results)]
    failed = [(name, result) for name, result in zip(names, results) if result.status == FAILURE]
    warned = [(name, result) for name, result in zip(names, results) if result.status == WARNING]
    if not failed and not warned:
        shown = "; ".join(f"{name}: {result.detail}" for name, result in zip(names, results))
        every = f"all {len(nodes)} nodes" if len(nodes) > 1 else "the node up"
        return finding(check_id, OK, f"{every} {works} ({shown})", nodes=per_node)
    detail = "; ".join(f"{name}: {result.detail}" for name, result in failed)
    if failed and len(failed) == len(nodes):
        return finding(check_id, FAILURE, f"no node {works}: {detail}", failed[0][1].fix, nodes=per_node)
    if failed and check_id != "connect":
        # TLS: a node that would take the key in clear, or whose certificate fails, is a mistake to fix
        return finding(check_id, FAILURE, f"{len(failed)} of {len(nodes)} nodes failed: {detail}",
                       failed[0][1].fix, nodes=per_node)
    if failed:  # the tool moves to a live node: said, not fatal
        good = ", ".join(name for name, result in zip(names, results) if result.status != FAILURE)
        return finding(check_id, WARNING, f"{len(failed)} of {len(nodes)} nodes down ({detail}); {good} {works}",
                       down_fix, nodes=per_node, down=[name for name, _ in failed])
    if len({result.detail for _, result in warned}) == 1 and len(warned) == len(nodes):
        return finding(check_id, WARNING, f"{warned[0][1].detail} (every node)", warned[0][1].fix, nodes=per_node)
    detail = "; ".join(f"{name}: {result.detail}" for name, result in warned)
    return finding(check_id, WARNING, detail, warned[0][1].fix, nodes=per_node)


def _connect(hostname: str, port: int, timeout: float) -> Finding:
    where = f"{hostname}:{port}"
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


def tls_handshake(hostname: str, port: int, timeout: float, context: ssl.SSLContext) -> tuple[bytes, str]:
    """(DER certificate, TLS version) after a handshake; raises ssl/OS errors."""
    with _socket(hostname, port, timeout) as sock, context.wrap_socket(sock, server_hostname=hostname) as tls:
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
    """HTTP or TLS as configured, on every node that accepts a connection (a node that is down is the
    `connect` check's): the key goes to none that would read it in clear or that fails verification."""
    nodes = settings.node_endpoints
    timeout = deadline.bound(settings.timeout)
    if len(nodes) == 1:
        scheme, hostname, port = host_port(settings)
        return _tls_one(settings, scheme, hostname, port, timeout)
    results = _each_node(nodes, lambda node: _tls_one(settings, node.scheme, node.hostname, _port(node), timeout)
                         if _accepts(node.hostname, _port(node), timeout) else
                         finding("tls", SKIPPED, "down (see connect)"))
    live = [(node, result) for node, result in zip(nodes, results) if result.status != SKIPPED]
    if not live:
        return finding("tls", FAILURE, "no node accepted a connection (see connect)",
                       "start the nodes, or check hosts")
    merged = _nodes_finding("tls", [node for node, _ in live], [result for _, result in live], "agreed on "
                            + ("TLS" if nodes[0].scheme == "https" else "plain HTTP"), "")
    return replace(merged, data={**live[0][1].data, **merged.data})


def _accepts(hostname: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tls_one(settings: Settings, scheme: str, hostname: str, port: int, timeout: float) -> Finding:
    return _check_https(settings, hostname, port, timeout) if scheme == "https" else \
        _check_plain(hostname, port, timeout)


def _check_plain(hostname: str, port: int, timeout: float) -> Finding:
    kind, first = probe_plain_http(hostname, port, timeout)
    if kind == "http":
        if is_local(hostname):
            return finding("tls", OK, "plain HTTP (no TLS), on this machine", scheme="http")
        return finding("tls", WARNING, UNENCRYPTED, UNENCRYPTED_FIX, scheme="http")
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
    from elastic_cli.cluster.connection import normalize_fingerprint
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
