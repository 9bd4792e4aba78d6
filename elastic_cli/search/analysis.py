"""How each index's analyzer splits a marked line, learnt from the index itself (issue 35).

`_field_caps` says `message` is text, not how it is analysed; the phrase search `logs` sends is only
complete when the analyzer splits `key:openReplaySession.id=<id>` as the standard one does. A key
with `read` may not read a mapping, but it may ask `_mtermvectors` for an artificial document: the
index analyses a sample marked line with its own analyzer and answers its terms, for every text
index in one request, never stored. What the terms show decides which query finds every marker
form in that index (`query.py`), or that none can (a named reason, not silence).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

from elastic_cli.search.fields import KEYWORD_TYPES, IndexShape

# the id of the sample line: any long number; the marker glued to a word before it, as loggers
# write `key:value` (`ctx:openReplaySession.id=...`), so a split that keeps the glue shows
SAMPLE_ID = "2618307011354435587"
SAMPLE_LINE = f"ctx:openReplaySession.id={SAMPLE_ID} failed"
MARKER_WORD = "openreplaysession"

# what an index's analysis does with a marked line
SPLIT = "split"  # the id is a term of its own (standard and most analyzers): a phrase or the id's term
WHOLE = "whole"  # the id inside a longer term (whitespace, keyword analyzers): a wildcard on the terms
DROPPED = "dropped"  # the id is not kept, the marker's word is (simple): the word's phrase, every session's
NONE = "none"  # neither (not indexed, an odd analyzer): no query can find the session's lines
UNKNOWN = "unknown"  # the probe failed: every form is sent
KINDS = (SPLIT, WHOLE, DROPPED, NONE, UNKNOWN)

UNSEARCHABLE = ("its message field keeps neither the session id nor the marker as terms (not indexed, or an "
                "analyzer that drops them), so no search can find the session's lines there")


def needs_probe(shape: IndexShape) -> bool:
    """A text message whose analysis is not already known to leave nothing to search (field caps)."""
    return shape.message_type is not None and shape.message_type not in KEYWORD_TYPES and shape.message_terms != NONE


def probe_body(indices: Sequence[str], message_field: str) -> dict[str, Any]:
    """One `_mtermvectors` request: the sample line analysed by each index's own analyzer."""
    return {"docs": [{"_index": index, "doc": {message_field: SAMPLE_LINE}, "fields": [message_field],
                      "positions": False, "offsets": False, "field_statistics": False,
                      "term_statistics": False} for index in indices]}


def kind_of_terms(terms: Sequence[str]) -> str:
    """Which query finds a marked line, from the terms the sample line became (pure)."""
    lowered = [term.lower() for term in terms]
    if SAMPLE_ID in lowered:
        return SPLIT
    if any(SAMPLE_ID in term for term in lowered):
        return WHOLE
    if any(MARKER_WORD in term for term in lowered):
        return DROPPED
    return NONE


def kinds_from_answer(answer: Mapping[str, Any], indices: Sequence[str], message_field: str) -> dict[str, str]:
    """index -> kind, from a `_mtermvectors` answer (an index it errs on is UNKNOWN)."""
    kinds = dict.fromkeys(indices, UNKNOWN)
    for doc in answer.get("docs") or ():
        index = doc.get("_index")
        if index not in kinds or doc.get("error"):
            continue
        vectors = (doc.get("term_vectors") or {}).get(message_field) or {}
        kinds[index] = kind_of_terms(list((vectors.get("terms") or {}).keys()))
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
