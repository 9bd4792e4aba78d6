"""The one rule by which every command reports what its result lacks (a `Coverage`).

Lines known to be missing: everything read has been printed; each reason is said, then the
command ends with the partial-result error (exit 13). `-q` never silences this: coverage is
not chatter. Lines beyond a limit the user set are not missing, but are still said, even
under `-q`, since the output alone cannot show them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from elastic_cli.commands.app import AppContext
    from elastic_cli.search.coverage import Coverage


def finish(app: AppContext, coverage: Coverage, more: str | None = None) -> None:
    """Say what the result lacks; raise the partial-result error when lines are missing."""
    for left in coverage.left_out:
        if left.lines == 0:  # holds none of the lines asked for: nothing is missing
            app.warn(f"not searched: {left.index}: {left.reason}")
    if more:
        app.notice(more)
    error = coverage.partial_error()
    if error is None:
        return
    for reason in coverage.missing()[1:]:  # the error names the first
        app.notice(reason)
    raise error
