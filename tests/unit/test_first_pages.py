"""A lookup's first pages (one `_msearch`, no point in time): when they are the whole answer, and
when the search must page with a point in time instead; and the cache of shapes it plans from."""

from __future__ import annotations

import dataclasses
import json
import os
import stat

from elastic_cli.openreplay.session_token import markers, parse_session_ref
from elastic_cli.search import lines as search_lines
from elastic_cli.search import plan as search_plan
from elastic_cli.search.fields import FieldPolicy, IndexShape
from elastic_cli.search.query import LogQuery
from elastic_cli.search.shape_cache import ShapeCache

from walk_fixtures import one_slice  # noqa: F401 — an autouse fixture

OURS = "openReplaySession.id=2618307011354435587"
FOREIGN = "openReplaySession.id=26183070113544355870"  # a longer id: another session
POLICY = FieldPolicy()
TEXT = IndexShape("logs-a", "text", "utc_time", ("tags",))
KEYWORD = IndexShape("logs-b", "keyword", "utc_time", ("tags",))


def plan_for(*shapes: IndexShape, reverse: bool = False) -> search_plan.SearchPlan:
    q = LogQuery(markers=markers(parse_session_ref("2618307011354435587")), errors_only=False, reverse=reverse)
    return search_plan.plan_from_shapes(list(shapes), ["logs-*"], q, POLICY)


def hit(index: str, ms: int, message: str = OURS) -> dict:
    return {"_index": index, "_id": f"{index}-{ms}-{message[-3:]}", "_source": {"message": message}, "sort": [ms]}


def answer(*hits: dict) -> dict:
    return {"hits": {"hits": list(hits)}, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "took": 1, "timed_out": False}


def test_one_page_that_is_not_full_is_the_whole_answer():
    plan = plan_for(TEXT)
    pages = search_lines.first_pages(plan, 11)
    stats = search_lines.SearchStats()
    got = search_lines.limited_from_first_pages(plan, pages, [answer(hit("logs-a", 1), hit("logs-a", 2))],
                                              wanted=11, stats=stats)
    assert [line.time_ms for line in got] == [1, 2]
    assert stats.hits_read == 2 and stats.shards_total == 1


def test_a_full_page_holds_the_answer_when_it_has_enough_session_lines():
    plan = plan_for(TEXT)
    pages = search_lines.first_pages(plan, 3)
    got = search_lines.limited_from_first_pages(plan, pages, [answer(*(hit("logs-a", ms) for ms in (1, 2, 3)))],
                                              wanted=3, stats=search_lines.SearchStats())
    assert [line.time_ms for line in got] == [1, 2, 3]


def test_a_full_page_short_of_session_lines_pages_with_a_point_in_time():
    """The phrase query also matched another session's line, which the client check drops: the
    next page would be needed, which only a point in time keeps consistent."""
    plan = plan_for(TEXT)
    pages = search_lines.first_pages(plan, 3)
    full = answer(hit("logs-a", 1), hit("logs-a", 2, FOREIGN), hit("logs-a", 3))
    assert search_lines.limited_from_first_pages(plan, pages, [full], wanted=3, stats=search_lines.SearchStats()) is None


def test_two_streams_a_full_one_must_not_hide_lines_before_those_taken():
    plan = plan_for(TEXT, KEYWORD)
    pages = search_lines.first_pages(plan, 2)
    assert len(pages) == 2
    by_index = {p.group.indices[0]: i for i, p in enumerate(pages)}  # both search the patterns

    def answers(a: dict, b: dict) -> list[dict]:
        out = [answer(), answer()]
        out[by_index["logs-a"]], out[by_index["logs-b"]] = a, b
        return out

    # logs-b is full up to 2; logs-a's line at 5 would be taken, but logs-b may hold lines at 3 or 4
    unsure = answers(answer(hit("logs-a", 5)), answer(hit("logs-b", 1), hit("logs-b", 2)))
    assert search_lines.limited_from_first_pages(plan, pages, unsure, wanted=3, stats=search_lines.SearchStats()) is None
    # enough lines before logs-b's last one: the answer is known
    sure = answers(answer(hit("logs-a", 1)), answer(hit("logs-b", 2), hit("logs-b", 9)))
    got = search_lines.limited_from_first_pages(plan, pages, sure, wanted=2, stats=search_lines.SearchStats())
    assert [(line.hit["_index"], line.time_ms) for line in got] == [("logs-a", 1), ("logs-b", 2)]
    # newest first: the same rule the other way round
    plan = plan_for(TEXT, KEYWORD, reverse=True)
    pages = search_lines.first_pages(plan, 2)
    unsure = answers(answer(hit("logs-a", 1)), answer(hit("logs-b", 9), hit("logs-b", 8)))
    assert search_lines.limited_from_first_pages(plan, pages, unsure, wanted=3, stats=search_lines.SearchStats()) is None


def test_the_count_of_indices_left_out_needs_every_candidate():
    plan = plan_for(TEXT)
    pages = search_lines.first_pages(plan, 2)
    assert search_lines.counted_from_first_pages(pages, [answer(hit("logs-a", 1), hit("logs-a", 2, FOREIGN))]) is None
    assert search_lines.counted_from_first_pages(pages, [answer(hit("logs-a", 1))]) == 1


def test_a_plan_from_other_shapes_sends_other_requests():
    def same_requests(a: list, b: list) -> bool:  # as `early_pages` compares a lookup's first pages
        return search_lines.same_wire([(p.target, p.body) for p in a], [(p.target, p.body) for p in b])

    guessed = search_lines.first_pages(plan_for(*search_plan.guessed_shapes(["logs-*"], POLICY)), 11)
    # a text index whose analysis is not learnt yet gets every query form, as the guess does
    unlearnt = dataclasses.replace(TEXT, message_terms="unknown")
    assert same_requests(guessed, search_lines.first_pages(plan_for(unlearnt), 11))
    assert not same_requests(guessed, search_lines.first_pages(plan_for(dataclasses.replace(TEXT, message_terms="split")), 11))
    assert not same_requests(guessed, search_lines.first_pages(plan_for(TEXT, KEYWORD), 11))
    ecs = IndexShape("logs-a", "text", "@timestamp", ("log.level",))
    assert not same_requests(guessed, search_lines.first_pages(plan_for(ecs), 11))


def test_the_shape_cache_round_trips_atomically_with_no_secret(tmp_path):
    cache = ShapeCache.for_search("https://es:9243", "key-id-1", ["*log*"], POLICY, directory=tmp_path)
    assert cache.load() is None
    cache.save([TEXT, KEYWORD, IndexShape("other", None, None, ())])
    assert cache.load() == [TEXT, KEYWORD, IndexShape("other", None, None, ())]
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600
    assert "key-id-1" not in cache.path.read_text()  # the key id names the file (hashed), never in it
    assert list(tmp_path.iterdir()) == [cache.path]  # no temporary file left
    # another key, cluster or pattern is another file
    for other in (ShapeCache.for_search("https://es:9243", "key-id-2", ["*log*"], POLICY, directory=tmp_path),
                  ShapeCache.for_search("https://other:9243", "key-id-1", ["*log*"], POLICY, directory=tmp_path),
                  ShapeCache.for_search("https://es:9243", "key-id-1", ["logs-*"], POLICY, directory=tmp_path)):
        assert other.path != cache.path and other.load() is None


def test_a_corrupt_or_unreadable_cache_is_no_cache(tmp_path):
    cache = ShapeCache.for_search("http://es:9200", "k", ["*log*"], POLICY, directory=tmp_path)
    for text in ("{not json", json.dumps({"format": 1, "shapes": [["a", 3, None, []]]}),
                 json.dumps({"format": 99, "shapes": []}), json.dumps([1, 2]), "\x00\xff"):
        cache.path.write_text(text)
        assert cache.load() is None
    cache.path.unlink()
    cache.path.mkdir()  # not a file
    assert cache.load() is None
    cache.save([TEXT])  # cannot be written: not an error
    blocked = ShapeCache.for_search("http://es:9200", "k", ["*log*"], POLICY, directory=tmp_path / "f" / "x")
    (tmp_path / "f").write_text("a file where the directory should be")
    blocked.save([TEXT])
    assert blocked.load() is None


def test_lines_sharing_a_time_on_several_shards_page_with_a_point_in_time():
    """Without a point in time ties are ordered by `_doc` within each shard; across shards that is
    not `_shard_doc`'s order, so a page from several shards with a tie is not used."""
    plan = plan_for(TEXT)
    pages = search_lines.first_pages(plan, 11)
    assert pages[0].body["sort"][-1] == {"_doc": {"order": "asc"}}
    two_shards = answer(hit("logs-a", 1), hit("logs-a", 1, OURS + " again"))
    two_shards["_shards"] = {"total": 2, "successful": 2, "skipped": 0, "failed": 0}
    assert search_lines.limited_from_first_pages(plan, pages, [two_shards], wanted=11,
                                               stats=search_lines.SearchStats()) is None
    two_shards["_shards"]["skipped"] = 1  # one shard only held lines
    assert len(search_lines.limited_from_first_pages(plan, pages, [two_shards], wanted=11,
                                                   stats=search_lines.SearchStats())) == 2
