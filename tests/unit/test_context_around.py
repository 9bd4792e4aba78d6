"""-A/-B/-C (issue 39): which lines `search.context.around` prints around the error lines, checked
against grep's rule written plainly (every line within N of an error line, `--` where the printed
positions jump), and the table, JSON and csv that show them apart."""

from __future__ import annotations

import io
import json

from elastic_cli.output.writer import LogWriter
from elastic_cli.search.context import Context, around
from elastic_cli.search.session_line import SessionLine
from hypothesis import given, settings
from hypothesis import strategies as st


def line(n: int, level: str = "info") -> SessionLine:
    hit = {"_index": "app", "_id": str(n), "_source": {"message": f"line {n}", "level": level}}
    return SessionLine(hit, 1_700_000_000_000 + n, level, "app", n)


def printed(matches, walk, context, page_size=3):
    pages = [walk[i:i + page_size] for i in range(0, len(walk), page_size)]
    return [(int(x.hit["_id"]), x.context, x.gap) for page in around(matches, pages, context) for x in page]


def grep_rule(n_lines: int, errors: set[int], before: int, after: int) -> list[tuple[int, bool, bool]]:
    shown = sorted({p for e in errors for p in range(e - before, e + after + 1) if 0 <= p < n_lines})
    return [(p, p not in errors, i > 0 and p > shown[i - 1] + 1) for i, p in enumerate(shown)]


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 40), data=st.data(), before=st.integers(0, 4), after=st.integers(0, 4),
       page_size=st.integers(1, 7))
def test_the_lines_printed_are_greps(n, data, before, after, page_size):
    errors = data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)) if n else set()
    walk = [line(p, "error" if p in errors else "info") for p in range(n)]
    matches = [walk[p] for p in sorted(errors)]
    assert printed(matches, walk, Context(before, after), page_size) == grep_rule(n, errors, before, after)


def test_an_example_with_groups_apart():
    walk = [line(p) for p in range(12)]
    matches = [walk[2], walk[7], walk[9]]
    assert printed(matches, walk, Context(1, 1)) == [
        (1, True, False), (2, False, False), (3, True, False),
        (6, True, True), (7, False, False), (8, True, False), (9, False, False), (10, True, False)]


def test_the_walk_stops_once_the_last_error_lines_after_lines_are_out():
    read = []

    def pages():
        for p in range(100):
            read.append(p)
            yield [line(p)]

    list(around([line(3)], pages(), Context(0, 2)))
    assert read == [0, 1, 2, 3, 4, 5]


def test_an_error_line_the_walk_never_gives_is_printed_at_the_end_without_context():
    walk = [line(p) for p in range(5)]
    gone = line(99, "error")  # deleted between the two searches, or the walk was cut short
    assert printed([walk[1], gone], walk, Context(1, 1)) == [
        (0, True, False), (1, False, False), (2, True, False), (99, False, True)]
    assert printed([gone], walk, Context(1, 1)) == [(99, False, False)]


def test_no_error_line_reads_nothing():
    def pages():
        raise AssertionError("the walk is not read when no error line was found")
        yield []

    assert list(around([], pages(), Context(3, 3))) == []


def test_context_is_never_negative():
    import pytest

    with pytest.raises(ValueError):
        Context(-1, 0)
    assert not Context(0, 0) and Context(0, 1)


def lines_with_context():
    walk = [line(p) for p in range(8)]
    return [walk[p]._replace(context=p not in (2, 6), gap=p == 5) for p in (1, 2, 3, 5, 6)]


def write(fmt, **kw):
    out = io.StringIO()
    writer = LogWriter(fmt, stream=out, context=True, color=False, width=140, **kw)
    writer.write_page(lines_with_context())
    writer.close()
    return out.getvalue()


def test_the_table_marks_error_lines_and_separates_groups_as_grep():
    rows = write("table").splitlines()
    assert rows[0].startswith("   time")  # the mark column has no title
    body = [r for r in rows[1:] if not r.startswith("──")]  # the date line
    assert [r[:1] for r in body] == [" ", ">", " ", "-", " ", ">"]
    assert body[3] == "--"
    assert [r.split()[-1] for r in body if r != "--"] == ["1", "2", "3", "5", "6"]


def test_json_and_csv_say_which_lines_are_context():
    records = json.loads(write("json"))
    assert [(r["_id"], r["context"]) for r in records] == [
        ("1", True), ("2", False), ("3", True), ("5", True), ("6", False)]
    assert [json.loads(x)["context"] for x in write("ndjson").splitlines()] == [True, False, True, True, False]
    assert write("csv", fields=["message"]).splitlines() == [
        '"message","context"', '"line 1","yes"', '"line 2","no"', '"line 3","yes"', '"line 5","yes"', '"line 6","no"']
    assert write("csv").splitlines()[0].endswith(',"context"')


def test_without_context_the_record_has_no_context_key():
    out = io.StringIO()
    writer = LogWriter("ndjson", stream=out)
    writer.write_page([line(1)])
    writer.close()
    assert "context" not in json.loads(out.getvalue())
