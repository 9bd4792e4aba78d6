from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.errors import UsageError
from elastic_cli.openreplay.session_token import (
    SESSION_ID_MARKER_PREFIX,
    TOKEN_MARKER_PREFIX,
    Marker,
    SessionRef,
    contains_marker,
    markers,
    parse_session_ref,
    session_start,
)
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLE = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
TOKEN_CHARS = B36 + B36.upper() + ".-"


# Independent encoders, written like Go's strconv.FormatInt and btcutil's base58.Encode.
def base36(n: int) -> str:
    if n < 0:
        return "-" + base36(-n)
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = B36[r] + out
        if n == 0:
            return out


def base58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def compose(session_id: int, delay: int, expiry_ms: int, sig: bytes) -> str:
    return f"{base36(session_id)}.{base36(delay)}.{base36(expiry_ms)}.{base58(sig)}"


SIG = bytes(range(1, 33))


# --- the example from OpenReplay ------------------------------------------------

def test_example_token_decodes_to_session_id_and_expiry():
    ref = parse_session_ref(EXAMPLE)
    assert ref.session_id == "2618307011354435587"
    assert ref.token == EXAMPLE
    assert ref.expires_at == datetime(2024, 1, 24, 4, 27, 39, 324000, tzinfo=timezone.utc)
    assert ref.expires_at.tzinfo is not None


def test_surrounding_whitespace_is_ignored():
    assert parse_session_ref(f"  {EXAMPLE}\n").token == EXAMPLE
    assert parse_session_ref(" 42\t").session_id == "42"


def test_numeric_session_id():
    ref = parse_session_ref("2618307011354435587")
    assert ref == SessionRef(session_id="2618307011354435587", token=None, expires_at=None)


def test_numeric_id_leading_zeros_are_normalised_like_the_backend_prints_them():
    assert parse_session_ref("007").session_id == "7"


def test_largest_uint64_id_is_accepted_and_one_more_is_not():
    assert parse_session_ref(str(2**64 - 1)).session_id == str(2**64 - 1)
    with pytest.raises(UsageError, match="64-bit"):
        parse_session_ref(str(2**64))


def test_negative_delay_is_accepted():
    token = compose(12345, -4283, 1706070459324, SIG)
    assert "-" in token
    ref = parse_session_ref(token)
    assert ref.session_id == "12345"
    assert ref.token == token


def test_ref_is_hashable_and_frozen():
    ref = parse_session_ref(EXAMPLE)
    assert hash(ref) == hash(parse_session_ref(EXAMPLE))
    from dataclasses import FrozenInstanceError

    with pytest.raises(FrozenInstanceError):
        ref.session_id = "1"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "*",
        "12 OR 13",
        '"12"',
        "12\\",
        "12*",
        "-12",
        "+12",
        "12.5",
        "１２",  # full-width digits
        "١٢",  # Arabic-Indic digits
        "\x00\x01binary",
        "abc def",
        EXAMPLE.upper(),  # base36 parts are lowercase
        EXAMPLE.rsplit(".", 1)[0],  # 3 parts
        EXAMPLE + ".x",  # 5 parts
        "jw4wdfpgqhoj..lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q",  # empty delay
        "jw4wdfpgqhoj.--3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q",
        "jw4wdfpgqhoj.3az.-lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q",
        "jw4wdfpgqhoj.3az.lrraavgc.0vJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q",  # 0 not base58
        "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXk",  # signature cut off
        "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q*",
        "1" * 21,
        "9" * 10_000,
        "a" * 100_000,
        compose(2**64, 0, 0, SIG),  # id overflows uint64
        compose(1, 2**63, 0, SIG),  # delay overflows int64
        compose(1, 0, 2**63, SIG),  # expiry overflows int64
        compose(1, 0, 2**62, SIG),  # expiry beyond year 9999
    ],
)
def test_rejects_anything_that_is_not_a_token_or_an_id(text):
    with pytest.raises(UsageError) as info:
        parse_session_ref(text)
    err = info.value
    assert "\n" not in err.message
    assert len(err.message) < 250
    assert err.hint and "jw4wdfpgqhoj" in err.hint


def test_error_does_not_echo_huge_input_and_escapes_control_characters():
    with pytest.raises(UsageError) as info:
        parse_session_ref("\x1b[31m" + "x" * 5000)
    assert "\x1b" not in info.value.message
    assert "x" * 60 not in info.value.message
    assert "5005 characters" in info.value.message


def test_truncated_signature_gets_a_specific_reason():
    with pytest.raises(UsageError, match="cut off"):
        parse_session_ref(EXAMPLE[:-5])


# --- markers ------------------------------------------------------------------

def test_markers_for_a_token_cover_both_openreplay_generations_and_any_token_of_the_session():
    assert markers(parse_session_ref(EXAMPLE)) == (
        Marker(SESSION_ID_MARKER_PREFIX + "2618307011354435587"),
        Marker(TOKEN_MARKER_PREFIX + "jw4wdfpgqhoj.", whole=False),
    )


def test_an_id_finds_the_same_lines_as_its_token():
    assert markers(parse_session_ref("2618307011354435587")) == markers(parse_session_ref(EXAMPLE))
    assert markers(parse_session_ref("12")) == (Marker("openReplaySession.id=12"),
                                               Marker("openReplaySessionToken=c.", whole=False))


@pytest.mark.parametrize("message, expected", [
    (f"[openReplaySessionToken={EXAMPLE}] boom", True),
    ("openReplaySessionToken=jw4wdfpgqhoj.-1.x.y other token of the session", True),
    ("openReplaySessionToken=jw4wdfpgqhojx.3az.lrraavgc.sig longer id", False),
    ("openReplaySessionToken=w4wdfpgqhoj.3az.lrraavgc.sig shorter id", False),
    # v1.20's pattern ignores case, but a token in other letters fails its signature check
    ("openReplaySessionToken=JW4WDFPGQHOJ.3az.lrraavgc.sig other case", False),
    ("openReplaySessionToken=jw4wdfpgqhoj no dot: not a token", False),
])
def test_the_token_prefix_marker_takes_any_token_of_the_session_and_nothing_else(message, expected):
    prefix = markers(parse_session_ref(EXAMPLE))[1]
    assert contains_marker(message, prefix) is expected


@pytest.mark.parametrize("session_id, start", [
    ("2618307011354435587", datetime(2024, 1, 24, 2, 27, 39, 324000, tzinfo=timezone.utc)),
    (str(((1_700_000_000_000 - 1550000000000) << 24) | 0xABCDEF), datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)),
])
def test_a_session_id_encodes_its_start(session_id, start):
    assert session_start(session_id, now=datetime(2026, 1, 1, tzinfo=timezone.utc)) == start


def test_an_implausible_start_is_unknown():
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert session_start("2618307011354435587", now) is None  # after now: another id layout
    assert session_start(str(2**64 - 1), now) is None


@pytest.mark.parametrize(
    "message, expected",
    [
        ("openReplaySession.id=12", True),
        ("error openReplaySession.id=12 failed", True),
        ("openReplaySession.id=12,user=3", True),
        ('{"x":"openReplaySession.id=12"}', True),
        ("openReplaySession.id=12\nnext line", True),
        ("openReplaySession.id=123", False),
        ("openReplaySession.id=12a", False),
        ("openReplaySession.id=12.", True),  # a full stop ends the sentence, not the id
        ("openReplaySession.id=12-", True),
        ("openReplaySession.id=12. next", True),
        ("openReplaySession.id=12.5", False),  # a dot followed by more is a longer value
        ("openReplaySession.id=12-x", False),
        ("openReplaySession.id=12..", False),
        ("openreplaysession.id=12", True),  # any case, as v1.21+'s match_phrase reads it
        ("openReplaySession.id: 12", True),  # any punctuation between the name and the id
        ("openReplaySession.id= 12 ", True),  # console.log(k, v)
        ("openReplaySession.id: 123", False),  # ... never a longer id
        ("openReplaySession.id=1", False),
        ("openReplaySession.id=123 openReplaySession.id=12 ", True),  # second occurrence
        ("", False),
    ],
)
def test_contains_marker_boundaries(message, expected):
    assert contains_marker(message, "openReplaySession.id=12") is expected


def test_contains_marker_token_is_not_matched_by_a_longer_token():
    marker = TOKEN_MARKER_PREFIX + "abc"
    assert not contains_marker("openReplaySessionToken=abcd", marker)
    assert not contains_marker("openReplaySessionToken=abc.d", marker)
    assert contains_marker("x openReplaySessionToken=abc y", marker)


# --- properties ---------------------------------------------------------------

@given(
    session_id=st.integers(0, 2**64 - 1),
    delay=st.integers(-(2**63), 2**63 - 1),
    expiry_ms=st.integers(0, 253402300799999),  # up to 9999-12-31T23:59:59.999Z
    sig=st.binary(min_size=32, max_size=32),
)
def test_any_composed_token_round_trips(session_id, delay, expiry_ms, sig):
    token = compose(session_id, delay, expiry_ms, sig)
    ref = parse_session_ref(token)
    assert ref.session_id == str(session_id)
    assert ref.token == token
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert ref.expires_at == epoch + timedelta(milliseconds=expiry_ms)
    assert markers(ref) == markers(parse_session_ref(str(session_id)))
    # every token of the session carries the prefix marker, the given one included
    assert contains_marker(f"x {TOKEN_MARKER_PREFIX}{token} y", markers(ref)[1])


@given(st.integers(0, 2**64 - 1))
def test_any_uint64_id_round_trips(session_id):
    assert parse_session_ref(str(session_id)).session_id == str(session_id)


@settings(max_examples=500)
@given(st.one_of(st.text(), st.text(alphabet=TOKEN_CHARS + " *\"\\=\n"), st.from_regex(r"[0-9a-z.\-]{0,80}", fullmatch=True)))
def test_arbitrary_text_only_ever_raises_usage_error(text):
    try:
        ref = parse_session_ref(text)
    except UsageError as err:
        assert "\n" not in err.message
        assert len(err.message) < 250
    else:
        assert ref.session_id.isascii() and ref.session_id.isdigit()
        assert int(ref.session_id) < 2**64
        if ref.token is not None:
            assert ref.token.count(".") == 3 and ref.token == text.strip()


@given(
    prefix=st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=30),
    extra=st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=10),
    before=st.text(max_size=20),
    after=st.text(alphabet=" ,;\"'}]\n=", max_size=5),
)
def test_a_marker_never_matches_the_marker_of_a_token_it_strictly_prefixes(prefix, extra, before, after):
    longer = TOKEN_MARKER_PREFIX + prefix + extra
    shorter = TOKEN_MARKER_PREFIX + prefix
    message = before.replace("openReplaySessionToken=", "") + longer + after
    assert contains_marker(message, longer)
    # a lone '.' or '-' right after a value ends the sentence ("... id=12."), so then
    # the shorter marker is the one in the line; any other continuation makes it longer
    assert contains_marker(message, shorter) is (extra in (".", "-"))


@given(st.integers(0, 10**12), st.integers(0, 10**6))
def test_session_id_marker_never_matches_a_longer_id(session_id, more):
    longer = f"{session_id}{more}"
    message = f"GET /api openReplaySession.id={longer} 500"
    assert not contains_marker(message, f"{SESSION_ID_MARKER_PREFIX}{session_id}")
    assert contains_marker(message, f"{SESSION_ID_MARKER_PREFIX}{longer}")


def test_a_marker_pasted_from_a_log_line_is_accepted():
    assert parse_session_ref("openReplaySessionToken=" + EXAMPLE).token == EXAMPLE
    assert parse_session_ref("openReplaySession.id=12").session_id == "12"
    with pytest.raises(UsageError):
        parse_session_ref("openReplaySessionToken=*")


@pytest.mark.parametrize("url", [
    "https://openreplay.example.com/3/session/2618307011354435587",
    "https://app.openreplay.com/51/session/2618307011354435587?jumpto=193000&activeTab=",
    "http://localhost:3333/3/session/2618307011354435587/",
    "https://or.example.com/sub/path/3/session/2618307011354435587#events",
])
def test_a_replay_link_pasted_from_the_browser_gives_its_session_id(url):
    ref = parse_session_ref(url)
    assert (ref.session_id, ref.from_url, ref.token) == ("2618307011354435587", True, None)


@pytest.mark.parametrize("url", ["https://or.example.com/3/session/", "https://or.example.com/3/sessions/12x",
                                 "ftp://or.example.com/3/session/12"])
def test_a_link_that_is_no_replay_link_is_refused(url):
    with pytest.raises(UsageError):
        parse_session_ref(url)


@pytest.mark.parametrize("data", [bytes(32), bytes(range(32)), b"\xff" * 32, b"\x00\x01" + bytes(30)])
def test_to_base58_encodes_a_signature_as_the_tracker_does(data):
    from elastic_cli.openreplay.session_token import to_base58

    assert to_base58(data) == base58(data)
