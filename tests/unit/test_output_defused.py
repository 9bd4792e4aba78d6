"""Output that cannot be turned against its reader: CSV no spreadsheet runs as a formula, whatever
separator it is opened with, and bidirectional overrides made visible wherever text reaches a terminal.
"""

from __future__ import annotations

import csv
import io
import re

from elastic_cli.output import inert, print_records
from hypothesis import example, given
from hypothesis import strategies as st

# what starts a formula in Excel, LibreOffice and Google Sheets (OWASP, CSV injection)
FORMULA = ("=", "+", "-", "@")
SEPARATORS = (",", ";", "\t")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
RAW = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}]")


def csv_of(messages, terminal=False):
    """`-o csv` of rows whose `message` is each text (the format `logs` and `sessions` write with)."""

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    stream = Stream()
    print_records("csv", ["message", "level"], [{"message": m, "level": "error"} for m in messages], stream=stream)
    return stream.getvalue()


def fields_read_with(text: str, separator: str):
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
        yield from row


def starts_a_formula(cell: str) -> bool:
    # a spreadsheet skips nothing before `=`; readers that trim do so with spaces (and quotes, once
    # a cell is split out of a quoted one): the strictest reading
    return cell.lstrip(" \"\t\r\n").startswith(FORMULA)


def test_the_issue_s_cell_is_quoted_and_every_part_defused():
    out = csv_of(["total;=1+1;@SUM(A1)"])
    assert out.splitlines()[1] == '"total;\'=1+1;\'@SUM(A1)","error"'
    for separator in SEPARATORS:
        assert not any(starts_a_formula(cell) for cell in fields_read_with(out, separator)), separator
    # read with its own separator, the cell is one cell, its words all there
    assert next(csv.DictReader(io.StringIO(out)))["message"] == "total;'=1+1;'@SUM(A1)"


@given(st.lists(st.text(alphabet=st.sampled_from(list("=+-@,;\t\r\n \"'ab1(")) | st.characters(), max_size=40),
                min_size=1, max_size=4))
@example(["a,\"=1\""])
@example(["\t=cmd|' /C calc'!A0"])
@example(["x;\"\t-2+3"])
def test_no_part_of_any_cell_reads_as_a_formula_with_any_separator(messages):
    out = csv_of(messages)
    for separator in SEPARATORS:
        for cell in fields_read_with(out, separator):
            assert not starts_a_formula(cell), (separator, cell, out)
    # and with its own separator every cell comes back whole: the line, a ' before each formula start
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [row["message"].replace("'", "") for row in rows] == [m.replace("'", "") for m in messages]


@given(st.text())
@example("a \u202eevil\u202c b \u2066x\u2069 \x1b[2J")
def test_inert_leaves_no_control_and_no_bidirectional_override(text):
    assert RAW.search(inert(text)) is None


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\\")))
def test_inert_changes_nothing_but_what_it_names(text):
    named = re.compile(r"\\x([0-9a-f]{2})|\\u([0-9a-f]{4})")
    assert named.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), inert(text)) == text


def test_bidirectional_overrides_are_shown_as_their_code_in_csv_on_a_terminal():
    out = csv_of(["pay \u202eusd 001\u202c now"], terminal=True)
    assert "\u202e" not in out and "\\u202e" in out and "\\u202c" in out
    # to a file the data stays as it is (a program reads it, not a person)
    assert "\u202e" in csv_of(["pay \u202eusd 001\u202c now"])
