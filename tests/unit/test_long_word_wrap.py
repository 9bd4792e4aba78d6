"""A marker word wider than a table's free-text column (`openReplaySessionToken=<token>` under a label at
80 columns, `shows`): broken after its '=' so the token stays whole within the terminal, its line started
at the row's indent; a word that fits a line, or whose parts would not, is never broken (issue 39)."""

from __future__ import annotations

from elastic_cli.output import record_table

TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"  # 69 characters
MESSAGE = f"GET /api/cart 200 12ms openReplaySessionToken={TOKEN}"


def test_a_word_wider_than_the_line_breaks_after_its_equals_when_the_parts_fit():
    assert record_table.wrap_words(MESSAGE, 66, 78) == ["GET /api/cart 200 12ms openReplaySessionToken=", TOKEN]


def test_without_room_further_left_or_for_its_parts_the_word_stays_whole():
    assert f"openReplaySessionToken={TOKEN}" in record_table.wrap_words(MESSAGE, 66)
    assert f"openReplaySessionToken={TOKEN}" in record_table.wrap_words(MESSAGE, 30, 40)  # the token > 40


def test_a_word_that_fits_is_never_broken():
    marker = "openReplaySession.id=2618307011354439911"
    assert record_table.wrap_words(f"ERROR cart failed {marker}", 45, 78) == ["ERROR cart failed", marker]


def test_stacked_rows_keep_the_token_whole_within_80_columns():
    columns = ("time", "offset", "v1.20", "v1.21+", "index", "message", "v1.20 why")
    rows = [("2026-12-08T00:16:54.565Z", "+00:22.101", "no", "no", "orxterm-b0676035-app-logs", MESSAGE,
             "`tags` lacks an exact `error` (tags: ['info'])")]
    layout = record_table.plan(columns, rows, 80, ["message", "v1.20 why"])
    lines = [text for _, text in record_table.stacked_lines(columns, rows, layout, 80, ["message", "v1.20 why"])]
    assert all(len(line) <= 80 for line in lines), lines
    assert f"  {TOKEN}" in lines, lines
