"""Small loopback servers that misbehave on purpose, next to the real node.

None of them imitates Elasticsearch: they answer with an error, hang, cut a
connection, or forward bytes to the real node until told to die.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator


def _read_request(conn: socket.socket) -> bytes:
    """One HTTP request: headers, then Content-Length bytes of body. Returns the head."""
    return _read_raw_request(conn).partition(b"\r\n\r\n")[0]


def _read_raw_request(conn: socket.socket) -> bytes:
    """One HTTP request as it arrived: headers, then Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class LoopbackServer:
    """Accepts on 127.0.0.1:<free port>; each connection goes to `handle` in a thread."""

    def __init__(self, handle: Callable[["LoopbackServer", socket.socket], None], tls: ssl.SSLContext | None = None):
        self.handle = handle
        self.tls = tls
        self.requests = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = threading.Event()
        self.connections: list[socket.socket] = []
        self.seen: list[tuple[str, str]] = []  # (method, path) of requests, for handlers that note them
        self.times: list[float] = []  # when each counted request arrived
        self.received = bytearray()  # every byte clients sent, for handlers that record them
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    conn.close()
                    continue
            self.connections.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handle(self, conn)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def count(self) -> int:
        with self.lock:
            self.requests += 1
            self.times.append(time.monotonic())
            return self.requests

    def close(self) -> None:
        self.closed.set()
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@contextmanager
def serving(handle, tls: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    server = LoopbackServer(handle, tls)
    try:
        yield server
    finally:
        server.close()


def carries_credentials(head: bytes) -> bool:
    return b"\r\nauthorization:" in head.lower()


def answer_status(status: int, reason: str, retry_after: int | None = None):
    """Every request gets `status` (e.g. 429, 503) with a small JSON error body
    (and a Retry-After header, in seconds, when given). Only requests that carry credentials are
    counted: over http:// the tool first asks without them (its probe for a TLS port)."""
    body = ('{"error":{"type":"test","reason":"%s"},"status":%d}' % (reason, status)).encode()
    extra = b"Retry-After: %d\r\n" % retry_after if retry_after is not None else b""

    def handle(server: LoopbackServer, conn: socket.socket) -> None:
        while True:
            head = _read_request(conn)
            if not head:
                break
            if carries_credentials(head):  # the tool's probe before the key (over http://) is not counted
                server.count()
            conn.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nX-elastic-product: Elasticsearch\r\n"
                         % (status, reason.encode()) + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return handle


def answer_raw(status: str, headers: dict[str, str], body: bytes = b""):
    """Every request gets `HTTP/1.1 <status>` with `headers` and `body` as given (Content-Length
    added unless `headers` names one): a redirect, a body cut short, a page that is not JSON."""

    def handle(server: LoopbackServer, conn: socket.socket) -> None:
        while _read_request(conn):
            server.count()
            lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers.items()]
            if not any(k.lower() == "content-length" for k in headers):
                lines.append(f"Content-Length: {len(body)}")
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return handle


def never_answer(server: LoopbackServer, conn: socket.socket) -> None:
    """Reads the request and says nothing until the test ends."""
    _read_request(conn)
    server.count()
    server.closed.wait(120)


def drop_mid_response(server: LoopbackServer, conn: socket.socket) -> None:
    """Starts a 200 answer, sends part of the body, and hangs up."""
    if _read_request(conn):
        server.count()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-elastic-product: Elasticsearch\r\n"
                     b"Content-Length: 5000\r\n\r\n{\"took\":1,\"hits\":{\"hits\":[{\"_index\":")


def forward_to(port: int, first_failures: int = 0, status: int = 429, cut_after_bytes: int | None = None):
    """Forwards to the real node on `port`. The first `first_failures` requests get `status`
    instead; with `cut_after_bytes`, everything dies once that many response bytes have passed
    (as if the node were stopped mid-run)."""
    passed = {"bytes": 0}
    dead = threading.Event()

    def handle(server: LoopbackServer, conn: socket.socket) -> None:
        if dead.is_set():
            return
        first = b""  # a request read to decide (on a connection opened before its request was): forwarded
        if server.requests < first_failures:
            first = _read_raw_request(conn)
            if first and server.count() <= first_failures:
                body = b'{"error":{"type":"es_rejected_execution_exception","reason":"busy"},"status":%d}' % status
                conn.sendall(b"HTTP/1.1 %d Busy\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             b"X-elastic-product: Elasticsearch\r\nContent-Length: %d\r\n\r\n" % (status, len(body)) + body)
                return
        upstream = socket.create_connection(("127.0.0.1", port))
        if first:
            upstream.sendall(first)

        def pump(src: socket.socket, dst: socket.socket, counted: bool) -> None:
            try:
                while not dead.is_set():
                    chunk = src.recv(65536)
                    if not chunk:
                        break
                    if counted and cut_after_bytes is not None:
                        passed["bytes"] += len(chunk)
                        if passed["bytes"] > cut_after_bytes:
                            dead.set()
                            server.close()
                            break
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=pump, args=(upstream, conn, True), daemon=True)
        back.start()
        pump(conn, upstream, False)
        back.join(30)
        upstream.close()

    return handle


def record_and_forward(port: int | Callable[[], int]):
    """Forwards bytes both ways, untouched (TLS too), to the node on `port` (or the port a callable
    names at each connection: the node behind the address can change), and keeps every byte the
    client sent in `server.received`: what crossed the network, as an observer would see it."""

    def handle(server: LoopbackServer, conn: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", port() if callable(port) else port))

        def back() -> None:
            with contextlib.suppress(OSError):
                while True:
                    chunk = upstream.recv(65536)
                    if not chunk:
                        break
                    conn.sendall(chunk)
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

        thread = threading.Thread(target=back, daemon=True)
        thread.start()
        with contextlib.suppress(OSError):
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                with server.lock:
                    server.received += chunk
                upstream.sendall(chunk)
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_RDWR)
        thread.join(30)
        upstream.close()

    return handle


def _read_whole_request(conn: socket.socket) -> tuple[bytes, bytes]:
    """(head, body) of one HTTP request; (b"", b"") when the peer hung up."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def proxy_to(port: int, prefix: str = "", answer_anyway: tuple[str, str, int] | None = None,
             hold: tuple[str, str] | None = None):
    """A reverse proxy to the real node on `port`; it notes each request as (method, path) in
    `server.seen`. With `prefix` (e.g. /es) it serves only under that path, as a proxy that
    routes by path: elsewhere 404. With `answer_anyway=(method, path, status)` the first such
    request is forwarded, the node's answer dropped, and `status` sent instead: a gateway
    timeout after the node did the work. With `hold=(method, path)` such a request is never answered
    (nor forwarded): a node that is slow to answer it, until the server closes."""
    wanted = prefix.encode()
    state = {"answered_anyway": False}

    def handle(server: LoopbackServer, conn: socket.socket) -> None:
        while True:
            head, body = _read_whole_request(conn)
            if not head:
                return
            server.count()
            request_line, _, rest = head.partition(b"\r\n")
            method, target, version = request_line.split(b" ", 2)
            with server.lock:
                server.seen.append((method.decode(), target.decode().split("?")[0]))
            if wanted and not (target == wanted or target.startswith(wanted + b"/") or target.startswith(wanted + b"?")):
                note = b"not under " + wanted
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                             % len(note) + note)
                continue
            target = target[len(wanted):] or b"/"
            if hold and method.decode() == hold[0] and target.decode().split("?")[0] == hold[1]:
                server.closed.wait()
                return
            headers = [line for line in rest.split(b"\r\n") if not line.lower().startswith(b"connection:")]
            upstream = socket.create_connection(("127.0.0.1", port))
            upstream.sendall(b" ".join([method, target, version]) + b"\r\n"
                             + b"\r\n".join(headers + [b"Connection: close"]) + b"\r\n\r\n" + body)
            answer = b""
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                answer += chunk
            upstream.close()
            if answer_anyway and not state["answered_anyway"] and \
                    method.decode() in answer_anyway[0].split("|") and target.decode().split("?")[0] == answer_anyway[1]:
                state["answered_anyway"] = True
                note = b'{"error":{"type":"gateway_timeout","reason":"upstream too slow"},"status":%d}' % answer_anyway[2]
                answer = (b"HTTP/1.1 %d Gateway Timeout\r\nContent-Type: application/json\r\n"
                          b"X-elastic-product: Elasticsearch\r\nContent-Length: %d\r\n\r\n"
                          % (answer_anyway[2], len(note)) + note)
            conn.sendall(answer)

    return handle


class NetworkCut:
    """A loopback TCP proxy in front of a node that can cut the network on command.

    It forwards bytes both ways, untouched (TLS too). ``cut(seconds)`` drops every open
    connection (reset) and closes the listening socket, so new connections are refused, for
    ``seconds``; then it listens on the same port again and forwards as before.
    ``cut_after(response_bytes, seconds)`` arms a cut that fires once that many bytes have
    come back from the node in all (mid-answer, mid-export). ``restored`` is set while it
    forwards; ``cuts`` counts the cuts; ``url`` is ``http://127.0.0.1:<port>``.
    """

    def __init__(self, upstream_port: int, scheme: str = "http") -> None:
        from es_sandbox.cluster import free_ports  # a port outside the ephemeral range: still ours after a cut

        self.upstream_port = upstream_port
        self.port = free_ports(1)[0]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.cuts = 0
        self.accepted = 0  # connections forwarded so far
        self.response_bytes = 0
        self.restored = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._armed: tuple[int, float] | None = None
        self._closed = False
        self._sock: socket.socket | None = None
        self._listen()

    def __enter__(self) -> "NetworkCut":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self._sock = sock
        self.restored.set()
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed: a cut, or the end
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:  # the node is down: the client sees its connection closed
                self._drop(conn)
                continue
            with self._lock:
                cut_meanwhile = self._sock is not sock
                if not cut_meanwhile:
                    self._open.update((conn, upstream))
                    self.accepted += 1
            if cut_meanwhile:
                self._drop(conn)
                self._drop(upstream)
                return
            threading.Thread(target=self._pump, args=(conn, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, conn, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_node: bool) -> None:
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                if from_node:
                    fire = None
                    with self._lock:
                        self.response_bytes += len(chunk)
                        if self._armed and self.response_bytes >= self._armed[0]:
                            fire, self._armed = self._armed[1], None
                    if fire is not None:
                        # from another thread: the cut closes this very socket
                        threading.Thread(target=self.cut, args=(fire,), daemon=True).start()
                        break
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)

    @staticmethod
    def _unlisten(sock: socket.socket) -> None:
        # close() alone leaves it listening while the accept thread still blocks in it (Linux):
        # shutdown wakes that accept, and connections from then on are refused
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    @staticmethod
    def _drop(conn: socket.socket) -> None:
        """Close with a reset (linger 0), as a cut network path looks to the client."""
        import struct

        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            conn.close()

    def cut(self, seconds: float) -> None:
        """Drop every open connection and refuse new ones for ``seconds``; returns at once."""
        with self._lock:
            if self._closed or not self.restored.is_set():
                return
            self.cuts += 1
            self.restored.clear()
            sock, self._sock = self._sock, None
            conns, self._open = list(self._open), set()
        if sock is not None:
            self._unlisten(sock)
        for conn in conns:
            self._drop(conn)
        timer = threading.Timer(seconds, self._restore)
        timer.daemon = True
        timer.start()

    def _restore(self) -> None:
        with self._lock:
            if self._closed:
                return
        self._listen()

    def cut_after(self, response_bytes: int, seconds: float) -> None:
        """Cut for ``seconds`` once ``response_bytes`` more bytes have come back from the node."""
        with self._lock:
            self._armed = (self.response_bytes + response_bytes, seconds)

    def wait_cut(self, timeout: float) -> bool:
        """True once a cut has happened (e.g. an armed one fired) within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.cuts:
                return True
            time.sleep(0.05)
        return bool(self.cuts)

    def wait_restored(self, timeout: float) -> bool:
        return self.restored.wait(timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sock, self._sock = self._sock, None
            conns, self._open = list(self._open), set()
        if sock is not None:
            self._unlisten(sock)
        for conn in conns:
            self._drop(conn)
