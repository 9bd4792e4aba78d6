"""What counts as an error level (README: "What counts as an error"): the words loggers write,
trimmed, in any case, and pino's numbers; the query's regexp and the client's rule agree."""

from __future__ import annotations

import re

import pytest
from elastic_cli.search.fields import (
    ERROR_LEVEL_REGEXP,
    ERROR_LEVELS,
    FieldPolicy,
    error_filter,
    is_error_value,
    level_of,
    resolve_shapes,
)
from hypothesis import given
from hypothesis import strategies as st

ERRORS = ["ERROR", "error", "Error ", " error\t", "SEVERE", "panic", "DPANIC", "dpanic", "FATAL", "fatal",
          "CRITICAL", "crit", "EMERG", "emergency", "alert", "err", "ERR", "FTL", "fail", "ERROR+4", 50, 60, 70,
          "50", "60", ["info", "ERROR"]]
NOT_ERRORS = ["info", "INFO", "warn", "WARNING", "debug", "trace", "notice", "errors_total=0", "error_count",
              "no error", "terror", "ERROR-4", "", None, 30, 40, 49, 3, "3", "6", "49", True, ["info", "success"]]


@pytest.mark.parametrize("value", ERRORS)
def test_an_error_level(value):
    assert is_error_value(value)


@pytest.mark.parametrize("value", NOT_ERRORS)
def test_not_an_error_level(value):
    assert not is_error_value(value)


def test_pino_numbers_are_shown_by_their_names():
    assert [level_of(n) for n in (10, 20, 30, 40, 50, 60, 55)] == ["trace", "debug", "info", "warn", "error",
                                                                   "fatal", "55"]
    assert level_of(" Error ") == "error" and level_of("SEVERE") == "severe"


# the query's regexp, read by Python's re (its syntax here is the common subset: classes, groups, | * +)
QUERY_RULE = re.compile(ERROR_LEVEL_REGEXP)
LETTERS = "".join(sorted(set("".join(ERROR_LEVELS) + "".join(ERROR_LEVELS).upper()))) + "INFOWARN+-_=0123456789 \t"


@given(st.one_of(st.sampled_from([*ERROR_LEVELS, *(w.upper() for w in ERROR_LEVELS)]),
                 st.text(alphabet=LETTERS, max_size=12),
                 st.builds(lambda a, w, b: a + w + b, st.sampled_from(["", " ", "\t", "x", "0", "+1"]),
                           st.sampled_from(ERROR_LEVELS), st.sampled_from(["", " ", "\n", "s", "+2", "_total"]))))
def test_the_query_regexp_decides_as_the_client_does(value):
    assert bool(QUERY_RULE.fullmatch(value)) == is_error_value(value)


def test_every_level_field_gets_a_word_clause_and_a_number_clause():
    query = error_filter(["log.level", "level"])
    should = query["bool"]["should"]
    assert len(should) == 4 and query["bool"]["minimum_should_match"] == 1
    assert should[0] == {"query_string": {"query": f"/{ERROR_LEVEL_REGEXP}/", "fields": ["log.level"],
                                          "lenient": True}}
    assert should[3]["bool"]["filter"] == [{"range": {"level": {"gte": 50}}}]


def test_a_number_is_a_level_only_in_a_field_named_level():
    caps = {"indices": ["pino", "gelf", "ecs"], "fields": {
        "message": {"text": {"type": "text"}},
        "level": {"long": {"type": "long", "indices": ["pino"]}},
        "severity": {"long": {"type": "long", "indices": ["gelf"]}},
        "log.level": {"keyword": {"type": "keyword", "indices": ["ecs"]}}}}
    shapes = {s.index: s.level_fields for s in resolve_shapes(caps, FieldPolicy())}
    # syslog's numeric severity is lower for worse: not comparable with pino's, so no level field
    assert shapes == {"pino": ("level",), "gelf": (), "ecs": ("log.level",)}
