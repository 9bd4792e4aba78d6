"""`orx-elastic --help` lists every command from the short-help table, importing none of them."""

from __future__ import annotations

import subprocess
import sys

from elastic_cli.commands.registry import COMMANDS


def test_root_help_lists_the_commands_without_importing_them():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "elastic_cli", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    # the root group's own parts (commands.app, .group, .registry, ...) load; no command does
    command_modules = {target.split(":")[0] for target, _ in COMMANDS.values()}
    assert not command_modules.intersection(imported), imported
    heavy = ("elasticsearch", "elastic_transport", "rich", "yaml", "mcp", "mcp_types", "pydantic", "anyio")
    assert not [m for m in imported if m.split(".")[0] in heavy]
    for name, (_, short) in COMMANDS.items():
        assert f"{name}  " in result.stdout and short[:30] in result.stdout
