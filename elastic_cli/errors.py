"""The tool's errors and their exit codes: one table, stable, documented in README.

Every error carries a one-line message (what happened) and a hint (what to do).
Neither may contain a secret: callers build messages from settings that are safe
to show (host, port, key id, index patterns), never from the api_key.
"""

from __future__ import annotations

# exit code -> (name, meaning). The README and `--help` epilog are generated from this.
EXIT_CODES = {
    0: ("ok", "success"),
    1: ("unexpected", "an unexpected error (run with --debug for the traceback)"),
    2: ("usage", "bad command-line usage or input (flag, token, duration)"),
    3: ("config", "the config file is malformed, unreadable or incomplete"),
    4: ("connection", "cannot connect: DNS, refused, timeout, dropped connection"),
    5: ("tls", "TLS failed: certificate, CA, fingerprint, or HTTP/HTTPS mismatch"),
    6: ("auth", "authentication failed: wrong, expired or invalidated credentials"),
    7: ("privilege", "authenticated, but lacking a privilege"),
    8: ("not-found", "no index matches the configured patterns"),
    9: ("no-hits", "the search ran but found no log lines"),
    10: ("check-failed", "`check` found at least one failure"),
    11: ("rejected", "Elasticsearch rejected the request (invalid pattern, expiration, ...)"),
    12: ("unavailable", "the cluster is unavailable, overloaded or has the feature disabled"),
    13: ("partial", "lines are known to be missing (a shard failed or timed out, a failure not over within --retry-for, "
                    "an index without a level, --max-sessions): the output is what could be read"),
    14: ("canary-no-header", "`canary`: the backend logged the canary's line without a session (a proxy or CORS "
                             "dropped the header)"),
    15: ("canary-no-marker", "`canary`: the backend received the session but logged the line without its marker"),
    16: ("canary-shape", "`canary`: the line carries the marker, but OpenReplay will not show it (its shape, or "
                         "its index is not behind `logs`)"),
    17: ("canary-timeout", "`canary`: no line of the test session became searchable within --wait"),
    18: ("write", "cannot write the output or the config file (disk full, read-only, no permission)"),
    19: ("not-installed", "an optional part is not installed: `orx-elastic mcp` needs `pip install 'orx-elastic[mcp]'`"),
}


class OrxError(Exception):
    """An error the user can act on: message + hint, and an exit code."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(OrxError):
    exit_code = 2


class ConfigError(OrxError):
    exit_code = 3


class ConnectionFailed(OrxError):
    exit_code = 4


class TLSFailed(OrxError):
    exit_code = 5


class AuthenticationFailed(OrxError):
    exit_code = 6


class PrivilegeMissing(OrxError):
    exit_code = 7


class IndexNotFound(OrxError):
    exit_code = 8


class NoHits(OrxError):
    exit_code = 9


class CheckFailed(OrxError):
    exit_code = 10


class RequestRejected(OrxError):
    exit_code = 11


class ClusterUnavailable(OrxError):
    exit_code = 12


class PartialResults(OrxError):
    """The search answered, but some shards failed: what was printed lacks their lines."""

    exit_code = 13


class CanaryHeaderDropped(OrxError):
    exit_code = 14


class CanaryMarkerMissing(OrxError):
    exit_code = 15


class CanaryShape(OrxError):
    exit_code = 16


class CanaryTimeout(OrxError):
    exit_code = 17


class WriteFailed(OrxError):
    """Writing stdout or the config file failed (ENOSPC, EROFS, EACCES, EIO): nothing the cluster did."""

    exit_code = 18


class NotInstalled(OrxError):
    """A command needs an optional extra that is not installed (`orx-elastic[mcp]`)."""

    exit_code = 19


def write_failed(what: str, exc: OSError, fix: str) -> WriteFailed:
    reason = exc.strerror or type(exc).__name__
    return WriteFailed(f"cannot write {what}: {reason}", fix)


def new_key_command(*flags: str) -> str:
    """The command that makes a new read-only key and saves it to the profile, as a hint prints it.
    A profile's own key is read-only and may not create keys: the command names admin credentials
    (USER is the one word to replace; `--admin-api-key` instead of `--username` works too)."""
    return " ".join(("orx-elastic create-key --username USER", *flags, "--save"))


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 index`, `2 indices`, `0 lines`: a count and its noun as messages say them."""
    return f"{count} {word if count == 1 else many or word + 's'}"
