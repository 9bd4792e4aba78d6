"""What `shows -o json` prints of a `checks.shows.SessionView` (pure): each line's JSON record
(`records.log_record`) with each OpenReplay generation's verdict, the summaries, and the advice.
Made here once, for `orx-elastic shows` and the MCP server's tool alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from elastic_cli.output.records import RecordShape, log_record

if TYPE_CHECKING:
    from elastic_cli.checks.shows import SessionView


def view_records(view: SessionView, shape: RecordShape) -> list[dict[str, Any]]:
    """Each judged line's record, in the lines' order, with `openreplay`: each generation's verdict."""
    from elastic_cli.openreplay.verdicts import GENERATIONS

    records = []
    for line, judged in zip(view.lines, view.judged):  # judged in the lines' order
        record = log_record(line, shape)
        record["openreplay"] = {g: judged.verdicts[g].to_dict() for g in GENERATIONS}
        records.append(record)
    return records


def view_document(view: SessionView, records: list[dict[str, Any]], said: dict[str, Any]) -> dict[str, Any]:
    """The document `shows -o json` prints: summaries per generation, the judged lines' records
    (`view_records`), and everything the table says besides (`checks.shows.report`: the fixes, the
    hint, the advice per cause and its snippets)."""
    return {
        "session_id": view.ref.session_id,
        "summary": {s.generation: s.to_dict() for s in view.summaries},
        "outside_indexes": view.outside,
        "lines": records,
        "fixes": said["fixes"],
        "hint": said["hint"],
        "advice_causes": said["causes"],
        "advice": said["advice"],
    }
