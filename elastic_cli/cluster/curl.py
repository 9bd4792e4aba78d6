"""A request as it is pasted (`--dry-run`): the Kibana Dev Tools console form and a curl command for a
POSIX shell, never with a secret in either."""

from __future__ import annotations

import json
import shlex
from typing import Any, Mapping


def curl_post(url: str, endpoint: str, body: Mapping[str, Any], auth_hint: str | None = None,
              ca_certs: str | None = None, insecure: bool = False, api_key_env: str = "") -> str:
    """`POST <url><endpoint>` with `body`. The password is never in it: `-u USER` makes curl prompt
    for it; with `auth_hint == api_key_env` an API key is read from that environment variable."""
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url.rstrip("/") + endpoint)]
    if api_key_env and auth_hint == api_key_env:
        parts += ["-H", f'"Authorization: ApiKey ${api_key_env}"']
    else:
        parts += ["-u", shlex.quote(auth_hint or "USERNAME")]
    if ca_certs:
        parts += ["--cacert", shlex.quote(ca_certs)]
    elif insecure:
        parts.append("-k")
    parts += ["-H", shlex.quote("Content-Type: application/json"),
              "--data-binary", shlex.quote(json.dumps(body, indent=2, ensure_ascii=False))]
    return " ".join(parts) + "\n"


def console_post(endpoint: str, body: Mapping[str, Any]) -> str:
    """Kibana Dev Tools form of `POST <endpoint>` with `body`: paste it into Console."""
    return f"POST {endpoint}\n{json.dumps(body, indent=2, ensure_ascii=False)}\n"
