"""The page size an index allows, read from its refusal of a bigger one (pager.result_window)."""

from __future__ import annotations

from types import SimpleNamespace

from elastic_cli.search.pager import result_window

REASON = ("Result window is too large, from + size must be less than or equal to: [1000] but was [5000]. See the "
          "scroll api for a more efficient way to request large data sets. This limit can be set by changing the "
          "[index.max_result_window] index level setting.")


def refusal(status: int, body: object) -> Exception:
    exc = Exception("refused")
    exc.meta = SimpleNamespace(status=status)  # type: ignore[attr-defined]
    exc.body = body  # type: ignore[attr-defined]
    return exc


def test_the_window_is_read_from_the_root_cause():
    body = {"error": {"type": "search_phase_execution_exception", "reason": "all shards failed",
                      "root_cause": [{"type": "illegal_argument_exception", "reason": REASON}]}, "status": 400}
    assert result_window(refusal(400, body)) == 1000


def test_anything_else_is_not_a_window():
    body = {"error": {"type": "illegal_argument_exception", "reason": "less than or equal to: [5]"}}
    assert result_window(refusal(400, body)) is None  # no max_result_window named
    assert result_window(refusal(500, {"error": {"reason": REASON}})) is None
    assert result_window(refusal(400, "not json")) is None
    assert result_window(Exception("plain")) is None
