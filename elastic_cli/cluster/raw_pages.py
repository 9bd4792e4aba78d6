"""Search pages kept as bytes until the pager decodes them, so the next page can be asked for first.

An export's next request needs the last sort key of the page before it. Decoding a
page of 5000 hits takes about 10 ms, and the next request used to wait for it. The
last key can be read from the end of the raw bytes at once; the pager sends the next
request with it, decodes while the server works, then checks the guess against the
decoded page (and asks again if it was wrong, so a guess can only cost a request).

Only the pager asks for raw pages (`raw_search_pages`), on its own thread, and only a
successful point-in-time search body is kept raw: everything else, errors included,
is decoded by the client as always. No heavy imports: the client's serializer that
calls `keep_raw` lives in `elastic_cli.cluster.serializer`.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

# a search through a point in time answers {"pit_id":..., "took":..., ..., "hits":{...}}
_PIT_PAGE_START = b'{"pit_id":'
_SORT_KEY = b'"sort":['
_HIT_ID_KEY = b'"_id":'

_local = threading.local()


@dataclass(frozen=True)
class RawPage:
    """A search response body as the server sent it."""

    data: bytes

    def decode(self) -> Any:
        try:
            return json.loads(self.data)
        except ValueError as exc:  # as the client's own serializer reports it
            from elastic_transport import SerializationError

            raise SerializationError(f"Unable to deserialize as JSON: {self.data[:200]!r}", errors=(exc,)) from exc


@contextmanager
def raw_search_pages() -> Iterator[None]:
    """In this thread, a point-in-time search answers with a RawPage instead of a dict."""
    _local.raw = True
    try:
        yield
    finally:
        _local.raw = False


def keep_raw(data: bytes) -> bool:
    """True when the serializer should hand `data` on undecoded (see raw_search_pages)."""
    return getattr(_local, "raw", False) and data.startswith(_PIT_PAGE_START)


def raw_pit_id(data: bytes) -> str | None:
    """The point in time id a raw page starts with (ids are base64: no quote inside)."""
    if not data.startswith(_PIT_PAGE_START + b'"'):
        return None
    end = data.find(b'"', len(_PIT_PAGE_START) + 1)
    return data[len(_PIT_PAGE_START) + 1:end].decode("ascii", "replace") if end > 0 else None


def may_be_full(data: bytes, page_size: int) -> bool:
    """False when the page surely holds fewer than page_size hits (each hit has one `"_id":`
    key; a key inside a string is escaped, so text never adds one, and nested objects named
    _id can only make this say True wrongly, which costs one request)."""
    return data.count(_HIT_ID_KEY) >= page_size


def last_sort_key(data: bytes) -> list[Any] | None:
    """The `sort` values of the page's last hit, read from the end of the bytes, or None.

    A guess: each hit ends with its sort values, so the last `"sort":[` is the last hit's,
    unless a document holds such a field after it. The pager checks every guess against
    the decoded page before it relies on the answer.
    """
    start = data.rfind(_SORT_KEY)
    if start < 0:
        return None
    start += len(_SORT_KEY) - 1
    end = data.find(b"]", start)
    if end < 0:
        return None
    try:
        values = json.loads(data[start:end + 1])
    except ValueError:
        return None
    return values if isinstance(values, list) and values else None
