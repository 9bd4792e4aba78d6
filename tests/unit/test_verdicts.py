"""What each OpenReplay generation shows of a line (pure verdicts, no cluster)."""

from __future__ import annotations

from elastic_cli.openreplay.verdicts import (
    NEVER_COLOURED,
    V120,
    V121,
    Answer,
    judge,
    panel_ruin,
    poller_ruin,
    summarize,
    v120_probe,
    v120_request,
    v120_verdict,
    v121_phrase_matches,
    v121_request,
    v121_verdict,
)
from elastic_cli.search.session_line import SessionLine

TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
SID = "2618307011354435587"
NEG = "jw4wdfpgqhoj.-3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"


def line(_id="1", index="logs", **source):
    """A line as `logs` reads it (verdicts take any `Line`: the search's SessionLine is one)."""
    return SessionLine({"_index": index, "_id": _id, "_source": source}, 1_706_063_400_000, None, index, None)


def both(message, **source):
    return line(message=message, **source)


GOOD_121 = dict(level="error", **{"@timestamp": "2024-01-24T02:30:00Z"})
GOOD_120 = dict(utc_time="2024-01-24T02:30:00Z", tags=["error"])


def hits(*lines):
    return frozenset(ln.id for ln in lines)


def test_requests_have_the_exact_shapes_openreplay_sends():
    assert v121_request(SID).path == "/logs/_search"
    assert v121_request(SID).body == {"size": 1000, "query": {"match_phrase": {"message": f"openReplaySession.id={SID}"}}}
    old = v120_request("*log*", 5)
    assert old.path == "/*log*/_search" and old.params["sort"] == "utc_time:asc" and old.params["size"] == 1000
    assert old.body["query"]["bool"]["filter"] == [
        {"match": {"message": {"query": "openReplaySessionToken="}}},
        {"range": {"utc_time": {"gte": "5", "lte": "now"}}},
        {"term": {"tags": "error"}}]
    probe = v120_probe("*log*", 5, ["a", "b"])
    assert probe.body["query"]["bool"]["filter"][:3] == old.body["query"]["bool"]["filter"]
    assert probe.body["query"]["bool"]["filter"][3] == {"ids": {"values": ["a", "b"]}}


def test_a_good_line_is_shown_by_both():
    ln = both(f"openReplaySessionToken={TOKEN} openReplaySession.id={SID} boom", **GOOD_121, **GOOD_120)
    answers = {V120: Answer(hits=hits(ln)), V121: Answer(hits=hits(ln), total=1)}
    judged = judge([ln], SID, answers)
    assert judged[0].verdicts[V120].shown and judged[0].verdicts[V121].shown
    assert [s.text() for s in summarize(judged, answers)] == ["OpenReplay v1.20: 1 of 1 line",
                                                              "OpenReplay v1.21+: 1 of 1 line"]


def test_no_logs_index_is_the_summary_reason():
    ln = both(f"openReplaySession.id={SID} boom", **GOOD_121)
    answers = {V120: Answer(), V121: Answer(error="no-logs-index")}
    judged = judge([ln] * 3, SID, answers)
    summary = summarize(judged, answers)[1]
    assert summary.text() == "OpenReplay v1.21+: 0 of 3 lines; index `logs` does not exist"


def test_index_not_logs_and_only_token():
    a = line("a", "app-1", message=f"openReplaySession.id={SID} x", **GOOD_121)
    b = line("b", "logs", message=f"openReplaySessionToken={TOKEN} x", **GOOD_121)
    answer = Answer(hits=frozenset(), logs_indices=frozenset({"logs"}))
    assert v121_verdict(a, SID, answer).problems[0].code == "index-not-logs"
    assert "app-1" in v121_verdict(a, SID, answer).reason
    assert v121_verdict(b, SID, answer).problems[0].code == "no-id-marker"


def test_beyond_the_first_1000():
    a = line("a", message=f"openReplaySession.id={SID} x", **GOOD_121)
    answer = Answer(total=1500, matched=frozenset({("logs", "a")}), logs_indices=frozenset({"logs"}))
    assert v121_verdict(a, SID, answer).problems[0].code == "beyond-1000"


def test_panel_reasons_ecs_level_case_and_timestamp():
    ecs = line("e", message=f"openReplaySession.id={SID} x", log={"level": "ERROR"}, **{"@timestamp": "t"})
    upper = line("u", message=f"openReplaySession.id={SID} x", level="ERROR", **{"@timestamp": "t"})
    no_time = line("t", message=f"openReplaySession.id={SID} x", level="error", utc_time="2024-01-24T00:00:00Z")
    answer = Answer(hits=hits(ecs, upper, no_time), total=3)
    v = v121_verdict(ecs, SID, answer)
    assert not v.shown and v.problems[0].code == "no-level" and "log.level" in v.reason
    v = v121_verdict(upper, SID, answer)
    assert v.shown and v.problems[0].code == "level-case"
    v = v121_verdict(no_time, SID, answer)
    assert v.shown and v.problems[0].code == "no-timestamp" and "utc_time" in v.problems[0].text
    # one line without level breaks the panel: the others are not shown either
    judged = judge([ecs, upper, no_time], SID, {V120: Answer(), V121: answer})
    assert [j.verdicts[V121].shown for j in judged] == [False, False, False]
    assert judged[1].verdicts[V121].problems[0].code == "panel-broken"
    assert summarize(judged, {V120: Answer(), V121: answer})[1].text().startswith("OpenReplay v1.21+: 0 of 3 lines")


def test_fetched_once():
    a = line("a", message=f"openReplaySession.id={SID} x", **GOOD_121)
    answer = Answer(hits=hits(a), total=1)
    assert v121_verdict(a, SID, answer, fetched_at_ms=a.time_ms - 1).problems[0].code == "after-fetch"
    assert v121_verdict(a, SID, answer, fetched_at_ms=a.time_ms).shown


def test_v120_token_cut_at_minus():
    ln = both(f"openReplaySessionToken={NEG} boom", **GOOD_120)
    v = v120_verdict(ln, str(int("jw4wdfpgqhoj", 36)), Answer(hits=hits(ln)))
    assert not v.shown and v.problems[0].code == "token-cut" and "`-`" in v.reason


def test_v120_tags_utc_time_and_no_token():
    upper = both(f"openReplaySessionToken={TOKEN} x", utc_time="2024-01-24T02:30:00Z", tags=["ERROR"])
    assert v120_verdict(upper, SID, Answer()).problems[0].code == "no-error-tag"
    no_time = both(f"openReplaySessionToken={TOKEN} x", tags=["error"])
    assert v120_verdict(no_time, SID, Answer()).problems[0].code == "no-utc-time"
    epoch = both(f"openReplaySessionToken={TOKEN} x", utc_time=1706063400000, tags=["error"])
    v = v120_verdict(epoch, SID, Answer(hits=hits(epoch)))
    # `source["utc_time"].(string)` on a number panics (elasticsearch.go L149): the poller crashes
    assert not v.shown and v.problems[0].code == "poller-crash" and "number" in v.reason
    assert v120_verdict(epoch, SID, Answer()).problems[0].code == "utc-time-not-date"  # not reached: no crash
    spaced = both(f"openReplaySessionToken={TOKEN} x", utc_time="2024-01-24 02:30:00", tags=["error"])
    assert v120_verdict(spaced, SID, Answer(hits=hits(spaced))).problems[0].code == "utc-time-not-date"
    fraction = both(f"openReplaySessionToken={TOKEN} x", utc_time="2024-01-24T02:30:00.123+02:00", tags=["error"])
    assert v120_verdict(fraction, SID, Answer(hits=hits(fraction))).shown
    only_id = both(f"openReplaySession.id={SID} x", **GOOD_120)
    assert v120_verdict(only_id, SID, Answer()).problems[0].code == "no-token"


def test_v120_failed_index_and_other_token_first():
    other = "k1.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
    ln = both(f"openReplaySessionToken={other} then openReplaySessionToken={TOKEN}", **GOOD_120)
    assert v120_verdict(ln, SID, Answer(hits=hits(ln))).problems[0].code == "other-token-first"
    ln = line("x", "ecs-1", message=f"openReplaySessionToken={TOKEN}", tags=["error"])
    v = v120_verdict(ln, SID, Answer(failed_indices={"ecs-1": "No mapping found for [utc_time] in order to sort on"}))
    assert v.problems[0].code == "index-failed" and "utc_time" in v.reason


# ---------------------------------------------------------------- one hit that ruins more than itself

def raw(_id, index="logs", **source):
    return {"_index": index, "_id": _id, "_source": source}


def test_panel_first_hit_without_message_fails_the_whole_answer():
    """BackendLogs/utils.ts (newest) `isElasticLog` L39-41: only `log[0]._source.message` is tested;
    falsy ("" too) means "Unknown log format" (L21), so no line is shown."""
    ok = raw("b", message=f"openReplaySession.id={SID} x", level="error")
    for first in (raw("a", msg="text under another key", level="error"), raw("a", message="", level="error"),
                  raw("a", message=None, level="error")):
        ruin = panel_ruin([first, ok])
        assert ruin is not None and ruin.code == "first-no-message" and ruin.key == ("logs", "a")
    # [] and {} are truthy in JavaScript: the answer is taken
    assert panel_ruin([raw("a", message=["x"], level="error"), ok]) is None
    # a later hit without message is a row with empty text (processElasticLog L93: message || '')
    assert panel_ruin([ok, raw("c", msg="x", level="error")]) is None


def test_panel_level_without_includes_fails_the_whole_answer_wherever_it_is():
    """processElasticLog L94 -> getLevelFromElasticTags L103-106: `tags.includes` on a missing, numeric
    or object `level` throws inside `log.map`: the whole panel fails. A list has `.includes`."""
    ok = raw("a", message="m", level="error")
    for bad, code in ((raw("b", message="m"), "no-level"), (raw("b", message="m", level=30), "level-not-text"),
                      (raw("b", message="m", level={"x": 1}), "level-not-text")):
        ruin = panel_ruin([ok, bad])
        assert ruin is not None and ruin.code == code and ruin.key == ("logs", "b")
    assert panel_ruin([ok, raw("b", message="m", level=["error"])]) is None
    assert panel_ruin([ok, raw("b", message={"text": "m"}, level="info")]).code == "panel-message-object"


def test_v121_verdicts_from_the_panel_ruin_and_rows_without_message():
    first = line("a", msg="under another key", level="error", **{"@timestamp": "2024-01-24T02:30:00Z"})
    later = line("b", message=f"openReplaySession.id={SID} x", **GOOD_121)
    answer = Answer(hits=hits(first, later), total=2, ruin=panel_ruin([first.hit, later.hit]))
    judged = judge([first, later], SID, {V120: Answer(), V121: answer})
    assert [j.verdicts[V121].problems[0].code for j in judged] == ["first-no-message", "panel-broken"]
    summary = summarize(judged, {V120: Answer(), V121: answer}, SID)[1]
    assert summary.text().startswith("OpenReplay v1.21+: 0 of 2 lines; the panel breaks: the first hit (index logs, "
                                     "id a) has no `message`")
    # the same hit later in the answer: an empty row, shown
    answer = Answer(hits=hits(first, later), total=2, ruin=panel_ruin([later.hit, first.hit]))
    v = v121_verdict(first, SID, answer)
    assert v.shown and v.problems[0].code == "empty-row" and not v.problems[0].hides
    listed = line("c", message=[f"openReplaySession.id={SID} x", "second"], **GOOD_121)
    v = v121_verdict(listed, SID, Answer(hits=hits(listed), total=1))
    assert v.shown and v.problems[0].code == "message-list"


def test_poller_crashes_on_utc_time_or_message_not_text_in_its_order():
    """elasticsearch.go (v1.20) `Request`: no message/utc_time key: skipped (L137-147); utc_time
    `.(string)` (L149), RFC 3339 or skipped (L150-154), message `.(string)` (L155): other types panic."""
    good = raw("1", "app", message="m", utc_time="2024-01-24T02:30:00Z")
    skipped = [raw("s1", "app", utc_time=5), raw("s2", "app", message="m"),
               raw("s3", "app", message=["m"], utc_time="2024-01-24 02:30:00")]
    assert poller_ruin([good, *skipped]) == (None, frozenset({("app", "1")}))
    for bad, why in ((raw("x", "app", message="m", utc_time=1706063400000), "`utc_time` is a number"),
                     (raw("x", "app", message="m", utc_time=None), "`utc_time` is null"),
                     (raw("x", "app", message=["a", "b"], utc_time="2024-01-24T02:30:00Z"), "`message` is a list"),
                     (raw("x", "app", message=None, utc_time="2024-01-24T02:30:00Z"), "`message` is null")):
        ruin, before = poller_ruin([good, bad, raw("2", "app", message="m", utc_time="2024-01-24T02:31:00Z")])
        assert ruin is not None and ruin.code == "poller-crash" and ruin.key == ("app", "x") and why in ruin.why
        assert before == frozenset({("app", "1")})
        assert "for every session" in ruin.text and "`app`" in ruin.text


def test_v120_verdicts_around_the_line_the_poller_crashes_on():
    before = both(f"openReplaySessionToken={TOKEN} a", **GOOD_120)
    crash = line("x", message=f"openReplaySessionToken={TOKEN} b", utc_time=1706063400000, tags=["error"])
    after = line("z", message=f"openReplaySessionToken={TOKEN} c", **GOOD_120)
    ruin, handled = poller_ruin([before.hit, crash.hit, after.hit])
    answer = Answer(hits=hits(before, crash, after), ruin=ruin, before_ruin=handled)
    judged = judge([before, crash, after], SID, {V120: answer, V121: Answer()})
    codes = [[p.code for p in j.verdicts[V120].problems] for j in judged]
    assert codes == [["poller-restarts"], ["poller-crash"], ["poller-dead"]]
    assert judged[0].verdicts[V120].shown and not judged[2].verdicts[V120].shown
    summary = summarize(judged, {V120: answer, V121: Answer()}, SID)[0]
    assert summary.text().startswith("OpenReplay v1.20: 1 of 3 lines; the v1.20 poller crashes on a line in `logs`")
    # another session's line, after the crash: the same reason, though nothing is wrong with it
    other = Answer(hits=hits(after), ruin=ruin, before_ruin=handled)
    judged = judge([after], SID, {V120: other, V121: Answer()})
    assert summarize(judged, {V120: other, V121: Answer()}, SID)[0].reason == ruin.text
    # a session whose lines all come before the crash: shown, and the crash is said as a note
    early = Answer(hits=hits(before), ruin=ruin, before_ruin=handled)
    summary = summarize(judge([before], SID, {V120: early, V121: Answer()}), {V120: early, V121: Answer()}, SID)[0]
    assert summary.shown == 1 and summary.notes[0].startswith(ruin.text) and "before it" in summary.notes[0]


def test_v120_message_list_crashes_the_poller_and_v121_shows_it():
    ln = line("m", message=[f"openReplaySessionToken={TOKEN} openReplaySession.id={SID}", "more"], **GOOD_120,
              **GOOD_121)
    v = v120_verdict(ln, SID, Answer(hits=hits(ln)))
    assert not v.shown and v.problems[0].code == "poller-crash" and "a list" in v.reason
    assert v121_verdict(ln, SID, Answer(hits=hits(ln), total=1)).shown


def test_several_tokens_for_one_session_are_said_and_signature_not_checked():
    other_sig = TOKEN.rsplit(".", 1)[0] + ".USxhdMQhkMoYC52vEK6giwuQeu2F5SWuXeqS3EeyidB"
    a = line("a", message=f"openReplaySessionToken={TOKEN} a", **GOOD_120)
    b = line("b", message=f"openReplaySessionToken={other_sig} b", **GOOD_120)
    answers = {V120: Answer(hits=hits(a, b)), V121: Answer()}
    judged = judge([a, b], SID, answers)
    assert all(j.verdicts[V120].shown for j in judged)
    assert [p.code for p in judged[1].verdicts[V120].problems] == ["token-unverified"]
    notes = summarize(judged, answers, SID)[0].notes
    assert any("signature is not checked" in n for n in notes) and any("2 different tokens" in n for n in notes)
    one = judge([a], SID, {V120: Answer(hits=hits(a)), V121: Answer()})
    assert one[0].verdicts[V120].problems == ()


def test_v121_notes_fatalf_and_never_coloured():
    ln = line("a", message=f"openReplaySession.id={SID} x", **GOOD_121)
    failed = {V120: Answer(), V121: Answer(error="no-logs-index")}
    notes = summarize(judge([ln], SID, failed), failed, SID)[1].notes
    assert any("log.Fatalf" in n for n in notes)
    shown = {V120: Answer(), V121: Answer(hits=hits(ln), total=1)}
    notes = summarize(judge([ln], SID, shown), shown, SID)[1].notes
    assert notes == (NEVER_COLOURED,)


def test_marker_spellings_v121_phrase_and_v120_pattern():
    """v1.21+ (clients/elastic.go): `match_phrase` on message for `openReplaySession.id=<id>`: analysed,
    so case and the punctuation between the two words do not count; v1.20 (clients/utils.go): the token
    pattern `(?i)openReplaySessionToken=([0-9a-zA-Z\\.]+)` ignores case but needs the `=`."""
    for text in (f"OPENREPLAYSESSION.ID={SID} x", f"openReplaySession.id= {SID}", f"openReplaySession.id: {SID}",
                 f"[openReplaySession.id={SID}.]", f"k=v openReplaySession.id={SID}-next"):
        assert v121_phrase_matches(text, SID), text
    for text in (f"openReplaySession.id={SID}7", f"openReplaySession.id={SID[:-1]}", f"openReplaySession.id={SID}.5",
                 f"xopenReplaySession.id={SID}", f"openReplaySession_id={SID}", f"openReplaySession.id={SID}_a"):
        assert not v121_phrase_matches(text, SID), text
    # a line another spelling marks, not returned (its index is not `logs`): the reason is its index
    spelled = line("s", "app-1", message=f"OPENREPLAYSESSION.ID: {SID} boom", **GOOD_121)
    v = v121_verdict(spelled, SID, Answer(logs_indices=frozenset({"logs"})))
    assert v.problems[0].code == "index-not-logs"
    upper = both(f"OPENREPLAYSESSIONTOKEN={TOKEN} boom", **GOOD_120)
    assert v120_verdict(upper, SID, Answer(hits=hits(upper))).shown
    colon = both(f"openReplaySessionToken: {TOKEN} boom", **GOOD_120)
    assert v120_verdict(colon, SID, Answer(hits=hits(colon))).problems[0].code == "no-token"
