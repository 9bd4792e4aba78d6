"""Every message path shows its text inert and masked: warnings, -v, errors, unexpected errors, usage
errors and --debug's traceback. Messages quote the server (index names, reasons, exception texts)."""

from __future__ import annotations

import re

import pytest
from elastic_cli import cli as cli_module
from elastic_cli.commands.app import AppContext
from elastic_cli.errors import IndexNotFound

from conftest import Env, run_cli

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# an index name Elasticsearch accepts: sets the terminal's title, rings, opens a one-character CSI
NAME = "app\x1b]0;pwned\x07-\x9b31m-logs"
SHOWN = "app\\x1b]0;pwned\\x07-\\x9b31m-logs"
SECRET = "s3cr3t-typed-on-the-command-line"


def failing_with(monkeypatch, exc: BaseException) -> None:
    def main(*args, **kwargs):
        raise exc

    monkeypatch.setattr(cli_module.cli, "main", main)


def test_warnings_and_chatter_are_inert_and_masked(capsys, monkeypatch):
    from elastic_cli import redaction

    monkeypatch.setattr(redaction, "_secrets", set())  # this test's secret only
    monkeypatch.setattr(redaction, "_pattern", None)
    redaction.register_secret(SECRET)
    app = AppContext(verbose=1)
    app.warn(f"not searched: {NAME}: no level field")
    app.info(f"searching {NAME} with {SECRET}")
    err = capsys.readouterr().err
    assert not RAW.search(err)
    assert err == f"warning: not searched: {SHOWN}: no level field\nsearching {SHOWN} with ***\n"


def test_an_error_quoting_the_server_is_inert(monkeypatch):
    failing_with(monkeypatch, IndexNotFound(f"no index matches: {NAME}", f"check {NAME}"))
    result = run_cli("logs", "1")
    assert result.exit_code == 8
    assert result.stderr == f"error: no index matches: {SHOWN}\n  fix: check {SHOWN}\n"


def test_an_unexpected_error_is_one_inert_masked_line(monkeypatch):
    failing_with(monkeypatch, RuntimeError(f"boom {NAME}\nsecond line {SECRET}"))
    result = run_cli("logs", "1", "--api-key", SECRET)
    assert result.exit_code == 1
    assert not RAW.search(result.stderr) and SECRET not in result.stderr
    assert result.stderr.splitlines() == [f"error: unexpected RuntimeError: boom {SHOWN} second line ***",
                                          "  fix: run again with --debug and report it"]


@pytest.mark.parametrize("exc", [RuntimeError(f"boom {NAME} {SECRET}"), IndexNotFound(f"no index {NAME} {SECRET}")])
def test_the_debug_traceback_is_inert_and_masked(monkeypatch, exc):
    failing_with(monkeypatch, exc)
    result = run_cli("--debug", "logs", "1", "--api-key", SECRET)
    assert result.exit_code == (8 if isinstance(exc, IndexNotFound) else 1)  # no exception escapes main
    assert "Traceback (most recent call last)" in result.stderr
    assert not RAW.search(result.stderr) and SECRET not in result.stderr
    assert f"{SHOWN} ***" in result.stderr


def test_a_usage_error_quoting_the_arguments_is_inert():
    # click quotes an unknown command with repr() itself, but an extra argument as it is
    result = run_cli("config", "path", f"extra{NAME}", env=Env())
    assert result.exit_code == 2
    assert not RAW.search(result.stderr) and SHOWN in result.stderr


def test_keys_invalidate_reports_the_servers_ids_inert(capsys):
    from elastic_cli.commands.keys import _report_invalidation
    from elastic_cli.keys.api_keys import Invalidation

    result = Invalidation(invalidated=[f"id{NAME}"], previously_invalidated=[f"old{NAME}"], errors=[])
    _report_invalidation(AppContext(), result, "x")
    out, err = capsys.readouterr()
    assert not RAW.search(out + err)
    assert out == f"id{SHOWN}\n" and f"old{SHOWN} was already invalidated" in err
