"""What a result holds of what was asked, and what it is known to miss (pure).

Every search that reads a session's lines (`logs`, `sessions`) returns a `Coverage`
beside its lines. The command layer turns it into messages and the exit code by one
rule: when lines are known to be missing, everything that was read is printed, then
one line per reason and the partial-result exit code (13). `-q` silences chatter, never
coverage: what a result lacks is said even then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from elastic_cli.errors import PartialResults, plural

# why an index the patterns match could not be searched at all (its lines cannot be counted either)
CLOSED = "a closed index cannot be searched"
READ_BLOCK = "an index with a read block (index.blocks.read) cannot be searched"
# what to do about each, said for the first index named (`{index}`)
NO_LEVEL = "no level field, so its errors cannot be told (--all-levels shows them)"
FIXES = {
    CLOSED: "open it as an admin (POST /{index}/_open), or leave it out of --indexes",
    READ_BLOCK: "remove the block as an admin (PUT /{index}/_settings with {{\"index.blocks.read\": false}}), "
                "or leave it out of --indexes",
}
# at most this many names in one reason; the rest are counted
NAMES_SHOWN = 5


@dataclass(frozen=True)
class LeftOut:
    """An index (or data stream) that was not searched, and why."""

    index: str  # as the user knows it: a data stream by its name
    reason: str
    lines: int | None = 0  # lines it holds that were not shown or counted (None: some may be, uncounted)
    # what those lines are: a session's lines (`logs`), or marked lines of any session (`sessions`)
    of_session: bool = True

    @property
    def fix(self) -> str:
        """What makes its lines readable, when the reason has a known fix."""
        fix = FIXES.get(self.reason, "")
        if not fix:
            return ""
        first = self.index.split(", ")[0].split(" and ")[0]
        return fix.format(index=first) + ("" if first == self.index else " (the same for each index named)")


@dataclass(frozen=True)
class GaveUp:
    """A read that stopped on a failure waited out for too long (`Retrier.wait_out`): the one way
    `logs` and `sessions` say it, with what the output lacks because of it."""

    reason: str  # what went wrong, in words: "connection lost"
    after: int  # lines read (or written) before it
    lacking: str  # what is missing: "the lines after those are missing"
    budget: str = ""  # the --retry-for waited, as a person says it ("5 min")

    def text(self) -> str:
        within = f"within --retry-for ({self.budget})" if self.budget else "within --retry-for"
        return f"{self.reason} after {plural(self.after, 'line')}, and the search could not go on {within}: {self.lacking}"


@dataclass
class Coverage:
    """Filled while a search runs; read when it is over (or stopped)."""

    indices_searched: int = 0
    left_out: list[LeftOut] = field(default_factory=list)
    shards_total: int = 0
    shards_skipped: int = 0  # skipped by the time window: they hold no line of it
    shards_failed: int = 0  # their lines are missing
    failure: str = ""  # the first failure's index, shard and reason
    timed_out: int = 0  # pages a shard answered after running out of time: lines may be missing
    undated_lines: int = 0  # lines without a time in a dated index: shown last, outside any window
    more_beyond_limit: bool = False  # the limit was reached and more lines exist (asked for: not missing)
    stopped: str = ""  # why reading stopped before the end, other than a failure (a cap was hit)
    gave_up: GaveUp | None = None  # reading stopped on a failure that lasted past --retry-for

    def missing(self) -> list[str]:
        """One sentence per reason lines are known to be missing; empty when the result is whole."""
        reasons = []
        if self.shards_failed:
            reasons.append(f"{self.shards_failed} of {self.shards_total} shards failed, so the output lacks "
                           f"the lines on them: {self.failure}")
        if self.timed_out:
            reasons.append(f"the search timed out on some shards ({self.timed_out} page"
                           f"{'s' if self.timed_out != 1 else ''}), so lines they hold may be missing")
        for left in grouped(self.left_out):
            lines, done = ("lines of this session", "shown") if left.of_session else ("marked lines", "counted")
            if left.lines is None:
                reasons.append(f"{left.index} may hold {lines} that were not {done} (they could not be counted): "
                               f"{left.reason}")
            elif left.lines:
                one = lines.replace("lines", "line", 1) if left.lines == 1 else lines
                reasons.append(f"{left.lines} {one} in {left.index} not {done}: {left.reason}")
        if self.gave_up:
            reasons.append(self.gave_up.text())
        if self.stopped:
            reasons.append(self.stopped)
        return reasons

    def partial_error(self, hint: str | None = None) -> PartialResults | None:
        """The error a command ends with when lines are missing (after printing what it read)."""
        reasons = self.missing()
        if not reasons:
            return None
        more = f" (and {len(reasons) - 1} more reason{'s' if len(reasons) > 2 else ''} above)" if len(reasons) > 1 else ""
        return PartialResults(reasons[0] + more, hint or _hint(self))


def grouped(left_out: Sequence[LeftOut]) -> list[LeftOut]:
    """The left-out indices with one reason and uncounted lines as one entry (a cluster that closes
    old daily indices has hundreds): at most NAMES_SHOWN names, the rest counted."""
    together: dict[tuple[str, bool], list[str]] = {}
    result: list[LeftOut | tuple[str, bool]] = []
    for left in left_out:
        if left.lines is not None:
            result.append(left)
            continue
        key = (left.reason, left.of_session)
        if key not in together:
            together[key] = []
            result.append(key)
        if left.index not in together[key]:
            together[key].append(left.index)
    return [item if isinstance(item, LeftOut) else
            LeftOut(_names(together[item]), item[0], lines=None, of_session=item[1]) for item in result]


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _hint(coverage: Coverage) -> str:
    fixes = [left.fix for left in grouped(coverage.left_out) if left.lines != 0 and left.fix]
    if fixes and not coverage.shards_failed:
        return "; ".join(fixes)
    if coverage.shards_failed:
        return "fix or leave out the index named (--indexes), then run the command again"
    if coverage.timed_out:
        return ("the cluster stops searches at search.default_search_timeout: raise it, or narrow the search "
                "(--since/--until, --indexes)")
    if any(left.lines != 0 and left.reason == NO_LEVEL for left in coverage.left_out):
        return "--all-levels shows every line of those indices (their level cannot be told)"
    if any(left.lines != 0 for left in coverage.left_out):  # the reason above says what keeps them out
        return "fix what the reason names on those indices (as an admin), or leave them out of --indexes"
    if coverage.gave_up:
        return "run the command again once the cluster answers, or give --retry-for longer"
    return "run the command again"
