"""What a reader sees of log lines in a table: cut messages, 80 and 120 columns, stable widths."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from elastic_cli.output.writer import LogWriter
from elastic_cli.search.session_line import SessionLine

TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
MARKER = f"openReplaySessionToken={TOKEN}"


def hit(second, message=f"POST /api/checkout 500 {MARKER}", index="app-logs", tags=("error",), offset_ms=None):
    """A line as the search hands it on: the hit, with its time, level, index and offset."""
    moment = datetime(2024, 1, 24, 3, 51, second, 250_000, tzinfo=timezone.utc)
    h = {"_index": index, "_id": f"id{second}",
         "_source": {"message": message, "utc_time": f"2024-01-24T03:51:{second:02d}.250Z", "tags": list(tags)}}
    return SessionLine(h, int(moment.timestamp() * 1000), list(tags), index, offset_ms)


def render(hits, fmt="table", width=None, batches=None):
    stream = io.StringIO()
    writer = LogWriter(fmt, None, "message", markers=[MARKER], color=False,
                       stream=stream, width=width)
    for batch in batches or [hits]:
        for h in batch:
            writer.write_page([h])
        writer.flush()
    writer.close()
    return stream.getvalue()


MEGABYTE_LINES = "\n".join(f"frame {n}: " + "x" * 110 for n in range(9000))  # ~1 MB, 9,000 lines
MEGABYTE_ONE_LINE = "y" * 1_000_000


@pytest.mark.parametrize("message", [MEGABYTE_LINES, MEGABYTE_ONE_LINE], ids=["many-lines", "one-line"])
def test_a_megabyte_message_is_cut_in_the_table_with_what_is_left(message):
    out = render([hit(1, message)], width=120)
    assert len(out) < 12_000
    last = [line for line in out.splitlines() if "more" in line][-1]
    assert "more characters" in last and "-o json shows all" in last
    if "\n" in message:
        assert "more lines" in last


@pytest.mark.parametrize("message", [MEGABYTE_LINES, MEGABYTE_ONE_LINE], ids=["many-lines", "one-line"])
def test_a_megabyte_message_stays_whole_in_json_ndjson_and_csv(message):
    assert json.loads(render([hit(1, message)], "json"))[0]["_source"]["message"] == message
    assert json.loads(render([hit(1, message)], "ndjson"))["_source"]["message"] == message
    csv.field_size_limit(10_000_000)
    assert next(csv.DictReader(io.StringIO(render([hit(1, message)], "csv"))))["message"] == message


def test_the_cut_count_is_exact():
    out = render([hit(1, "\n".join(f"line {n}" for n in range(50)))], width=120)
    assert "line 39" in out and "line 40" not in out
    hidden = "\n" + "\n".join(f"line {n}" for n in range(40, 50))
    assert f"… 10 more lines, {len(hidden)} more characters" in out


def test_at_80_columns_nothing_is_wider_and_the_token_is_whole_on_one_line():
    out = render([hit(1), hit(2, f"a short line {MARKER} and more words after it"), hit(3)], width=80)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert sum(TOKEN in line for line in lines) == 3
    assert lines[0].split() == ["time", "level"]  # one index: no index column
    assert "03:51:01.250" in out and "2024-01-24T" not in out  # compact time, the date on its own line
    assert "2024-01-24" in out


def test_at_120_columns_the_message_sits_beside_the_columns():
    out = render([hit(1), hit(2, index="logs")], width=120)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120
    assert lines[0].split() == ["time", "index", "level", "message"]  # two indices: the index column
    first = next(line for line in lines if line.startswith("03:51:01.250"))
    assert "app-logs" in first and "error" in first and "POST /api/checkout" in first
    assert any(line.strip() == TOKEN for line in lines)  # the marker breaks after its '=', not inside the token


def test_offset_from_session_start_is_a_column_when_the_search_knows_it():
    out = render([hit(1, offset_ms=192_450), hit(2, offset_ms=193_450)], width=120)
    assert out.splitlines()[0].split()[:2] == ["time", "offset"]
    assert "+03:12.450" in out
    assert "offset" not in render([hit(1)], width=120).splitlines()[0]


def test_follow_polls_keep_the_column_widths_and_print_the_header_once():
    first = [hit(1, "short", tags=("info",))]
    later = [hit(2, f"boom {MARKER}", tags=("error",)), hit(3, "another", tags=("success",))]
    out = render(None, width=120, batches=[first, later])
    lines = out.splitlines()
    assert sum(line.startswith("time") for line in lines) == 1
    starts = {line.index(word) for line in lines for word in ("short", "boom", "another") if word in line}
    assert len(starts) == 1, out


def test_a_new_index_in_a_later_poll_adds_the_column_once_and_keeps_it():
    out = render(None, width=120, batches=[[hit(1)], [hit(2, index="logs")], [hit(3)]])
    headers = [line for line in out.splitlines() if line.startswith("time")]
    assert [h.split() for h in headers] == [["time", "level", "message"], ["time", "index", "level", "message"]]


def test_lists_in_csv_are_plain_words():
    out = render([hit(1, tags=("error", "info"))], "csv")
    assert "[" not in out
    stream = io.StringIO()
    writer = LogWriter("csv", ["utc_time", "tags"], "message", stream=stream, color=False)
    writer.write_page([hit(1, tags=("error", "info"))])
    writer.close()
    assert next(csv.DictReader(io.StringIO(stream.getvalue())))["tags"] == "error, info"


@pytest.mark.parametrize("value,shown", [
    ("2024-01-24T05:51:12.123456789+02:00", ("03:51:12.123", "2024-01-24")),  # another offset: shown in UTC
    ("2024-01-24T03:51:12.25Z", ("03:51:12.250", "2024-01-24")),
    (1706068272123, ("03:51:12.123", "2024-01-24")),  # epoch milliseconds
    ("yesterday", ("yesterday", None)),  # not a time: shown as it is
])
def test_compact_time(value, shown):
    from elastic_cli.output.log_table import compact_time

    assert compact_time(value) == shown


def test_a_day_change_gets_its_own_date_line():
    late = hit(1)._replace(time_ms=int(datetime(2024, 1, 24, 23, 59, 59, tzinfo=timezone.utc).timestamp() * 1000))
    early = hit(2)._replace(time_ms=int(datetime(2024, 1, 25, 0, 0, 1, tzinfo=timezone.utc).timestamp() * 1000))
    lines = render([late, early], width=120).splitlines()
    dates = [line for line in lines if line.startswith("──")]
    assert dates == ["── 2024-01-24 (UTC) ──", "── 2024-01-25 (UTC) ──"]


def test_the_offset_links_to_the_replay_at_that_moment_on_a_terminal():
    replay = "https://or.example.com/3/session/2618307011354435587"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def table(color, stream_class=Terminal):
        stream = stream_class()
        writer = LogWriter("table", None, "message", markers=[MARKER], color=color, stream=stream, width=120,
                           replay_url=replay)
        writer.write_page([hit(1, offset_ms=192_450)])
        writer.close()
        return stream.getvalue()

    shown = table(color=True)
    assert "\x1b]8;id=" in shown and f"{replay}?jumpto=192450" in shown  # an OSC 8 hyperlink on the offset
    assert "+03:12.450" in shown
    plain = table(color=False)  # --color never: the text alone, no escape at all
    assert "\x1b" not in plain and "+03:12.450" in plain
    # --color always into a pipe (less -R, a file): colour, but no hyperlink a pager may show as escapes
    forced = table(color=True, stream_class=io.StringIO)
    assert "\x1b[" in forced and "\x1b]8;" not in forced and "+03:12.450" in forced


def test_local_time_shows_the_table_in_this_machines_zone_and_names_it(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        stream = io.StringIO()
        writer = LogWriter("table", None, "message", markers=[MARKER], color=False, stream=stream, width=120,
                           local_time=True)
        writer.write_page([hit(1)])  # 03:51:01.250 UTC
        writer.close()
        shown = stream.getvalue()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "12:51:01.250" in shown and "── 2024-01-24 (JST) ──" in shown
    assert "03:51:01.250" in render([hit(1)], width=120) and "(UTC)" in render([hit(1)], width=120)
