"""The quick start's sample dated relative to now (issue 39): the same two sessions as the fixed 2024
sample, with ids and tokens that say they started minutes ago, as the tool decodes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import parse_session_ref, session_start
from es_sandbox import sample_data
from es_sandbox.sample_data import FIXED_SESSIONS, RECENT_MINUTES_AGO, recent_sessions, sample_documents

FIXED_START_MS = 1706063259324  # 2024-01-24T02:27:39.324Z, what the fixed ids encode


def test_dated_at_the_fixed_start_it_is_the_fixed_sample():
    """The construction is the fixed sample's own: same low bits, delays, lifetimes and signatures."""
    assert recent_sessions(FIXED_START_MS + RECENT_MINUTES_AGO * 60_000) == FIXED_SESSIONS


@pytest.mark.parametrize("now", ["2026-12-08T00:07:23.123Z", "2031-06-30T23:59:59.999Z", "2027-01-01T00:00:00.000Z"])
def test_recent_sessions_start_minutes_before_now_as_the_tool_decodes_them(now):
    moment = datetime.strptime(now, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    now_ms = int(moment.timestamp() * 1000)
    sessions = recent_sessions(now_ms)
    started = moment - timedelta(minutes=RECENT_MINUTES_AGO)
    for token, session_id in ((sessions.token, sessions.session_id), (sessions.token_2, sessions.session_id_2)):
        ref = parse_session_ref(token)  # a token of OpenReplay's shape, its id the session's
        assert ref.session_id == str(session_id)
        assert session_start(ref.session_id, moment) == started
        assert ref.expires_at > moment
    assert sessions.start == sample_data._iso_ms(now_ms - RECENT_MINUTES_AGO * 60_000)
    assert "-" in sessions.token_2.split(".")[1]  # the second token keeps its negative delay


def test_recent_documents_are_the_fixed_lines_with_the_recent_markers_and_times():
    sessions = recent_sessions(1_800_000_000_000)
    fixed, recent = sample_documents(), sample_documents(sessions)
    assert [len(v) for v in fixed.values()] == [len(v) for v in recent.values()]
    for index in fixed:
        for old, new in zip(fixed[index], recent[index]):
            expected = (old["message"].replace(FIXED_SESSIONS.token, sessions.token)
                        .replace(FIXED_SESSIONS.token_2, sessions.token_2)
                        .replace(str(FIXED_SESSIONS.session_id), str(sessions.session_id))
                        .replace(str(FIXED_SESSIONS.session_id_2), str(sessions.session_id_2)))
            assert new["message"] == expected and new["tags"] == old["tags"]
            shift = (datetime.strptime(new["utc_time"], "%Y-%m-%dT%H:%M:%S.%fZ")
                     - datetime.strptime(old["utc_time"], "%Y-%m-%dT%H:%M:%S.%fZ"))
            assert shift == timedelta(milliseconds=1_800_000_000_000 - RECENT_MINUTES_AGO * 60_000 - FIXED_START_MS)
