"""The lookup's client: the official transport with the few API calls a lookup makes, sent exactly as
the official client sends them, without importing the official client's generated API.

`import elasticsearch` loads every API namespace of the client (sync and async, ~50 ms here, a
quarter of a lookup's run). A lookup needs six endpoints. This client is built on the same
`elastic_transport.Transport` the official client builds (the tool's `ReadRetryingTransport`, its
node class with the plain-HTTP gates, the pool over several nodes, the serializers, TLS options,
`User-Agent` and `X-Elastic-Client-Meta`), and sends those six calls with the same method, path, query,
headers and body as `elasticsearch.Elasticsearch` (a unit test compares the two, request by request).
What the official client does after an answer is done the same way (`BaseClient._perform_request`):
an error status raises the official client's own exception class, imported then; a 2xx answer
without `X-Elastic-Product: Elasticsearch` raises `UnsupportedProductError`; `Warning` headers
become `ElasticsearchWarning`s.

Any other call, or one of the six with an argument not listed here, goes to the official client,
built once on the same transport (`official()`): the package is imported only then.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any, Callable, Collection, Mapping, NamedTuple

from elastic_transport import (
    ApiResponse,
    BinaryApiResponse,
    HeadApiResponse,
    HttpHeaders,
    ListApiResponse,
    NodeConfig,
    ObjectApiResponse,
    OpenTelemetrySpan,
    TextApiResponse,
    Transport,
)
from elastic_transport.client_utils import DEFAULT, client_meta_version, create_user_agent, url_to_node_config

_SKIP_IN_PATH: Collection[Any] = (None, "", b"", [], ())
_WARNING = re.compile(r"\"([^\"]*)\"")


def official_version() -> str:
    """The installed `elasticsearch` package's version, read from its own `_version.py` without
    running the package (which imports the whole client)."""
    spec = importlib.util.find_spec("elasticsearch")
    locations = list(spec.submodule_search_locations or ()) if spec else []
    for location in locations:
        path = os.path.join(location, "_version.py")
        if os.path.exists(path):
            namespace: dict[str, Any] = {}
            with open(path, encoding="utf-8") as handle:
                exec(compile(handle.read(), path, "exec"), namespace)  # noqa: S102 — the package's own file
            return str(namespace["__versionstr__"])
    from importlib.metadata import version

    return version("elasticsearch")


VERSION = official_version()
USER_AGENT = create_user_agent("elasticsearch-py", VERSION)
CLIENT_META_SERVICE = ("es", client_meta_version(VERSION))
_COMPAT_MIMETYPE_RE = re.compile(r"application/(json|x-ndjson|vnd\.mapbox-vector-tile)")
_COMPAT_MIMETYPE_SUB = "application/vnd.elasticsearch+\\g<1>; compatible-with=" + VERSION.partition(".")[0]


class Endpoint(NamedTuple):
    """One API call as the official client's generated method sends it: the query parameters and
    body fields in the order that method adds them (the query string keeps that order)."""

    method: str
    suffix: str
    query: tuple[str, ...]
    body_fields: tuple[tuple[str, str], ...] = ()  # (argument, key in the body)
    index_required: bool = False
    content_type: str | None = "application/json"  # None: only with a body
    body_name: str | None = None  # msearch: `searches` is the body
    empty_body: bool = False  # close_point_in_time sends `{}` rather than no body


def _same(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, name) for name in names)


# The calls of a lookup (elasticsearch-py 8.x's generated methods, _sync/client/__init__.py). Only
# the arguments the tool passes are listed: any other goes to the official client.
ENDPOINTS: dict[str, Endpoint] = {
    "search": Endpoint("POST", "_search", ("allow_no_indices", "ignore_unavailable"),
                       _same("aggs", "pit", "query", "search_after", "size") + (("source", "_source"),) +
                       _same("terminate_after", "track_total_hits"), content_type=None),
    "msearch": Endpoint("POST", "_msearch", ("allow_no_indices", "ignore_unavailable"),
                        content_type="application/x-ndjson", body_name="searches"),
    "field_caps": Endpoint("POST", "_field_caps", ("allow_no_indices", "ignore_unavailable", "include_unmapped"),
                           _same("fields"), content_type=None),
    "open_point_in_time": Endpoint("POST", "_pit", ("keep_alive", "ignore_unavailable"), index_required=True,
                                   content_type=None),
    "close_point_in_time": Endpoint("DELETE", "_pit", (), _same("id"), empty_body=True),
    "mtermvectors": Endpoint("POST", "_mtermvectors", (), _same("docs", "ids"), content_type=None),
}


def _escape(value: Any) -> str:
    """As the official client's `_escape`: lists comma-joined, booleans lower case."""
    if isinstance(value, (list, tuple)):
        value = ",".join(_escape(item) for item in value)
    elif isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return value if isinstance(value, str) else str(value)


def _quote(value: Any) -> str:
    from urllib.parse import quote

    return quote(_escape(value), ",*")


def node_configs(urls: list[str], **options: Any) -> list[NodeConfig]:
    """The official client's `client_node_configs` for a list of URLs: each node with the TLS
    options given and the client's `User-Agent`."""
    headers = HttpHeaders()
    headers["user-agent"] = USER_AGENT
    headers.freeze()
    given = {name: value for name, value in options.items() if value is not DEFAULT}
    return [url_to_node_config(url).replace(**given, headers=headers) for url in urls]


class LightClient:
    """The official client's request path (`BaseClient._perform_request`) and the lookup's calls."""

    def __init__(self, transport: Transport, headers: Mapping[str, str], request_timeout: Any = DEFAULT,
                 max_retries: Any = DEFAULT, retry_on_status: Any = DEFAULT, retry_on_timeout: Any = DEFAULT,
                 ignore_status: Any = DEFAULT) -> None:
        self._transport = transport
        self._headers = HttpHeaders(headers)
        self._request_timeout = request_timeout
        self._max_retries = max_retries
        self._retry_on_status = (retry_on_status,) if isinstance(retry_on_status, int) else retry_on_status
        self._retry_on_timeout = retry_on_timeout
        self._ignore_status = ignore_status
        self._verified_elasticsearch = False
        self._official: Any = None

    @property
    def transport(self) -> Transport:
        return self._transport

    # ------------------------------------------------------------ the official client, when needed

    def official(self) -> Any:
        """The official client on this transport, with this client's headers and per-request settings."""
        if self._official is None:
            from elasticsearch import Elasticsearch

            client = Elasticsearch(_transport=self._transport, headers=dict(self._headers))
            given: dict[str, Any] = {name: value for name, value in (
                ("request_timeout", self._request_timeout), ("max_retries", self._max_retries),
                ("retry_on_status", self._retry_on_status), ("retry_on_timeout", self._retry_on_timeout),
                ("ignore_status", self._ignore_status)) if value is not DEFAULT}
            self._official = client.options(**given) if given else client
        return self._official

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.official(), name)

    def options(self, **settings: Any) -> Any:
        """As the official `options`, for the per-request settings; anything else (other credentials,
        headers) is the official client's."""
        known = {"request_timeout", "max_retries", "retry_on_status", "retry_on_timeout", "ignore_status"}
        if set(settings) - known:
            return self.official().options(**settings)
        if "max_retries" in settings and not isinstance(settings["max_retries"], int):
            raise TypeError("'max_retries' must be of type 'int'")
        if "retry_on_timeout" in settings and not isinstance(settings["retry_on_timeout"], bool):
            raise TypeError("'retry_on_timeout' must be of type 'bool'")
        current = {"request_timeout": self._request_timeout, "max_retries": self._max_retries,
                   "retry_on_status": self._retry_on_status, "retry_on_timeout": self._retry_on_timeout,
                   "ignore_status": self._ignore_status}
        current.update(settings)
        if isinstance(current["ignore_status"], int):
            current["ignore_status"] = (current["ignore_status"],)
        return LightClient(self._transport, self._headers, **current)

    def close(self) -> None:
        from elastic_cli.cluster import early_connect

        early_connect.close_all()  # connections opened early that no request took
        self._transport.close()

    def __enter__(self) -> LightClient:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    # ------------------------------------------------------------ the lookup's calls

    def search(self, **kwargs: Any) -> Any:
        return self._call("search", kwargs)

    def msearch(self, **kwargs: Any) -> Any:
        return self._call("msearch", kwargs)

    def field_caps(self, **kwargs: Any) -> Any:
        return self._call("field_caps", kwargs)

    def open_point_in_time(self, **kwargs: Any) -> Any:
        return self._call("open_point_in_time", kwargs)

    def close_point_in_time(self, **kwargs: Any) -> Any:
        return self._call("close_point_in_time", kwargs)

    def mtermvectors(self, **kwargs: Any) -> Any:
        return self._call("mtermvectors", kwargs)

    @property
    def indices(self) -> _Indices:
        return _Indices(self)

    def _call(self, name: str, kwargs: dict[str, Any]) -> Any:
        endpoint = ENDPOINTS[name]
        args = dict(kwargs)
        index = args.pop("index", None)
        body = args.pop("body", None)
        fields = dict(endpoint.body_fields)
        allowed = set(endpoint.query) | set(fields) | ({endpoint.body_name} if endpoint.body_name else set())
        given_fields = [key for key in args if key in fields and args[key] is not None]
        if (set(args) - allowed or (body is not None and given_fields)
                or (endpoint.index_required and index in _SKIP_IN_PATH)):
            return getattr(self.official(), name)(**kwargs)  # the official client's rules and messages
        path = f"/{_quote(index)}/{endpoint.suffix}" if index not in _SKIP_IN_PATH else f"/{endpoint.suffix}"
        query = {key: args[key] for key in endpoint.query if args.get(key) is not None}
        if endpoint.body_name:
            sent = args.get(endpoint.body_name)
            sent = body if sent is None else sent
            if sent is None:
                return getattr(self.official(), name)(**kwargs)
        else:
            sent = body if body is not None else {}
            if not sent:
                for argument, key in endpoint.body_fields:
                    if args.get(argument) is not None:
                        sent[key] = args[argument]
            if not sent and not endpoint.empty_body:
                sent = None
        headers = {"accept": "application/json"}
        if endpoint.content_type and (sent is not None or endpoint.body_name or endpoint.empty_body):
            headers["content-type"] = endpoint.content_type
        elif sent is not None:
            headers["content-type"] = "application/json"
        return self.perform_request(endpoint.method, path, params=query, headers=headers, body=sent)

    # ------------------------------------------------------------ BaseClient._perform_request

    def perform_request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                        headers: Mapping[str, str] | None = None, body: Any = None, **_: Any) -> ApiResponse[Any]:
        request_headers = self._headers.copy()
        if headers:
            request_headers.update(headers)
        for header in ("Accept", "Content-Type"):
            mimetype = request_headers.get(header, None)
            if mimetype:
                request_headers[header] = _COMPAT_MIMETYPE_RE.sub(_COMPAT_MIMETYPE_SUB, mimetype)
        target = f"{path}?{'&'.join(f'{k}={_quote(v)}' for k, v in params.items())}" if params else path
        meta, resp_body = self._transport.perform_request(
            method, target, headers=request_headers, body=body, request_timeout=self._request_timeout,
            max_retries=self._max_retries, retry_on_status=self._retry_on_status,
            retry_on_timeout=self._retry_on_timeout, client_meta=DEFAULT, otel_span=OpenTelemetrySpan(None))
        if not (method == "HEAD" and meta.status == 404) and not 200 <= meta.status < 299 and (
                self._ignore_status is DEFAULT or self._ignore_status is None
                or meta.status not in self._ignore_status):
            raise _api_error(meta, resp_body)
        if not self._verified_elasticsearch:
            if meta.headers.get("x-elastic-product", "") == "Elasticsearch":
                self._verified_elasticsearch = True
            elif 200 <= meta.status < 300:
                from elasticsearch.exceptions import UnsupportedProductError

                raise UnsupportedProductError(
                    message="The client noticed that the server is not Elasticsearch and we do not support "
                            "this unknown product", meta=meta, body=resp_body)
        if "warning" in meta.headers:
            _warn((meta.headers.get("warning") or "").strip())
        return _response(method, meta, resp_body)


class _Indices:
    """`es.indices` on the lookup path: `resolve_index` (sent beside `_field_caps` to find closed
    indices) as the official client sends it; any other call is the official client's."""

    QUERY = ("allow_no_indices", "expand_wildcards", "ignore_unavailable")  # in the generated method's order

    def __init__(self, client: LightClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._client.official().indices, name)

    def resolve_index(self, **kwargs: Any) -> Any:
        name = kwargs.get("name")
        if set(kwargs) - {"name", *self.QUERY} or name in _SKIP_IN_PATH:
            return self._client.official().indices.resolve_index(**kwargs)
        query = {key: kwargs[key] for key in self.QUERY if kwargs.get(key) is not None}
        return self._client.perform_request("GET", f"/_resolve/index/{_quote(name)}", params=query,
                                            headers={"accept": "application/json"})


def _api_error(meta: Any, resp_body: Any) -> Exception:
    """The official client's exception for an error answer (its classes: imported on this path only)."""
    from elasticsearch.exceptions import HTTP_EXCEPTIONS, ApiError

    message: Any = str(resp_body)
    if isinstance(resp_body, dict):
        try:
            error = resp_body.get("error", message)
            if isinstance(error, dict) and "type" in error:
                error = error["type"]
            message = error
        except (ValueError, KeyError, TypeError):
            pass
    error_class: Callable[..., Exception] = HTTP_EXCEPTIONS.get(meta.status, ApiError)
    return error_class(message=message, meta=meta, body=resp_body)


def _warn(header: str) -> None:
    import warnings

    from elasticsearch.exceptions import ElasticsearchWarning

    for message in _WARNING.findall(header) or (header,):
        warnings.warn(message, category=ElasticsearchWarning, stacklevel=3)


def _response(method: str, meta: Any, body: Any) -> ApiResponse[Any]:
    if method == "HEAD":
        return HeadApiResponse(meta=meta)
    if isinstance(body, dict):
        return ObjectApiResponse(body=body, meta=meta)
    if isinstance(body, list):
        return ListApiResponse(body=body, meta=meta)
    if isinstance(body, str):
        return TextApiResponse(body=body, meta=meta)
    if isinstance(body, bytes):
        return BinaryApiResponse(body=body, meta=meta)
    return ApiResponse(body=body, meta=meta)
