"""Over http://, the credentials leave only for a port seen to answer plain HTTP.

A request carries its `Authorization` header in its first bytes: sent to a port that speaks TLS
(an `http://` host for a cluster with TLS on, Elasticsearch 8's default), the key would cross the
network in clear before the server could refuse it. So for an http:// host the client first asks
without credentials (`GET /_security/_authenticate`, the request `check`'s TLS probe sends) and
sends the key only once the answer is plain HTTP. The probe starts when the client is built, before
the client library is imported (about 0.2 s here), so it overlaps that import.

Far away the probe costs its round trips (connect, ask), so an address that answered plain HTTP is
remembered in the user's cache directory (`plain-http/`, the address only): later runs send at once,
as to an https:// host. Such an address already received the key in clear; should it speak TLS
later, the first request fails on a connection-level error, the mark is dropped and the retry probes
(and says "speaks HTTPS"); the next runs probe again.

Plain sockets only: importing this module imports neither the client nor urllib3.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

HTTP_PROBE = b"GET /_security/_authenticate HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"

HTTP = "http"            # answered plain HTTP: the key may go
TLS = "tls"              # the port speaks TLS: the key must not go in clear
SILENT = "silent"        # no answer within the timeout
REFUSED = "refused"      # nothing listens
UNRESOLVED = "unresolved"  # the host name does not resolve
NOT_HTTP = "not-http"    # answered (or hung up) with neither HTTP nor TLS


@dataclass(frozen=True)
class Verdict:
    kind: str
    detail: str = ""  # what the port did, for the message (never anything sent)


def _host_header(hostname: str, port: int) -> bytes:
    name = f"[{hostname}]" if ":" in hostname else hostname
    return f"{name}:{port}".encode("ascii", "replace") if name.isascii() else \
        name.encode("idna") + b":%d" % port


def probe_plain_http(hostname: str, port: int, timeout: float) -> tuple[str, bytes]:
    """Send a plain HTTP request without credentials: ('http', first bytes) | ('tls-alert', ..) |
    ('closed', b'') | ('silent', b'') | ('other', ..)."""
    kind, first = _ask(hostname, port, timeout)
    return ("closed", b"") if kind in (REFUSED, UNRESOLVED) else (kind, first)


def _ask(hostname: str, port: int, timeout: float) -> tuple[str, bytes]:
    try:
        sock = socket.create_connection((hostname, port), timeout=timeout)
    except socket.gaierror:
        return UNRESOLVED, b""
    except ConnectionRefusedError:
        return REFUSED, b""
    except socket.timeout:
        return "silent", b""
    except OSError:
        return "closed", b""
    try:
        with sock:
            sock.sendall(HTTP_PROBE % _host_header(hostname, port))
            first = sock.recv(64)
    except socket.timeout:
        return "silent", b""
    except OSError:  # reset, broken pipe
        return "closed", b""
    if first.startswith(b"HTTP/"):
        return "http", first
    if not first:
        return "closed", first
    if first[:1] == b"\x15" and first[1:2] == b"\x03":  # a TLS alert record
        return "tls-alert", first
    return "other", first


def speaks_tls(hostname: str, port: int, timeout: float) -> str | None:
    """The TLS version the port completes a handshake with (certificate not verified: only
    whether it speaks TLS), or None."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((hostname, port), timeout=timeout) as sock, \
                context.wrap_socket(sock, server_hostname=hostname) as tls:
            return tls.version() or "TLS"
    except (ssl.SSLError, OSError):
        return None


def probe(hostname: str, port: int, timeout: float) -> Verdict:
    """What the port answers to a plain HTTP request that carries no credentials."""
    kind, first = _ask(hostname, port, timeout)
    if kind in (REFUSED, UNRESOLVED):
        return Verdict(kind)
    if kind == "http":
        return Verdict(HTTP)
    if kind == "silent":
        return Verdict(SILENT)
    version = speaks_tls(hostname, port, timeout)
    if version or kind == "tls-alert":
        said = "answered with a TLS alert" if kind == "tls-alert" else "closed the connection"
        return Verdict(TLS, f"it {said} on a plain HTTP request"
                       + (f" and completed a TLS handshake ({version})" if version else ""))
    return Verdict(NOT_HTTP, f"it sent {first[:16]!r}" if first else "it closed the connection")


def marks_dir() -> Path:
    """$XDG_CACHE_HOME/orx-elastic/plain-http, else ~/.cache/... (LOCALAPPDATA on Windows)."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    return (Path(base) if base else Path.home() / ".cache") / "orx-elastic" / "plain-http"


class PlainHttpGate:
    """One probe per run, started at once in a thread; `verdict()` waits for it. A verdict that
    may pass (no answer, refused, a cut) is asked again by the next caller, so a retried request
    probes anew; one that says TLS stands. An address remembered as plain HTTP is not probed."""

    def __init__(self, hostname: str, port: int, timeout: float, marks: Path | None = None) -> None:
        self.hostname, self.port, self.timeout = hostname, port, timeout
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._verdict: Verdict | None = None
        address = f"http://{hostname}:{port}"
        self.mark = (marks / hashlib.sha256(address.encode()).hexdigest()[:32]) if marks is not None else None
        self.remembered = self.mark is not None and self.mark.is_file()
        if self.remembered:
            self._verdict = Verdict(HTTP, "remembered")
            self._done.set()
        else:
            self._start()

    def _start(self) -> None:
        self._done.clear()
        threading.Thread(target=self._run, name="plain-http-probe", daemon=True).start()

    def _run(self) -> None:
        try:
            self._verdict = probe(self.hostname, self.port, self.timeout)
        except Exception as exc:  # noqa: BLE001 — a probe that breaks must not let the key go
            self._verdict = Verdict(NOT_HTTP, f"the probe failed: {type(exc).__name__}")
        if self._verdict.kind == HTTP and self.mark is not None:
            self._remember(self.mark)
        self._done.set()

    @staticmethod
    def _remember(mark: Path) -> None:
        try:  # a cache that cannot be written only costs the probe next time
            mark.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            mark.write_text("plain HTTP answered\n", encoding="utf-8")
        except OSError:
            pass

    def forget(self) -> None:
        """A request failed at the connection level: no longer trust a remembered answer; the
        next request probes first."""
        with self._lock:
            if self.mark is not None:
                with contextlib.suppress(OSError):
                    self.mark.unlink()
            if self.remembered:
                self.remembered = False
                self._start()

    def answered(self) -> bool:
        return self._done.is_set()

    def verdict(self) -> Verdict:
        with self._lock:  # requests of one wave wait for the same probe
            self._done.wait()
            verdict = self._verdict or Verdict(NOT_HTTP)
            if verdict.kind not in (HTTP, TLS):
                self._start()  # for the next request: the network may be back
            return verdict
