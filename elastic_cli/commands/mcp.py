"""`orx-elastic mcp`: serve this tool's session lookups to an AI assistant over stdio (Model
Context Protocol), with the profile's cluster and read-only key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from elastic_cli.commands.options import connection_options, settings_flags

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext


@click.command()
@connection_options
@click.pass_obj
def mcp(app: AppContext, **params: Any) -> None:
    """Serve the session tools to an AI assistant (an MCP client) over stdin and stdout.

    An MCP client (Claude Desktop, Claude Code, Cursor, VS Code, ...) starts this
    command and asks its tools: session_lines (the backend lines of one session, as
    `logs -o json` records them), sessions_with_errors (as `sessions`),
    what_openreplay_shows (as `shows`) and check_setup (as `check`). Each answer
    is bounded and says what it lacks. It uses the profile (--profile) and its
    read-only key like every command: it can do nothing the key cannot.

    Needs the optional SDK: pip install 'orx-elastic[mcp]'.

    \b
    Examples (what a client's configuration runs):
      orx-elastic mcp
      orx-elastic --profile prod mcp
    """
    from elastic_cli.cluster.connection import no_configuration_yet, nothing_configured
    from elastic_cli.commands.hints import with_profile
    from elastic_cli.mcp_server.server import require_sdk, serve

    require_sdk()
    settings = app.settings(settings_flags(params))
    if nothing_configured(settings):
        raise no_configuration_yet(settings)
    serve(settings, name_profile=lambda text: with_profile(text, app.profile))
