"""How an index's analysis is judged (issue 35): from several contexts a logger writes a marker in, each
analysed by the index (`_mtermvectors`), never from one sample line. Here the analyzers are modelled in
Python (pure); tests/integration/test_analysis_contexts.py asks a real node."""

from __future__ import annotations

import re

import pytest
from elastic_cli.search import analysis
from elastic_cli.search.analysis import DROPPED, ID_CONTEXTS, NONE, SPLIT, TOKEN_CONTEXTS, UNKNOWN, WHOLE


def _terms(tokens: list[str]) -> dict[int, set[str]]:
    terms: dict[int, set[str]] = {}
    for position, term in enumerate(tokens):
        terms.setdefault(position, set()).add(term)
    return terms


ANALYZERS = {
    # the standard tokenizer, as far as these lines go: words joined by `.` and `_`, and by `:` before a letter
    "standard": lambda text: re.findall(r"[0-9a-z]+(?:[._'][0-9a-z]+|:[a-z][0-9a-z]*)*", text.lower()),
    "whitespace": lambda text: text.split(),
    "keyword": lambda text: [text],
    "simple": lambda text: re.findall(r"[a-z]+", text.lower()),
    # a custom `pattern` analyzer splitting on spaces and `=` only: `openreplaysession.id:<id>` stays one term
    "pattern spaces and =": lambda text: [t for t in re.split(r"[ =]+", text.lower()) if t],
    "not indexed": lambda text: [],
    # drops digits glued to a colon only: the id is a term in every context but one, where only the word is
    "odd": lambda text: [t for t in re.split(r"[ =\"{}\[\],]+", text.lower()) if t and not re.search(r":\d", t)],
}


def kind(analyzer) -> str:
    terms = [_terms(analyzer(sample)) for sample in analysis.SAMPLES]
    contexts = len(ID_CONTEXTS) + len(TOKEN_CONTEXTS)
    return analysis.kind_of_analysis(terms[:contexts], terms[contexts:])


@pytest.mark.parametrize(("name", "expected"), [
    ("standard", SPLIT),
    ("whitespace", WHOLE),
    ("keyword", WHOLE),
    ("simple", DROPPED),
    ("pattern spaces and =", WHOLE),  # the one sample line said `split`: `openReplaySession.id:<id>` lines lost
    ("not indexed", NONE),
    ("odd", NONE),
])
def test_each_analysis_is_planned_for_the_form_that_finds_every_context(name, expected):
    assert kind(ANALYZERS[name]) == expected


def test_the_one_sample_line_alone_would_have_planned_the_pattern_analyzer_as_split():
    """What the probe said before: `ctx:openReplaySession.id=<id> failed` alone keeps the id as a term."""
    assert analysis.SAMPLE_ID in ANALYZERS["pattern spaces and ="]("ctx:openReplaySession.id=2618307011354435587 x")


def test_contexts_needing_different_forms_get_every_form():
    """Digits dropped (the phrase of the marker's words finds the line) but in one context, where the id is
    kept inside a longer term (only a wildcard finds it): neither form alone is complete, every form is."""
    def mixed(text: str) -> list[str]:
        if re.search(r"\.id:[0-9]", text):
            return text.lower().split()
        return ANALYZERS["simple"](text)
    assert kind(mixed) == UNKNOWN


def test_an_answer_short_or_in_error_for_an_index_leaves_it_unknown():
    per_index = len(analysis.SAMPLES)
    doc = {"_index": "a", "term_vectors": {"message": {"terms": {}}}}
    assert analysis.kinds_from_answer({"docs": [doc] * (per_index - 1)}, ["a"], "message") == {"a": UNKNOWN}
    assert analysis.kinds_from_answer({"docs": [doc] * (per_index - 1) + [{"_index": "a", "error": "x"}]}, ["a"],
                                      "message") == {"a": UNKNOWN}
    assert analysis.kinds_from_answer({"docs": [doc] * per_index}, ["a"], "message") == {"a": NONE}


def test_the_probe_is_one_request_with_every_sample_for_every_index():
    body = analysis.probe_body(["a", "b"], "message")
    assert len(body["docs"]) == 2 * len(analysis.SAMPLES)
    assert all(d["positions"] for d in body["docs"])
    assert [d["_index"] for d in body["docs"]] == ["a"] * len(analysis.SAMPLES) + ["b"] * len(analysis.SAMPLES)
