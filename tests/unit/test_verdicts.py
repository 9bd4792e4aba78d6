"""What each OpenReplay generation shows of a line (pure verdicts, no cluster)."""

from __future__ import annotations

from elastic_cli.openreplay.verdicts import (
    V120,
    V121,
    Answer,
    judge,
    summarize,
    v120_probe,
    v120_request,
    v120_verdict,
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
