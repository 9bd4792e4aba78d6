"""`--debug`: which loggers print, and how (secrets masked, text inert)."""

from __future__ import annotations

import sys

# logger -> the level --debug shows. The tool's transport logs each request (method, path, status,
# duration, took) and, for an error, what was sent and the server's answer (logger elastic_cli.http).
# elastic_transport's own request lines say less and would double ours, and its request logger
# (elastic_transport.node) does not propagate and dumps every body, search pages of log lines
# included: only elastic_transport's warnings are shown.
DEBUG_LOGGERS = {"elastic_cli": "DEBUG", "elasticsearch": "DEBUG", "elastic_transport": "WARNING"}


def enable_debug_logging() -> None:
    """Idempotent: one handler, added once, that writes to whatever sys.stderr is when it emits (a
    handler holding the stderr of its first run wrote to a closed stream in later in-process runs,
    and each run added one more)."""
    import logging

    from elastic_cli.output import inert
    from elastic_cli.redaction import redacting_formatter

    class CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
        @property
        def stream(self) -> object:
            return sys.stderr

        @stream.setter
        def stream(self, _value: object) -> None:
            pass

    handler = CurrentStderr()
    handler.set_name("orx-debug")
    handler.setFormatter(redacting_formatter("debug: %(name)s: %(message)s", then=inert))
    for name, level in DEBUG_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        for old in [h for h in logger.handlers if h.get_name() == "orx-debug"]:
            logger.removeHandler(old)
        logger.addHandler(handler)


def disable_debug_logging() -> None:
    """A run without --debug prints no debug line: an earlier in-process run's handler (and the levels it
    set) removed, so a request still out from that run, or this run's, logs nothing on stderr."""
    if "logging" not in sys.modules:
        return
    import logging

    for name in DEBUG_LOGGERS:
        logger = logging.getLogger(name)
        mine = [h for h in logger.handlers if h.get_name() == "orx-debug"]
        for handler in mine:
            logger.removeHandler(handler)
        if mine:
            logger.setLevel(logging.NOTSET)
