"""The lookup's core call, from Python without click: `prepare` is pure (what the flags and the
settings ask for), `explain` shows the first request without connecting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from elastic_cli.config.file import ConfigFile
from elastic_cli.config.settings import resolve
from elastic_cli.errors import UsageError
from elastic_cli.openreplay.session_token import parse_session_ref
from elastic_cli.search.lookup import LookupRequest, explain, prepare
from elastic_cli.search.session_logs import Export, Limited

TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
STARTED = datetime(2024, 1, 24, 2, 27, 39, 324_000, tzinfo=timezone.utc)  # decoded from the token's id
NOW = datetime(2024, 1, 25, tzinfo=timezone.utc)


def settings(**flags):
    base = {"host": "http://127.0.0.1:9200", "id": "kid", "api_key": "secret", "indexes": "app-*,web-*"}
    return resolve(ConfigFile(path=Path("/nonexistent")), None, {**base, **flags}, environ={})


def test_a_lookup_starts_a_margin_before_the_session_and_finds_both_markers():
    search = prepare(settings(), parse_session_ref(TOKEN), LookupRequest(), NOW)
    assert search.started == STARTED
    assert search.window is not None and search.window.since == STARTED - timedelta(days=1)
    assert search.query.since == search.window.since and search.query.errors_only
    assert [m.text for m in search.query.markers] == ["openReplaySession.id=2618307011354435587",
                                                       "openReplaySessionToken=jw4wdfpgqhoj."]
    assert search.patterns == ("app-*", "web-*") and search.mode == Limited(100)


def test_since_replaces_the_window_and_the_margin_comes_from_the_settings():
    since = NOW - timedelta(hours=2)
    search = prepare(settings(), parse_session_ref(TOKEN), LookupRequest(since=since), NOW)
    assert search.window is None and search.query.since == since
    search = prepare(settings(session_margin="6h"), parse_session_ref(TOKEN), LookupRequest(), NOW)
    assert search.window is not None and search.window.since == STARTED - timedelta(hours=6)
    assert prepare(settings(), parse_session_ref(TOKEN), LookupRequest(session_window=False), NOW).query.since is None


def test_explain_shows_a_lookups_first_page_and_an_exports_point_in_time():
    ref = parse_session_ref(TOKEN)
    looked = explain(prepare(settings(), ref, LookupRequest(mode=Limited(10)), NOW))
    assert looked["request"] == "POST /_msearch" and looked["body"]["size"] == 11
    assert looked["body"]["sort"][-1] == {"_doc": {"order": "asc"}} and "pit" not in looked["body"]
    exported = explain(prepare(settings(), ref, LookupRequest(mode=Export(), reverse=True), NOW))
    assert exported["request"] == "POST /_search" and "pit" in exported["body"]
    assert exported["body"]["sort"][-1] == {"_shard_doc": {"order": "desc"}}


def test_until_before_the_session_window_names_the_window_not_since():
    until = STARTED - timedelta(days=2)
    try:
        prepare(settings(), parse_session_ref(TOKEN), LookupRequest(until=until), NOW)
    except UsageError as exc:
        assert "--until (2024-01-22T02:27:39.324Z) is before the session window" in exc.message
        assert "session start" in exc.message and "--no-session-window" in (exc.hint or "")
    else:
        raise AssertionError("a window after --until was not refused")
    # without the window, nothing to refuse
    assert prepare(settings(), parse_session_ref(TOKEN), LookupRequest(until=until, session_window=False), NOW)
