#!/usr/bin/env python3
"""A loopback TCP proxy with latency: a remote cluster, simulated, and a counter of what crosses it.

    .venv/bin/python bench/latency_proxy.py --target 127.0.0.1:9200 --delay-ms 25 [--port 0]

Each chunk read on one side leaves on the other side `delay` after it arrived, in both directions:
a pipe with latency, not a slow pipe. Every chunk carries its arrival time and one writer task per
direction sends it when it is due, so chunks that arrive together leave together (no sleep per chunk
in series, no bandwidth limit). A round trip through the proxy costs 2 x delay.

A real remote connect costs a round trip too (SYN, SYN-ACK) that loopback does not: with
`connect_rtt` (default on) the first bytes a client sends on a new connection leave no earlier than
one round trip after the connection was accepted (plus the delay), as they would after a remote
handshake: sent at once after connecting, they pay that round trip; sent later, less or nothing.

What it counts, per `snapshot()` (reset with `reset()`):
  * connections, bytes each way;
  * plain HTTP: every request (method and path), parsed from the client's bytes (Content-Length and
    chunked bodies);
  * TLS (first byte 0x16): the requests are not readable; `turns` counts, per connection, each time the
    client sends after the server has (a flight after an answer: handshake flights and requests);
  * `waves`: sequential round trips over all connections: a client flight starts a new wave when it
    leaves at least one round trip after the wave before began (flights sent side by side on several
    connections share a wave). Only meaningful with a delay above 0.

Used from Python (the benchmarks), in a thread of its own:

    with LatencyProxy("127.0.0.1", 9200, delay=0.025) as proxy:
        url = proxy.url            # http://127.0.0.1:<port>
        proxy.reset(); run(...); print(proxy.snapshot())
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

CHUNK = 256 * 1024
_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]$")


@dataclass
class Counts:
    """What crossed the proxy since the last reset."""

    connections: int = 0
    bytes_up: int = 0  # client -> server
    bytes_down: int = 0  # server -> client
    requests: list = field(default_factory=list)  # "METHOD /path" (plain HTTP only)
    tls_connections: int = 0
    turns: int = 0  # client flights that follow an answer (or open the connection)
    waves: int = 0  # sequential round trips over every connection

    @property
    def request_count(self) -> int:
        return len(self.requests)

    def summary(self) -> str:
        what = (f"{self.request_count} requests" if not self.tls_connections
                else f"{self.turns} client flights (TLS)")
        return (f"{what}, {self.connections} connections, {self.waves} sequential round trips, "
                f"{self.bytes_up:,} B up / {self.bytes_down:,} B down")


class HttpRequestCounter:
    """The requests in one connection's client bytes (HTTP/1.x, Content-Length or chunked bodies)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.body_left = 0  # bytes of the current body still to skip
        self.chunked = False
        self.requests: list[str] = []

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.body_left:
                taken = min(self.body_left, len(self.buffer))
                self.buffer = self.buffer[taken:]
                self.body_left -= taken
                if self.body_left:
                    return
            if self.chunked:
                if not self._skip_chunks():
                    return
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            lines = head.split(b"\r\n")
            match = _REQUEST_LINE.match(lines[0])
            if match:
                self.requests.append(f"{match.group(1).decode()} {match.group(2).decode(errors='replace')}")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                self.chunked = True
            else:
                self.body_left = int(headers.get(b"content-length", b"0") or 0)

    def _skip_chunks(self) -> bool:
        """Consume whole chunks; True when the body (up to its last chunk and trailer) is done."""
        while True:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return False
            size = int(self.buffer[:end].split(b";")[0] or b"0", 16)
            if size == 0:
                trailer = self.buffer.find(b"\r\n\r\n", end)
                if self.buffer[end:end + 4] == b"\r\n\r\n":
                    trailer = end
                if trailer < 0:
                    return False
                self.buffer = self.buffer[trailer + 4:]
                self.chunked = False
                return True
            if len(self.buffer) < end + 2 + size + 2:
                return False
            self.buffer = self.buffer[end + 2 + size + 2:]


class LatencyProxy:
    """Listens on 127.0.0.1:`port` (0: any free port) and forwards to `target_host:target_port`."""

    def __init__(self, target_host: str, target_port: int, delay: float, port: int = 0,
                 connect_rtt: bool = True):
        self.target = (target_host, target_port)
        self.delay = delay
        self.connect_rtt = connect_rtt
        self.port = port
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.server: Optional[asyncio.base_events.Server] = None
        self.thread: Optional[threading.Thread] = None
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.counts = Counts()
        self._wave_start: Optional[float] = None
        self._alive: set = set()  # strong references: the loop only holds tasks weakly

    # ---------------------------------------------------------------- control (any thread)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_delay(self, delay: float) -> None:
        """One-way delay in seconds for chunks that arrive from now on."""
        self.delay = delay

    def reset(self) -> None:
        with self.lock:
            self.counts = Counts()
            self._wave_start = None

    def snapshot(self) -> Counts:
        with self.lock:
            c = self.counts
            return Counts(c.connections, c.bytes_up, c.bytes_down, list(c.requests), c.tls_connections,
                          c.turns, c.waves)

    def start(self) -> "LatencyProxy":
        self.thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("latency proxy did not start")
        return self

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(5)

    def __enter__(self) -> "LatencyProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- the loop (its own thread)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.server.close()
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.run_until_complete(self.server.wait_closed())
            self.loop.close()

    def _client_flight(self, state: dict, now: float) -> None:
        """The client sends after an answer (or first): a turn, and maybe a new sequential wave."""
        with self.lock:
            self.counts.turns += 1
            rtt = 2 * self.delay
            if self._wave_start is None or now - self._wave_start >= rtt * 0.9:
                self.counts.waves += 1
                self._wave_start = now

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        self._alive.add(me)
        try:
            await self._serve(client_reader, client_writer)
        except asyncio.CancelledError:
            # Stopping the proxy cancels open connections; a task that ends cancelled makes asyncio's
            # stream callback print a traceback (it asks the task for its exception).
            pass
        finally:
            self._alive.discard(me)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        for w in (client_writer, server_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.counts.connections += 1
        state = {"last": "down", "http": HttpRequestCounter(), "tls": None, "first": True,
                 "accepted": asyncio.get_running_loop().time()}
        up = asyncio.ensure_future(self._pipe(client_reader, server_writer, state, upstream=True))
        down = asyncio.ensure_future(self._pipe(server_reader, client_writer, state, upstream=False))
        self._alive.update((up, down))
        try:
            await asyncio.gather(up, down, return_exceptions=True)
        finally:
            up.cancel()
            down.cancel()
            self._alive.difference_update((up, down))
            for w in (client_writer, server_writer):
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: dict,
                    upstream: bool) -> None:
        loop = asyncio.get_running_loop()
        queue: collections.deque = collections.deque()
        wake = asyncio.Event()

        async def send() -> None:
            while True:
                while not queue:
                    wake.clear()
                    await wake.wait()
                due, data = queue.popleft()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    try:
                        if writer.can_write_eof():
                            writer.write_eof()
                    except OSError:
                        pass
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(send())
        self._alive.add(sender)
        sender.add_done_callback(self._alive.discard)
        try:
            while True:
                data = await reader.read(CHUNK)
                now = loop.time()
                due = now + self.delay
                if not data:
                    queue.append((due, None))
                    wake.set()
                    break
                if upstream:
                    if state["first"]:
                        state["first"] = False
                        state["tls"] = data[0] == 0x16
                        if state["tls"]:
                            with self.lock:
                                self.counts.tls_connections += 1
                        if self.connect_rtt:
                            # the round trip a remote TCP handshake costs, from the connect: a client
                            # that connected early and sends later (it waited for something else)
                            # has its connection ready by then
                            due = max(now, state["accepted"] + 2 * self.delay) + self.delay
                    if state["last"] == "down":
                        self._client_flight(state, now)
                    state["last"] = "up"
                    if not state["tls"]:
                        before = len(state["http"].requests)
                        state["http"].feed(data)
                        new = state["http"].requests[before:]
                    with self.lock:
                        self.counts.bytes_up += len(data)
                        if not state["tls"]:
                            self.counts.requests.extend(new)
                else:
                    state["last"] = "down"
                    with self.lock:
                        self.counts.bytes_down += len(data)
                queue.append((due, data))
                wake.set()
            await sender
        except (ConnectionError, OSError, asyncio.CancelledError):
            sender.cancel()
        finally:
            if not sender.done():
                sender.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port to forward to")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="one-way delay (RTT = 2x), default 25")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--no-connect-rtt", action="store_true", help="no extra round trip for a new connection")
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    proxy = LatencyProxy(host or "127.0.0.1", int(port), args.delay_ms / 1000, args.port,
                         connect_rtt=not args.no_connect_rtt).start()
    print(f"listening on 127.0.0.1:{proxy.port} -> {args.target}, {args.delay_ms:g} ms each way "
          "(Ctrl-C prints the counts)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print(proxy.snapshot().summary())
        for request in proxy.snapshot().requests:
            print(" ", request)
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
