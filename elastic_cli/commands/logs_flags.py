"""`logs`' flags that go together or not, and what they make of the request: usage errors said before
anything is searched, never one flag silently dropped."""

from __future__ import annotations

from typing import Any

import click


def context_from_flags(after: int | None, before: int | None, around: int | None, all_levels: bool,
                       tail: int | None = None) -> Any:
    """-A/-B/-C as a `Context` (None when none is given); refused where it cannot mean anything. With
    --follow, the lines around an error line are those that arrive before and after it (tail -f | grep -C)."""
    from elastic_cli.errors import UsageError
    from elastic_cli.search.context import Context

    if after is None and before is None and around is None:
        return None
    if tail is not None:
        raise UsageError("-A/-B/-C do not go with --tail", "leave out --tail, or give --limit N with -A/-B/-C")
    if all_levels:
        raise UsageError("-A/-B/-C print lines of other levels around the error lines: with --all-levels every "
                         "line is printed already", "leave out --all-levels (or -A/-B/-C)")
    context = Context(before=before if before is not None else around or 0,
                      after=after if after is not None else around or 0)
    return context or None


def refuse_conflicts(every: bool, follow: bool, reverse: bool, tail: int | None = None) -> None:
    """Flags that cannot hold together are a usage error, said before anything is searched:
    never one of them silently dropped."""
    from elastic_cli.errors import UsageError

    limit_given = click.get_current_context().get_parameter_source("limit") != click.core.ParameterSource.DEFAULT
    if every and follow:
        raise UsageError("--all and --follow do not go together", "--follow prints every line already, then new ones")
    if follow and reverse:
        raise UsageError("--follow prints lines as they arrive, oldest first: it cannot --reverse",
                         "leave out --reverse (or --follow)")
    if follow and limit_given:
        raise UsageError("--follow prints every line, so --limit does not apply",
                         "--tail N prints the last N lines, then new ones (or leave out --limit)")
    if every and limit_given:
        raise UsageError("--all prints every line, so --limit does not apply", "leave out one of them")
    if tail is not None:
        if every:
            raise UsageError("--tail prints the last lines, --all every line: they do not go together",
                             "leave out one of them")
        if limit_given:
            raise UsageError("--tail N already says how many lines: --limit does not apply", "leave out --limit")
        if tail == 0 and not follow:
            raise UsageError("--tail 0 prints no line without --follow", "give --tail N with N above 0, or --follow")
        if reverse:
            raise UsageError("--tail prints the last lines oldest first: it cannot --reverse",
                             "leave out --reverse (--reverse --limit N prints the last N newest first)")
