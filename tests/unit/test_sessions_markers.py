"""Reading session markers out of a line (pure), and the rows they fold into."""

from __future__ import annotations

import re

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
    # a line counts for exactly the sessions `logs` shows it for: a token's base36 id and its dot
    ("openReplaySessionToken=not.a.token", {str(int("not", 36)): GENERATION_TOKEN}, 0),
    (f"openReplaySessionToken={TOKEN[:-5]}", {ID: GENERATION_TOKEN}, 0),  # a cut-off token: `logs` shows it
    ("openReplaySessionToken=noDot", {}, 1),
    (f"OPENREPLAYSESSIONTOKEN={TOKEN}", {}, 1),  # a token in other letters is not the one the tracker signed
    (f"openReplaySessionToken=0{TOKEN}", {}, 1),  # a leading zero: no session's token starts so
    ("openReplaySession.id=", {}, 1),
    # the v1.21+ spellings `logs` finds (issue 36 item 6): any case, any punctuation before the id
    (f"ctx:openReplaySession.id={ID} glued", {ID: GENERATION_ID}, 0),
    (f"OPENREPLAYSESSION.ID={ID}", {ID: GENERATION_ID}, 0),
    (f"openReplaySession.id: {ID}", {ID: GENERATION_ID}, 0),
    (f'{{"openReplaySession.id":"{ID}"}}', {ID: GENERATION_ID}, 0),
    (f"openReplaySession.id= {ID}", {ID: GENERATION_ID}, 0),
    (f"openReplaySession.id=0{ID}", {}, 1),  # a leading zero: `logs {ID}` does not show it
    (f"openReplaySession.id={ID}.5", {}, 1),  # a longer value, not this id
    (f"openReplaySession.id_{ID}", {}, 0),  # not a marker (`logs` reads none there)
    (f"openReplaySession.id={2**64}", {}, 1),  # no session id is that large
    ("openReplaySession.id=" + "7" * 5000, {}, 1),  # far longer than an id: none, and no crash
    ("openReplaySessionToken=" + "z" * 5000 + ".x", {}, 1),
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


_FRAGMENTS = st.sampled_from([
    "openReplaySession.id", "OPENREPLAYSESSION.ID", "openreplaysession.Id", "openReplaySessionToken",
    "OpenReplaySessionToken", "=", ": ", "= ", '":"', "_", ".", "-", " ", "ctx:", "[", "]", "0", "7", "12", "123",
    "18446744073709551615", "18446744073709551616", "2618307011354435587", "jw4wdfpgqhoj", "a", "z0", "k1", "\n",
    "é",
])


@given(parts=st.lists(_FRAGMENTS, max_size=14))
def test_a_line_counts_for_exactly_the_sessions_logs_shows_it_for(parts):
    """`sessions` and `logs` agree on every line: a session has a row for a line exactly when `logs <id>`
    keeps it (`contains_marker`), whatever the case, punctuation, glue or a longer id around it."""
    line = "".join(parts)
    found, _ = sessions_in_line(line)
    candidates = set(found)
    for run in re.findall(r"[0-9]+", line):
        for end in range(1, len(run) + 1):  # every id a prefix of a run of digits would be
            candidates.add(str(int(run[:end])))
    for run in re.findall(r"[0-9a-z]+", line):
        for end in range(1, len(run) + 1):
            candidates.add(str(int(run[:end], 36)))
    for session_id in candidates:
        if int(session_id) >= 2**64:
            continue
        shown = any(contains_marker(line, m) for m in markers(parse_session_ref(session_id)))
        assert (session_id in found) == shown, (session_id, line)


def test_marked_lines_query_per_mapping_and_analysis():
    """The clauses of `logs` without an id: on text (split) the markers' names and the marker's word inside
    any term (glued to a word before it); on keyword a regexp with any case and punctuation, and the lines
    past ignore_above (`_ignored`)."""
    assert marked_lines_query("message", False) == {"bool": {"should": [
        {"match_phrase": {"message": "openReplaySession.id"}},
        {"wildcard": {"message": {"value": "*openreplaysession*", "case_insensitive": True}}},
        {"match_phrase": {"message": "openReplaySessionToken"}}], "minimum_should_match": 1}}
    assert marked_lines_query("message", True) == {"bool": {"should": [
        {"regexp": {"message": {"value": ".*openReplaySession\\.id[^0-9A-Za-z_].*", "flags": "NONE",
                                "case_insensitive": True}}},
        {"regexp": {"message": {"value": ".*openReplaySessionToken=.*", "flags": "NONE", "case_insensitive": True}}},
        {"term": {"_ignored": "message"}}], "minimum_should_match": 1}}
    assert marked_lines_query("message", False, "dropped")["bool"]["should"] == [
        {"match_phrase": {"message": "openReplaySession.id"}}, {"match_phrase": {"message": "openReplaySessionToken"}}]
    assert marked_lines_query("message", False, "whole")["bool"]["should"] == [
        {"wildcard": {"message": {"value": "*openreplaysession*", "case_insensitive": True}}}]

