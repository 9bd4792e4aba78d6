"""--debug in one process twice (a test runner's in-process runs): the second run's requests reach its
own stderr once, never the closed stderr of the first (which printed "--- Logging error ---")."""

from __future__ import annotations

import contextlib
import io
import logging
import sys

from elastic_cli.commands.debug_log import enable_debug_logging


def test_debug_lines_go_to_the_current_stderr_once(monkeypatch):
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    enable_debug_logging()
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    enable_debug_logging()
    monkeypatch.setattr(logging, "raiseExceptions", True)
    logging.getLogger("elastic_cli.http").debug("POST /_search -> 200")
    assert second.getvalue().count("POST /_search -> 200") == 1
    for name in ("elastic_cli", "elasticsearch", "elastic_transport"):
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if h.get_name() == "orx-debug"]:
            logger.removeHandler(handler)


def test_a_run_without_debug_after_one_with_it_logs_nothing():
    import logging

    from elastic_cli.cli import main

    enable_debug_logging()  # as an earlier in-process run with --debug left it
    assert any(h.get_name() == "orx-debug" for h in logging.getLogger("elastic_cli").handlers)
    with contextlib.suppress(SystemExit):
        main(["--version"])
    assert not any(h.get_name() == "orx-debug" for h in logging.getLogger("elastic_cli").handlers)
    assert not logging.getLogger("elastic_cli").isEnabledFor(logging.DEBUG)
