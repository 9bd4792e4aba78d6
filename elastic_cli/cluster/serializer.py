"""The client's JSON serializer: as the client's own, except that it can leave a search page undecoded.

Imported only by `connection.build_client` (it imports the client). Which bodies stay
raw, and why, is `elastic_cli.cluster.raw_pages`.
"""

from __future__ import annotations

from typing import Any

from elasticsearch.serializer import JsonSerializer

from elastic_cli.cluster.raw_pages import RawPage, keep_raw


class PageKeepingJsonSerializer(JsonSerializer):
    def loads(self, data: bytes) -> Any:
        if keep_raw(data):
            return RawPage(data)
        return super().loads(data)
