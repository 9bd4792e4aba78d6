"""The client's JSON serializers: as the official client's, except that a search page can stay undecoded.

Built on `elastic_transport`'s serializers (the official client's subclass only adds numpy and pandas
values, which the tool never sends), so the lookup's client imports no `elasticsearch` module. Which
bodies stay raw, and why, is `elastic_cli.cluster.raw_pages`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from elastic_transport import JsonSerializer, NdjsonSerializer, Serializer

from elastic_cli.cluster.raw_pages import RawPage, keep_raw


class PageKeepingJsonSerializer(JsonSerializer):
    def loads(self, data: bytes) -> Any:
        if keep_raw(data):
            return RawPage(data)
        return super().loads(data)


class _CompatNdjsonSerializer(NdjsonSerializer):
    mimetype: ClassVar[str] = "application/vnd.elasticsearch+x-ndjson"


def transport_serializers() -> dict[str, Serializer]:
    """By mimetype, as the official client gives them to its transport, with the page-keeping JSON one
    for JSON and its compatibility mimetype (the one the client asks for)."""
    json = PageKeepingJsonSerializer()
    return {"application/json": json, "application/vnd.elasticsearch+json": json,
            "application/x-ndjson": NdjsonSerializer(), _CompatNdjsonSerializer.mimetype: _CompatNdjsonSerializer()}
