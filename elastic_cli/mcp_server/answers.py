"""How the MCP server's answers are shaped (pure): bounded by a byte budget, with what a result
lacks (its coverage) in every answer, and errors as the CLI says them (one line and a fix)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from elastic_cli.errors import EXIT_CODES, OrxError
from elastic_cli.output.json_lines import json_text
from elastic_cli.redaction import redact

if TYPE_CHECKING:
    from elastic_cli.search.coverage import Coverage

DEFAULT_LINE_LIMIT = 100  # as `logs`
MAX_LINE_LIMIT = 1000
# the JSON of the records (lines, rows) one answer carries at most: a model's context is not a pager
BYTE_BUDGET = 200_000


def within_budget(records: Sequence[Any], budget: int = BYTE_BUDGET) -> tuple[list[Any], int]:
    """The records from the first on whose JSON fits in `budget` bytes (UTF-8, a separator each),
    and how many were left out. Never a record cut in half: a line is whole or not there."""
    kept: list[Any] = []
    used = 0
    for record in records:
        size = len(json_text(record).encode("utf-8", "surrogatepass")) + 1
        if used + size > budget:
            break
        kept.append(record)
        used += size
    return kept, len(records) - len(kept)


def more_text(shown: int, beyond_limit: bool, over_budget: int, limit: int, what: str = "lines") -> str | None:
    """What an answer says when it is not all there is (None when it is): never silent."""
    if over_budget:
        return (f"{over_budget} more {what} were read but not returned: this answer's byte budget ({BYTE_BUDGET} bytes "
                f"of records) was reached after {shown}; ask again with a smaller limit, or narrow since/until")
    if beyond_limit:
        return f"more {what} exist beyond the limit ({limit}): ask again with a larger limit, or narrow since/until"
    return None


def coverage_answer(coverage: Coverage) -> dict[str, Any]:
    """What a result holds of what was asked, and what it is known to miss, with the fix: the
    same reasons and fix the CLI prints before it exits 13 (partial)."""
    missing = coverage.missing()
    error = coverage.partial_error()
    return {
        "complete": not missing,
        "missing": missing,  # one sentence per reason lines are known to be missing
        "fix": error.hint if error is not None else None,
        "not_searched": [{"index": left.index, "reason": left.reason, "lines_missed": left.lines}
                         for left in coverage.left_out],
        "shards": {"total": coverage.shards_total, "failed": coverage.shards_failed,
                   "skipped_by_time_window": coverage.shards_skipped},
        "undated_lines": coverage.undated_lines,
    }


def error_text(exc: BaseException, name_profile: Callable[[str], str] = lambda text: text) -> str:
    """An error as the CLI prints it: `error: <what happened>` and `  fix: <what to do>`; anything
    else as its last line of defence does. Secrets masked; commands named carry the profile."""
    if isinstance(exc, OrxError):
        text = f"error: {exc.message}" + (f"\n  fix: {exc.hint}" if exc.hint else "")
    else:
        # masked before it is cut (a cut secret is no longer recognised), one line
        said = " ".join(redact(str(exc))[:300].split())
        text = f"error: unexpected {type(exc).__name__}: {said}\n  fix: run `orx-elastic --debug mcp` and report it"
    return redact(name_profile(text))


def error_document(exc: BaseException, name_profile: Callable[[str], str] = lambda text: text) -> dict[str, Any]:
    """The error as values, beside its text: what the CLI prints, and the kind and exit code it
    would end with (`errors.EXIT_CODES`), so a client can tell an expired key from a lost connection."""
    code = exc.exit_code if isinstance(exc, OrxError) else 1
    message, _, fix = error_text(exc, name_profile).partition("\n  fix: ")
    return {"error": message.removeprefix("error: "), "fix": fix or None, "kind": EXIT_CODES[code][0],
            "exit_code": code}
