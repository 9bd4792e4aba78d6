"""click's usage errors in the tool's own words: `error: ...` and `  fix: ...`, not click's
`Usage: ... Try ... Error: ...` block beside the tool's lowercase `error:` lines (pure)."""

from __future__ import annotations

import click


def usage_error_lines(exc: click.ClickException) -> tuple[str, str | None]:
    """(message, fix) for a click error: the message as click words it (a capital dropped, as every
    message of the tool starts), the fix names the command's --help and its usage line."""
    message = exc.format_message()
    if message[:1].isupper() and message[1:2].islower():  # `No such option` -> `no such option`; not `SESSION`
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    if not isinstance(exc, click.UsageError) or ctx is None:
        return message, None
    usage = " ".join(ctx.command.collect_usage_pieces(ctx))
    help_flag = (ctx.help_option_names or ["--help"])[-1]
    return message, f"see `{ctx.command_path} {help_flag}` (usage: {ctx.command_path} {usage})"
