"""--local-time shows each line in the zone in force on its own date: in Berlin a January line at
UTC+1 (CET), a July line at UTC+2 (CEST), whatever today's offset is; the date lines name each."""

from __future__ import annotations

import io
import time
from datetime import datetime, timezone

import pytest
from elastic_cli.output import log_table
from elastic_cli.output.writer import LogWriter
from elastic_cli.search.session_line import SessionLine

MARKER = "openReplaySession.id=2618307011354435587"


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def line(n: int, moment: datetime) -> SessionLine:
    ms = int(moment.timestamp() * 1000)
    hit = {"_index": "app-logs", "_id": f"id{n}", "_source": {"message": f"failed {n} {MARKER}"}}
    return SessionLine(hit, ms, "error", "app-logs", None)


def table(hits: list[SessionLine], local_time: bool = True) -> str:
    stream = io.StringIO()
    writer = LogWriter("table", None, "message", markers=[MARKER], color=False, stream=stream, width=120,
                       local_time=local_time)
    writer.write_page(hits)
    writer.close()
    return stream.getvalue()


def test_a_winter_and_a_summer_line_each_in_the_offset_of_its_date(berlin):
    winter = datetime(2024, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
    summer = datetime(2024, 7, 15, 12, 0, 0, tzinfo=timezone.utc)
    shown = table([line(1, winter), line(2, summer)])
    assert "13:00:00.000" in shown and "── 2024-01-15 (CET) ──" in shown
    assert "14:00:00.000" in shown and "── 2024-07-15 (CEST) ──" in shown
    assert "12:00:00.000" not in shown
    # in UTC (the default) both are at noon
    utc = table([line(1, winter), line(2, summer)], local_time=False)
    assert utc.count("12:00:00.000") == 2 and "(UTC)" in utc


def test_the_night_the_clocks_go_forward_gets_a_date_line_for_the_new_zone(berlin):
    # 2024-03-31 01:00 UTC: 02:00 CET became 03:00 CEST
    before = datetime(2024, 3, 31, 0, 30, tzinfo=timezone.utc)
    after = datetime(2024, 3, 31, 1, 30, tzinfo=timezone.utc)
    shown = table([line(1, before), line(2, after)])
    assert "01:30:00.000" in shown and "03:30:00.000" in shown
    assert "── 2024-03-31 (CET) ──" in shown and "── 2024-03-31 (CEST) ──" in shown


def test_the_zone_is_the_rules_not_todays_offset(berlin):
    zone, _name = log_table.local_zone()
    for month, hours, name in ((1, 1, "CET"), (7, 2, "CEST"), (12, 1, "CET")):
        moment = datetime(2023, month, 10, 8, 0, tzinfo=timezone.utc).astimezone(zone)
        assert moment.hour == 8 + hours and moment.tzname() == name
        assert moment.utcoffset().total_seconds() == hours * 3600
    # a time the C library cannot place is shown in UTC, and named so
    assert log_table.zoned_time("9999-12-31T23:59:59Z", zone) == ("23:59:59.000", "9999-12-31", "UTC")
