"""The output layer: formats parse with standard parsers, and hostile log text stays inert."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from datetime import datetime, timezone

import pytest
from elastic_cli.output import (
    get_field,
    inert,
    level_of,
    print_findings,
    print_json,
    print_panel,
    print_records,
    print_table,
    safe_text,
)
from elastic_cli.output.writer import LogWriter
from elastic_cli.search.session_line import SessionLine

HOSTILE = "\x1b[2J\x1b]0;pwned\x07 [bold red]not markup[/] \r\x00 \udcff end"


def hit(n, message="line", tags=("error",), **extra):
    """A hit as the search hands it on: with the time and level its index's fields resolved to."""
    moment = datetime(2024, 1, 24, 4, n, tzinfo=timezone.utc)
    h = {"_index": "app-logs", "_id": f"id{n}",
         "_source": {"message": message, "utc_time": f"2024-01-24T04:0{n}:00Z", "tags": list(tags), **extra}}
    return SessionLine(h, int(moment.timestamp() * 1000), list(tags), "app-logs", None)


def write_all(fmt, hits, **kwargs):
    stream = io.StringIO()
    writer = LogWriter(fmt, kwargs.pop("fields", None), "message", stream=stream,
                       color=kwargs.pop("color", False), **kwargs)
    for h in hits:
        writer.write_page([h])
    writer.close()
    return stream.getvalue()


def test_inert_makes_control_characters_visible():
    shown = inert(HOSTILE)
    assert "\x1b" not in shown and "\x07" not in shown and "\x00" not in shown and "\r" not in shown
    assert "\\x1b[2J" in shown and "[bold red]not markup[/]" in shown
    shown.encode("utf-8")  # lone surrogates from invalid UTF-8 no longer break printing


def test_json_is_an_array_even_when_empty():
    assert json.loads(write_all("json", [])) == []
    parsed = json.loads(write_all("json", [hit(1), hit(2)]))
    assert [h["_id"] for h in parsed] == ["id1", "id2"]


class _InterruptedAsWriteReturns(io.StringIO):
    """Unbuffered stdout (PYTHONUNBUFFERED) under --follow: the text is out, then the signal that
    arrived meanwhile (SIGTERM, Ctrl-C) is raised as write returns, before the writer's next step."""

    def __init__(self):
        super().__init__()
        self.armed = True

    def write(self, text):
        written = super().write(text)
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt
        return written


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_interrupt_as_the_first_line_is_written_still_leaves_one_whole_output(fmt):
    stream = _InterruptedAsWriteReturns()
    writer = LogWriter(fmt, None, "message", stream=stream, color=False)
    with pytest.raises(KeyboardInterrupt):
        writer.write_page([hit(1)])
    writer.close()  # as the follow loop's finally does
    if fmt == "json":
        assert [h["_id"] for h in json.loads(stream.getvalue())] == ["id1"]  # not "[\n{...}[]"
    else:
        rows = list(csv.reader(io.StringIO(stream.getvalue())))
        assert rows[0][0] == "_index" and rows.count(rows[0]) == 1  # one header


def test_ndjson_one_hit_per_line_keeps_the_raw_message():
    out = write_all("ndjson", [hit(1, HOSTILE.replace("\udcff", "")), hit(2)])
    lines = out.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["_source"]["message"] == HOSTILE.replace("\udcff", "")
    assert "\x1b" not in out  # JSON escapes control characters


def test_csv_parses_and_defuses_formulas():
    out = write_all("csv", [hit(1, "=HYPERLINK(\"http://evil\")"), hit(2, "multi\nline, \"quoted\"")])
    rows = list(csv.DictReader(io.StringIO(out)))
    # the record's columns but _source: what the JSON record says, a cell each
    assert list(rows[0]) == ["_index", "_id", "time", "index", "level", "message"]
    assert rows[0]["time"] == "2024-01-24T04:01:00.000Z" and rows[0]["_id"] == "id1"
    assert rows[0]["message"].startswith("'=")
    assert rows[1]["message"] == "multi\nline, \"quoted\""


def test_fields_pick_source_fields_including_dotted_names():
    h = hit(1, host={"name": "web-1"})
    h.hit["_source"]["log.level"] = "ERROR"
    out = write_all("csv", [h], fields=["utc_time", "host.name", "log.level"])
    assert list(csv.DictReader(io.StringIO(out))) == [
        {"utc_time": "2024-01-24T04:01:00Z", "host.name": "web-1", "log.level": "ERROR"}]


def test_table_renders_hostile_text_as_text_and_folds_long_traces():
    trace = "\n".join(f"  File \"app.py\", line {n}" for n in range(100))
    out = write_all("table", [hit(1, HOSTILE), hit(2, trace)], markers=["openReplaySession.id=1"])
    assert "\x1b" not in out and "\x07" not in out
    flat = "".join(out.replace("│", "").split())
    assert "[boldred]notmarkup[/]" in flat and "\\x1b[2J" in flat and "\\x00" in flat and "\r" not in out
    assert "more lines" in out


@pytest.mark.parametrize("tags,level", [(["success", "info"], "info"), (["error", "info"], "error"),
                                        ("ERROR", "error"), (None, ""), (["custom"], "custom")])
def test_level_of(tags, level):
    assert level_of(tags) == level


def test_get_field_nested_and_literal_dotted():
    assert get_field({"a": {"b": 1}}, "a.b") == 1
    assert get_field({"a.b": 2}, "a.b") == 2
    assert get_field({"a": 1}, "a.b") is None


def test_json_escapes_c1_controls_too():
    out = write_all("ndjson", [hit(1, "a\x9b31mred\x85b")])
    assert "\x9b" not in out and "\x85" not in out
    assert json.loads(out)["_source"]["message"] == "a\x9b31mred\x85b"
    parsed = json.loads(write_all("json", [hit(1, "\x9b")]))
    assert parsed[0]["_source"]["message"] == "\x9b"


def test_json_lines_are_the_same_with_and_without_orjson(monkeypatch):
    from elastic_cli.output import json_lines

    records = [hit(1, "plain ascii").hit, hit(2, "é ü 日本 \x9b \x7f \n tab\t").hit, {"_id": 2**70, "n": [1.5, None, True]},
               {"_source": {"bad": "\ud800"}}, {1: "int key"}]
    with_orjson = [json_lines._json_line(r) for r in records]
    monkeypatch.setattr(json_lines, "_orjson_dumps", False)
    without = [json_lines._json_line(r) for r in records]
    assert with_orjson == without
    assert json.loads(without[2])["_id"] == 2**70
    assert "\x9b" not in without[1] and "\x7f" not in without[1]


@pytest.mark.parametrize("with_orjson", [True, False])
def test_a_page_written_at_once_is_the_same_text_as_its_lines_written_one_by_one(monkeypatch, with_orjson):
    from elastic_cli.output import json_lines

    if not with_orjson:
        monkeypatch.setattr(json_lines, "_orjson_dumps", False)
    hits = [hit(1, "plain ascii"), hit(2, "é 日本 \x9b \x7f \n"), hit(3)._replace(offset_ms=3000),
            hit(4, "a number orjson refuses", big=2**70), hit(5, HOSTILE)]
    stream = io.StringIO()
    writer = LogWriter("ndjson", None, "message", stream=stream, color=False)
    writer.write_page(hits[:2])
    writer.write_page([])
    writer.write_page(hits[2:])
    writer.close()
    assert stream.getvalue() == write_all("ndjson", hits)
    assert writer.count == 5
    lines = stream.getvalue().splitlines()
    assert json.loads(lines[2])["offset"] == "+00:03.000" and json.loads(lines[3])["_source"]["big"] == 2**70


@pytest.mark.parametrize("fmt,fields", [("csv", None), ("json", None), ("ndjson", "utc_time,message")])
def test_a_page_in_other_formats_is_written_as_its_lines(fmt, fields):
    hits = [hit(1, "a"), hit(2, "b,\"c\"")]
    stream = io.StringIO()
    writer = LogWriter(fmt, fields.split(",") if fields else None, "message", stream=stream,
                       color=False)
    writer.write_page(hits)
    writer.close()
    assert stream.getvalue() == write_all(fmt, hits, fields=fields.split(",") if fields else None)


def test_the_json_record_carries_time_offset_level_index_message_and_the_replay_moment():
    h = hit(1)
    h.hit["_index"] = ".ds-logs-shop-default-2024.01.24-000001"
    h = h._replace(time_ms=1706068860123, offset_ms=3_720_799, level="ERROR", index_name="logs-shop-default")
    out = io.StringIO()
    writer = LogWriter("ndjson", None, "message", stream=out,
                       replay_url="https://or.example.com/3/session/2618307011354435587")
    writer.write_page([h])
    writer.close()
    record = json.loads(out.getvalue())
    assert record["time"] == "2024-01-24T04:01:00.123Z" and record["offset_ms"] == 3_720_799
    assert record["offset"] == "+1:02:00.799" and record["level"] == "error"
    assert record["index"] == "logs-shop-default" and record["_index"].startswith(".ds-")
    assert record["message"] == h.source["message"] and record["_source"] == h.source
    assert record["replay_url"] == "https://or.example.com/3/session/2618307011354435587?jumpto=3720799"


# ---------------------------------------------------------------- every writer, one rule

# every control a terminal acts on: C0 (but tab and newline), DEL, C1; and a lone surrogate
EVERY_CONTROL = "".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0)]) + "\ud800"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
RECORD = {"session_id": "1", "latest_message": f"a{EVERY_CONTROL}b", "index": "app\x1b]0;t\x07\x9b-logs", "n": 3}


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_print_records_json_escapes_every_control_and_keeps_the_value(fmt):
    stream = io.StringIO()
    print_records(fmt, list(RECORD), [RECORD], stream=stream)
    assert not RAW.search(stream.getvalue())
    parsed = json.loads(stream.getvalue()) if fmt == "json" else [json.loads(stream.getvalue())]
    assert parsed == [RECORD]


def test_print_json_escapes_every_control_and_keeps_the_value():
    stream = io.StringIO()
    print_json({"findings": [RECORD], "plain": "é 日本"}, stream=stream)
    assert not RAW.search(stream.getvalue())
    assert json.loads(stream.getvalue()) == {"findings": [RECORD], "plain": "é 日本"}
    assert "é 日本" in stream.getvalue()  # not \u-escaped: only controls are


@pytest.mark.parametrize("write", [
    lambda term: print_records("table", list(RECORD), [RECORD], color=False),
    lambda term: print_records("csv", list(RECORD), [RECORD], stream=term),  # csv: inert on a terminal
    lambda term: print_table([f"col{EVERY_CONTROL}"], [[RECORD["latest_message"]]], color=False,
                             title=f"t{EVERY_CONTROL}"),
    lambda term: print_panel(f"title{EVERY_CONTROL}", [("index", RECORD["index"])], color=False,
                             note=EVERY_CONTROL),
    lambda term: print_findings([{"status": "warning", "title": RECORD["index"], "detail": RECORD["latest_message"],
                                  "fix": EVERY_CONTROL}], color=False),
], ids=["records-table", "records-csv-terminal", "table", "panel", "findings"])
def test_every_text_writer_shows_controls_inert(monkeypatch, write):
    # rich's writers print to a plain stream here: to a terminal rich adds styles of its own
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    term = Terminal()
    write(term)
    shown = (sys.stdout.getvalue() + term.getvalue()).replace("\r\n", "\n")  # csv's own line ends
    assert not RAW.search(shown), repr(shown)
    assert "\\x1b" in shown and "\\x9b" in shown  # made visible, not dropped


def test_csv_to_a_file_keeps_the_data_as_it_is():
    stream = io.StringIO()  # not a terminal: a file, read by a spreadsheet or a script
    print_records("csv", list(RECORD), [RECORD], stream=stream)
    assert list(csv.DictReader(io.StringIO(stream.getvalue())))[0]["index"] == RECORD["index"]


def test_safe_text_masks_secrets_then_makes_the_rest_inert(monkeypatch):
    from elastic_cli import redaction

    monkeypatch.setattr(redaction, "_secrets", set())  # this test's secret only
    monkeypatch.setattr(redaction, "_pattern", None)
    redaction.register_secret("s3cr3t-for-safe-text")
    shown = safe_text("boom \x1b]0;t\x07 s3cr3t-for-safe-text \x9b\nnext\tline")
    assert shown == "boom \\x1b]0;t\\x07 *** \\x9b\nnext\tline"


def test_a_time_no_logger_meant_is_said_unreadable_and_gets_no_offset_or_moment():
    """Epoch microseconds in a date field sort as a date in the year ~56,000: the line keeps its place,
    its record says the raw value instead of a date, and no replay moment is made of it."""
    far = hit(1)._replace(time_ms=1706063400000000, offset_ms=None)
    out = io.StringIO()
    writer = LogWriter("ndjson", None, "message", stream=out, replay_url="https://or.example.com/3/session/1")
    writer.write_page([far])
    writer.close()
    record = json.loads(out.getvalue())
    assert record["time"] is None and record["time_unreadable"] == 1706063400000000
    assert "offset" not in record and record["replay_url"] == "https://or.example.com/3/session/1"
