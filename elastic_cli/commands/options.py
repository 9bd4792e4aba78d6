"""Option decorators shared by commands (as sqlite-utils does), so flags mean the same everywhere."""

from __future__ import annotations

import sys
from typing import Any, Callable

import click

OUTPUT_FORMATS = ("table", "json", "ndjson", "csv")


def default_help(name: str) -> str:
    """The default a flag's help shows, from the settings table (the one place defaults live)."""
    from elastic_cli.config.settings import KEYS_BY_NAME

    value = KEYS_BY_NAME[name].default
    return f" [default: {value:g}]" if isinstance(value, float) else f" [default: {value}]"


# flag -> its option, in the order --help lists them
CONNECTION_FLAGS = {
    "--host": click.option("--host", help="Elasticsearch URL or host with scheme (https://es:9243 sets the port too)."),
    "--port": click.option("--port", type=int, help="HTTP port" + default_help("port") + "."),
    "--hosts": click.option("--hosts", metavar="URL,URL,...",
                            help="Several nodes of one cluster, comma separated; a node that fails is left for "
                                 "the next (wins over a saved host)."),
    "--cloud-id": click.option("--cloud-id", help="Elastic Cloud id; sets host and port."),
    "--id": click.option("--id", "id", help="API key id."),
    "--api-key": click.option("--api-key", help="API key secret, the encoded (base64 id:key) form, or where it "
                              "lives: $(keychain:NAME), $(env:VAR), $(file:PATH)."),
    "--indexes": click.option("--indexes", help="Index patterns, comma separated" + default_help("indexes") + "."),
    "--ca-certs": click.option("--ca-certs", type=click.Path(dir_okay=False), help="CA certificate (PEM) to trust."),
    "--fingerprint": click.option("--fingerprint", help="SHA-256 fingerprint of the server certificate to pin."),
    "--insecure": click.option("--insecure/--no-insecure", default=None,
                               help="Do not verify TLS certificates (--no-insecure: verify, undoing a saved --insecure)."),
    "--timeout": click.option("--timeout", type=float, help="Request timeout in seconds" + default_help("timeout") + "."),
    "--message-field": click.option("--message-field", help="Field holding the log line" + default_help("message_field") + "."),
    "--time-field": click.option("--time-field", help="Field holding the log time" + default_help("time_field")
                 + "; an index without it: @timestamp, utc_time or timestamp."),
    "--tags-field": click.option("--tags-field", help="Field holding levels like 'error'" + default_help("tags_field")
                 + "; an index without it: log.level, level or severity."),
    "--openreplay-url": click.option("--openreplay-url", help="OpenReplay dashboard URL, for replay links."),
    "--project-id": click.option("--project-id", help="OpenReplay project id, for replay links."),
}


def connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(list(CONNECTION_FLAGS.values())):
        func = option(func)
    return func


# where Elasticsearch is and how to reach it: what a command that manages keys (keys list,
# invalidate, rotate) uses of the connection flags; the fields and replay links are for logs
ENDPOINT_FLAG_NAMES = ("--host", "--port", "--hosts", "--cloud-id", "--ca-certs", "--fingerprint", "--insecure", "--timeout")


def endpoint_options(*extra: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The endpoint flags (and the `extra` connection flags named, e.g. "--indexes"), as
    connection_options gives them: a command lists only the flags it reads."""
    wanted = set(ENDPOINT_FLAG_NAMES) | set(extra)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for flag, option in reversed(list(CONNECTION_FLAGS.items())):
            if flag in wanted:
                func = option(func)
        return func

    return decorate


def settings_flags(params: dict[str, Any]) -> dict[str, Any]:
    """Turn the connection flags a command received into settings keys (None = not given)."""
    from elastic_cli.config.endpoint import parse_cloud_id

    flags = {name: params.pop(name, None) for name in
             ("host", "port", "hosts", "id", "api_key", "indexes", "ca_certs", "fingerprint", "timeout",
              "message_field", "time_field", "tags_field", "openreplay_url", "project_id", "session_margin")}
    cloud_id = params.pop("cloud_id", None)
    if cloud_id:
        cloud = parse_cloud_id(cloud_id)
        flags["host"], flags["port"] = cloud.host, cloud.port
    insecure = params.pop("insecure", None)
    flags["verify_certs"] = None if insecure is None else not insecure
    return flags


def default_format(piped: str, stdout: Any = None) -> str:
    """The one rule for every command: a table on a terminal, `piped` (json or ndjson) otherwise."""
    stream = sys.stdout if stdout is None else stdout
    try:
        on_terminal = stream.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    return "table" if on_terminal else piped


def output_option(formats: tuple[str, ...] = ("table", "json"), piped: str = "json") -> Callable[..., Any]:
    """-o/--output, shared by every command (as sqlite-utils' output_options): the command
    receives a concrete format, never None, decided by `default_format`."""

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
        from elastic_cli.commands.app import AppContext

        app = ctx.find_object(AppContext)
        if value or app is None:
            return value or default_format(piped)
        return "table" if app.streams.out_is_terminal else piped

    return click.option("-o", "--output", type=click.Choice(formats), default=None, callback=resolve,
                        help=f"Output format [default: table on a terminal, {piped} when piped].")


def retry_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--retry-for`: how long a started read waits out failures (logs, sessions)."""
    from elastic_cli.search.retry import DEFAULT_RETRY_FOR  # a light module: no client imported

    return click.option(
        "--retry-for", default=DEFAULT_RETRY_FOR, show_default=True, metavar="DURATION",
        help="Once reading has begun, how long to wait out a lost connection, a node restart or a "
             "429/502/503/504, retrying with backoff and going on after the last line written, before "
             "giving up with the partial exit (13); 0s: give up at once. A revoked or expired key ends it "
             "at once.")(func)


SESSION_HELP = ("The session: its token (from the X-OpenReplay-SessionToken header or an openReplaySessionToken= "
                "marker), its numeric id, or a replay link (.../session/<id>).")


class DescribedArgument(click.Argument):
    """A positional argument with help, listed under "Positional arguments" by click 8.5+ (an older
    click, whose Argument takes no help, shows the usage line only)."""

    def __init__(self, *args: Any, help: str | None = None, **kwargs: Any) -> None:  # noqa: A002 — click's name
        super().__init__(*args, **kwargs)
        self.help = help


def session_argument(required: bool = True, help: str = SESSION_HELP) -> Callable[..., Any]:  # noqa: A002
    """The SESSION positional of logs and shows, with its help text."""
    return click.argument("session", cls=DescribedArgument, required=required, help=help)

