"""bench/latency_proxy.py: each chunk leaves a fixed delay after it arrived (a pipe with latency,
not a slow pipe), and what crosses it is counted. On loopback, against tiny echo and HTTP servers."""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
import time

import pytest
from bench.latency_proxy import HttpRequestCounter, LatencyProxy

DELAY = 0.2  # one way: a round trip costs 0.4 s
# A delay is a lower bound whatever the machine's load. The upper bounds leave one more round trip of
# room (a loaded CI machine delays threads by tens of ms): what they rule out is a wait of whole extra
# round trips (a connect not counted, chunks queued behind each other), not a few milliseconds.
ROOM = 2 * DELAY


@pytest.fixture
def echo_server():
    """A TCP server that sends back each chunk it reads, at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    listener.close()


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed early"
        data += chunk
    return data


def test_a_round_trip_costs_twice_the_delay(echo_server):
    with LatencyProxy("127.0.0.1", echo_server, DELAY, connect_rtt=False) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            times = []
            for _ in range(3):
                start = time.perf_counter()
                sock.sendall(b"ping")
                assert recv_exactly(sock, 4) == b"ping"
                times.append(time.perf_counter() - start)
        counts = proxy.snapshot()
    assert all(2 * DELAY <= t < 2 * DELAY + ROOM for t in times), times
    assert counts.connections == 1 and counts.turns == 3 and counts.waves == 3
    assert counts.bytes_up == counts.bytes_down == 12


def test_a_new_connection_costs_one_more_round_trip(echo_server):
    with LatencyProxy("127.0.0.1", echo_server, DELAY) as proxy, \
            socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        start = time.perf_counter()
        sock.sendall(b"hello")
        recv_exactly(sock, 5)
        first = time.perf_counter() - start
        start = time.perf_counter()
        sock.sendall(b"again")
        recv_exactly(sock, 5)
        second = time.perf_counter() - start
    assert 4 * DELAY <= first < 4 * DELAY + ROOM
    assert 2 * DELAY <= second < 2 * DELAY + ROOM


def test_chunks_in_flight_overlap_a_pipe_not_a_slow_pipe(echo_server):
    """Ten chunks sent 10 ms apart all come back one round trip after each was sent: the last one
    a round trip after it was sent, not ten round trips after the first (which a sleep per chunk in
    series would give)."""
    with LatencyProxy("127.0.0.1", echo_server, DELAY, connect_rtt=False) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            start = time.perf_counter()
            received = []

            def read() -> None:
                got = b""
                while len(got) < 10:
                    got += sock.recv(100)
                    received.append((len(got), time.perf_counter() - start))

            reader = threading.Thread(target=read)
            reader.start()
            for i in range(10):
                last_sent = time.perf_counter() - start
                sock.sendall(bytes([65 + i]))
                time.sleep(0.01)
            reader.join(15)
        counts = proxy.snapshot()
    total, last = received[-1]
    assert total == 10
    assert 2 * DELAY <= last - last_sent < 2 * DELAY + ROOM, received
    # the client kept sending while nothing had come back yet: these are not sequential round trips
    assert counts.waves <= 2


def test_plain_http_requests_are_counted_by_method_and_path():
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            if self.headers.get("Transfer-Encoding") == "chunked":
                body = b""
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    if not size:
                        self.rfile.readline()
                        break
                    body += self.rfile.read(size)
                    self.rfile.readline()
            else:
                body = self.rfile.read(int(self.headers["Content-Length"]))
            self._answer(body)

        def do_GET(self):  # noqa: N802
            self._answer(b"{}")

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with LatencyProxy("127.0.0.1", server.server_address[1], 0.01) as proxy:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port)
            for method, path, body in (("POST", "/logs/_search", b'{"size": 1}'), ("GET", "/_field_caps", None),
                                       ("POST", "/_pit", b"x" * 300_000)):
                conn.request(method, path, body=body)
                assert conn.getresponse().read() == (body or b"{}")
            conn.request("POST", "/_search", body=iter([b'{"a":', b"1}"]), encode_chunked=True,
                         headers={"Transfer-Encoding": "chunked"})
            assert conn.getresponse().read() == b'{"a":1}'
            conn.close()
            counts = proxy.snapshot()
            proxy.reset()
            assert proxy.snapshot().request_count == 0
    finally:
        server.shutdown()
    assert counts.requests == ["POST /logs/_search", "GET /_field_caps", "POST /_pit", "POST /_search"]
    assert counts.connections == 1 and counts.tls_connections == 0 and counts.waves == 4


def test_tls_connections_count_flights_not_requests(echo_server):
    with LatencyProxy("127.0.0.1", echo_server, 0.01, connect_rtt=False) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            for flight in (b"\x16\x03\x01 hello", b"\x17\x03\x03 GET / HTTP/1.1\r\n\r\n"):
                sock.sendall(flight)
                recv_exactly(sock, len(flight))
        counts = proxy.snapshot()
    assert counts.tls_connections == 1 and counts.requests == [] and counts.turns == 2


def test_the_request_counter_reads_requests_split_anywhere():
    stream = (b"POST /a/_search HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
              b"DELETE /_pit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
              b"GET /_field_caps?fields=message HTTP/1.1\r\nHost: x\r\n\r\n")
    for step in (1, 3, 7, len(stream)):
        counter = HttpRequestCounter()
        for i in range(0, len(stream), step):
            counter.feed(stream[i:i + step])
        assert counter.requests == ["POST /a/_search", "DELETE /_pit", "GET /_field_caps?fields=message"]
