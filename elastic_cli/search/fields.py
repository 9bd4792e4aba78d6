"""Which fields hold the time, the level and the message, index by index (pure).

Real clusters mix shapes under one `*log*` pattern: Kibana's sample logs
(`utc_time`, `tags: ["error"]`), ECS data streams written by Elastic Agent,
Filebeat or Logstash (`@timestamp`, `log.level: "ERROR"`), and home-made
indices (`timestamp`, `level`). One `_field_caps` answer tells, for each
index, which of these it has; a field the user set explicitly always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

# why an index the patterns match cannot be searched at all (`IndexShape.blocked`)
CLOSED = "closed"  # a closed index: `_resolve/index` names it, a search skips it without a word
READ_BLOCK = "read block"  # `index.blocks.read`: any request that reads it fails, for every index asked
TIME_CANDIDATES = ("@timestamp", "utc_time", "timestamp")
LEVEL_CANDIDATES = ("log.level", "level", "severity")
TIME_TYPES = frozenset({"date", "date_nanos"})
KEYWORD_TYPES = frozenset({"keyword", "constant_keyword", "wildcard"})
# a level is a word: a numeric `severity` (syslog 0-7, lower is worse) cannot be compared with "error"
WORD_TYPES = KEYWORD_TYPES | {"text", "match_only_text"}
# ... but a number in a field named `level` is pino's or bunyan's (10 trace ... 50 error, 60 fatal)
NUMBER_TYPES = frozenset({"long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float",
                          "scaled_float"})
NUMERIC_LEVEL_NAME = "level"
NUMERIC_ERROR_FROM = 50
# The words loggers write for an error or worse, compared trimmed and in any case (README: "What
# counts as an error"): syslog severities 0-3 and their long names; Java (log4j, logback: ERROR, FATAL;
# java.util.logging: SEVERE); Go (zap: DPANIC, PANIC, FATAL; logrus: panic, fatal; slog: ERROR, and
# ERROR+N above it); Node (pino, bunyan, winston: error, fatal); Python (ERROR, CRITICAL, FATAL);
# .NET (Serilog: Error, Fatal and the short ERR, FTL; Microsoft.Extensions.Logging's console: fail, crit).
ERROR_LEVELS = ("error", "err", "fatal", "critical", "crit", "emerg", "emergency", "alert", "severe", "panic",
                "dpanic", "fail", "ftl")
_ERROR_WORD = re.compile(r"(?:%s|error\+[0-9]+)" % "|".join(ERROR_LEVELS))
_NUMERIC_ERROR_TEXT = re.compile(r"0*(?:[5-9][0-9]|[1-9][0-9]{2,})")
_TRIMMED = " \t\r\n"


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in word)


# The same rule as a Lucene regexp over a whole keyword value or one term of a text field: optional
# blanks, an error word in any case (or ERROR+N), or a pino/bunyan level written as text (50 or more).
ERROR_LEVEL_REGEXP = "[ \t\r\n]*(%s|%s[+][0-9]+|0*([5-9][0-9]|[1-9][0-9][0-9]+))[ \t\r\n]*" % (
    "|".join(_any_case(word) for word in ERROR_LEVELS), _any_case("error"))


def is_level_field(name: str, field_type: str | None) -> bool:
    """Whether a field of this type can say a line's level: words, or a number in a `level` field."""
    if field_type in WORD_TYPES:
        return True
    return field_type in NUMBER_TYPES and name.rsplit(".", 1)[-1] == NUMERIC_LEVEL_NAME


# .ds-<data stream>-<yyyy.MM.dd>-<generation>: a data stream's backing index
_BACKING_INDEX = re.compile(r"^\.(?:ds|fs)-(?P<stream>.+)-\d{4}\.\d{2}\.\d{2}-\d{6}$")


@dataclass(frozen=True)
class FieldPolicy:
    """The configured field names, and which of them the user set (those are never replaced)."""

    message_field: str = "message"
    time_field: str = "utc_time"
    tags_field: str = "tags"
    time_explicit: bool = False
    level_explicit: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldPolicy:
        """The configured field names; a name counts as set by the user unless it is the default."""
        return cls(message_field=settings.message_field, time_field=settings.time_field,
                   tags_field=settings.tags_field,
                   time_explicit=settings.sources.get("time_field", "default") != "default",
                   level_explicit=settings.sources.get("tags_field", "default") != "default")

    def fields_to_ask(self) -> list[str]:
        names = [self.message_field, self.time_field, self.tags_field]
        if not self.time_explicit:
            names += TIME_CANDIDATES
        if not self.level_explicit:
            names += LEVEL_CANDIDATES
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class IndexShape:
    """What `logs` uses in one index: None (or no fields) where the index has no usable field.

    `level_fields`: every field of the index that may hold a level. The user's field alone
    when they set one; else every candidate the index maps as words, because a shipper's
    `tags` (Filebeat's `beats_input_codec_plain_applied`) says nothing of the level while
    its `log.level` does: a line is an error when any of them says so.
    """

    index: str
    message_type: str | None
    time_field: str | None
    level_fields: tuple[str, ...] = ()
    # how the index's analyzer splits a marked line (search/analysis.py: split, whole, dropped, none,
    # unknown); None for a keyword message, or before it is learnt (planned as split)
    message_terms: str | None = None
    # why no search may read the index at all (CLOSED, READ_BLOCK); its other fields are then empty
    blocked: str | None = None

    @property
    def level_field(self) -> str | None:
        """The first level field (what -v and `check` name)."""
        return self.level_fields[0] if self.level_fields else None

    @property
    def message_is_keyword(self) -> bool:
        return self.message_type in KEYWORD_TYPES

    @property
    def display_name(self) -> str:
        return display_index(self.index)


def display_index(index: str) -> str:
    """A data stream's name for its backing index (what the user configured and sees in Kibana)."""
    match = _BACKING_INDEX.match(index)
    return match.group("stream") if match else index


def types_by_index(caps: Mapping[str, Any], indices: Sequence[str]) -> dict[str, str]:
    """index -> type of one field, from its `_field_caps` entry ("indices" is left out when
    every matched index has the same type); indices without the field are absent."""
    found: dict[str, str] = {}
    for type_name, entry in caps.items():
        if type_name == "unmapped":
            continue
        for index in entry.get("indices") or indices:
            found[index] = type_name
    return found


def resolve_shapes(field_caps: Mapping[str, Any], policy: FieldPolicy) -> list[IndexShape]:
    """Each matched index's message type, time field and level field."""
    indices = list(field_caps.get("indices") or ())
    fields = field_caps.get("fields") or {}
    types = {name: types_by_index(fields.get(name) or {}, indices) for name in policy.fields_to_ask()}
    time_order = [policy.time_field] + ([] if policy.time_explicit else
                                        [f for f in TIME_CANDIDATES if f != policy.time_field])
    level_order = [policy.tags_field] + ([] if policy.level_explicit else
                                         [f for f in LEVEL_CANDIDATES if f != policy.tags_field])
    unsearchable = not_searchable(fields.get(policy.message_field) or {}, indices)
    shapes = []
    for index in indices:
        time_field = next((f for f in time_order if types[f].get(index) in TIME_TYPES), None)
        level_fields = tuple(f for f in level_order if is_level_field(f, types[f].get(index)))
        shapes.append(IndexShape(index=index, message_type=types[policy.message_field].get(index),
                                 time_field=time_field, level_fields=level_fields,
                                 # neither indexed nor with doc values: no query can read it (analysis.NONE)
                                 message_terms="none" if index in unsearchable else None))
    return shapes


def not_searchable(caps: Mapping[str, Any], indices: Sequence[str]) -> set[str]:
    """The indices where a field's `_field_caps` entry says it cannot be searched (`index: false`
    without doc values): a query on it fails the whole search, or finds nothing."""
    found: set[str] = set()
    for type_name, entry in caps.items():
        if type_name == "unmapped" or entry.get("searchable", True):
            continue
        found.update(entry.get("non_searchable_indices") or entry.get("indices") or indices)
    return found


def error_filter(level_fields: str | Sequence[str]) -> dict[str, Any]:
    """Lines whose level is an error in any of the fields (README: "What counts as an error").

    One group of indices may map a level field as keyword in one index, text in another and a number
    in a third (pino), so each clause must be right, and harmless, on all three: the words are a
    `query_string` regexp with `lenient` (on a number field it matches nothing instead of failing the
    shard), in any case by its character classes and trimmed of blanks on a keyword's whole value, one
    term at a time on a text field; the numbers are a range that applies only where the words' regexp
    cannot run (a field every value of which matches `.*` is words, not numbers)."""
    fields = (level_fields,) if isinstance(level_fields, str) else tuple(level_fields)
    should: list[dict[str, Any]] = []
    for name in fields:
        should.append(_lenient_regexp(name, ERROR_LEVEL_REGEXP))
        should.append({"bool": {"filter": [{"range": {name: {"gte": NUMERIC_ERROR_FROM}}}],
                                "must_not": [_lenient_regexp(name, ".*")]}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _lenient_regexp(name: str, regexp: str) -> dict[str, Any]:
    return {"query_string": {"query": f"/{regexp}/", "fields": [name], "lenient": True}}


# the words a level is shown as when a field holds several (Kibana's tags: ["success", "info"])
SHOWN_LEVELS = ("error", "warning", "warn", "info", "success", "debug")


def level_of(value: Any) -> str:
    """One level word for a level field's value (`["success", "info"]` -> info; ERROR -> error;
    pino's 50 -> error)."""
    values = value if isinstance(value, list) else [value]
    lowered = [_word_of(v) for v in values if v is not None]
    for level in SHOWN_LEVELS:
        if level in lowered:
            return level
    return ",".join(lowered)


# pino's and bunyan's numbers, as their own names
_PINO_NAMES = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}


def _word_of(value: Any) -> str:
    if _is_number(value):
        return _PINO_NAMES.get(value, str(value)) if isinstance(value, int) else str(value)
    return str(value).strip(_TRIMMED).lower()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_error_value(value: Any) -> bool:
    """Whether a level field's value is an error as `error_filter` decides on a keyword (or number)
    field: a word of ERROR_LEVELS (or ERROR+N) trimmed, in any case; a number of 50 or more."""
    values = value if isinstance(value, list) else [value]
    for v in values:
        if _is_number(v):
            if v >= NUMERIC_ERROR_FROM:
                return True
        elif isinstance(v, str):
            word = v.strip(_TRIMMED).lower()
            if _ERROR_WORD.fullmatch(word) or _NUMERIC_ERROR_TEXT.fullmatch(word):
                return True
    return False


def level_in(source: Mapping[str, Any], level_fields: Sequence[str]) -> str | None:
    """A line's level: the value of the first level field that says error (as the error filter
    decides), else of the first field that holds a value; None when none does."""
    first: Any = None
    for name in level_fields:
        value = get_field(source, name)
        if value is None or value == []:
            continue
        if is_error_value(value):
            return level_of(value)
        if first is None:
            first = value
    return None if first is None else level_of(first)


def get_field(source: Mapping[str, Any], name: str) -> Any:
    """A field by dotted name, from nested objects or a literal dotted key (`log.level`)."""
    if name in source:
        return source[name]
    node: Any = source
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node
