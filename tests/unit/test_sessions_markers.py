"""Reading session markers out of a line (pure), and the rows they fold into."""

from __future__ import annotations

import pytest
from elastic_cli.openreplay.session_token import contains_marker, markers, parse_session_ref, to_base36
from elastic_cli.search.sessions import GENERATION_ID, GENERATION_TOKEN, marked_lines_query, sessions_in_line
from hypothesis import given
from hypothesis import strategies as st

TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
ID = "2618307011354435587"


@pytest.mark.parametrize("line, sessions, unparsed", [
    (f"openReplaySession.id={ID} boom", {ID: GENERATION_ID}, 0),
    (f"[openReplaySessionToken={TOKEN}] boom", {ID: GENERATION_TOKEN}, 0),
    (f"refund refused for openReplaySession.id={ID}.", {ID: GENERATION_ID}, 0),  # a full stop ends the id
    (f"openReplaySessionToken={TOKEN}. next", {ID: GENERATION_TOKEN}, 0),
    (f"openReplaySessionToken={TOKEN} openReplaySession.id={ID}", {ID: GENERATION_ID}, 0),  # one session, once
    (f"openReplaySession.id={ID}a", {}, 1),  # not an id
    ("openReplaySessionToken=not.a.token", {}, 1),
    (f"openReplaySessionToken={TOKEN[:-5]}", {}, 1),  # a cut-off token
    ("openReplaySession.id=", {}, 1),
    ("openReplaySession.id=1 openReplaySession.id=2", {"1": GENERATION_ID, "2": GENERATION_ID}, 0),
    ("no marker at all", {}, 0),
])
def test_markers_in_a_line(line, sessions, unparsed):
    assert sessions_in_line(line) == (sessions, unparsed)


@given(session_id=st.integers(0, 2**64 - 1), before=st.sampled_from(["", "x ", "[", "id:"]),
       after=st.sampled_from(["", " ", "]", ".", ". next", ",user=1", "\n"]))
def test_a_line_names_exactly_the_sessions_whose_markers_logs_would_match(session_id, before, after):
    line = f"{before}openReplaySession.id={session_id}{after}"
    found, unparsed = sessions_in_line(line)
    assert found == {str(session_id): GENERATION_ID} and unparsed == 0
    # and `logs` for that id matches the same line, while `logs` for a prefix of the id does not
    assert any(contains_marker(line, m) for m in markers(parse_session_ref(str(session_id))))
    if session_id >= 10:
        assert not any(contains_marker(line, m) for m in markers(parse_session_ref(str(session_id)[:-1])))


def test_an_id_prefix_of_another_makes_no_row_of_its_own():
    longer = "123456789"
    found, _ = sessions_in_line(f"openReplaySession.id={longer} and openReplaySessionToken={to_base36(int(longer))}"
                                f".3az.lrraavgc.{TOKEN.split('.')[-1]}")
    assert found == {longer: GENERATION_ID}  # never 12345678, whose base36 is a prefix too


def test_marked_lines_query_per_mapping():
    assert marked_lines_query("message", False) == {"bool": {"should": [
        {"match_phrase": {"message": "openReplaySessionToken"}},
        {"match_phrase": {"message": "openReplaySession.id"}}], "minimum_should_match": 1}}
    assert marked_lines_query("message", True) == {"regexp": {"message": {
        "value": ".*(openReplaySessionToken=|openReplaySession\\.id=).*", "flags": "NONE"}}}

