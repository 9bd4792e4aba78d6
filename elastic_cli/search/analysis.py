"""How each index's analyzer splits a marked line, learnt from the index itself (issue 35).

`_field_caps` says `message` is text, not how it is analysed; the phrase search `logs` sends is only
complete when the analyzer splits `key:openReplaySession.id=<id>` as the standard one does. A key
with `read` may not read a mapping, but it may ask `_mtermvectors` for artificial documents: the
index analyses sample marked lines (the marker in each context loggers write it in, and the phrases
the queries send) with its own analyzer and answers their terms and positions, for every text index
in one request, never stored. Laid over each other they show which of `query.marker_clauses`' forms
finds the marker in every context, for one session (`logs`) and any (`sessions`): that form is sent
to the index, or every form when contexts need different ones, or none can (a named reason, not
silence). An analyzer whose search analyzer differs from its index analyzer is judged by the latter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, Mapping, Sequence, Set

from elastic_cli.search.fields import KEYWORD_TYPES, IndexShape

# the id of the sample lines: any long number (its base36 form starts the sample token)
SAMPLE_ID = "2618307011354435587"
SAMPLE_BASE36 = "jw4wdfpgqhoj"
SAMPLE_TOKEN = f"{SAMPLE_BASE36}.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
MARKER_WORD = "openreplaysession"
# the contexts loggers write a marker in (an analyzer may split one and not another: a custom `pattern`
# analyzer splitting on spaces and `=` keeps `openreplaysession.id:<id>` whole), each with the session's
# part a query looks for: an index is planned for a form only when that form finds every one of them
ID_CONTEXTS = (
    "openReplaySession.id={id} failed",  # start of line
    "ctx:openReplaySession.id={id} failed",  # after `key:`
    "app.handler.openReplaySession.id={id}",  # after a logger's dotted name
    "trace_openReplaySession.id={id}",  # after `_`
    "k=openReplaySession.id={id}",  # after `=`
    '{{"ctx":"openReplaySession.id={id}","msg":"failed"}}',  # quoted, in JSON
    '{{"openReplaySession.id":"{id}"}}',  # the marker as a JSON key
    "[openReplaySession.id={id}] failed",  # in brackets
    "OPENREPLAYSESSION.ID: {id} failed",  # upper case, a colon and a space
    "openReplaySession.id:{id}",  # a colon, no space
    "openReplaySession.id= {id}",  # console.log(k, v)
    "GET https://app.example.com/api?openReplaySession.id={id} 500",  # in a URL (uax_url_email keeps it whole)
)
TOKEN_CONTEXTS = (
    "openReplaySessionToken={token} failed",
    "trace_openReplaySessionToken={token}",
    '{{"t":"openReplaySessionToken={token}"}}',
)
# what `logs` (one session) and `sessions` (any) search with as phrases (query._phrase_clauses), analysed
# the same way, so their terms and positions can be laid over each context's
ID_PHRASE = f"openReplaySession.id={SAMPLE_ID}"
TOKEN_PHRASE = f"openReplaySessionToken={SAMPLE_BASE36}"  # a phrase whose last term is a prefix
ID_NAME = "openReplaySession.id"
TOKEN_NAME = "openReplaySessionToken"
SAMPLES = (*(c.format(id=SAMPLE_ID) for c in ID_CONTEXTS), *(c.format(token=SAMPLE_TOKEN) for c in TOKEN_CONTEXTS),
           ID_PHRASE, TOKEN_PHRASE, ID_NAME, TOKEN_NAME)
# kept for callers that name the one line analysed before several were
SAMPLE_LINE = SAMPLES[1]

# what an index's analysis does with a marked line
SPLIT = "split"  # the id starts a term in every context (standard and most analyzers): a phrase or the id's term
WHOLE = "whole"  # the id inside longer terms (whitespace, keyword, some pattern analyzers): a wildcard on the terms
DROPPED = "dropped"  # the id is not kept, the marker's words are (simple): their phrase, every session's lines read
NONE = "none"  # some context no query form finds (not indexed, an odd analyzer): a named reason
UNKNOWN = "unknown"  # the probe failed, or contexts need different forms: every form is sent
KINDS = (SPLIT, WHOLE, DROPPED, NONE, UNKNOWN)

UNSEARCHABLE = ("its message field keeps neither the session id nor the marker as terms in every context a logger "
                "writes a marker in (not indexed, or an analyzer that drops or splits them), so no search can find "
                "all the session's lines there")

Terms = Dict[int, Set[str]]  # position -> the terms there


def needs_probe(shape: IndexShape) -> bool:
    """A text message whose analysis is not already known to leave nothing to search (field caps)."""
    return shape.message_type is not None and shape.message_type not in KEYWORD_TYPES and shape.message_terms != NONE


def probe_body(indices: Sequence[str], message_field: str) -> dict[str, Any]:
    """One `_mtermvectors` request: each sample line analysed by each index's own analyzer."""
    return {"docs": [{"_index": index, "doc": {message_field: sample}, "fields": [message_field],
                      "positions": True, "offsets": False, "field_statistics": False,
                      "term_statistics": False} for index in indices for sample in SAMPLES]}


def terms_of(doc: Mapping[str, Any], message_field: str) -> Terms:
    """position -> terms, from one `_mtermvectors` doc (a term without positions sits at -1)."""
    terms: Terms = {}
    vectors = ((doc.get("term_vectors") or {}).get(message_field) or {}).get("terms") or {}
    for term, info in vectors.items():
        for token in (info or {}).get("tokens") or [{"position": -1}]:
            terms.setdefault(int(token.get("position", -1)), set()).add(str(term))
    return terms


def _phrase_found(phrase: Terms, line: Terms, last_is_prefix: bool = False) -> bool:
    """Whether a match_phrase (match_phrase_prefix) of `phrase`'s analysis finds `line`'s."""
    if not phrase or -1 in phrase or -1 in line:
        return False  # a phrase of no term finds nothing; without positions it cannot be told
    first, last = min(phrase), max(phrase)
    for start in line:
        found = True
        for position, wanted in phrase.items():
            there = line.get(start + position - first) or set()
            if position == last and last_is_prefix:
                found = all(any(t.startswith(w) for t in there) for w in wanted)
            else:
                found = wanted <= there
            if not found:
                break
        if found:
            return True
    return False


def _all_terms(terms: Terms) -> set[str]:
    return set().union(*terms.values()) if terms else set()


def kind_of_analysis(contexts: Sequence[Terms], phrases: Sequence[Terms]) -> str:
    """Which query form finds a marked line in every context, for one session (`logs`) and for any
    (`sessions`), from the terms each sample became (pure); `contexts` in the order of ID_CONTEXTS then
    TOKEN_CONTEXTS, `phrases` of ID_PHRASE, TOKEN_PHRASE, ID_NAME, TOKEN_NAME."""
    id_phrase, token_phrase, id_name, token_name = phrases
    forms: list[set[str]] = []  # per context: which clauses of query.marker_clauses find it
    for n, line in enumerate(contexts):
        is_token = n >= len(ID_CONTEXTS)
        needle = SAMPLE_BASE36 if is_token else SAMPLE_ID
        terms = _all_terms(line)
        found = set()
        if _phrase_found(token_phrase if is_token else id_phrase, line, last_is_prefix=is_token):
            found.add("phrase")
        if any(t.startswith(needle) for t in terms):
            found.add("prefix")
        if any(needle in t.lower() for t in terms):
            found.add("wildcard")
        # any session's (`sessions`): the marker's name as a phrase, its word inside a term
        if _phrase_found(token_name if is_token else id_name, line):
            found.add("name")
        if any(MARKER_WORD in t.lower() for t in terms):
            found.add("word")
        forms.append(found)

    def complete(one: set[str], any_session: set[str]) -> bool:
        return all(f & one and f & any_session for f in forms)

    id_kept = any(SAMPLE_ID in t.lower() for t in _all_terms(id_phrase)) or any("wildcard" in f for f in forms)
    if not id_kept and complete({"phrase"}, {"name"}):
        return DROPPED
    if complete({"phrase", "prefix"}, {"name", "word"}):
        return SPLIT
    if complete({"wildcard"}, {"word"}):
        return WHOLE
    if complete({"phrase", "prefix", "wildcard"}, {"name", "word"}):
        return UNKNOWN  # contexts need different forms: every form is sent
    return NONE


def kinds_from_answer(answer: Mapping[str, Any], indices: Sequence[str], message_field: str) -> dict[str, str]:
    """index -> kind, from a `_mtermvectors` answer to `probe_body` (its docs in the request's order;
    an index it errs on, or answers short for, is UNKNOWN)."""
    kinds = dict.fromkeys(indices, UNKNOWN)
    docs = list(answer.get("docs") or ())
    for n, index in enumerate(indices):
        mine = docs[n * len(SAMPLES):(n + 1) * len(SAMPLES)]
        if len(mine) != len(SAMPLES) or any(d.get("error") or d.get("_index") not in (None, index) for d in mine):
            continue
        terms = [terms_of(doc, message_field) for doc in mine]
        contexts = len(ID_CONTEXTS) + len(TOKEN_CONTEXTS)
        kinds[index] = kind_of_analysis(terms[:contexts], terms[contexts:])
    return kinds


def with_analysis(es: Any, shapes: Sequence[IndexShape], message_field: str,
                  known: Sequence[IndexShape] | None = None, probe: bool = True) -> list[IndexShape]:
    """`shapes` with each text index's analysis: from `known` (an index's analyzer never changes)
    where it was learnt before, else from one `_mtermvectors` request for the rest (`probe`), else
    UNKNOWN (every query form is sent: complete, slower)."""
    kinds = learnt_from(shapes, known)
    ask = [s.index for s in shapes if needs_probe(s) and s.index not in kinds]
    if ask and probe:
        kinds.update(_probe(es, ask, message_field))
    return [replace(s, message_terms=kinds.get(s.index, UNKNOWN)) if needs_probe(s) else s for s in shapes]


def learnt_from(shapes: Sequence[IndexShape], known: Sequence[IndexShape] | None) -> dict[str, str]:
    """index -> what `known` learnt of it (the same index with the same message type)."""
    learnt = {(s.index, s.message_type): s.message_terms for s in known or () if s.message_terms not in (None, UNKNOWN)}
    return {s.index: learnt[(s.index, s.message_type)] for s in shapes if (s.index, s.message_type) in learnt}


def to_learn(known: Sequence[IndexShape] | None) -> list[IndexShape]:
    """The text indices of `known` whose analysis is not learnt yet."""
    return [s for s in known or () if needs_probe(s) and s.message_terms in (None, UNKNOWN)]


def learn(es: Any, shapes: Sequence[IndexShape], message_field: str) -> list[IndexShape]:
    """`shapes` with what one `_mtermvectors` request tells of each (sent beside a lookup's first
    request, from the names a cache holds: it costs no round trip of its own)."""
    kinds = _probe(es, [s.index for s in shapes], message_field) if shapes else {}
    return [replace(s, message_terms=kinds.get(s.index, UNKNOWN)) for s in shapes]


def _probe(es: Any, indices: Sequence[str], message_field: str) -> dict[str, str]:
    from elastic_cli.cluster.connection import body_of

    try:
        answer = body_of(es.mtermvectors(body=probe_body(indices, message_field)))
    except Exception:  # noqa: BLE001 — cannot tell: every form is sent (slower, never lines lost)
        return dict.fromkeys(indices, UNKNOWN)
    return kinds_from_answer(answer, indices, message_field)
