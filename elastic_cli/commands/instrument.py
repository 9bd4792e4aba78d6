"""`orx-elastic instrument STACK`: print the propagation kit for one stack (plain text, a file to save)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from elastic_cli.openreplay.propagation import DEFAULT_GENERATION, GENERATIONS, STACKS

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext

_STACK_LIST = "\n".join(f"  {name:<22}{stack.title} -> {stack.filename}" for name, stack in STACKS.items())


@click.command(help=f"""Print the code that puts OpenReplay's session marker on every line your backend
logs, for one stack; save it as a file beside your app (the output is the whole file).

The backend code accepts the headers the tracker sends (X-OpenReplay-SessionToken,
X-OpenReplay-Session-Token) and X-OpenReplay-Session-Id, decodes the session id from
the token, keeps it per request, and starts each line, once, with the marker(s):
openReplaySessionToken=<token> (OpenReplay up to v1.20) and openReplaySession.id=<id>
(v1.21+). It keeps a lower-case `level`, adds the field openreplay.session_id, and
needs no package your stack does not already use. `browser` prints the tracker side.

\b
Stacks:
{_STACK_LIST}

\b
Examples:
  orx-elastic instrument python-flask > openreplay_logging.py
  orx-elastic instrument node-express-pino --generation v1.21 > openreplay-logging.js
  orx-elastic instrument browser
Then prove it: orx-elastic canary https://your-backend.example.com/
""")
@click.argument("stack", type=click.Choice(list(STACKS)), metavar="STACK")
@click.option("--generation", type=click.Choice(list(GENERATIONS)), default=DEFAULT_GENERATION, show_default=True,
              help="Which OpenReplay's marker to write: v1.20 (the token), v1.21 (the session id), or both.")
@click.pass_obj
def instrument(app: AppContext, stack: str, generation: str) -> None:
    from elastic_cli import __version__
    from elastic_cli.openreplay.propagation import render

    app.print(render(stack, generation, __version__), end="")
