"""The values OpenReplay's dashboard asks for, in each generation's own field names (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from elastic_cli.config.settings import mask_secret

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

V120 = "OpenReplay up to v1.20 (Preferences > Integrations > Elasticsearch)"
V121 = "OpenReplay v1.21 and later"


def dashboard_forms(settings: Settings, reveal: bool = False) -> dict[str, dict[str, Any]]:
    secret = settings.api_key if reveal else mask_secret(settings.api_key)
    return {
        V120: {
            "host": settings.host,
            "port": settings.port,
            "apiKeyId": settings.id or "",
            "apiKey": secret,
            "indexes": settings.indexes,
        },
        V121: {
            # v1.21 stores everything as strings and searches index `logs` itself
            "url": settings.url,
            "api_key_id": settings.id or "",
            "api_key": secret,
            "indexes": settings.indexes,
        },
    }
