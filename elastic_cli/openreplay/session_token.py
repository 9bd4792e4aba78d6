"""OpenReplay session references: a session token or a numeric session id (pure).

OpenReplay's backend (`backend/pkg/token/tokenizer.go`) composes a token as
four dot-separated parts::

    base36(session id) . base36(delay) . base36(expiry ms) . base58(HMAC-SHA256)

The session id and the expiry can be read without the secret; the signature
cannot be checked without it, so we only check that it has the right shape.
Validation is strict on purpose: the value ends up in an Elasticsearch query,
so anything that is not exactly a token or an id (query syntax, spaces,
binary) is refused here with a message the user can act on.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from elastic_cli.errors import UsageError

# What a log line carries, per OpenReplay generation (<= v1.20 / >= v1.21).
TOKEN_MARKER_PREFIX = "openReplaySessionToken="
SESSION_ID_MARKER_PREFIX = "openReplaySession.id="

MAX_TOKEN_LENGTH = 200
MAX_SESSION_ID_DIGITS = 20
_UINT64_MAX = 2**64 - 1
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
_SIGNATURE_BYTES = 32  # HMAC-SHA256

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {c: i for i, c in enumerate(BASE58_ALPHABET)}

# Explicit ASCII classes: `\d` and str.isdigit() also accept non-ASCII digits.
_SESSION_ID_RE = re.compile(r"[0-9]+")
_BASE36_RE = re.compile(r"[0-9a-z]+")
_SIGNED_BASE36_RE = re.compile(r"-?[0-9a-z]+")
_BASE58_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")

# Characters that can continue a token or an id; a marker followed by one of
# them is part of a longer value, not a match.
_TOKEN_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_REPLAY_URL = re.compile(r"^https?://[^\s]*/session/(?P<id>[0-9]{1,20})/?(?:[?#][^\s]*)?$")
_EXAMPLE_TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
_HINT = (
    "Give a session token such as "
    f"{_EXAMPLE_TOKEN} (id.delay.expiry.signature, "
    "from the X-OpenReplay-SessionToken header or an openReplaySessionToken= log marker) "
    "or a numeric session id such as 2618307011354435587."
)


@dataclass(frozen=True)
class SessionRef:
    """One session, as the user named it: the id always, the token when given."""

    session_id: str  # decimal digits, no leading zeros
    token: str | None = None
    expires_at: datetime | None = None  # UTC, aware; only known from a token
    from_url: bool = False  # taken from a replay link pasted from the browser


def _escaped(text: str, limit: int) -> str:
    shown = repr(text).encode("ascii", "backslashreplace").decode("ascii")
    return shown if len(shown) <= 2 * limit else shown[: 2 * limit] + "'"  # escapes: 10 characters each


def _shown(text: str, limit: int = 40) -> str:
    """A short, escaped rendering of user input, so errors stay one line and safe to print: its
    start and its end, where a character pasted with a token (a comma, a quote) sits."""
    if len(text) <= limit:
        return _escaped(text, limit)
    tail = limit // 2
    return (_escaped(text[: limit - tail], limit - tail) + " ... " + _escaped(text[-tail:], tail)
            + f" ({len(text)} characters)")


def _stray_edge(value: str) -> str | None:
    """Why a value cannot be a token or an id because of its first or last character: a token and
    an id start and end with a letter or a digit, so a quote, comma or full stop was pasted with it."""
    for where, char in (("starts", value[0]), ("ends", value[-1])):
        if not (char.isascii() and char.isalnum()):
            return f"it {where} with {char!r}: pasted with it? remove it"
    return None


def _invalid(text: str, why: str) -> UsageError:
    return UsageError(f"not a session token or session id: {_shown(text)} ({why})", hint=_HINT)


def _base58_decoded_length(text: str) -> int:
    """Byte length of a base58 string, to tell a whole signature from a truncated one."""
    number = 0
    for char in text:
        number = number * 58 + _BASE58_INDEX[char]
    leading_zero_bytes = len(text) - len(text.lstrip("1"))
    return leading_zero_bytes + (number.bit_length() + 7) // 8


def parse_session_ref(text: str) -> SessionRef:  # noqa: C901 — each accepted form (token, id, replay link) with its own error
    """Parse a session token or a numeric session id; raise UsageError for anything else."""
    if not isinstance(text, str):
        raise _invalid(repr(text), "not text")
    value = text.strip()
    replay = _REPLAY_URL.match(value)
    if replay:
        # a replay link copied from the browser: <dashboard>/<project>/session/<id>[?jumpto=...]
        return replace(parse_session_ref(replay.group("id")), from_url=True)
    # a marker copied whole from a log line is what the user meant: take what follows it
    for prefix in (TOKEN_MARKER_PREFIX, SESSION_ID_MARKER_PREFIX):
        if value.startswith(prefix):
            value = value[len(prefix):]
    if not value:
        raise _invalid(text, "empty")
    stray = _stray_edge(value)
    if stray:
        raise _invalid(value, stray)

    if _SESSION_ID_RE.fullmatch(value):
        if len(value) > MAX_SESSION_ID_DIGITS or int(value) > _UINT64_MAX:
            raise _invalid(value, "session id is larger than a 64-bit unsigned integer")
        return SessionRef(session_id=str(int(value)))

    if len(value) > MAX_TOKEN_LENGTH:
        raise _invalid(value, f"longer than {MAX_TOKEN_LENGTH} characters")
    parts = value.split(".")
    if len(parts) != 4:
        raise _invalid(value, f"a token has 4 dot-separated parts, this has {len(parts)}")
    id_part, delay_part, expiry_part, signature = parts

    if not _BASE36_RE.fullmatch(id_part):
        raise _invalid(value, "session id part must be lowercase base36 [0-9a-z]")
    if not _SIGNED_BASE36_RE.fullmatch(delay_part):
        raise _invalid(value, "delay part must be lowercase base36, optionally negative")
    if not _BASE36_RE.fullmatch(expiry_part):
        raise _invalid(value, "expiry part must be lowercase base36 [0-9a-z]")
    if not _BASE58_RE.fullmatch(signature):
        raise _invalid(value, "signature part must be base58")

    session_id = int(id_part, 36)
    if session_id > _UINT64_MAX:
        raise _invalid(value, "session id is larger than a 64-bit unsigned integer")
    delay = int(delay_part, 36)
    if not _INT64_MIN <= delay <= _INT64_MAX:
        raise _invalid(value, "delay is out of range")
    expiry_ms = int(expiry_part, 36)
    if expiry_ms > _INT64_MAX:
        raise _invalid(value, "expiry is out of range")
    try:
        expires_at = _EPOCH + timedelta(milliseconds=expiry_ms)
    except OverflowError:
        raise _invalid(value, "expiry is not a date") from None
    if _base58_decoded_length(signature) != _SIGNATURE_BYTES:
        # A real HMAC-SHA256 is always 32 bytes: this is usually a truncated copy.
        raise _invalid(value, "signature is not 32 bytes; was the token cut off?")

    return SessionRef(session_id=str(session_id), token=value, expires_at=expires_at)


@dataclass(frozen=True)
class Marker:
    """A literal string that ties a log line to a session.

    `whole`: the marker is a complete value (an id), so a token character right
    after it means a longer, other value. Otherwise it is the start of a value
    (`openReplaySessionToken=<base36 id>.`): whatever token follows belongs to
    this session, because a token's first part is its session id.
    """

    text: str
    whole: bool = True


def markers(ref: SessionRef) -> tuple[Marker, ...]:
    """What a log line of this session carries, for both OpenReplay generations.

    A token and its session id find the same lines: any token of the session
    (`openReplaySessionToken=<base36 id>.…`, a session can be handed more than one)
    and the v1.21+ id marker.
    """
    base36_id = to_base36(int(ref.session_id))
    return (
        Marker(SESSION_ID_MARKER_PREFIX + ref.session_id),
        Marker(TOKEN_MARKER_PREFIX + base36_id + ".", whole=False),
    )


def to_base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def to_base58(data: bytes) -> str:
    """A token's signature part from its bytes (the tracker's alphabet; leading zero bytes as `1`)."""
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, rest = divmod(number, 58)
        text = BASE58_ALPHABET[rest] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def contains_marker(message: str, marker: Marker | str) -> bool:
    """True when `marker` occurs in `message` as this session's, not as the start of another value.

    Elasticsearch's analysed search can return lines of other sessions (e.g. id
    123 when asking for 12, or a token that extends ours); this check drops them.
    A plain string is a whole marker.
    """
    if isinstance(marker, str):
        marker = Marker(marker)
    if not marker.text:
        return False
    if _exactly(message, marker):
        return True
    spelled = _other_spellings(marker.text, marker.whole)
    # the id is in every spelling: only then is the pattern worth running
    return spelled is not None and spelled[1] in message.lower() and spelled[0].search(message) is not None


# what may follow an id: nothing, a character that cannot continue it, or a sentence's [.-] before one
ID_END = r"(?=$|[^0-9A-Za-z.\-]|[.\-](?:$|[^0-9A-Za-z.\-]))"
# what may stand between a v1.21+ marker's name and its id, as OpenReplay's match_phrase reads it
NAME_ID_SEPARATOR = r"[^0-9A-Za-z_]+"


@functools.lru_cache(maxsize=64)
def _other_spellings(text: str, whole: bool) -> tuple[re.Pattern[str], str] | None:
    """The marker as OpenReplay's own searches also find it (issue 36): v1.21+'s match_phrase
    ignores case and the punctuation between the name and the id (`OPENREPLAYSESSION.ID=<id>`,
    `openReplaySession.id= <id>` as console.log(k, v) writes, `openReplaySession.id: <id>`, JSON's
    `"openReplaySession.id":"<id>"`). None for a marker of another form (a canary's nonce), and for
    the v1.20 token: its pattern ignores case, but a token in other letters is not the one the
    tracker signed (v1.20 drops it: "wrong token sign"). With the id, lower case, that every spelling
    holds."""
    name, equals, value = text.rpartition("=")
    if not whole or not equals or not name or not value:
        return None
    return (re.compile(re.escape(name) + NAME_ID_SEPARATOR + re.escape(value) + ID_END, re.IGNORECASE),
            value.lower())


def _exactly(message: str, marker: Marker) -> bool:
    if not marker.whole:
        # the prefix ends with the dot that closes the id: nothing longer can match it
        return marker.text in message
    text = marker.text
    start = message.find(text)
    while start != -1:
        end = start + len(text)
        after = message[end:end + 2]
        if not after or after[0] not in _TOKEN_CHARS:
            return True
        # "... openReplaySession.id=123." : a sentence's full stop is not part of the id
        if after[0] in ".-" and (len(after) == 1 or after[1] not in _TOKEN_CHARS):
            return True
        start = message.find(text, start + 1)
    return False


# OpenReplay's session ids are flake ids (backend/pkg/flakeid): the timestamp sits
# above 24 bits of shard and sequence, counted from this epoch.
FLAKE_EPOCH_MS = 1550000000000
_EARLIEST_PLAUSIBLE_START = datetime(2019, 1, 1, tzinfo=timezone.utc)


def session_start(session_id: str, now: datetime) -> datetime | None:
    """When the session started, decoded from its id; None when the result is implausible
    (in the future, or before 2019), i.e. the id is not laid out as we expect."""
    start = _EPOCH + timedelta(milliseconds=(int(session_id) >> 24) + FLAKE_EPOCH_MS)
    if start > now or start < _EARLIEST_PLAUSIBLE_START:
        return None
    return start
