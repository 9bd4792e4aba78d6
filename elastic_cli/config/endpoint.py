"""Where Elasticsearch is: one parser for a host URL (scheme, host, port, path prefix)
and for an Elastic Cloud id, so every part of the tool reads the same address.

Pure and cheap to import: the standard library only, elastic_transport only for cloud ids.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from elastic_cli.errors import UsageError

# A URL without a port means this, whatever a weaker source (env, file) said: README's settings table.
DEFAULT_PORT = 9200
SCHEMES = ("http", "https")
# `http//host`, `https:/host`, `http/host`: a scheme without its `://`
_MISTYPED_SCHEME = re.compile(r"(https?)(?::/|//?)(?=[^/])", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    hostname: str  # without the brackets of an IPv6 literal
    port: int | None  # None when the text named no port
    path: str = ""  # a reverse proxy's prefix such as "/es"; no trailing slash

    @property
    def host(self) -> str:
        """`scheme://host/path` without the port: the form a profile stores as `host`."""
        hostname = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"{self.scheme}://{hostname}{self.path}"

    @property
    def in_clear_off_machine(self) -> bool:
        """Plain http:// to a host that is not this machine: the API key crosses a network unencrypted."""
        return self.scheme == "http" and not is_loopback(self.hostname)

    def url(self, port: int | None) -> str:
        """The full URL; `port` (or this endpoint's own, or 9200) fills a missing port."""
        hostname = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        chosen = port if port is not None else self.port if self.port is not None else DEFAULT_PORT
        return f"{self.scheme}://{hostname}:{chosen}{self.path}"


UNENCRYPTED = "plain http:// to a host that is not this machine: the API key and the logs cross the network unencrypted"
UNENCRYPTED_FIX = "enable TLS on the cluster's HTTP layer and use https://"


def is_loopback(hostname: str) -> bool:
    """`localhost`, or a loopback address (127.0.0.0/8, ::1, ::ffff:127.x); a name is not resolved."""
    if hostname.lower() in ("localhost", "localhost.") or hostname.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def parse_host(text: str) -> Endpoint:
    """`https://es:9243/es/` -> Endpoint('https', 'es', 9243, '/es'). No scheme means https
    (Elasticsearch's default since 8.0). Credentials in the URL are refused: they would end up
    in the config file, in shell history and in every error message."""
    shown = text.strip()[:60]
    candidate = text.strip()
    typo = _MISTYPED_SCHEME.match(candidate)
    if typo and "://" not in candidate:  # `http//127.0.0.1:9200` would become the host `http`
        meant = f"{typo.group(1).lower()}://{candidate[typo.end():]}"
        raise UsageError(f"host {shown!r} is not a URL: its scheme is mistyped", f"use {meant[:80]}")
    if "://" not in candidate:
        candidate = "https://" + candidate
    try:
        parts = urlsplit(candidate)
        parts.hostname  # noqa: B018 — an unclosed `[::1` is found here or above
    except ValueError as exc:
        raise UsageError(f"host {shown!r} is not a valid URL ({exc})",
                         "write an IPv6 address in brackets with the port after them, e.g. http://[::1]:9200") from None
    scheme = parts.scheme.lower()
    if "@" in parts.netloc:
        raise UsageError("the host URL holds user:password@ credentials, which orx-elastic does not take from a URL",
                         "remove them from --host; use an API key (--id/--api-key), or --username for create-key")
    if scheme not in SCHEMES or not parts.hostname:
        raise UsageError(f"host {shown!r} is not an http(s) address", "use e.g. https://es.example.com:9200")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"host {shown!r} has an invalid port", "use a port from 1 to 65535") from None
    if port == 0:
        raise UsageError(f"host {shown!r} has an invalid port", "use a port from 1 to 65535")
    if parts.query or parts.fragment or "?" in candidate or "#" in candidate:
        raise UsageError(f"host {shown!r} has a query or fragment", "give only scheme, host, port and path prefix")
    return Endpoint(scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))


def scheme_note(text: str) -> str | None:
    """What to tell a user whose host names no scheme (`127.0.0.1:9200`): https was assumed."""
    candidate = text.strip()
    if not candidate or "://" in candidate or _MISTYPED_SCHEME.match(candidate):
        return None  # a mistyped scheme (`http//host`) is refused by parse_host: no assumption to tell
    return (f"no scheme in the host {candidate[:60]!r}: assumed https://{candidate[:60]} (Elasticsearch's default "
            f"since 8.0); if it serves plain HTTP, give http://{candidate[:60]}")


def parse_cloud_id(cloud_id: str) -> Endpoint:
    """An Elastic Cloud id (`name:base64(domain[:port]$es_uuid$kibana_uuid)`) -> its https endpoint."""
    from elastic_transport.client_utils import parse_cloud_id as transport_parse

    try:
        address = transport_parse(cloud_id.strip()).es_address
    except ValueError:
        address = None
    if address is None:
        raise UsageError("the cloud id is not valid", "copy it from the Elastic Cloud console (name:base64...)")
    hostname, port = address
    return Endpoint("https", hostname.lower(), port)
