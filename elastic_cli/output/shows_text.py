"""What `shows` prints on a terminal of a `checks.shows.SessionView` (pure: lines of text for a width):
each generation's summary first, the judged lines stacked under their copyable values, then the
fixes, the hint and the advice. `-o json` is `session_view.view_document`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from elastic_cli.errors import plural

if TYPE_CHECKING:
    from elastic_cli.checks.shows import SessionView

COLUMNS = ["time", "offset", "v1.20", "v1.21+", "index", "message", "v1.20 why", "v1.21+ why"]
FREE_TEXT = ("message", "v1.20 why", "v1.21+ why")


def view_text(view: SessionView, records: list[dict[str, Any]], said: dict[str, Any], width: int,
              verbose: bool = False) -> Iterator[str]:
    """The lines `shows` prints, none wider than `width` but for a word that is (an id, a token)."""
    for summary in view.summaries:  # both first: the answer to the question asked
        yield from _paragraph("", summary.text(), width)
    for summary in view.summaries:
        for note in summary.notes:
            yield from _paragraph(f"  {summary.generation}: ", note, width)
    if view.outside:
        yield from _paragraph("", f"OpenReplay v1.21+ also returns {plural(view.outside, 'line')} not judged here "
                                  "(outside your `indexes` or before --since)", width)
    if records:
        yield ""
        yield from _table(records, view, width)
    for fix in said["fixes"]:
        yield ""
        yield from _paragraph("fix: ", fix["fix"], width)
    if said["hint"]:
        yield ""
        yield from _paragraph("hint: ", said["hint"], width)
    yield from _advice(said, width, verbose)


def _advice(said: dict[str, Any], width: int, verbose: bool) -> Iterator[str]:
    """Once per cause, one line each; -v prints the snippets."""
    from elastic_cli.openreplay.fixes import ADVICE_TITLE

    if not said["causes"]:
        return
    if verbose:
        yield f"\n{ADVICE_TITLE}:"
        for item in said["advice"]:
            yield f"\n# {item['for']}\n{item['snippet']}"
        return
    yield ""
    yield from _paragraph("", "advice (a change in your shipper: orx-elastic cannot make it for you; -v prints the "
                              "snippets for Filebeat, Logstash and ECS logging):", width)
    for cause in said["causes"]:
        yield from _paragraph("  ", cause["advice"], width)


def _message_text(message: Any) -> str:
    """A list's values one a line (as `logs` reads them); no message: empty."""
    if isinstance(message, list):
        return "\n".join(str(m) for m in message)
    return "" if message is None else str(message)


def _paragraph(prefix: str, text: str, width: int) -> Iterator[str]:
    """Text wrapped at spaces under its own start: a word (an id, a token, a command) is never cut."""
    import textwrap

    from elastic_cli.output import safe_text

    lines = textwrap.wrap(safe_text(text), max(width - len(prefix), 20), break_long_words=False,
                          break_on_hyphens=False) or [""]
    for number, line in enumerate(lines):
        yield (prefix if number == 0 else " " * len(prefix)) + line


def _table(records: list[dict[str, Any]], view: SessionView, width: int) -> Iterator[str]:
    """One line of copyable values a line (time, offset, both cells, index: never cut), its message
    and each generation's reason beneath, wrapped at spaces (a token or an id stays whole)."""
    from elastic_cli.openreplay.verdicts import GENERATIONS
    from elastic_cli.output import inert
    from elastic_cli.output.record_table import GAP, Plan, natural_widths, stacked_lines

    rows = []
    for record, judged in zip(records, view.judged):
        reasons = [judged.verdicts[g].reason for g in GENERATIONS]
        message = record.get("message")
        rows.append([inert(record.get("time") or ""), inert(record.get("offset") or ""),
                     *(_cell(judged.verdicts[g]) for g in GENERATIONS), inert(record.get("index") or ""),
                     inert(_message_text(message)),
                     *(inert(r) if judged.verdicts[g].problems else "" for g, r in zip(GENERATIONS, reasons))])
    widths = natural_widths(COLUMNS, rows)
    main = [0, 1, 2, 3, 4]
    while len(main) > 3 and sum(widths[i] for i in main) + len(GAP) * (len(main) - 1) > width:
        main.pop()
    under = tuple(i for i in range(len(COLUMNS)) if i not in main)
    for _kind, text in stacked_lines(COLUMNS, rows, Plan(inline=False, main=tuple(main), under=under), width,
                                     free_text=FREE_TEXT):
        yield text


def _cell(verdict: Any) -> str:
    if not verdict.shown:
        return "no"
    return "yes*" if verdict.problems else "yes"  # *: shown, not as it should be (detail says how)
