"""How rows of plain values (keys list, sessions, shows) fit a terminal (pure: strings in, lines out).

One table style for every command, the one `logs` prints: a bold header line, columns two spaces
apart, no boxes (what reads the same on a terminal, through `less -R` and in a file). The rule a
reader notices: what a user copies (ids, tokens, links, times) is never broken across lines; the
free text (a message, a name) gives way first.

- everything fits: one line a record, as wide as its values;
- the copyable columns fit but the free text does not: the free text wraps on words inside its
  column, the other columns keep their whole values on the row's first line;
- the copyable columns alone are wider than the terminal: a "stacked" layout, a header and a
  main line with the leading columns that fit, and the other columns beneath, one labelled line
  each (free text wrapped on words under its own start, a copyable value never cut: a link wider
  than the terminal runs on and the terminal wraps it, as it does a long command).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

GAP = "  "
INDENT = "  "
# below this the free text in its column is a ribbon of one-word lines: stack instead
MIN_FREE_TEXT = 16


@dataclass(frozen=True)
class Plan:
    inline: bool  # one row a record, side by side (the free text wrapped in its column)
    main: tuple[int, ...] = ()   # stacked: the columns on the main line, in order
    under: tuple[int, ...] = ()  # stacked: the columns on labelled lines beneath, in order


def natural_widths(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    """The width each column needs to show every value (and its header) on one line."""
    widths = [len(c) for c in columns]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], max((len(part) for part in cell.split("\n")), default=0))
    return widths


def inline_width(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * max(len(widths) - 1, 0)


def plan(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int,
         free_text: Sequence[str] = ()) -> Plan:
    """Inline when the copyable columns keep their whole values and the free text keeps some room;
    else stacked, free text first beneath, then copyable columns from the right."""
    widths = natural_widths(columns, rows)
    free = [i for i, c in enumerate(columns) if c in free_text]
    least = [min(w, MIN_FREE_TEXT) if i in free else w for i, w in enumerate(widths)]
    if inline_width(least) <= width:
        return Plan(inline=True)
    main = [i for i in range(len(columns)) if i not in free]
    under = list(free)
    while len(main) > 1 and sum(widths[i] for i in main) + len(GAP) * (len(main) - 1) > width:
        under.append(main.pop())
    if not main:  # only free text: it heads the row
        main = [under.pop(0)]
    return Plan(inline=False, main=tuple(main), under=tuple(sorted(under)))


_PIECES = re.compile(r"[^=]*=|[^=]+")  # where a word may break: after each '=', as logs' table does


def wrap_words(text: str, width: int, wide: int | None = None) -> list[str]:
    """Lines of at most `width` characters, broken only at spaces: a word longer than the line (a
    token, a link) stays whole on a line of its own. With `wide` (the room a line has when it starts
    further left), a word longer than `width` whose parts after each '=' fit in `wide` is broken
    there (`openReplaySessionToken=` then the token, as `logs` wraps it): the caller starts a line
    longer than `width` further left, and the token stays whole within the terminal."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            pieces = _PIECES.findall(word) if wide and len(word) > width else [word]
            if len(pieces) < 2 or any(len(piece) > (wide or width) for piece in pieces):
                pieces = [word]
            for n, piece in enumerate(pieces):
                joint = " " if n == 0 else ""
                if not current:
                    current = piece
                elif len(current) + len(joint) + len(piece) <= width:
                    current += joint + piece
                else:
                    lines.append(current)
                    current = piece
        lines.append(current)
    return lines


def stacked_lines(columns: Sequence[str], rows: Sequence[Sequence[str]], layout: Plan, width: int,
                  free_text: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The stacked layout as (kind, text) lines: kind is "header", "row", "under" or "blank"."""
    widths = natural_widths(columns, rows)
    main = list(layout.main)

    def main_line(cells: Sequence[str]) -> str:
        return GAP.join(cells[i].replace("\n", " ").ljust(widths[i]) for i in main).rstrip()

    out: list[tuple[str, str]] = [("header", main_line(columns))]
    label_width = max((len(columns[i]) for i in layout.under), default=0)
    room = max(width - len(INDENT) - label_width - len(GAP), MIN_FREE_TEXT)
    for number, row in enumerate(rows):
        if number and layout.under:
            out.append(("blank", ""))
        out.append(("row", main_line(row)))
        for i in layout.under:
            if not row[i]:
                continue
            label = INDENT + columns[i].ljust(label_width) + GAP
            parts = (wrap_words(row[i], room, width - len(INDENT)) if columns[i] in free_text
                     else row[i].split("\n"))
            out.append(("under", label + parts[0]))
            # a piece wider than the room under the label (a token at 80 columns) starts at the row's
            # indent instead, so that it stays whole within the terminal
            out.extend(("under", (INDENT if len(part) > room and columns[i] in free_text else " " * len(label))
                        + part) for part in parts[1:])
    return out


def inline_lines(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int,
                 free_text: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The inline layout as (kind, text) lines, kind "header" or "row": the free text columns share
    what the others leave of `width` (in proportion to their values) and wrap on words in it."""
    widths = natural_widths(columns, rows)
    free = [i for i, c in enumerate(columns) if c in free_text]
    over = inline_width(widths) - width
    if over > 0 and free:
        room = sum(widths[i] for i in free) - over
        natural = sum(widths[i] for i in free)
        for i in free:
            widths[i] = max(MIN_FREE_TEXT, room * widths[i] // natural)
    last = len(columns) - 1

    def line(cells: Sequence[str]) -> str:
        return GAP.join(cell if i == last else cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    out: list[tuple[str, str]] = [("header", line(columns))]
    for row in rows:
        parts = [wrap_words(cell, widths[i]) if i in free else [cell.replace("\n", " ")] for i, cell in enumerate(row)]
        for n in range(max(len(p) for p in parts) if parts else 0):
            out.append(("row", line([p[n] if n < len(p) else "" for p in parts])))
    return out
