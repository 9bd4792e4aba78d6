"""Connections opened while the client is imported are the ones urllib3 then sends on; none is lost or
doubled, a dead one is not used, and nothing is sent on them before a request."""

from __future__ import annotations

import socket
import threading

import pytest
import urllib3
from elastic_cli.cluster import early_connect


class Listener:
    """A loopback port that accepts, keeps each connection, and records what arrives on it."""

    def __init__(self, answer: bytes | None = None, close_at_once: bool = False) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[tuple[int, bytes]] = []  # (peer port, bytes received)
        self.answer, self.close_at_once = answer, close_at_once
        self.lock = threading.Condition()
        self.ended = 0  # connections the client closed
        threading.Thread(target=self._serve, daemon=True).start()

    def wait_for(self, accepted: int, ended: int = 0) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.accepted) >= accepted and self.ended >= ended, timeout=10)

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted.append((peer[1], b""))
                self.lock.notify_all()
            if self.close_at_once:
                conn.close()
                continue
            threading.Thread(target=self._read, args=(conn, len(self.accepted) - 1), daemon=True).start()

    def _read(self, conn: socket.socket, n: int) -> None:
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    with self.lock:
                        self.ended += 1
                        self.lock.notify_all()
                    return
                with self.lock:
                    self.accepted[n] = (self.accepted[n][0], self.accepted[n][1] + data)
                if self.answer and b"\r\n\r\n" in self.accepted[n][1]:
                    conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(autouse=True)
def _nothing_left():
    yield
    early_connect.close_all()


ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def test_urllib3_sends_on_the_early_connections_and_opens_no_other():
    server = Listener(answer=ANSWER)
    early_connect.open_early("127.0.0.1", server.port, 2, 5.0)
    cls = early_connect.early_connection_class(urllib3.HTTPConnectionPool.ConnectionCls)
    assert cls.__name__ == "HTTPConnection"  # messages name it as before
    pools = [urllib3.HTTPConnectionPool("127.0.0.1", server.port, maxsize=1) for _ in range(2)]
    local_ports = []
    for pool in pools:
        pool.ConnectionCls = cls
        assert pool.request("GET", "/x").status == 200
        conn = pool._get_conn()
        local_ports.append(conn.sock.getsockname()[1])
        pool._put_conn(conn)
    assert sorted(p for p, _ in server.accepted) == sorted(local_ports)  # two connections, both the early ones
    assert all(data.startswith(b"GET /x HTTP/1.1") for _, data in server.accepted)
    server.wait_for(accepted=2)
    # a third connection: none left, urllib3 opens its own
    pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, maxsize=1)
    pool.ConnectionCls = cls
    assert pool.request("GET", "/y").status == 200
    server.wait_for(accepted=3)
    assert len(server.accepted) == 3
    server.close()


def test_nothing_is_sent_on_an_early_connection_and_unused_ones_are_closed():
    server = Listener()
    early_connect.open_early("127.0.0.1", server.port, 2, 5.0)
    sock = early_connect.take("127.0.0.1", server.port, 5.0)
    assert sock is not None
    sock.close()
    early_connect.close_all()
    assert early_connect.take("127.0.0.1", server.port, 0.1) is None
    server.wait_for(accepted=2, ended=2)
    assert [data for _, data in server.accepted] == [b"", b""]
    server.close()


def test_a_connection_the_server_closed_is_not_used():
    import select

    server = Listener(close_at_once=True)
    early_connect.open_early("127.0.0.1", server.port, 1, 5.0)
    (early,) = early_connect._pending[("127.0.0.1", server.port)]
    assert early.done.wait(5.0) and early.sock is not None
    assert select.select([early.sock], [], [], 5.0)[0]  # the server's close has arrived
    assert early_connect.take("127.0.0.1", server.port, 5.0) is None
    server.close()


def test_a_refused_early_connection_leaves_urllib3_to_say_so():
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    early_connect.open_early("127.0.0.1", port, 1, 5.0)
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False)
    pool.ConnectionCls = early_connect.early_connection_class(urllib3.HTTPConnectionPool.ConnectionCls)
    with pytest.raises(urllib3.exceptions.NewConnectionError, match="refused"):
        pool.request("GET", "/")


def test_an_early_handshake_that_timed_out_is_not_waited_for_twice(monkeypatch):
    """A port that does not answer the handshake: the request fails as urllib3's own connect would
    (ConnectTimeoutError), without a second handshake and a second timeout."""
    attempts = []

    def silent(address, timeout=None, **_):
        attempts.append(address)
        raise socket.timeout("timed out")

    monkeypatch.setattr(socket, "create_connection", silent)
    early_connect.open_early("192.0.2.1", 9200, 1, 0.5)
    pool = urllib3.HTTPConnectionPool("192.0.2.1", 9200, maxsize=1, retries=False, timeout=0.5)
    pool.ConnectionCls = early_connect.early_connection_class(urllib3.HTTPConnectionPool.ConnectionCls)
    with pytest.raises(urllib3.exceptions.ConnectTimeoutError, match="timed out"):
        pool.request("GET", "/")
    assert attempts == [("192.0.2.1", 9200)]
