"""The MCP server's pure parts: answers bounded by a byte budget (never a record cut), coverage and
errors said as the CLI says them (secrets masked), and the command without the SDK installed."""

from __future__ import annotations

import json
import sys

from elastic_cli.errors import AuthenticationFailed, PartialResults
from elastic_cli.mcp_server.answers import (
    BYTE_BUDGET,
    coverage_answer,
    error_document,
    error_text,
    more_text,
    within_budget,
)
from elastic_cli.search.coverage import Coverage, LeftOut

from conftest import run_cli


def _size(record) -> int:
    return len(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()) + 1


def test_records_are_kept_whole_until_the_budget_and_the_rest_counted():
    records = [{"message": "é" * n} for n in (10, 20, 30, 40)]
    sizes = [_size(r) for r in records]
    assert within_budget(records, sum(sizes)) == (records, 0)
    assert within_budget(records, sum(sizes) - 1) == (records[:3], 1)  # one byte short: the last is left out
    assert within_budget(records, sizes[0] - 1) == ([], 4)  # never half a record
    assert within_budget([], 10) == ([], 0)


def test_a_budget_stops_at_the_first_record_that_does_not_fit():
    # the order is the answer's (time order): a smaller record after a large one is not taken instead
    records = [{"m": "a"}, {"m": "b" * 100}, {"m": "c"}]
    assert within_budget(records, _size(records[0]) + _size(records[2]) + 5) == ([records[0]], 2)


def test_more_is_said_whenever_the_answer_is_not_all_there_is():
    assert more_text(5, beyond_limit=False, over_budget=0, limit=5) is None
    assert "beyond the limit (5)" in more_text(5, beyond_limit=True, over_budget=0, limit=5)
    over = more_text(3, beyond_limit=True, over_budget=2, limit=5)
    assert over.startswith("2 more lines were read but not returned") and str(BYTE_BUDGET) in over
    assert "sessions" in more_text(1, beyond_limit=True, over_budget=0, limit=1, what="sessions")


def test_coverage_says_what_is_missing_with_the_clis_reasons_and_fix():
    whole = coverage_answer(Coverage(shards_total=3, shards_skipped=1))
    assert whole["complete"] is True and whole["missing"] == [] and whole["fix"] is None
    assert whole["shards"] == {"total": 3, "failed": 0, "skipped_by_time_window": 1}
    partial = Coverage(shards_total=2, shards_failed=1, failure="idx-b shard 0: too many hits",
                       left_out=[LeftOut("bare", "no level field", lines=2)])
    answer = coverage_answer(partial)
    error = partial.partial_error()
    assert answer["complete"] is False and answer["missing"] == partial.missing() and len(answer["missing"]) == 2
    assert answer["fix"] == error.hint
    assert answer["not_searched"] == [{"index": "bare", "reason": "no level field", "lines_missed": 2}]


def test_errors_read_as_the_cli_prints_them_with_no_secret(monkeypatch):
    from elastic_cli import redaction

    monkeypatch.setattr(redaction, "_secrets", set())
    monkeypatch.setattr(redaction, "_pattern", None)
    redaction.register_secret("s3cr3t-key-value")
    text = error_text(AuthenticationFailed("the API key (id abc) has expired", "run `orx-elastic check`"),
                      name_profile=lambda t: t.replace("orx-elastic check", "orx-elastic --profile prod check"))
    assert text == "error: the API key (id abc) has expired\n  fix: run `orx-elastic --profile prod check`"
    assert error_text(PartialResults("1 of 2 shards failed")) == "error: 1 of 2 shards failed"
    leaked = error_text(RuntimeError("boom with s3cr3t-key-value\ninside"))
    assert "s3cr3t-key-value" not in leaked and leaked.startswith("error: unexpected RuntimeError: boom with ***")
    assert len(leaked.splitlines()) == 2  # the message on one line, then the fix
    assert error_document(AuthenticationFailed("expired", "make a new key")) == {
        "error": "expired", "fix": "make a new key", "kind": "auth", "exit_code": 6}
    assert error_document(PartialResults("1 of 2 shards failed"))["fix"] is None
    assert error_document(RuntimeError("s3cr3t-key-value"))["error"] == "unexpected RuntimeError: ***"


def test_without_the_sdk_the_command_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mcp", None)  # as if not installed: find_spec answers None
    result = run_cli("--config", str(tmp_path / "none.yaml"), "mcp")
    assert result.exit_code == 19
    assert result.stderr.splitlines() == [
        "error: the MCP server needs the `mcp` package, which is not installed",
        "  fix: install it: pip install 'orx-elastic[mcp]'"]
    assert result.stdout == ""
