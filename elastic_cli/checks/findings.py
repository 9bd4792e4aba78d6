"""What every check returns (Finding), the ids and titles in run order, and the shared deadline."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from elastic_cli.cluster.connection import status_of  # noqa: F401 — re-exported: the one place that reads a status

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

OK, WARNING, FAILURE, SKIPPED = "ok", "warning", "failure", "skipped"
STATUSES = (OK, WARNING, FAILURE, SKIPPED)

# in the order they run
CHECK_IDS = ("secret", "connect", "tls", "auth", "privileges", "indices", "message_field", "time_field",
             "tags_field", "marked_logs", "shapes", "recent_sessions", "logs_index", "openreplay_v121",
             "openreplay_v120")
TITLES = {
    "secret": "the api_key can be read where it is kept",
    "connect": "TCP connection",
    "tls": "TLS",
    "auth": "API key authentication",
    "privileges": "read privilege on the index patterns",
    "indices": "indices matching the patterns",
    "message_field": "message field mapping",
    "time_field": "time field mapping",
    "tags_field": "tags field mapping",
    "marked_logs": "log lines with an OpenReplay marker",
    "shapes": "time and level fields of the indices with marked lines",
    "recent_sessions": "sessions with error lines in the last day",
    "logs_index": "index `logs` for OpenReplay v1.21+",
    "openreplay_v121": "what OpenReplay v1.21+ shows of a session",
    "openreplay_v120": "what OpenReplay up to v1.20 shows of a session",
}

DEFAULT_DEADLINE = 30.0


@dataclass
class Finding:
    id: str
    status: str
    title: str
    detail: str = ""
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def finding(check_id: str, status: str, detail: str = "", fix: str = "", **data: Any) -> Finding:
    assert status in STATUSES, status
    return Finding(check_id, status, TITLES[check_id], detail, fix, data)


class Deadline:
    """The overall budget of the run; every request gets min(timeout, what is left)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds

    def left(self) -> float:
        return self.end - self.clock()

    def expired(self) -> bool:
        return self.left() <= 0

    def bound(self, timeout: float) -> float:
        return max(0.05, min(timeout, self.left()))




def reason(exc: BaseException, settings: Settings, action: str) -> tuple[str, str]:
    """(message, fix) for an exception raised by the client."""
    from elastic_cli.cluster.connection import translate
    from elastic_cli.errors import OrxError
    from elastic_cli.redaction import redact

    if isinstance(exc, OrxError):
        return exc.message, exc.hint or ""
    mapped = translate(exc, settings, action)
    if mapped is not None:
        return mapped.message, mapped.hint or ""
    return f"{type(exc).__name__}: {redact(str(exc))[:300]}", "run again with --debug"
