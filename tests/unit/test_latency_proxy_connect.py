"""bench/latency_proxy.py's remote handshake is counted from the connect, not from the first bytes:
a client that connects, waits for something else, then sends, has its connection ready by then (as
the tool's plain-HTTP probe lets its requests connect meanwhile). The time a round trip takes is the
subject here, so the test measures it, with one round trip of room above the expected value."""

from __future__ import annotations

import socket
import threading
import time

from bench.latency_proxy import LatencyProxy

DELAY = 0.2  # one way: a round trip costs 0.4 s (room for a loaded machine above it)


def test_a_connection_opened_a_round_trip_before_its_first_bytes_pays_no_handshake():
    listener = socket.create_server(("127.0.0.1", 0))

    def echo_once() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(64))

    threading.Thread(target=echo_once, daemon=True).start()
    try:
        with LatencyProxy("127.0.0.1", listener.getsockname()[1], DELAY) as proxy, \
                socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            time.sleep(2 * DELAY)  # the remote handshake is over by now
            start = time.perf_counter()
            sock.sendall(b"hello")
            assert sock.recv(64) == b"hello"
            took = time.perf_counter() - start
    finally:
        listener.close()
    assert 2 * DELAY <= took < 4 * DELAY, took  # one round trip, not two
