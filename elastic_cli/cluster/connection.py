"""Builds the Elasticsearch client from settings, and turns its errors into the tool's.

The client is imported here, lazily, so commands that never connect stay fast.
Never call `GET /` (info/ping): a read-only key may not (it needs `monitor`).
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

from elastic_cli import errors
from elastic_cli.cluster.retry_rules import RETRY_STATUSES, status_of
from elastic_cli.redaction import redact, register_secret

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from elastic_cli.cluster.light_client import LightClient
    from elastic_cli.config.settings import Settings

# RETRY_STATUSES: worth a bounded retry of a read, with backoff and Retry-After (elastic_cli.cluster.transport):
# overload and gateway hiccups. Writes (create, invalidate) are never retried.


def credentials(settings: Settings) -> tuple[str, str] | None:
    from elastic_cli.config.settings import split_api_key

    if settings.api_key is None and settings.api_key_problem is not None:
        raise settings.api_key_problem  # a reference that cannot be read: say which, never connect without it
    key_id, secret, _ = split_api_key(settings.id, settings.api_key)
    if not secret:
        return None
    if not key_id:
        raise errors.ConfigError(
            "the API key id is missing", "set `id` (orx-elastic configure --id ID) or use the encoded key as api_key"
        )
    register_secret(secret)
    register_secret(f"{key_id}:{secret}")  # and so its base64, the Authorization header's value
    return key_id, secret


def nothing_configured(settings: Settings) -> bool:
    """No config file, and neither where to connect nor a key came from a flag or the environment:
    connecting to localhost:9200 would only report a refused connection or a missing key."""
    given = {settings.sources[name] for name in ("host", "api_key", "id")} - {"default"}
    return not given and not settings.path.exists()


def no_configuration_yet(settings: Settings) -> errors.ConfigError:
    """The one answer of every command that needs a cluster (check, logs, sessions) on a fresh machine."""
    return errors.ConfigError(
        f"no configuration yet: {settings.path} does not exist and no --host or --api-key was given",
        "create a key and save it: `orx-elastic create-key --host URL --username USER --save` "
        "(or `orx-elastic configure`)")


def build_client(settings: Settings, basic_auth: tuple[str, str] | None = None, require_auth: bool = True,
                 max_retries: int = 3) -> Elasticsearch:
    """An Elasticsearch client for the settings; API key auth unless basic_auth is given."""
    gates = _plain_http_gates(settings)  # first: the probes run while the client is imported
    from elasticsearch import Elasticsearch

    from elastic_cli.cluster.serializer import PageKeepingJsonSerializer
    from elastic_cli.cluster.transport import ReadRetryingTransport

    options = {**_client_options(settings, gates, basic_auth, require_auth, max_retries),
               "transport_class": ReadRetryingTransport,
               # the compatibility mimetype the client asks for gets the same serializer
               "serializers": {"application/json": PageKeepingJsonSerializer()}}
    try:
        client = Elasticsearch(settings.node_urls, **options)
    except (ValueError, TypeError, OSError) as exc:
        raise _setup_failed(exc) from None
    return client


def build_lookup_client(settings: Settings, max_retries: int = 3) -> LightClient:
    """The client of a lookup: the same transport, nodes, TLS options, credentials and per-request
    settings as `build_client`'s, with the lookup's calls sent without importing the official client's
    generated API (`light_client`); any other call loads the official client on that transport.
    Closing it closes the connections `open_early` opened and no request took."""
    try:
        return _lookup_client(settings, max_retries)
    except BaseException:
        close_early()
        raise


def _lookup_client(settings: Settings, max_retries: int) -> LightClient:
    gates = _plain_http_gates(settings)  # first: the probes run while the transport is imported
    from elastic_transport.client_utils import DEFAULT

    from elastic_cli.cluster import light_client
    from elastic_cli.cluster.serializer import transport_serializers
    from elastic_cli.cluster.transport import ReadRetryingTransport

    options = _client_options(settings, gates, None, True, max_retries)
    node_options = {name: options.pop(name, DEFAULT)
                    for name in ("verify_certs", "ca_certs", "ssl_assert_fingerprint", "ssl_show_warn")}
    headers = {}
    if "api_key" in options:
        from base64 import b64encode

        headers["authorization"] = "ApiKey " + b64encode(":".join(options.pop("api_key")).encode()).decode("ascii")
    transport_options = {name: options.pop(name) for name in ("node_class", "randomize_nodes_in_pool")
                         if name in options}
    try:
        transport = ReadRetryingTransport(light_client.node_configs(settings.node_urls, **node_options),
                                          client_meta_service=light_client.CLIENT_META_SERVICE, sniff_callback=None,
                                          serializers=transport_serializers(), default_mimetype="application/json",
                                          **transport_options)
    except (ValueError, TypeError, OSError) as exc:
        raise _setup_failed(exc) from None
    return light_client.LightClient(transport, headers, **options)


def _setup_failed(exc: BaseException) -> errors.ConfigError:
    return errors.ConfigError(f"cannot set up the client: {redact(str(exc))}",
                              "check host, port, ca_certs and fingerprint")


def _client_options(settings: Settings, gates: dict[tuple[str, int], Any], basic_auth: tuple[str, str] | None,
                    require_auth: bool, max_retries: int) -> dict[str, Any]:
    """The official client's arguments for the settings (without the transport class and serializers)."""
    options: dict[str, Any] = {
        "request_timeout": settings.timeout,
        "max_retries": max_retries,
        "retry_on_status": RETRY_STATUSES,
        "retry_on_timeout": False,  # a silent server would cost timeout x retries
        # no sniffing: the key goes only to the addresses the user gave (README, "Several nodes")
        # several nodes: taken in turn from the first one given (the official client shuffles them)
        "randomize_nodes_in_pool": False,
    }
    from elastic_cli.cluster.transport import gated_node_class

    # each node's plain-HTTP gate (http://), its name on errors (several nodes), connections opened early
    options["node_class"] = gated_node_class(gates)
    if basic_auth:
        register_secret(basic_auth[1])
        options["basic_auth"] = basic_auth
    else:
        key = credentials(settings)
        if key:
            options["api_key"] = key
        elif require_auth and nothing_configured(settings):
            raise no_configuration_yet(settings)
        elif require_auth:
            raise errors.ConfigError(
                f"no API key configured for profile '{settings.profile}'",
                f"run `{errors.new_key_command()}` or `orx-elastic configure --id ID --api-key KEY`",
            )
    if settings.host.startswith("https://"):  # every node: hosts has one scheme
        if settings.fingerprint:
            options["ssl_assert_fingerprint"] = normalize_fingerprint(settings.fingerprint)
            options["verify_certs"] = False  # the pin replaces chain verification
        elif not settings.verify_certs:
            options["verify_certs"] = False
            options["ssl_show_warn"] = False
        elif settings.ca_certs:
            options["ca_certs"] = settings.ca_certs
    return options


# the gates `open_early` started, by the node list they are for: the client built next takes them
_early_gates: dict[tuple[str, ...], dict[tuple[str, int], Any]] = {}


def open_early(settings: Settings, connections: int = 3) -> None:
    """Before a lookup imports its client: start each http:// node's plain-HTTP probe and open
    `connections` TCP connections to the first node (a lookup's first wave: `_field_caps`, `_msearch`,
    `_resolve/index`) (`early_connect`: nothing is sent on them before
    the gate allows it), so that their round trips pass during the imports. Best effort: on any
    doubt (an address that does not parse), nothing is started and the client connects as usual."""
    from urllib.parse import urlsplit

    try:  # the first node as the transport reads its URL (`url_to_node_config`: https without a port is 443)
        parts = urlsplit(settings.node_urls[0])
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else None)
        _early_gates[tuple(settings.node_urls)] = _plain_http_gates(settings)
    except Exception:  # noqa: BLE001 — the client's own setup says what is wrong with the address
        return
    if not host or port is None:
        return
    from elastic_cli.cluster import early_connect

    early_connect.open_early(host, port, connections, settings.timeout)


def close_early() -> None:
    """Close the early connections no request took (at the end of the command)."""
    _early_gates.clear()
    if "elastic_cli.cluster.early_connect" in sys.modules:
        sys.modules["elastic_cli.cluster.early_connect"].close_all()


def _plain_http_gates(settings: Settings) -> dict[tuple[str, int], Any]:
    """For http:// nodes, each node's probe that must answer plain HTTP before credentials leave,
    by (host name, port)."""
    if not settings.host.startswith("http://"):
        return {}
    started = _early_gates.pop(tuple(settings.node_urls), None)
    if started is not None:
        return started
    from elastic_cli.cluster.plain_http import PlainHttpGate, marks_dir

    gates: dict[tuple[str, int], Any] = {}
    for endpoint in settings.node_endpoints:
        port = endpoint.port if endpoint.port is not None else settings.port
        gates[(endpoint.hostname, port)] = PlainHttpGate(endpoint.hostname, port, settings.timeout, marks_dir())
    return gates


def body_of(response: Any) -> Any:
    """The plain JSON of a client response (ObjectApiResponse), or the value itself."""
    return response.body if hasattr(response, "body") else response


def normalize_fingerprint(text: str) -> str:
    """Accept `AA:BB:..` (as browsers and openssl print it) or plain hex (as Elasticsearch prints it)."""
    cleaned = text.replace(":", "").replace(" ", "").strip().lower()
    if len(cleaned) != 64 or any(c not in "0123456789abcdef" for c in cleaned):
        raise errors.ConfigError("the fingerprint is not a SHA-256 fingerprint (64 hex digits)",
                                 "copy it from Elasticsearch's first start, or `openssl x509 -fingerprint -sha256`")
    return cleaned


@contextmanager
def translated_errors(settings: Settings, action: str = "talk to Elasticsearch",
                      refine: Callable[[errors.OrxError, BaseException], errors.OrxError] | None = None
                      ) -> Iterator[None]:
    """Turn transport and API errors into OrxError with a one-line message and a fix;
    `refine` lets a command reword the result for its own requests."""
    try:
        yield
    except errors.OrxError:
        raise
    except Exception as exc:  # noqa: BLE001 — mapped below, re-raised if unknown
        mapped = translate(exc, settings, action)
        if mapped is None:
            raise
        # chained: --debug's traceback shows the client's error under the one-line message
        raise (refine(mapped, exc) if refine else mapped) from exc


def translate(exc: BaseException, settings: Settings, action: str) -> errors.OrxError | None:
    """The tool's error for a client exception, or None when it is not a transport or API error.

    Classified by the types in the cause chain, never by words of a message: a message
    may hold a host or index name such as `ssl-logs`."""
    import elastic_transport

    # an API error is the official client's class (the lookup's client imports it when it raises one):
    # if the package was never imported, the exception is not one of its errors
    official: Any = None
    if "elasticsearch" in sys.modules:
        # imported in full: another thread (a request beside this one) may be importing it right now, and
        # the module it left in sys.modules is then half made ('no attribute ApiError')
        import elasticsearch as official
    where = settings.url
    if len(settings.node_urls) > 1:  # several nodes: the one that answered so, or every one when each was tried
        one = getattr(exc, "node_url", None) if isinstance(exc, elastic_transport.TlsError) or \
            _find(list(cause_chain(exc)), (_expects_https(), _not_plain_http(), ssl.SSLError)) else None
        where = str(one) if one else f"every node of hosts ({', '.join(settings.node_urls)})"
    if official is not None and isinstance(exc, official.ApiError):
        return _api_error(exc, settings, action)
    if not isinstance(exc, elastic_transport.TransportError):
        return None
    if isinstance(exc, elastic_transport.SerializationError):
        return errors.ConnectionFailed(
            f"{where} sent an answer that is not valid JSON (cut short, or not Elasticsearch's)",
            "try again; if it persists, look at what answers on this address (a proxy that cuts or rewrites "
            "answers): --debug shows the answer")
    chain = list(cause_chain(exc))
    if _find(chain, _expects_https()):
        return errors.TLSFailed(
            f"{where} speaks HTTPS, not plain HTTP: the API key was not sent",
            "use https:// in --host (Elasticsearch 8+ enables TLS on HTTP by default)")
    if _find(chain, _not_plain_http()):
        return errors.ConnectionFailed(
            f"{where} does not answer HTTP: {_first_line(redact(str(exc)))}; the API key was not sent",
            "check that this port is Elasticsearch's HTTP port (not 9300, the transport port)")
    if isinstance(exc, elastic_transport.ConnectionTimeout):
        return errors.ConnectionFailed(
            f"{where} did not answer within {settings.timeout:g}s",
            "check host and port, or raise --timeout if the cluster is slow",
        )
    if _find(chain, socket.gaierror) or _find(chain, _name_resolution_error()):
        return errors.ConnectionFailed(f"cannot resolve the host of {where}", "check the host name for typos")
    if _find(chain, ConnectionRefusedError):
        return errors.ConnectionFailed(
            f"connection refused by {where}",
            "is Elasticsearch running, and on this port? (self-managed: 9200; Elastic Cloud: 443 or 9243)",
        )
    if isinstance(exc, elastic_transport.TlsError) or _find(chain, ssl.SSLError):
        return _tls_error(where, chain, settings)
    if settings.host.startswith("http://") and (_find(chain, http.client.RemoteDisconnected)
                                                or _find(chain, ConnectionResetError)):
        return errors.TLSFailed(
            f"{where} closed the connection: it probably expects HTTPS",
            "use https:// in --host (Elasticsearch 8+ enables TLS on HTTP by default)",
        )
    if isinstance(exc, elastic_transport.ConnectionError):
        return errors.ConnectionFailed(f"lost the connection to {where}: {_first_line(redact(str(exc)))}",
                                       "check the network and that the node is up, then try again")
    return None


# OpenSSL's verify codes (X509_V_ERR_*) and reason names: structured fields, not prose
_CERT_EXPIRED = 10
_SELF_SIGNED = (18, 19)  # depth-zero self-signed; self-signed in chain
_HOSTNAME_MISMATCH = 62
_NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST")


def _tls_error(where: str, chain: list[BaseException], settings: Settings) -> errors.TLSFailed:
    handshake = _find(chain, ssl.SSLError)
    verify = _find(chain, ssl.SSLCertVerificationError)
    if handshake is not None and getattr(handshake, "reason", None) in _NOT_TLS_REASONS:
        return errors.TLSFailed(f"{where} does not speak TLS: it is a plain HTTP port",
                                "use http:// in --host, or enable TLS on the cluster")
    if verify is not None:
        code = getattr(verify, "verify_code", None)
        if code == _CERT_EXPIRED:
            return errors.TLSFailed(f"the certificate of {where} has expired", "renew the node's HTTP certificate")
        if code in _SELF_SIGNED:
            return errors.TLSFailed(f"{where} presents a self-signed certificate that is not trusted",
                                    "pass --ca-certs with its CA (e.g. config/certs/http_ca.crt) or --fingerprint")
        if code == _HOSTNAME_MISMATCH:
            return errors.TLSFailed(f"the certificate of {where} is not valid for this host name",
                                    "use the host name the certificate was issued for")
        hint = "the CA in --ca-certs did not sign it: pass the right CA" if settings.ca_certs else \
            "pass --ca-certs with the cluster's CA, or --fingerprint to pin the certificate"
        return errors.TLSFailed(f"the certificate of {where} is not trusted", hint)
    if settings.fingerprint and handshake is None:
        # with a pin, chain verification is off: a TLS error after a completed handshake is the pin
        return errors.TLSFailed(f"the certificate of {where} does not match the pinned fingerprint",
                                "check --fingerprint against the one Elasticsearch printed at first start")
    return errors.TLSFailed(f"TLS failed with {where}", "check --ca-certs, --fingerprint and the https:// scheme")


def classify_auth_failure(exc: BaseException) -> str:
    """What a 401 says about the key, from Elasticsearch's own fields of the answer
    (`additional_unsuccessful_credentials`, `reason`): 'expired', 'invalidated',
    'wrong-secret', 'unknown-id', or 'rejected' when it does not say."""
    body = getattr(exc, "body", None)
    texts = []
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        for node in [err] + list(err.get("root_cause") or []):
            texts.append(str(node.get("additional_unsuccessful_credentials") or ""))
            texts.append(str(node.get("reason") or ""))
    text = " ".join(texts).lower()
    if "expired" in text:
        return "expired"
    if "invalidated" in text:
        return "invalidated"
    if "invalid credentials" in text:
        return "wrong-secret"
    if "unable to find" in text or "no api key" in text:
        return "unknown-id"
    return "rejected"


def describe_auth_failure(reason: str, key_id: str | None) -> str:
    """One phrase for a reason of classify_auth_failure: `logs` and `check` say the same."""
    with_id = f" (id {key_id})" if key_id else ""
    return {
        "expired": f"the API key{with_id} has expired",
        "invalidated": f"the API key{with_id} has been invalidated (revoked)",
        "wrong-secret": f"the API key secret is wrong for key id {key_id}" if key_id else "the API key secret is wrong",
        "unknown-id": f"no API key with id {key_id} exists on this cluster" if key_id else
        "no such API key on this cluster",
    }.get(reason, f"the API key{with_id} is wrong, expired or invalidated")


def answering_node(exc: BaseException) -> str | None:
    """The URL of the node whose answer this is (several nodes: the one the request went to)."""
    node = getattr(getattr(exc, "meta", None), "node", None)
    if node is None or not getattr(node, "host", None):
        return None
    host = f"[{node.host}]" if ":" in node.host and not node.host.startswith("[") else node.host
    return f"{node.scheme}://{host}:{node.port}{node.path_prefix or ''}"


def _api_error(exc: BaseException, settings: Settings, action: str) -> errors.OrxError:
    where = settings.url if len(settings.node_urls) == 1 else (answering_node(exc) or settings.where)
    status = status_of(exc)
    error_type, reason = error_details(exc)
    if status is not None and 300 <= status < 400:
        return _redirect(exc, status, where)
    if not _from_elasticsearch(exc) and status not in RETRY_STATUSES:
        # Elasticsearch names itself on every answer (7.14+); a proxy's 502-504 still means the
        # cluster behind it is unavailable, so those stay below
        return errors.ConnectionFailed(
            f"{where} is not Elasticsearch: it answered HTTP {status} without the X-Elastic-Product header, "
            + _what_it_answered(exc),
            "check host and port (Elasticsearch listens on 9200 by default; Elastic Cloud on 443 or 9243)")
    if status == 401:
        why = describe_auth_failure(classify_auth_failure(exc), settings.id)
        return errors.AuthenticationFailed(
            f"{where} rejected the credentials: {why}",
            f"create a new key with admin credentials: `{errors.new_key_command()}` (or --admin-api-key), "
            "or fix id/api_key with `orx-elastic configure`",
        )
    remote = [p for p in settings.index_patterns if ":" in p]  # `cluster:index`: cross-cluster search
    if error_type == "no_such_remote_cluster_exception":  # 8.x answers 403, 9.x 404: the same root cause
        return errors.IndexNotFound(
            f"{reason}: {', '.join(remote) or 'a pattern'} asks for cross-cluster search, and {where} has no "
            "remote cluster of that name",
            "drop the `cluster:` prefix from --indexes, or connect the remote cluster on the cluster "
            "(Kibana: Stack Management > Remote Clusters; or cluster.remote.NAME.seeds)")
    if status == 403 and remote:
        return errors.PrivilegeMissing(
            f"not allowed to {action}: {reason}",
            f"grant the key `read` on the local patterns; for {', '.join(remote)} (cross-cluster search) the key "
            "needs `remote_indices` privileges, or a role on the remote cluster: `orx-elastic create-key` grants "
            "local indices only")
    if error_type == "cluster_block_exception" and "read" in reason:  # a block, not the key's privileges
        blocked = re.search(r"index \[(.+?)\]", reason)
        index = blocked.group(1) if blocked else "INDEX"
        return errors.RequestRejected(
            f"cannot {action}: {reason} (index.blocks.read: no search may read that index)",
            f"remove the block as an admin (PUT /{index}/_settings with {{\"index.blocks.read\": false}}), "
            "or leave it out of --indexes")
    if status == 403:
        return errors.PrivilegeMissing(f"not allowed to {action}: {reason}",
                                       "grant the key `read` on the index patterns (a new key, with admin "
                                       f"credentials: `{errors.new_key_command()}`)")
    if status == 404 and error_type == "index_not_found_exception":
        return errors.IndexNotFound(f"no index matches: {reason}",
                                    "check `indexes` (orx-elastic configure --indexes 'app-*,*log*')")
    if status in RETRY_STATUSES:
        return errors.ClusterUnavailable(f"{where} is overloaded or unavailable (HTTP {status}): {reason}",
                                         "try again in a moment")
    if status == 400 and "api keys are not enabled" in reason.lower():
        return errors.ClusterUnavailable(f"API keys are disabled on {where}",
                                         "set xpack.security.authc.api_key.enabled: true on the cluster")
    return errors.RequestRejected(f"Elasticsearch rejected the request (HTTP {status}, {error_type}): {reason}",
                                  "check the values passed; run with --debug for the full answer")


def _redirect(exc: BaseException, status: int, where: str) -> errors.OrxError:
    """A 301/302/307/308: not followed (the key would go wherever it points), but named, with its target."""
    from urllib.parse import urljoin, urlsplit

    headers = getattr(getattr(exc, "meta", None), "headers", None) or {}
    location = next((str(v) for k, v in headers.items() if k.lower() == "location"), "").strip()
    if not location:
        return errors.ConnectionFailed(f"{where} answered with a redirect (HTTP {status}) that names no target",
                                       "check host, port and path prefix: the cluster is not at this address")
    target = urljoin(where + "/", location)
    parts = urlsplit(target)
    shown = redact(target)[:200]
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None
    if origin and origin != where:
        hint = (f"if the cluster is there, use --host {redact(origin)[:200]} (orx-elastic configure --host ...); "
                "orx-elastic does not follow redirects, so the key goes only where you point it")
    else:
        hint = "check the path prefix in --host: the cluster does not answer at this path"
    return errors.ConnectionFailed(f"{where} redirects (HTTP {status}) to {shown}", hint)


def _what_it_answered(exc: BaseException) -> str:
    """The body of another server's answer, in a few words: `an empty answer`, or how it begins."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, dict) and body:
        import json

        body = json.dumps(body, ensure_ascii=False)
    text = " ".join(redact(str(body)).split()) if body not in (None, "", {}) else ""
    if not text:
        return "with an empty answer"
    return f"with an answer that begins {text[:60]!r}" + ("" if len(text) <= 60 else " ...")


def _from_elasticsearch(exc: BaseException) -> bool:
    """The answer carried `X-Elastic-Product: Elasticsearch`, or at least Elasticsearch's JSON error
    (a proxy may drop headers); a web page or a bare 501 from another server is neither."""
    headers = getattr(getattr(exc, "meta", None), "headers", None)
    if headers is None or str(headers.get("x-elastic-product", "")) == "Elasticsearch":
        return True
    body = getattr(exc, "body", None)
    return isinstance(body, dict) and "error" in body


def error_details(exc: Any) -> tuple[str, str]:
    """(type, reason) of an Elasticsearch API error, secrets redacted, one line."""
    body = getattr(exc, "body", None)
    error_type, reason = "error", str(getattr(exc, "message", exc))
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        root = (err.get("root_cause") or [err])[0]
        error_type = str(root.get("type") or err.get("type") or error_type)
        reason = str(root.get("reason") or err.get("reason") or reason)
    elif isinstance(body, dict) and isinstance(body.get("error"), str):
        reason = body["error"]
    return error_type, _first_line(redact(reason))[:400]


def cause_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: transport `errors`, __cause__, __context__."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "errors", None)
        if isinstance(wrapped, (tuple, list)):
            pending.extend(item for item in wrapped if isinstance(item, BaseException))
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        pending.extend([current.__cause__, current.__context__])


def _find(chain: list[BaseException], kind: type[BaseException] | tuple[type[BaseException], ...]
          ) -> BaseException | None:
    return next((item for item in chain if isinstance(item, kind)), None)


def _expects_https() -> type[BaseException]:
    from elastic_cli.cluster.transport import ExpectsHttps

    return ExpectsHttps


def _not_plain_http() -> type[BaseException]:
    from elastic_cli.cluster.transport import NotPlainHttp

    return NotPlainHttp


def _name_resolution_error() -> type[BaseException]:
    from urllib3.exceptions import NameResolutionError

    return NameResolutionError


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]
