"""What each OpenReplay generation shows of a session's lines, and why not (pure: no I/O).

The facts come from OpenReplay's sources (see ../shared/CONTEXT.md, section 2):

* v1.21 and later (`backend/pkg/integrations/clients/elastic.go`): `POST /logs/_search`, the
  index `logs` hard-coded, `match_phrase` on `message` for `openReplaySession.id=<id>`, size
  1000, no sort; the answer is fetched once, when the replay is first opened, and kept. The
  player's panel reads `_source["@timestamp"]`, `_source.message` and `_source.level`
  (`level.includes("error")`, then warning, info, debug: lower case only; a hit without
  `level` throws, which breaks the panel for the whole session).
* up to v1.20 (`clients/elasticsearch.go`): a poller searches the `indexes` setting with
  `match` on `message` for `openReplaySessionToken=`, `range` on `utc_time` from its last poll,
  `term` `tags: error`, sorted by `utc_time`; each hit needs `_source.utc_time` as an RFC 3339
  string, and its token is cut by `(?i)openReplaySessionToken=([0-9a-zA-Z\\.]+)` (first match).

A line is one as `logs` reads it (a `Line`: the hit, its time, its index's name); what each
generation's own request returned is an `Answer`. The functions here only compare.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Protocol, Sequence

from elastic_cli.errors import plural
from elastic_cli.openreplay.session_token import (
    SESSION_ID_MARKER_PREFIX,
    TOKEN_MARKER_PREFIX,
    parse_session_ref,
)

V120 = "v1.20"
V121 = "v1.21+"
GENERATIONS = (V120, V121)
LOGS_INDEX = "logs"  # v1.21+'s index, hard-coded
V121_SIZE = 1000
V120_PAGE = 1000  # the poller scrolls on in pages of this size: no cap on the lines
# OpenReplay's own pattern (clients/utils.go): a `-` (negative delay) ends the token early
TOKEN_PATTERN = re.compile(r"(?i)openReplaySessionToken=([0-9a-zA-Z\.]+)")
# what Go's time.Parse(time.RFC3339, ...) accepts (fractional seconds allowed, a zone required)
_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})")
_PANEL_LEVELS = ("error", "warning", "info", "debug")
# v1.21+'s `match_phrase` on `openReplaySession.id=<id>` as the standard analyzer reads it: the word
# `openreplaysession.id` (any case; `.` between letters joins), then the id as the next word, whatever
# punctuation or spaces lie between (`=`, `= `, `: `); a letter, digit or `_` around a word, or `.`/`,`
# between digits, would make it another word (UAX #29)
_V121_PHRASE = re.compile(r"(?<![0-9A-Za-z_])(?<![A-Za-z][.:'])openreplaysession\.id[^0-9A-Za-z_]+([0-9]+)"
                          r"(?![0-9A-Za-z_])(?![.,][0-9])", re.IGNORECASE)

# problem codes, each with the short text a summary line uses
SUMMARY = {
    "no-message": "no `message` field (OpenReplay reads only `message`)",
    "no-logs-index": "index `logs` does not exist",
    "logs-forbidden": "the key may not read index `logs`",
    "request-failed": "its request failed",
    "index-not-logs": "their index is not `logs`",
    "no-id-marker": "they carry only the v1.20 token, not openReplaySession.id=",
    "beyond-1000": "beyond the first 1000 (no sort: which ones is up to Elasticsearch)",
    "message-keyword": "`message` is a keyword field (a phrase finds nothing inside a line)",
    "not-matched": "its query does not match them",
    "after-fetch": "logged after OpenReplay first fetched the session (it keeps the first answer)",
    "no-level": "no `level` field: the panel breaks",
    "level-not-text": "`level` is not text: the panel breaks",
    "panel-broken": "the panel breaks on a line without `level`",
    "level-case": "`level` not lower case: shown as info",
    "level-unknown": "`level` has no error/warning/info/debug: shown as info",
    "no-timestamp": "no `@timestamp`: its time shows as \"Invalid DateTime\"",
    "no-token": "they carry no openReplaySessionToken= (v1.20 reads only the token)",
    "token-cut": "token cut at `-` (negative delay)",
    "other-token-first": "another session's token comes first on the line",
    "no-error-tag": "`tags` lacks an exact `error`",
    "no-utc-time": "no `utc_time`",
    "utc-time-not-date": "`utc_time` is not an RFC 3339 time",
    "index-failed": "the search failed on their index",
    # one hit that ruins more than itself (the summary says these first)
    "first-no-message": "the panel breaks: the first hit has no `message`",
    "panel-message-object": "the panel breaks: a hit's `message` is an object",
    "poller-crash": "the poller crashes on this line (it stops here for every session)",
    "poller-dead": "the poller crashed on an earlier line and never gets here",
    # shown, not as it should be
    "empty-row": "no `message`: the panel shows an empty row",
    "message-list": "`message` is a list: the panel runs its values together",
    "poller-restarts": "the poller crashes on a later line: this one is sent again at each restart",
    "token-unverified": "another token carries this session's id: only one signed by your install is kept",
}

# codes whose line ruins other lines too: the summary names it first
RUIN_CODES = ("first-no-message", "panel-message-object", "no-level", "level-not-text", "poller-crash")


@dataclass(frozen=True)
class Problem:
    code: str  # a key of SUMMARY
    text: str  # about this line
    hides: bool = True  # False: shown, but not as it should be

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "hides": self.hides}


@dataclass(frozen=True)
class Verdict:
    generation: str
    problems: tuple[Problem, ...] = ()

    @property
    def shown(self) -> bool:
        return not any(p.hides for p in self.problems)

    @property
    def reason(self) -> str:
        """The first problem: the one to fix first (empty when none)."""
        hiding = [p for p in self.problems if p.hides]
        return (hiding or list(self.problems) or [Problem("", "")])[0].text

    def to_dict(self) -> dict[str, Any]:
        return {"shown": self.shown, "reason": self.reason or None,
                "problems": [p.to_dict() for p in self.problems]}


@dataclass(frozen=True)
class Answer:
    """What one generation's own request returned, reduced to what a verdict needs.

    `error`: None, or a code of SUMMARY (`no-logs-index`, `logs-forbidden`, `request-failed`) with
    `error_text`. `hits`: the (index, id) pairs returned. `matched`: pairs the query matches
    regardless of the answer's size (None: not asked). `logs_indices`: the concrete indices
    `logs` covers (None: unknown). `failed_indices`: index -> the shard failure's reason.
    """

    error: str | None = None
    error_text: str = ""
    hits: frozenset[tuple[str, str]] = frozenset()
    total: int = 0
    matched: frozenset[tuple[str, str]] | None = None
    logs_indices: frozenset[str] | None = None
    failed_indices: Mapping[str, str] = field(default_factory=dict)
    keyword_indices: frozenset[str] = frozenset()  # where `message` is a keyword field
    # one hit of the answer that ruins more than itself (panel_ruin, poller_ruin); None: none found
    ruin: Ruin | None = None
    # v1.20: the hits the poller handles before it crashes on `ruin` (in its order)
    before_ruin: frozenset[tuple[str, str]] = frozenset()
    notes: tuple[str, ...] = ()  # what the summary adds (what could not be read, what OpenReplay does besides)


@dataclass(frozen=True)
class Ruin:
    """A hit that ruins more than itself: the panel fails on it (v1.21+), or the poller crashes on it (v1.20)."""

    code: str  # a key of SUMMARY, in RUIN_CODES
    key: tuple[str, str]  # (index, _id)
    why: str  # what is wrong with the hit
    text: str  # what the summary says first

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "index": self.key[0], "id": self.key[1], "why": self.why, "summary": self.text}


def _kind(value: Any) -> str:
    """A JSON value's kind, as a reader of the document would say it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "text"


def _js_truthy(value: Any) -> bool:
    """JavaScript's truthiness of a JSON value: null, false, 0 and "" are false; [] and {} are true."""
    if isinstance(value, (list, Mapping)):
        return True
    return bool(value)


def panel_ruin(hits: Sequence[Mapping[str, Any]]) -> Ruin | None:
    """What v1.21+'s player panel does with the fetch's hits, in the answer's order (`BackendLogs/utils.ts`,
    newest: `processLog` L8-22, `isElasticLog` L39-41, `processElasticLog` L90-94, `getLevelFromElasticTags`
    L103-106): the answer is taken as Elasticsearch's only when `log[0]._source.message` is truthy, else
    "Unknown log format" (v1.21.0: nothing shown); then `log.map(processElasticLog)` throws on the first
    hit whose `level` has no `.includes` (missing, a number, an object): the whole panel fails. A
    `message` that is an object cannot be rendered (React refuses objects as children)."""
    if not hits:
        return None
    first = hits[0]
    source = _hit_source(first)
    message = source.get("message")
    if not _js_truthy(message):
        what = "no `message`" if message is None else f"`message` {_kind(message)}"
        return Ruin("first-no-message", _hit_key(first), what,
                    f"the panel breaks: the first hit ({_where(first)}) has {what}, so the answer is not taken "
                    "as Elasticsearch's and no line is shown")
    for hit in hits:
        source = _hit_source(hit)
        level = source.get("level")
        if not isinstance(level, (str, list)):
            what = "no `level`" if "level" not in source else f"`level` {_kind(level)}"
            code = "no-level" if "level" not in source else "level-not-text"
            return Ruin(code, _hit_key(hit), what, f"the panel breaks on a hit with {what} ({_where(hit)}): "
                                                   "no line is shown")
    for hit in hits:  # rendered once every hit was read
        source = _hit_source(hit)
        if isinstance(source.get("message"), Mapping):
            return Ruin("panel-message-object", _hit_key(hit), "`message` an object",
                        f"the panel breaks: a hit's `message` is an object ({_where(hit)}): no line is shown")
    return None


def poller_ruin(hits: Sequence[Mapping[str, Any]]) -> tuple[Ruin | None, frozenset[tuple[str, str]]]:
    """The v1.20 poller's loop over its answer, in its order (`clients/elasticsearch.go` at v1.20,
    `Request`): a hit without a `message` or `utc_time` key is skipped (L137-147); `utc_time` is read
    with `source["utc_time"].(string)` (L149) and, once it parses as RFC 3339, `message` with
    `source["message"].(string)` (L155). A value of another type there (a number, a list, null)
    panics inside `go c.Request()`: nothing recovers it, the process dies before the poll's progress is
    saved (`client.go` `Request`: `updateChan` after the requester returns), and every later poll
    starts before that hit and dies on it again. Returns the hit it dies on and the hits it handled before."""
    before: set[tuple[str, str]] = set()
    for hit in hits:
        source = _hit_source(hit)
        if "message" not in source or "utc_time" not in source:
            continue
        utc_time = source["utc_time"]
        if not isinstance(utc_time, str):
            return _poller_crash(hit, f"`utc_time` is {_kind(utc_time)}"), frozenset(before)
        if not _RFC3339.fullmatch(utc_time):
            continue
        message = source["message"]
        if not isinstance(message, str):
            return _poller_crash(hit, f"`message` is {_kind(message)}"), frozenset(before)
        before.add(_hit_key(hit))
    return None, frozenset(before)


def _poller_crash(hit: Mapping[str, Any], why: str) -> Ruin:
    index = str(hit.get("_index") or "")
    return Ruin("poller-crash", _hit_key(hit), why,
                f"the v1.20 poller crashes on a line in `{index}` ({why}) and stops there for every session: "
                "no later line is shown")


def _hit_source(hit: Mapping[str, Any]) -> Mapping[str, Any]:
    source = hit.get("_source")
    return source if isinstance(source, Mapping) else {}


def _hit_key(hit: Mapping[str, Any]) -> tuple[str, str]:
    return (str(hit.get("_index") or ""), str(hit.get("_id") or ""))


def _where(hit: Mapping[str, Any]) -> str:
    return f"index {hit.get('_index')}, id {hit.get('_id')}"


# ---------------------------------------------------------------- the requests, as each sends it

@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: Mapping[str, Any]
    body: Mapping[str, Any]

    def console(self) -> str:
        """As a Kibana Dev Tools console request."""
        import json

        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.method} {self.path}{'?' + query if query else ''}\n{json.dumps(self.body, indent=2)}"


def v121_request(session_id: str) -> Request:
    """v1.21+'s fetch, exactly (elastic.go): index `logs`, a phrase, 1000 hits, no sort."""
    return Request("POST", f"/{LOGS_INDEX}/_search", {"track_total_hits": "true"}, {
        "size": V121_SIZE,
        "query": {"match_phrase": {"message": f"{SESSION_ID_MARKER_PREFIX}{int(session_id)}"}},
    })


def v120_query(since_ms: int) -> dict[str, Any]:
    """The v1.20 poller's query (elasticsearch.go): any token line, from its last poll, tagged error."""
    return {"bool": {"filter": [
        {"match": {"message": {"query": TOKEN_MARKER_PREFIX}}},
        {"range": {"utc_time": {"gte": str(since_ms), "lte": "now"}}},
        {"term": {"tags": "error"}},
    ]}}


def v120_request(indexes: str, since_ms: int) -> Request:
    """The v1.20 poller's search, exactly: the `indexes` setting, sorted by utc_time, scrolled."""
    return Request("POST", f"/{indexes}/_search", {"size": V120_PAGE, "scroll": "2m", "sort": "utc_time:asc"},
                   {"query": v120_query(since_ms)})


def v120_probe(indexes: str, since_ms: int, ids: Sequence[str]) -> Request:
    """The poller's search narrowed to the ids of lines `logs` found: a hit of this is a hit of the
    poller's search (one more filter only narrows), so every line is judged without reading every
    token line of the cluster. No scroll: the ids bound the answer."""
    body = v120_query(since_ms)
    body["bool"]["filter"].append({"ids": {"values": list(ids)}})
    return Request("POST", f"/{indexes}/_search", {"size": max(len(ids), 1), "sort": "utc_time:asc"},
                   {"query": body, "_source": False})


def v121_probe(session_id: str, ids: Sequence[str]) -> Request:
    """v1.21+'s query on `logs` narrowed to the given ids: which of them it matches at all (to tell
    `beyond the first 1000` from `not matched`)."""
    phrase = v121_request(session_id).body["query"]
    return Request("POST", f"/{LOGS_INDEX}/_search", {"size": max(len(ids), 1)}, {
        "query": {"bool": {"filter": [phrase, {"ids": {"values": list(ids)}}]}}, "_source": False})


# ---------------------------------------------------------------- the verdicts

class Line(Protocol):
    """A line of the session as `logs` read it (`search.session_line.SessionLine` is one)."""

    @property
    def hit(self) -> Mapping[str, Any]: ...

    @property
    def time_ms(self) -> int | None: ...

    @property
    def index_name(self) -> str: ...  # a data stream by its name


def _key(line: Line) -> tuple[str, str]:
    return (str(line.hit.get("_index") or ""), str(line.hit.get("_id") or ""))


def _source(line: Line) -> Mapping[str, Any]:
    source = line.hit.get("_source")
    return source if isinstance(source, Mapping) else {}


def _index_name(line: Line) -> str:
    return str(line.index_name or line.hit.get("_index") or "")


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _request_failed(answer: Answer) -> Problem | None:
    if answer.error is None:
        return None
    text = SUMMARY.get(answer.error, SUMMARY["request-failed"])
    if answer.error_text:
        text += f" ({answer.error_text})"
    return Problem(answer.error, text)


def panel_problems(source: Mapping[str, Any]) -> list[Problem]:
    """What v1.21+'s player panel makes of a returned hit's `_source`."""
    problems = []
    level = source.get("level")
    if level is None:
        ecs = source.get("log.level")
        if ecs is None and isinstance(source.get("log"), Mapping):
            ecs = source["log"].get("level")
        where = f" (the level is in `log.level`: {_short(ecs)})" if ecs is not None else ""
        problems.append(Problem("no-level", f"no `level` field{where}: the panel breaks (it reads _source.level)"))
    elif not isinstance(level, (str, list)):
        problems.append(Problem("level-not-text", f"`level` is {_short(level)}, not text: the panel breaks"))
    elif not any(word in level for word in _PANEL_LEVELS):
        lowered = level.lower() if isinstance(level, str) else [str(v).lower() for v in level]
        if any(word in lowered for word in _PANEL_LEVELS):
            problems.append(Problem("level-case", f"level {_short(level)} is not lower case: shown as info, "
                                                  "uncoloured", hides=False))
        else:
            problems.append(Problem("level-unknown", f"level {_short(level)} names no error/warning/info/debug: "
                                                     "shown as info", hides=False))
    if source.get("@timestamp") is None:
        also = " (it has utc_time, which the panel does not read)" if source.get("utc_time") is not None else ""
        # Table.tsx: getDateFromString('') for a row without one
        problems.append(Problem("no-timestamp", f"no `@timestamp`{also}: its time shows as \"Invalid DateTime\"",
                                hides=False))
    return problems


def v121_verdict(line: Line, session_id: str, answer: Answer,
                 fetched_at_ms: int | None = None) -> Verdict:
    """Whether v1.21+ shows the line, from its answer and what the panel does with a hit
    (`BackendLogs/utils.ts` `processElasticLog` L90-94: `message || ''`, so a later hit without
    `message` is a row with empty text; a list is rendered with its values run together)."""
    source = _source(line)
    message = source.get("message")
    problems: list[Problem] = []
    failed = _request_failed(answer)
    key = _key(line)
    returned = not failed and key in answer.hits
    ruin = answer.ruin
    own_ruin = ruin is not None and ruin.key == key
    if ruin is not None and own_ruin and ruin.code in ("first-no-message", "panel-message-object"):
        problems.append(Problem(ruin.code, ruin.text))
    elif not isinstance(message, (str, list)) and not returned:
        problems.append(Problem("no-message", SUMMARY["no-message"]))
    marker = f"{SESSION_ID_MARKER_PREFIX}{int(session_id)}"
    if failed:
        problems.append(failed)
    elif not returned and not problems:
        text = "\n".join(str(m) for m in message) if isinstance(message, list) else str(message)
        if not v121_phrase_matches(text, session_id):
            problems.append(Problem("no-id-marker", f"carries only the v1.20 token, not {marker}"))
        elif answer.logs_indices is not None and key[0] not in answer.logs_indices:
            problems.append(Problem("index-not-logs", f"its index {_index_name(line)} is not `logs` "
                                                      "(nor behind an alias `logs`)"))
        elif key[0] in answer.keyword_indices:
            problems.append(Problem("message-keyword", SUMMARY["message-keyword"]))
        elif answer.total > V121_SIZE and (answer.matched is None or key in answer.matched):
            problems.append(Problem("beyond-1000", f"beyond the first {V121_SIZE} of {answer.total} hits "
                                                   "(no sort: which ones is up to Elasticsearch)"))
        else:
            problems.append(Problem("not-matched", "v1.21's query does not match it"))
    if ruin is not None and not own_ruin and returned:
        problems.insert(0, Problem("panel-broken", ruin.text))
    moment = line.time_ms
    if fetched_at_ms is not None and isinstance(moment, int) and moment > fetched_at_ms:
        problems.append(Problem("after-fetch", SUMMARY["after-fetch"]))
    if returned and not own_ruin:
        if not _js_truthy(message) or isinstance(message, (int, float)):
            problems.append(Problem("empty-row", "no `message`: the panel shows a row with empty text", hides=False)
                            if not _js_truthy(message) else
                            Problem("empty-row", f"`message` is {_kind(message)}: the panel shows it as the text",
                                    hides=False))
        elif isinstance(message, list):
            problems.append(Problem("message-list", "`message` is a list: the panel shows its values run together "
                                                    "(and opening the row fails: it splits the text)", hides=False))
    if isinstance(message, (str, list)) or returned:
        problems += panel_problems(source)
    return Verdict(V121, tuple(problems))


def _token_problems(text: str, session_id: str) -> list[Problem]:
    """What OpenReplay's token pattern (`clients/utils.go` `GetToken`: the first match) reads of a line."""
    found = TOKEN_PATTERN.search(text)
    if found is None:
        return [Problem("no-token", f"carries no {TOKEN_MARKER_PREFIX} (v1.20 reads only the token)")]
    token = found.group(1)
    try:
        ref = parse_session_ref(token)
    except Exception:  # noqa: BLE001 — a UsageError: what OpenReplay cut is not a token
        ref = None
    if ref is None:
        if text[found.end():found.end() + 1] == "-":
            return [Problem("token-cut", f"the token's delay is negative: OpenReplay's pattern stops at "
                                         f"`-` and reads {_short(token)}, so the line is lost")]
        return [Problem("token-cut", f"OpenReplay reads the token as {_short(token)}, not a token")]
    if ref.session_id != str(int(session_id)):
        return [Problem("other-token-first", f"the first token on the line is session "
                                             f"{ref.session_id}'s (OpenReplay reads only the first)")]
    return []


def _message_not_text(source: Mapping[str, Any], message: Any, time_ok: bool) -> Problem:
    """`message` present but not text: read as text once utc_time parses, so anything else panics
    (elasticsearch.go L155); with a utc_time that is not text the panic comes first (L149)."""
    utc_time = source.get("utc_time")
    if "utc_time" in source and (time_ok or not isinstance(utc_time, str)):
        why = f"`utc_time` is {_kind(utc_time)}" if not time_ok else f"`message` is {_kind(message)}"
        return Problem("poller-crash", f"the poller crashes on this line ({why}) if it reaches it: it stops there "
                                       "for every session")
    return Problem("no-message", f"`message` is {_kind(message)}, not text")


def v121_phrase_matches(text: str, session_id: str) -> bool:
    """Whether v1.21+'s phrase finds the session in this text: every spelling its analysis makes the
    same (`OPENREPLAYSESSION.ID=<id>`, `openReplaySession.id= <id>`, `openReplaySession.id: <id>`),
    the id whole (not the start of a longer one)."""
    wanted = str(int(session_id))
    return any(found.group(1) == wanted for found in _V121_PHRASE.finditer(text))


def v120_verdict(line: Line, session_id: str, answer: Answer) -> Verdict:
    """Whether the v1.20 poller shows the line: in its answer, then its own checks of the hit, in the
    order of its loop (`clients/elasticsearch.go` `Request`, L137-166; `poller_ruin` says what one
    hit does to the others)."""
    source = _source(line)
    key = _key(line)
    ruin = answer.ruin
    if ruin is not None and ruin.key == key:
        return Verdict(V120, (Problem("poller-crash", ruin.text),))
    if "message" not in source:
        return Verdict(V120, (Problem("no-message", SUMMARY["no-message"]),))
    message = source.get("message")
    problems: list[Problem] = []
    utc_time = source.get("utc_time")
    time_ok = isinstance(utc_time, str) and bool(_RFC3339.fullmatch(utc_time))
    if not isinstance(message, str):
        problems.append(_message_not_text(source, message, time_ok))
        if key in answer.hits or _request_failed(answer):
            failed = _request_failed(answer)
            return Verdict(V120, tuple(problems + ([failed] if failed else [])))
        text = "\n".join(str(m) for m in message) if isinstance(message, list) else ""
    else:
        text = message
    problems += _token_problems(text, session_id)
    failed = _request_failed(answer)
    bad_time = "utc_time" in source and not time_ok
    if failed:
        problems.append(failed)
        return Verdict(V120, tuple(problems))
    if key not in answer.hits:
        tags = source.get("tags")
        tag_list = tags if isinstance(tags, list) else [tags]
        if key[0] in answer.failed_indices:
            problems.append(Problem("index-failed", f"the poller's search fails on {_index_name(line)}: "
                                                    f"{_short(answer.failed_indices[key[0]], 160)}"))
        elif utc_time is None:
            problems.append(Problem("no-utc-time", "no `utc_time` (the poller filters and sorts on it)"))
        if "error" not in tag_list:
            problems.append(Problem("no-error-tag", f"`tags` lacks an exact `error` (tags: {_short(tags)})"))
    if bad_time and not any(p.code == "poller-crash" for p in problems):
        if isinstance(utc_time, str) or key not in answer.hits:
            # Go's time.Parse(RFC3339) on _source.utc_time fails: the hit is skipped (L149-154)
            problems.append(Problem("utc-time-not-date", f"utc_time {_short(utc_time)} is not an RFC 3339 time: the "
                                                         "poller cannot read it"))
        else:  # `.(string)` on a number, a list, null: a panic (L149)
            problems.insert(0, Problem("poller-crash", f"`utc_time` is {_kind(utc_time)}: the poller crashes on this "
                                                       "line and stops there for every session"))
    if key not in answer.hits and not problems:
        problems.append(Problem("not-matched", "the poller's query does not match it"))
    if ruin is not None and key in answer.hits and not any(p.hides for p in problems):
        problems = _after_ruin(ruin, key in answer.before_ruin, problems)
    return Verdict(V120, tuple(problems))


def _after_ruin(ruin: Ruin, before: bool, problems: list[Problem]) -> list[Problem]:
    """A line the poller's query matches, when it crashes on another line: one it handles before
    (sent again at each restart, each time before it dies) or one it never reaches."""
    if before:
        return [*problems, Problem("poller-restarts", f"the poller crashes on a later line ({ruin.why}, in "
                                                      f"`{ruin.key[0]}`): each restart sends this line again before "
                                                      "it dies, so it may show more than once, or not at all",
                                   hides=False)]
    return [Problem("poller-dead", ruin.text), *problems]


@dataclass(frozen=True)
class LineVerdicts:
    line: Line
    verdicts: Mapping[str, Verdict]


@dataclass(frozen=True)
class Summary:
    generation: str
    shown: int
    lines: int
    reason: str = ""  # the main reason lines are not shown, with how many; a ruin first
    notes: tuple[str, ...] = ()  # what else the user must know of this generation (said after the summary)
    ruin: Ruin | None = None

    def text(self) -> str:
        head = f"OpenReplay {self.generation}: {self.shown} of {plural(self.lines, 'line')}"
        return f"{head}; {self.reason}" if self.reason else head

    def to_dict(self) -> dict[str, Any]:
        return {"shown": self.shown, "lines": self.lines, "reason": self.reason or None, "summary": self.text(),
                "notes": list(self.notes), "ruin": self.ruin.to_dict() if self.ruin else None}


def judge(lines: Sequence[Line], session_id: str, answers: Mapping[str, Answer],
          fetched_at_ms: int | None = None) -> list[LineVerdicts]:
    """Both verdicts for every line; a hit that breaks v1.21+'s panel hides the session's other lines."""
    judged = [LineVerdicts(line, {V120: v120_verdict(line, session_id, answers[V120]),
                                  V121: v121_verdict(line, session_id, answers[V121], fetched_at_ms)})
              for line in lines]
    judged = _several_tokens(judged, session_id)
    breakers = [j for j in judged if _breaks_panel(j.verdicts[V121])]
    if not breakers or answers[V121].ruin is not None:  # the answer's own order said it already
        return judged
    broken = Problem("panel-broken", f"the panel breaks on {plural(len(breakers), 'other line')} of this session "
                                     "without `level`")
    out = []
    for j in judged:
        v = j.verdicts[V121]
        if v.shown:
            v = replace(v, problems=(broken, *v.problems))
        out.append(LineVerdicts(j.line, {**j.verdicts, V121: v}))
    return out


def _several_tokens(judged: list[LineVerdicts], session_id: str) -> list[LineVerdicts]:
    """When more than one token names the session, each line v1.20 would show says that its token may
    not be the one this install signed (the listener's `tokenizer.Parse` drops it: "wrong token sign";
    the signature needs the install's secret, which orx-elastic does not have)."""
    tokens = session_tokens([j.line for j in judged], session_id)
    if len(tokens) < 2:
        return judged
    out = []
    for j in judged:
        verdict = j.verdicts[V120]
        message = _source(j.line).get("message")
        found = TOKEN_PATTERN.search(message) if isinstance(message, str) else None
        if verdict.shown and found is not None and found.group(1) in tokens:
            note = Problem("token-unverified", f"one of {len(tokens)} different tokens for this session: a token "
                                               "signed by another OpenReplay install is dropped (\"wrong token "
                                               "sign\"), and its signature is not checked here", hides=False)
            verdict = replace(verdict, problems=(*verdict.problems, note))
        out.append(LineVerdicts(j.line, {**j.verdicts, V120: verdict}))
    return out


def _breaks_panel(verdict: Verdict) -> bool:
    """Returned by the fetch (nothing before the panel hides it) and throws in the panel."""
    codes = [p.code for p in verdict.problems if p.hides]
    return bool(codes) and codes[0] in ("no-level", "level-not-text")


def summarize(judged: Sequence[LineVerdicts], answers: Mapping[str, Answer], session_id: str | None = None
              ) -> list[Summary]:
    """One summary a generation: how many lines it shows, and the main reason for the others; a hit
    that ruins more than itself first (`Answer.ruin`, or a line of the session that would)."""
    out = []
    for generation in GENERATIONS:
        verdicts = [j.verdicts[generation] for j in judged]
        answer = answers[generation]
        shown = sum(v.shown for v in verdicts)
        failed = _request_failed(answer)
        reason = ""
        ruin = answer.ruin
        if failed:
            reason = failed.text
        elif shown < len(verdicts):
            firsts = [next(p for p in v.problems if p.hides) for v in verdicts if not v.shown]
            codes = Counter(p.code for p in firsts)
            hidden = len(verdicts) - shown
            own = next((p for p in firsts if p.code in RUIN_CODES), None)
            if ruin is not None and (codes["panel-broken"] or codes["poller-dead"] or ruin.code in codes):
                reason = ruin.text
            elif own is not None and own.code == "poller-crash":
                reason = SUMMARY["poller-crash"]
            else:
                code, count = codes.most_common(1)[0]
                reason = SUMMARY[code] + (f" ({count} of the {hidden} not shown)" if count != hidden else "")
        notes = [*answer.notes, *_notes(generation, judged, answer, session_id)]
        out.append(Summary(generation, shown, len(verdicts), reason, tuple(notes), ruin))
    return out


V1210_FATAL = ("on v1.21.0 exactly, this error ends OpenReplay's integrations process (`log.Fatalf` in "
               "clients/elastic.go): backend logs stop for every project until it restarts; later versions "
               "return the error")
NEVER_COLOURED = ("the panel never colours an Elasticsearch row: it colours only ERROR and WARN, and it lower-cases "
                  "every level it reads")
SIGNATURE_NOT_CHECKED = ("a token's signature is not checked here (that needs your OpenReplay's secret): the "
                         "listener drops a token signed by another install (\"wrong token sign\")")


def _notes(generation: str, judged: Sequence[LineVerdicts], answer: Answer, session_id: str | None) -> list[str]:
    notes = []
    shown = [j for j in judged if j.verdicts[generation].shown]
    if generation == V121:
        if answer.error is not None:
            notes.append(V1210_FATAL)
        if shown:
            notes.append(NEVER_COLOURED)
        return notes
    if answer.ruin is not None and not any(p.code in ("poller-dead", "poller-crash")
                                           for j in judged for p in j.verdicts[V120].problems):
        notes.append(f"{answer.ruin.text}; this session's lines come before it: each restart sends them again")
    if not shown:
        return notes
    notes.append(SIGNATURE_NOT_CHECKED)
    tokens = session_tokens([j.line for j in judged], session_id) if session_id else []
    if len(tokens) > 1:
        notes.append(f"{len(tokens)} different tokens carry this session's id ({', '.join(_short(t, 24) for t in tokens)}): "
                     "two OpenReplay installs, or a token copied from another; v1.20 shows only the lines whose "
                     "token your install signed")
    return notes


def session_tokens(lines: Sequence[Line], session_id: str) -> list[str]:
    """The distinct tokens (as OpenReplay cuts them) that name this session, in the lines' order."""
    out: list[str] = []
    for line in lines:
        message = _source(line).get("message")
        if not isinstance(message, str):
            continue
        found = TOKEN_PATTERN.search(message)
        if found is None or found.group(1) in out:
            continue
        try:
            ref = parse_session_ref(found.group(1))
        except Exception:  # noqa: BLE001 — not a token
            continue
        if ref.session_id == str(int(session_id)):
            out.append(found.group(1))
    return out
