"""JSON for every writer: compact lines (orjson when installed, else the standard library, the same
text), with C1 controls, DEL and lone surrogates escaped so no terminal ever executes them."""

from __future__ import annotations

import json
import re
from typing import Any, Sequence

# compact, as orjson writes it: the same text with or without orjson (but for the spelling
# of small exponents: 1e-7 against 1e-07, the same value)
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))
# JSON escapes C0 controls itself; C1 (e.g. U+009B, a one-character CSI) must be escaped too,
# and a lone surrogate (from invalid UTF-8) as well: written raw it cannot be encoded at all
_C1 = re.compile("[\x7f-\x9f\ud800-\udfff]")

_orjson_dumps: Any = None  # orjson.dumps once looked up; False when orjson is not installed


def _orjson() -> Any:
    """orjson.dumps, or False when orjson is not installed; imported on first use, so
    commands that print no hits never pay for it."""
    global _orjson_dumps
    if _orjson_dumps is None:
        try:
            from orjson import dumps as _orjson_dumps
        except ImportError:
            _orjson_dumps = False
    return _orjson_dumps


def _encode(record: Any) -> str:
    """orjson when installed (6-8x faster per line: bench/json_codec.py), else the standard
    library; both write the same compact JSON."""
    dumps = _orjson()
    if dumps:
        try:
            return dumps(record, default=str).decode()
        except TypeError:  # integers beyond 64 bits, lone surrogates, non-string keys: as json does them
            pass
    return _ENCODER.encode(record)


def _escape_c1(text: str) -> str:
    if text.isascii() and "\x7f" not in text:  # the usual text: nothing to escape, no scan
        return text
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_line(record: Any) -> str:
    return _escape_c1(_encode(record))


def _json_lines(records: Sequence[Any]) -> list[str]:
    """Records as JSON lines, each ending with a newline: `_json_line` for a page at once
    (one lookup of the encoder; written with one `writelines`, which keeps memory flat)."""
    dumps = _orjson()
    if dumps:
        try:
            return [_escape_c1(dumps(record, default=str).decode()) + "\n" for record in records]
        except TypeError:  # a value orjson refuses (see `_encode`): this page line by line
            pass
    return [_json_line(record) + "\n" for record in records]


def json_text(data: Any, indent: int | None = None) -> str:
    """JSON as every writer writes it: controls escaped (JSON escapes C0 itself; C1, DEL and lone
    surrogates as \\u0080 too)."""
    if indent is None:
        return _json_line(data)
    return _escape_c1(json.dumps(data, indent=indent, ensure_ascii=False, default=str))
