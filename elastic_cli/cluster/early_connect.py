"""TCP connections to the first node, opened while Python imports the client.

A lookup's first requests leave once the client stack is imported (~0.1 s of CPU); on a remote
cluster each of them first pays a TCP handshake (one round trip). `open_early` starts those
handshakes as soon as the settings are known, on threads, so the round trip passes during the
imports; urllib3 then takes a finished connection instead of opening its own (`EarlyConnection`,
the node's connection class: its `_new_conn` is where urllib3 opens one). Nothing is sent on them
here: the request, and the plain-HTTP gate before it (`transport.GatedNode`), are urllib3's and the
transport's as before. A connection not taken by the end of the command is closed (`close_all`).
Any failure here is silent: urllib3 then connects, and reports, as it always did.
"""

from __future__ import annotations

import select
import socket
import sys
import threading
from typing import Any

_lock = threading.Lock()
_pending: dict[tuple[str, int], list[_Early]] = {}


class _Early:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock: socket.socket | None = None
        self.timed_out = False  # the handshake got no answer within the timeout
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._connect, args=(host, port, timeout), daemon=True,
                                        name="orx-early-connect")
        self._thread.start()

    def _connect(self, host: str, port: int, timeout: float) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except socket.timeout:
            self.timed_out = True  # said as urllib3 says it (`EarlyConnection`): not waited for twice
        except OSError:
            self.sock = None  # urllib3 connects itself, and says what fails
        finally:
            self.done.set()

    def close(self) -> None:
        self.done.wait()
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def key(host: str, port: int) -> tuple[str, int]:
    return host.strip("[]").lower(), int(port)


def open_early(host: str, port: int, count: int, timeout: float) -> None:
    """Start `count` TCP connections to host:port (each on its own thread)."""
    with _lock:
        _pending.setdefault(key(host, port), []).extend(_Early(host.strip("[]"), port, timeout)
                                                        for _ in range(count))


def take(host: str, port: int, wait: float) -> socket.socket | None:
    """An early connection to host:port, open and not yet read from or closed by the server, or None.
    Waits at most `wait` seconds for one still connecting. Raises TimeoutError when its handshake
    timed out: a second try would make the caller wait a second timeout."""
    with _lock:
        waiting = _pending.get(key(host, port))
        early = waiting.pop(0) if waiting else None
    if early is None or not early.done.wait(wait):
        if early is not None:
            threading.Thread(target=early.close, daemon=True).start()  # closed when it connects
        return None
    if early.timed_out:
        raise TimeoutError(f"connecting to {host}:{port} timed out")
    sock, early.sock = early.sock, None
    if sock is not None and select.select([sock], [], [], 0)[0]:  # closed by the server, or it spoke first
        sock.close()
        return None
    return sock


def close_all() -> None:
    """Close the connections nobody took."""
    with _lock:
        left = [early for waiting in _pending.values() for early in waiting]
        _pending.clear()
    for early in left:
        early.close()


class EarlyConnection:
    """Mixed into urllib3's HTTP(S)Connection: a new connection takes an early one when there is one."""

    host: str
    port: int
    timeout: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        wait = self.timeout if isinstance(self.timeout, (int, float)) else 10.0
        try:
            sock = take(self.host, self.port, wait)
        except TimeoutError as exc:  # as urllib3's own connect says it
            from urllib3.exceptions import ConnectTimeoutError

            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})") from exc
        if sock is None:
            return super()._new_conn()  # type: ignore[misc]
        for option in self.socket_options or ():
            sock.setsockopt(*option)
        # as urllib3's create_connection leaves it: its timeout, or the socket module's default
        given = isinstance(self.timeout, (int, float)) or self.timeout is None
        sock.settimeout(self.timeout if given else socket.getdefaulttimeout())
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


_classes: dict[type, type] = {}


def early_connection_class(base: type) -> type:
    """urllib3's connection class `base` with `EarlyConnection` mixed in (one class per base)."""
    if base not in _classes:
        _classes[base] = type(base.__name__, (EarlyConnection, base), {})  # its name: messages read as before
    return _classes[base]
