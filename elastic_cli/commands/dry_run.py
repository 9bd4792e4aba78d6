"""`--dry-run` of the commands that change the cluster (create-key, alias): the request as a Kibana
console request and as a curl command, sent nowhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext


def print_request(app: AppContext, settings: Any, admin: Any, endpoint: str, body: Mapping[str, Any]) -> None:
    """Both forms of `POST <endpoint>`, for the admin credentials given (`admin.curl_auth`): curl asks
    for the password, or reads the admin API key from its variable; no secret is printed."""
    from elastic_cli.cluster.curl import console_post, curl_post
    from elastic_cli.keys.admin import ADMIN_API_KEY_ENV

    app.print("# Kibana Dev Tools > Console:")
    app.print(console_post(endpoint, body))
    app.print("# or curl (asks for the password):" if admin.curl_auth != ADMIN_API_KEY_ENV
               else f"# or curl (reads ${ADMIN_API_KEY_ENV}):")
    app.print(curl_post(settings.url, endpoint, body, admin.curl_auth, ca_certs=settings.ca_certs,
                         insecure=not settings.verify_certs, api_key_env=ADMIN_API_KEY_ENV), end="")
