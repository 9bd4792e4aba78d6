"""Every command of orx-elastic in one table: its name, where it lives ("module:attribute", imported
on first use, so `--help` and completion import no command module) and its one line of help. The
root group lists it; hints recognise its names (`commands.hints`)."""

from __future__ import annotations

COMMANDS = {
    "create-key": ("elastic_cli.commands.create_key:create_key", "Create a least-privilege API key for OpenReplay."),
    "keys": ("elastic_cli.commands.keys:keys", "List, invalidate or rotate the keys orx-elastic made."),
    "configure": ("elastic_cli.commands.configure:configure", "Write host, port, id, api_key and indexes to a profile."),
    "config": ("elastic_cli.commands.config:config", "Show the active settings, or the config file's path."),
    "check": ("elastic_cli.commands.check:check", "Check connection, TLS, key, privileges, indices, fields, data."),
    "logs": ("elastic_cli.commands.logs:logs", "Print the backend logs of one session, by token or session id."),
    "shows": ("elastic_cli.commands.shows:shows", "Say which lines of a session OpenReplay v1.20 and v1.21+ show, and why not."),
    "alias": ("elastic_cli.commands.logs_alias:logs_alias", "Point an alias `logs` at your log indices, for OpenReplay v1.21+."),
    "sessions": ("elastic_cli.commands.sessions:sessions", "List the sessions whose backend logged errors, with replay links."),
    "instrument": ("elastic_cli.commands.instrument:instrument", "Print the code that puts the session marker in your backend's logs."),
    "canary": ("elastic_cli.commands.canary:canary", "Send a test session to your backend and find its log line in the cluster."),
    "mcp": ("elastic_cli.commands.mcp:mcp", "Serve the session tools to an AI assistant over stdio (MCP)."),
    "completion": ("elastic_cli.commands.completion:completion", "Print the completion script for bash, zsh or fish."),
}

NAMES = tuple(COMMANDS)
