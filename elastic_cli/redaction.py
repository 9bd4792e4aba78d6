"""Keeps secrets out of anything printed: errors, --debug logs, tracebacks.

Secrets are registered as soon as they are read (settings, prompts), and every
text shown to the user on an error path goes through `redact`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import logging

_secrets: set[str] = set()
# Authorization headers as the transport logs them, whatever the key.
_AUTH_HEADER = re.compile(r"(?i)\b(authorization['\"]?\s*[:=]\s*['\"]?(?:apikey|basic|bearer)\s+)[A-Za-z0-9+/=._\-]+")
# secrets inside JSON bodies, as --debug logs them (a create-key response carries the new key)
_JSON_SECRET = re.compile(r'("(?:api_key|encoded|password)"\s*:\s*")[^"]*(")')
_MASK = "***"
# A secret is masked only as a whole value: not glued to a word by letters, digits or
# -_+/~ (so a password `elastic` leaves `orx-elastic` and `elastic_transport` alone), and
# not followed by `.word` (a host name), while `=`, `:`, quotes, spaces and a final full
# stop end it (flags, headers, JSON, id:secret, sentences).
_WORD = r"A-Za-z0-9_\-+/~"
_BEFORE = rf"(?<![{_WORD}.])"
_AFTER = rf"(?![{_WORD}]|\.[A-Za-z0-9])"
_pattern: re.Pattern[str] | None = None


def register_secret(secret: str | None) -> None:
    global _pattern
    if secret and len(secret) >= 4:
        _secrets.add(secret)
        # the encoded forms hide the same secret
        import base64

        if ":" in secret:
            _secrets.add(base64.b64encode(secret.encode()).decode())
        _pattern = None  # rebuilt on next use


def _secret_pattern() -> re.Pattern[str] | None:
    global _pattern
    if _pattern is None and _secrets:
        alternatives = "|".join(re.escape(secret) for secret in sorted(_secrets, key=len, reverse=True))
        _pattern = re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}")
    return _pattern


def redact(text: str) -> str:
    text = _AUTH_HEADER.sub(r"\1" + _MASK, text)
    text = _JSON_SECRET.sub(r"\1" + _MASK + r"\2", text)
    pattern = _secret_pattern()
    return pattern.sub(_MASK, text) if pattern else text


def redacting_formatter(fmt: str, then: Callable[[str], str] = lambda text: text) -> logging.Formatter:
    """A log formatter whose every line goes through `redact`, then `then` (for --debug: made inert;
    logging is imported here, not with this module, which every command loads: 4 ms of start-up)."""
    import logging

    class RedactingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return then(redact(super().format(record)))

    return RedactingFormatter(fmt)
