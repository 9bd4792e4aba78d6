from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.errors import UsageError
from elastic_cli.openreplay.session_token import Marker, contains_marker, markers, parse_session_ref
from elastic_cli.search.fields import error_filter
from elastic_cli.search.query import (
    LogQuery,
    build_query,
    build_search_body,
    build_sort,
    escape_lucene_regexp,
    explain_cost,
    marker_regexp,
    parse_time,
)
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLE = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
TOKEN_MARKER = "openReplaySessionToken=" + EXAMPLE
ID_MARKER = "openReplaySession.id=2618307011354435587"
NOW = datetime(2024, 1, 24, 12, 0, 0, tzinfo=timezone.utc)


def lucene_matches(pattern: str, value: str) -> bool:
    """Approximate Lucene's whole-value regexp with Python's re for the subset we emit."""
    return re.fullmatch(pattern, value, flags=re.DOTALL) is not None


def marker_clauses(query: dict) -> list:
    return query["bool"]["filter"][0]["bool"]["should"]


# --- query shape --------------------------------------------------------------

def test_text_field_uses_a_phrase_for_the_id_and_a_phrase_prefix_for_any_token_of_the_session():
    q = LogQuery(markers=tuple(markers(parse_session_ref(EXAMPLE))))
    query = build_query(q)
    assert query == {
        "bool": {
            "filter": [
                {
                    "bool": {
                        "should": [
                            {"match_phrase": {"message": ID_MARKER}},
                            # the id's own term: a marker glued to a word before it (`ctx:openReplay...`)
                            {"prefix": {"message": {"value": "2618307011354435587"}}},
                            {"match_phrase_prefix": {"message": {
                                "query": "openReplaySessionToken=jw4wdfpgqhoj", "max_expansions": 1000}}},
                            {"prefix": {"message": {"value": "jw4wdfpgqhoj"}}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
                error_filter("tags"),  # the level words: tests/unit/test_level_words.py
            ]
        }
    }


@pytest.mark.parametrize(("terms", "kinds"), [
    ("split", {"match_phrase", "prefix", "match_phrase_prefix"}),
    ("whole", {"wildcard"}),
    ("dropped", {"match_phrase", "match_phrase_prefix"}),
    ("unknown", {"match_phrase", "prefix", "match_phrase_prefix", "wildcard"}),
])
def test_each_analysis_gets_the_query_forms_that_find_the_marker_in_its_terms(terms, kinds):
    q = LogQuery(markers=tuple(markers(parse_session_ref(EXAMPLE))), message_terms=terms)
    clauses = marker_clauses(build_query(q))
    assert {next(iter(c)) for c in clauses} == kinds
    wildcards = [c["wildcard"]["message"] for c in clauses if "wildcard" in c]
    assert all(w["case_insensitive"] and w["value"] in ("*2618307011354435587*", "*jw4wdfpgqhoj*") for w in wildcards)


def test_a_keyword_message_also_reads_the_lines_too_long_for_its_ignore_above():
    clauses = marker_clauses(build_query(LogQuery(markers=(ID_MARKER,), message_is_keyword=True)))
    assert {"term": {"_ignored": "message"}} in clauses


def test_all_levels_drops_the_error_filter():
    query = build_query(LogQuery(markers=(ID_MARKER,), errors_only=False))
    assert len(query["bool"]["filter"]) == 1


def test_custom_field_names_are_used_everywhere():
    q = LogQuery(
        markers=(ID_MARKER,), message_field="log.msg", time_field="@timestamp", tags_field="level",
        since=NOW - timedelta(hours=1),
    )
    body = json.dumps(build_search_body(q, 10))
    assert '"log.msg"' in body and '"@timestamp"' in body and '"level"' in body
    assert '"message"' not in body and '"utc_time"' not in body and '"tags"' not in body


def test_keyword_field_uses_an_anchored_regexp_with_optional_operators_off():
    q = LogQuery(markers=(ID_MARKER,), message_is_keyword=True)
    clause, ignored = marker_clauses(build_query(q))
    assert ignored == {"term": {"_ignored": "message"}}
    assert clause == {
        "regexp": {
            "message": {
                # any punctuation between the name and the id, any case: as OpenReplay's match_phrase
                "value": r".*openReplaySession\.id[^0-9A-Za-z_]+2618307011354435587([.\-]?([^0-9A-Za-z.\-].*)?)",
                "flags": "NONE",
                "case_insensitive": True,
            }
        }
    }


def test_time_range_is_iso_utc_with_an_explicit_format():
    q = LogQuery(
        markers=(ID_MARKER,),
        since=datetime(2024, 1, 24, 6, 0, tzinfo=timezone(timedelta(hours=2))),
        until=datetime(2024, 1, 24, 5, 0, 30, 500000),  # naive: UTC
    )
    assert build_query(q)["bool"]["filter"][-1] == {
        "range": {
            "utc_time": {
                "gte": "2024-01-24T04:00:00Z",
                "lte": "2024-01-24T05:00:30.500000Z",
                "format": "strict_date_optional_time",
            }
        }
    }


def test_open_ended_range_has_only_one_bound():
    (rng,) = [f for f in build_query(LogQuery(markers=(ID_MARKER,), until=NOW))["bool"]["filter"] if "range" in f]
    assert set(rng["range"]["utc_time"]) == {"lte", "format"}


def test_no_range_without_since_or_until():
    assert not any("range" in f for f in build_query(LogQuery(markers=(ID_MARKER,)))["bool"]["filter"])


def test_since_after_until_is_a_usage_error():
    with pytest.raises(UsageError, match="after"):
        LogQuery(markers=(ID_MARKER,), since=NOW, until=NOW - timedelta(seconds=1))


def test_empty_markers_are_refused_because_they_would_match_every_session():
    with pytest.raises(ValueError):
        LogQuery(markers=())


def test_markers_given_as_a_list_of_strings_become_a_tuple_of_whole_markers():
    q = LogQuery(markers=[ID_MARKER])  # type: ignore[arg-type]
    assert q.markers == (Marker(ID_MARKER),)
    hash(q)


@pytest.mark.parametrize("reverse, order", [(False, "asc"), (True, "desc")])
def test_sort(reverse, order):
    assert build_sort(LogQuery(markers=(ID_MARKER,), reverse=reverse)) == [
        {"utc_time": {"order": order, "unmapped_type": "date", "numeric_type": "date"}}
    ]


def test_search_body_is_json_and_does_not_count_hits():
    q = LogQuery(markers=(ID_MARKER,), since=NOW)
    body = build_search_body(q, 500)
    assert json.loads(json.dumps(body)) == body
    assert body["size"] == 500
    assert body["track_total_hits"] is False
    assert body["query"] == build_query(q) and body["sort"] == build_sort(q)


def test_explain_cost_names_the_expensive_case_and_the_fix():
    keyword = explain_cost(LogQuery(markers=(ID_MARKER,), message_is_keyword=True))
    text = explain_cost(LogQuery(markers=(ID_MARKER,)))
    assert "regexp" in keyword and "distinct" in keyword and "`text`" in keyword
    assert "phrase" in text and "cheap" in text
    assert "\n" not in keyword and "\n" not in text


# --- regexp escaping ----------------------------------------------------------

def test_every_lucene_reserved_character_is_escaped():
    reserved = '.?+*|{}[]()"\\#@&<>~'
    assert escape_lucene_regexp(reserved) == "".join("\\" + c for c in reserved)
    assert escape_lucene_regexp("abc=XYZ-09") == "abc=XYZ-09"  # letters never escaped


def test_keyword_regexp_matches_dots_and_dashes_literally():
    marker = "openReplaySessionToken=ab.c-d"
    pattern = marker_regexp(marker)
    assert lucene_matches(pattern, "GET /x openReplaySessionToken=ab.c-d 500")
    assert lucene_matches(pattern, "openReplaySessionToken=ab.c-d")
    assert not lucene_matches(pattern, "openReplaySessionToken=abXc-d")  # `.` is literal
    assert not lucene_matches(pattern, "openReplaySessionTokenXab.c-d")
    assert not lucene_matches(pattern, "openReplaySessionToken=ab.c-de")  # longer token
    assert not lucene_matches(pattern, "openReplaySessionToken=ab.c-d.e")


def test_keyword_regexp_for_session_id_does_not_match_a_longer_id():
    pattern = marker_regexp("openReplaySession.id=12")
    assert lucene_matches(pattern, "a openReplaySession.id=12 b")
    assert not lucene_matches(pattern, "a openReplaySession.id=123 b")


@settings(max_examples=300)
@given(
    marker_body=st.text(alphabet="ab1.-", min_size=1, max_size=4),
    message=st.text(alphabet="ab1.- =\n\"*xopenReplaySessionToken", max_size=40),
    insert=st.booleans(),
)
def test_keyword_regexp_agrees_with_the_client_side_check(marker_body, message, insert):
    marker = "openReplaySessionToken=" + marker_body
    if insert:
        half = len(message) // 2
        message = message[:half] + marker + message[half:]
    assert lucene_matches(marker_regexp(marker), message) == contains_marker(message, marker)


# --- parse_time ---------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("30s", NOW - timedelta(seconds=30)),
        ("15m", NOW - timedelta(minutes=15)),
        ("2h", NOW - timedelta(hours=2)),
        ("7d", NOW - timedelta(days=7)),
        ("1w", NOW - timedelta(weeks=1)),
        ("0s", NOW),
        (" 2h ", NOW - timedelta(hours=2)),
        ("2024-01-24", datetime(2024, 1, 24, tzinfo=timezone.utc)),
        ("2024-01-24T04:27:39Z", datetime(2024, 1, 24, 4, 27, 39, tzinfo=timezone.utc)),
        ("2024-01-24T04:27:39.324Z", datetime(2024, 1, 24, 4, 27, 39, 324000, tzinfo=timezone.utc)),
        ("2024-01-24T04:27:39.123456789Z", datetime(2024, 1, 24, 4, 27, 39, 123456, tzinfo=timezone.utc)),
        ("2024-01-24T04:27", datetime(2024, 1, 24, 4, 27, tzinfo=timezone.utc)),
        ("2024-01-24 04:27:39", datetime(2024, 1, 24, 4, 27, 39, tzinfo=timezone.utc)),
        ("2024-01-24T06:27:39+02:00", datetime(2024, 1, 24, 4, 27, 39, tzinfo=timezone.utc)),
        ("2024-01-24T00:27:39-0400", datetime(2024, 1, 24, 4, 27, 39, tzinfo=timezone.utc)),
        ("2024-01-24T09:57:39+05:30", datetime(2024, 1, 24, 4, 27, 39, tzinfo=timezone.utc)),
    ],
)
def test_parse_time_accepts_iso_and_durations(text, expected):
    result = parse_time(text, NOW)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_parse_time_with_a_naive_now_treats_it_as_utc():
    assert parse_time("1h", datetime(2024, 1, 24, 12, 0)) == datetime(2024, 1, 24, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2h ago", "-2h", "2H", "1y", "1.5h", "h", "2024-13-01", "2024-02-30",
     "2024-01-24T25:00:00Z", "2024-01-24T04:27:39+24:00", "2024-01-24T04:27:39+02:75",
     "24-01-24", "2024/01/24", "20240124", "1706070459324", "9" * 9 + "w", "9" * 50 + "d",
     "0001-01-01T00:00:00+01:00", "２０２４-01-24", "2024-01-24T04:27:39Zjunk"],
)
def test_parse_time_rejects_other_forms_with_a_hint(text):
    with pytest.raises(UsageError) as info:
        parse_time(text, NOW)
    assert "30s" in info.value.hint and "2024-01-24" in info.value.hint
    assert "\n" not in info.value.message and len(info.value.message) < 120


@given(st.integers(0, 10**4), st.sampled_from("smhdw"))
def test_durations_go_back_from_now(amount, unit):
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    assert parse_time(f"{amount}{unit}", NOW) == NOW - timedelta(seconds=amount * seconds)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1)))
def test_iso_output_of_the_query_parses_back(moment):
    aware = moment.replace(tzinfo=timezone.utc)
    iso = aware.isoformat().replace("+00:00", "Z")
    assert parse_time(iso, NOW) == aware


@settings(max_examples=500)
@given(st.one_of(st.text(), st.from_regex(r"[0-9T:+\-. Zz]{0,30}", fullmatch=True)))
def test_parse_time_on_arbitrary_text_raises_only_usage_error(text):
    try:
        result = parse_time(text, NOW)
    except UsageError:
        pass
    else:
        assert result.utcoffset() == timedelta(0)


def test_mixed_mapping_sends_phrase_and_regexp_for_each_marker():
    q = LogQuery(markers=("openReplaySession.id=12", "openReplaySessionToken=a.b"), message_is_mixed=True)
    should = build_query(q)["bool"]["filter"][0]["bool"]["should"]
    assert [next(iter(clause)) for clause in should] == ["match_phrase", "regexp", "match_phrase", "regexp", "term"]
    assert "regexp" in explain_cost(q)


def test_source_is_whole_unless_the_output_has_fixed_columns():
    from elastic_cli.search.query import output_source_fields

    args = ("message", "utc_time", "tags")
    assert output_source_fields("json", None, *args) is None
    assert output_source_fields("ndjson", None, *args) is None
    assert output_source_fields("table", None, *args) == ("utc_time", "tags", "message")
    assert output_source_fields("csv", None, *args) == ("utc_time", "tags", "message")
    # --fields: what is named (offset is ours, not a source field), for every format
    assert output_source_fields("ndjson", ["offset", "host.name", "message"], *args) == ("host.name", "message")


def test_source_filter_keeps_the_message_and_the_resolved_time_and_level_fields():
    from elastic_cli.search.query import LogQuery, build_search_body

    q = LogQuery(markers=("openReplaySession.id=1",), source_fields=("host.name",))
    assert build_search_body(q, 10)["_source"] == ["host.name", "message", "utc_time", "tags"]
    # an ECS group: what the table's time and level columns read there
    ecs = LogQuery(markers=("openReplaySession.id=1",), source_fields=("utc_time", "tags", "message"),
                   time_field="@timestamp", tags_field="log.level")
    assert build_search_body(ecs, 10)["_source"] == ["utc_time", "tags", "message", "@timestamp", "log.level"]
    assert "_source" not in build_search_body(LogQuery(markers=("openReplaySession.id=1",)), 10)
