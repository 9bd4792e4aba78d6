"""-A/-B/-C with --follow (issue 39): `StreamAround` prints grep's lines whatever the polls' cuts, and the
errors among a poll's lines are asked of the cluster with each group's own error filter."""

from __future__ import annotations

from elastic_cli.search.context import Context, StreamAround, error_requests
from elastic_cli.search.fields import error_filter
from elastic_cli.search.plan import IndexGroup
from elastic_cli.search.session_line import SessionLine
from hypothesis import given, settings
from hypothesis import strategies as st


def line(n: int, index: str = "app") -> SessionLine:
    return SessionLine({"_index": index, "_id": str(n), "_source": {"message": f"line {n}"}}, n, "info", index, n)


def grep_rule(n_lines: int, errors: set[int], before: int, after: int) -> list[tuple[int, bool, bool]]:
    shown = sorted({p for e in errors for p in range(e - before, e + after + 1) if 0 <= p < n_lines})
    return [(p, p not in errors, i > 0 and p > shown[i - 1] + 1) for i, p in enumerate(shown)]


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 40), data=st.data(), before=st.integers(0, 4), after=st.integers(0, 4))
def test_the_lines_printed_are_greps_whatever_the_polls(n, data, before, after):
    errors = data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)) if n else set()
    cuts = sorted(data.draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=6))) if n > 1 else []
    lines = [line(p) for p in range(n)]
    stream, out = StreamAround(Context(before, after)), []
    for start, end in zip([0, *cuts], [*cuts, n]):
        batch = lines[start:end]
        out += stream.feed(batch, {x.id for x in batch if int(x.hit["_id"]) in errors})
    assert [(int(x.hit["_id"]), x.context, x.gap) for x in out] == grep_rule(n, errors, before, after)


def test_after_lines_come_in_a_later_poll():
    stream = StreamAround(Context(0, 2))
    first = stream.feed([line(0), line(1)], {("app", "1")})
    assert [(x.hit["_id"], x.context) for x in first] == [("1", False)]
    later = stream.feed([line(2), line(3), line(4)], set())
    assert [(x.hit["_id"], x.context) for x in later] == [("2", True), ("3", True)]


def test_each_group_is_asked_with_its_own_error_filter_and_only_its_lines():
    groups = [IndexGroup(target="logs-*", indices=("a", "b"), time_field="@timestamp", level_fields=("log.level",)),
              IndexGroup(target="logs-*", indices=("c",), time_field="@timestamp", level_fields=()),
              IndexGroup(target="logs-*", indices=("d",), time_field="utc_time", level_fields=("tags", "level"))]

    class Plan:
        pass

    plan = Plan()
    plan.groups = groups  # type: ignore[attr-defined]
    lines = [line(1, "a"), line(2, "b"), line(3, "c"), line(4, "d"), line(5, "d")]
    requests = error_requests(plan, lines)
    assert [target for target, _ in requests] == ["logs-*", "logs-*"]  # none for the group without a level
    first, second = (body["query"]["bool"]["filter"] for _, body in requests)
    assert first == [{"ids": {"values": ["1", "2"]}}, {"terms": {"_index": ["a", "b"]}}, error_filter(("log.level",))]
    assert second == [{"ids": {"values": ["4", "5"]}}, {"terms": {"_index": ["d"]}}, error_filter(("tags", "level"))]
    assert all(body["_source"] is False for _, body in requests)
