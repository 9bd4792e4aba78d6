"""`orx-elastic canary URL`: send a fresh test session to the backend, find its line in the cluster."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import connection_options, settings_flags
from elastic_cli.openreplay.propagation import CANARY_HEADER, DEFAULT_GENERATION, GENERATIONS

# an HTTP token (RFC 9110): anything else could not be sent, or would split the request
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")

if TYPE_CHECKING:
    from elastic_cli.checks.canary import CanaryResult
    from elastic_cli.cli import AppContext


@click.command(help=f"""Send one request with a fresh test session to your backend, then search the
cluster until a line of that session is searchable, and say what it found.

The request (GET URL) carries the session header (--header; its value is the test
token, or the id for an ...-Id header) and {CANARY_HEADER}: the middleware that
`orx-elastic instrument` prints logs one line for it, so a healthy backend needs no
error to be proven. Nothing else is sent to the backend: never the API key.

\b
Found: the line, and the seconds from the request until it was searchable (exit 0).
Not found, the cause, in this order:
  14  the header did not reach the backend (a proxy drops it, or CORS)
  15  the backend logged the line without the marker
  16  the marker is there, but OpenReplay will not show the line (as `shows`
      judges its shape; or its index is not behind `logs`)
  17  nothing searchable within --wait (shipper lag, or no middleware)
  13  nothing found, but the search was partial (a shard failed): no proof

\b
Examples:
  orx-elastic canary https://api.example.com/health
  orx-elastic canary http://127.0.0.1:8080/ --wait 2m --header X-OpenReplay-Session-Id
""")
@click.argument("url")
@connection_options
@click.option("--header", default="X-OpenReplay-SessionToken", show_default=True,
              help="The session header to send (the tracker's; an ...-Id header carries the id).")
@click.option("--wait", default="60s", show_default=True, help="How long to search for the line (30s, 2m).")
@click.option("--generation", type=click.Choice(list(GENERATIONS)), default=DEFAULT_GENERATION, show_default=True,
              help="Which OpenReplay the line's shape is judged for.")
@click.pass_obj
def canary(app: AppContext, url: str, header: str, wait: str, generation: str, **params: Any) -> None:
    import secrets
    import time

    from elastic_cli import __version__
    from elastic_cli.checks import canary as core
    from elastic_cli.cli import say
    from elastic_cli.cluster.connection import build_client, translated_errors
    from elastic_cli.errors import ConnectionFailed, UsageError
    from elastic_cli.openreplay.propagation import carries_id, fresh_session
    from elastic_cli.output import safe_text
    from elastic_cli.search.query import parse_duration

    if not url.startswith(("http://", "https://")):
        raise UsageError(f"not an http(s) URL: {safe_text(url[:80])}", "give your backend's URL, e.g. http://127.0.0.1:8080/")
    if not _HEADER_NAME.fullmatch(header):
        raise UsageError(f"not an HTTP header name: {safe_text(header[:80])!r}",
                         "give a name such as X-OpenReplay-SessionToken (letters, digits, - . _)")
    wait_seconds = parse_duration(wait).total_seconds()
    if carries_id(header):  # no token reaches the backend, so none can be logged
        if generation == "v1.20":
            raise UsageError(f"{header} carries the session id, and OpenReplay v1.20 reads only the token",
                             "send a token header: --header X-OpenReplay-SessionToken")
        if generation == "both" and not app.quiet:
            say("note: ", f"{header} carries the id, not the token: judged for OpenReplay v1.21+ only")
        generation = "v1.21"
    settings = app.settings(settings_flags(params))
    session = fresh_session(int(time.time() * 1000), secrets.randbits(24), secrets.token_bytes(32),
                            secrets.token_hex(12))
    try:
        sent = core.send(url, header, session, settings.timeout, f"orx-elastic-canary/{__version__}")
    except (OSError, ValueError) as exc:
        raise ConnectionFailed(f"the backend did not answer at {safe_text(url)}: {safe_text(str(exc))[:200]}",
                               "check the URL, and that the backend runs") from None
    if not app.quiet:
        say("", f"sent GET {url} with {header} (session {session.session_id}) and {CANARY_HEADER}: "
                f"HTTP {sent.status}; searching {settings.indexes} for up to {wait}")
    es = build_client(settings)
    with es, translated_errors(settings, f"search {settings.indexes}"):
        result = core.await_line(es, settings, session, sent, wait_seconds, generation)
    _report(app, result, wait)


def _report(app: AppContext, result: CanaryResult, wait: str) -> None:
    from elastic_cli import errors
    from elastic_cli.checks import canary as core
    from elastic_cli.openreplay.verdicts import GENERATIONS as SHOWN_BY
    from elastic_cli.output import safe_text

    sid, header = result.session.session_id, result.sent.header
    if result.line is not None:
        source = result.line.source or {}
        index = result.line.index_name
        app.print(safe_text(f"found in {index}, searchable {result.delay:.1f} s after the request "
                             f"({result.polls} searches):"))
        app.print("  message: " + safe_text(str(source.get("message"))))
    if result.outcome == core.FOUND:
        for generation in SHOWN_BY:
            if generation in result.problems:
                app.print(f"OpenReplay {generation}: shows lines like it"
                           + (" (when they are errors: v1.20 shows lines tagged error)" if generation == "v1.20"
                              else " (its index is behind `logs`)"))
        return
    if result.outcome == core.NO_HEADER:
        if any(c in header for c in "._"):
            fix = ("nginx (and other proxies) drop header names with dots or underscores: send X-OpenReplay-SessionToken "
                   "(the tracker's) or X-OpenReplay-Session-Id")
        else:
            fix = (f"let {header} through the proxy, and allow it in CORS (Access-Control-Allow-Headers) when the "
                   "browser calls another origin (`orx-elastic instrument browser`)")
        raise errors.CanaryHeaderDropped(
            f"the backend logged the canary's line without a session: {header} did not reach it", fix)
    if result.outcome == core.NO_MARKER:
        raise errors.CanaryMarkerMissing(
            f"the backend received session {sid} but logged the canary's line without its marker",
            "put the filter on the handler that ships the lines, not on a logger (openreplay_logging.install("
            "handler)); pino: openReplayPinoOptions(...); winston: openReplayFormat() (`orx-elastic instrument`)")
    if result.outcome == core.SHAPE:
        said = "; ".join(f"{g}: {p[0].text}" for g, p in result.problems.items() if p)
        codes = {p.code for found in result.problems.values() for p in found}
        fix = (f"`orx-elastic shows {sid}` says why for each line; `orx-elastic instrument STACK` writes `level`, "
               "`@timestamp` and both markers")
        if codes == {"index-not-logs"}:
            fix = "`orx-elastic alias --username ADMIN` points an alias `logs` at your log indices"
        raise errors.CanaryShape(f"the line carries the marker, but OpenReplay will not show it ({said})", fix)
    if result.missing:  # the search could not see everything: its miss proves nothing about the backend
        raise errors.PartialResults(
            f"no line of canary session {sid} was found within {wait}, but the search was partial: "
            f"{result.missing[0]}", "fix what the search names (`orx-elastic check`), then run the canary again")
    raise errors.CanaryTimeout(
        f"no line of canary session {sid} became searchable within {wait} ({result.polls} searches)",
        "in order: the middleware is not installed or the request missed it (it logs one line per canary); "
        "the shipper lags (try --wait 2m) or writes to indices outside `indexes`")
