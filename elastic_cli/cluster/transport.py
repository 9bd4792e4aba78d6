"""The client's transport, with the tool's retry rule: only reads are sent again.

A request that changes something (create or invalidate an API key, write a document)
is sent once: after a 504 or a dropped connection the server may have done the work,
and a second try would leave, say, an orphan key with read access. A read is retried
a bounded number of times, with exponential backoff, waiting at least what a
`Retry-After` header asks. Imported only by `connection.build_client`.

It also logs each request for --debug (logger `elastic_cli.http`): method, path,
status, duration and the server's `took`; for an error, what was sent and the server's
answer. Every logged text is masked (`redaction.redact`) before it is logged, so no handler,
ours or that of a program using this package, ever receives a secret.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import time
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Mapping

from elastic_transport import (
    ConnectionError,
    ConnectionTimeout,
    TlsError,
    Transport,
    TransportApiResponse,
    TransportError,
    Urllib3HttpNode,
)
from elastic_transport.client_utils import DEFAULT

from elastic_cli.cluster import early_connect, plain_http
from elastic_cli.cluster.raw_pages import RawPage
from elastic_cli.cluster.retry_rules import MAX_WAIT_SECONDS, backoff_seconds
from elastic_cli.redaction import redact

# POST requests that only read (the search family, key queries, privilege checks)
_READ_POSTS = re.compile(r"/(_search|_msearch|_count|_field_caps|_pit|_has_privileges|_query/api_key)/?$")
# --debug: a successful answer is shown when it is at most this long (search pages run to
# megabytes of log lines); an error's answer is shown whole, up to ERROR_SHOWN characters
ANSWER_SHOWN = 2000
ERROR_SHOWN = 64_000
_log = logging.getLogger("elastic_cli.http")  # not __name__: the name --debug shows stays if the module moves
_TOOK = re.compile(rb'"took":(\d+)')


def is_read(method: str, target: str) -> bool:
    """True when sending the request twice cannot change more than sending it once."""
    method = method.upper()
    if method in ("GET", "HEAD"):
        return True
    path = target.split("?", 1)[0]
    return method == "POST" and _READ_POSTS.search(path) is not None


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
                        ) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now()).total_seconds())


class ExpectsHttps(TlsError):
    """An http:// host whose port speaks TLS: nothing with credentials was sent."""


class NotPlainHttp(ConnectionError):
    """An http:// host whose port did not answer a plain HTTP request: nothing with credentials was sent."""


def refused(exc: BaseException) -> bool:
    """The connect was refused (no listener on the port): found in what the exception wraps (its
    `errors`, causes and contexts, as urllib3 and elastic_transport chain them)."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        wrapped = getattr(current, "errors", None)
        pending.extend(wrapped if isinstance(wrapped, (tuple, list)) else ())
        pending.extend([*current.args, current.__cause__, current.__context__])
    return False


class ReadRetryingTransport(Transport):
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def perform_request(self, method: str, target: str, **kwargs: Any) -> TransportApiResponse:
        max_retries = kwargs.pop("max_retries", DEFAULT)
        retry_on_status: Collection[int] = kwargs.pop("retry_on_status", DEFAULT)
        retry_on_timeout = kwargs.pop("retry_on_timeout", DEFAULT)
        retries = self.max_retries if max_retries is DEFAULT else max_retries
        statuses = self.retry_on_status if retry_on_status is DEFAULT else retry_on_status
        on_timeout = self.retry_on_timeout if retry_on_timeout is DEFAULT else retry_on_timeout
        read = is_read(method, target)
        if not read:
            retries = 0
        # several nodes: one that fails at the connection level is marked dead by the pool (elastic_transport)
        # and the request goes at once to the next, each node once, before the retry rule below waits
        others = len(self.node_pool.all()) - 1
        attempt = 0
        while True:
            try:
                response = self._send(method, target, kwargs)
            except TlsError:
                raise  # a certificate does not get better by asking again
            except ConnectionTimeout as exc:
                if others > 0 and read:
                    others -= 1
                    self._next_node(exc, "did not answer in time")
                    continue
                if not on_timeout or attempt >= retries:
                    raise
                wait = backoff_seconds(attempt)
            except ConnectionError as exc:
                # a refused connect sent nothing: even a write may go to the next node
                if others > 0 and (read or refused(exc)):
                    others -= 1
                    self._next_node(exc, "refused the connection" if refused(exc) else "lost the connection")
                    continue
                # nothing listens there (a node down, a wrong port): asking again within a second or two
                # only makes the user wait for the same answer; a long search waits it out (search.retry)
                if attempt >= retries or refused(exc):
                    raise
                wait = backoff_seconds(attempt)
            else:
                if response.meta.status not in statuses or attempt >= retries:
                    return response
                asked = retry_after_seconds(response.meta.headers)
                if asked is not None and asked > MAX_WAIT_SECONDS:
                    return response
                wait = max(backoff_seconds(attempt), asked or 0.0)
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("retrying in %.1f s (retry %d of %d)", wait, attempt + 1, retries)
            self.sleep(wait)
            attempt += 1

    @staticmethod
    def _next_node(exc: BaseException, why: str) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s %s: trying the next node", getattr(exc, "node_url", "the node"), why)

    def _send(self, method: str, target: str, kwargs: dict[str, Any]) -> TransportApiResponse:
        """One request, without the base class's retries; logged for --debug."""
        started = time.monotonic()
        try:
            response = super().perform_request(method, target, max_retries=0, retry_on_status=(),
                                               retry_on_timeout=False, **kwargs)
        except TransportError as exc:
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("%s", failure_text(method, target, kwargs, time.monotonic() - started, exc))
            raise
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s", exchange_text(method, target, kwargs, time.monotonic() - started, response))
        return response


class GatedNode(Urllib3HttpNode):
    """A node of an http:// host: no request leaves before that node's own plain-HTTP probe said plain
    HTTP (`plain_http`), so each node of a list gets the guarantee the single host has. `gates` is set
    on a subclass per client (`gated_node_class`); without gates (https://) it only names itself on
    what it raises (`node_url`), so a message says which node of several failed."""

    gates: Mapping[tuple[str, int], plain_http.PlainHttpGate] = {}

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        # a new connection takes one opened while the client was imported, if any (`early_connect`)
        self.pool.ConnectionCls = early_connect.early_connection_class(self.pool.ConnectionCls)

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: Any = None, request_timeout: Any = DEFAULT) -> Any:
        gate = self.gates.get((self.host.strip("[]").lower(), self.port))
        try:
            if gate is not None:
                self._plain_http_only(gate)
            try:
                return super().perform_request(method, target, body=body, headers=headers,
                                               request_timeout=request_timeout)
            except ConnectionError as exc:
                if gate is not None and not isinstance(exc, ConnectionTimeout):
                    gate.forget()  # a port remembered as plain HTTP may speak TLS now
                raise
        except TransportError as exc:
            exc.node_url = self.base_url  # type: ignore[attr-defined]  # which node, for the message
            raise

    def _plain_http_only(self, gate: plain_http.PlainHttpGate) -> None:
        """Raise before sending anything unless the port answered plain HTTP."""
        if not gate.answered():
            self._connect_meanwhile()
        verdict = gate.verdict()
        where = f"{gate.hostname}:{gate.port}"
        if verdict.kind == plain_http.HTTP:
            return
        if verdict.kind == plain_http.TLS:
            raise ExpectsHttps(f"{where} speaks TLS: {verdict.detail}")
        if verdict.kind == plain_http.SILENT:
            raise ConnectionTimeout(f"{where} did not answer a plain HTTP request")
        cause = {plain_http.REFUSED: ConnectionRefusedError(f"connection refused by {where}"),
                 plain_http.UNRESOLVED: socket.gaierror(socket.EAI_NONAME, f"cannot resolve {gate.hostname}")
                 }.get(verdict.kind)
        if cause is not None:
            # chained too: the transport empties `errors` of what a node raises
            raise ConnectionError(str(cause), errors=(cause,)) from cause
        raise NotPlainHttp(f"{where} did not answer a plain HTTP request: {verdict.detail}")

    def _connect_meanwhile(self) -> None:
        """While the probe is out, open the TCP connection this request will use (nothing is sent
        on it before the probe's answer), so the probe's round trips overlap the connect. Best effort:
        urllib3's pool is asked through its own methods; anything unexpected leaves it to connect later."""
        try:
            pool = self.pool
            conn = pool._get_conn(timeout=0.001)
        except Exception:  # noqa: BLE001 — a full pool: connect as usual
            return
        try:
            if getattr(conn, "sock", None) is None:
                conn.connect()
        except Exception:  # noqa: BLE001 — urllib3's NewConnectionError and kin: the request says what fails
            conn.close()
        finally:
            pool._put_conn(conn)


def gated_node_class(gates: Mapping[tuple[str, int], plain_http.PlainHttpGate]) -> type[GatedNode]:
    """The node class of one client: its nodes' probes, by (host name, port)."""
    return type("GatedNode", (GatedNode,), {"gates": dict(gates)})


# ---------------------------------------------------------------- --debug's lines


def exchange_text(method: str, target: str, sent: Mapping[str, Any], seconds: float,
                  response: TransportApiResponse) -> str:
    """A request and its answer as --debug shows them, secrets masked: `> ` what was sent (for an
    error), `< ` the answer, as curl -v writes them."""
    status = response.meta.status
    took = _took(response.body)
    lines = [f"{method} {target} -> {status} in {seconds:.3f} s" + (f", took {took} ms" if took is not None else "")]
    if status >= 400:  # what was sent and the whole answer: what the one-line error leaves out
        lines += _sent_lines(sent)
        lines.append("  < " + _cut(_body_text(response.body), ERROR_SHOWN))
    else:
        lines.append("  < " + _small(response.body))
    return redact("\n".join(lines))


def failure_text(method: str, target: str, sent: Mapping[str, Any], seconds: float, exc: BaseException) -> str:
    """A request that got no answer (refused, timed out, TLS, cut), as --debug shows it."""
    # the node's own words: the transport empties `errors`, which str() of its errors reads
    detail = getattr(exc, "message", None) or exc
    lines = [f"{method} {target} -> no answer after {seconds:.3f} s: {type(exc).__name__}: {detail}"]
    return redact("\n".join(lines + _sent_lines(sent)))


def _sent_lines(sent: Mapping[str, Any]) -> list[str]:
    # masked with the rest by the caller: redact knows Authorization headers
    lines = [f"  > {name.lower()}: {value}" for name, value in sorted((sent.get("headers") or {}).items())]
    if sent.get("body") is not None:
        lines.append("  > " + _cut(_body_text(sent["body"]), ERROR_SHOWN))
    return lines


def _took(body: Any) -> Any:
    if isinstance(body, dict):
        return body.get("took")
    if isinstance(body, RawPage):  # `took` follows the point in time id, near the start
        found = _TOOK.search(body.data, 0, 65536)
        return int(found.group(1)) if found else None
    return None


def _body_text(body: Any) -> str:
    if isinstance(body, RawPage):
        body = body.data
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    if isinstance(body, str):
        return body
    return json.dumps(body, ensure_ascii=False, default=str, separators=(",", ":"))


def _small(body: Any) -> str:
    """A successful answer when it is short, else its size only. Never a cut answer: a secret cut
    in two is no longer recognised by `redact`."""
    if body is None:
        return "(none)"
    if isinstance(body, RawPage) and len(body.data) > ANSWER_SHOWN:  # not decoded only to be measured
        return f"{len(body.data)} bytes, not shown (an error's answer is)"
    text = _body_text(body)
    return text if len(text) <= ANSWER_SHOWN else f"{len(text)} characters, not shown (an error's answer is)"


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, masked first (see `_small`)."""
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + f" … ({len(text) - limit} more characters)"
