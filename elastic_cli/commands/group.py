"""The root group's kind: commands loaded on first use from the registry (so `--help` imports none),
a mistyped name answered with the closest ones, and a closed stdout pipe made a quiet end."""

from __future__ import annotations

import importlib
from typing import Any

import click

from elastic_cli.commands.app import ReaderGone
from elastic_cli.commands.global_options import accept_global_options
from elastic_cli.commands.registry import COMMANDS


class SuggestingGroup(click.Group):
    """A group whose "No such command" suggests the closest names, closest first (`chek`: `check`)."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchCommand as exc:
            if exc.possibilities:
                raise
            # a lazy group's `commands` is empty: offer the names it lists
            raise click.NoSuchCommand(exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx) from None


class LazyGroup(SuggestingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    # every command runs inside invoke(), --help and --version inside make_context(): a write to
    # a closed pipe, from any of them, leaves through main() as a quiet end, not click's exit 1
    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            raise ReaderGone() from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ReaderGone() from None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name][0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        accept_global_options(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # short help from the table above: --help imports no command module
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])
