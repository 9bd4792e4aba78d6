"""`logs --help` (issue 39): the command's own options first, the connection flags (the profile's,
mostly) in a section after them, then the global ones."""

from __future__ import annotations

from main_in_process import no_orx_environment, run  # noqa: F401 — an autouse fixture


def test_own_options_first_connection_flags_after(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "logs", "--help")
    assert code == 0
    own = out.index("\nOptions:")
    connection = out.index("\nConnection options")
    shared = out.index("\nGlobal options")
    assert own < connection < shared
    for flag in ("--tail N", "-A, --after-context N", "-C, --context N", "-f, --follow", "--explain"):
        assert own < out.index(f"\n  {flag}") < connection, flag
    for flag in ("--host", "--api-key", "--indexes", "--time-field"):
        assert connection < out.index(f"\n  {flag} ") < shared, flag
