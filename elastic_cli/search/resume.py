"""Where an interrupted read of a session's lines goes on from, so that every line is written once.

A point in time cannot outlive the node that holds it, and a `search_after` key holds the
`_shard_doc` of that point in time: neither survives a restart or a lost connection. What
does survive is the order itself. Lines come in time order (then the undated ones, last
in either direction), so the read goes on from the time of the last line written (that
millisecond included), skipping the lines of that millisecond it already wrote; once the
undated lines have begun, every dated line was written, and only the undated ones written
so far are skipped. Pure: no request is made here.

A line's time here is the value the cluster sorted it by, however implausible (epoch microseconds
in a `date` field read as milliseconds: year ~56,000; `SessionLine.time_ms` keeps it): were it
"undated" here, every dated line after it would be taken for one already written and dropped. A
bound that no `datetime` can hold is left out: the read then starts over, and `take` skips what was
written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Iterable

from elastic_cli.search.query import LogQuery
from elastic_cli.search.session_line import SessionLine

Key = tuple[str, str]  # (index, id): a document's identity across points in time


@dataclass
class ResumePoint:
    reverse: bool = False
    last_ms: int | None = None  # the time of the last dated line written
    at_last_ms: set[Key] = field(default_factory=set)  # the lines written with that time
    undated: set[Key] | None = None  # the undated lines written (None: none yet, dated ones may follow)
    written: int = 0

    def take(self, page: Iterable[SessionLine]) -> list[SessionLine]:
        """The lines of `page` not written before, recorded as written."""
        fresh = []
        for line in page:
            key = line.id
            moment = line.time_ms
            if moment is None:
                if self.undated is None:
                    self.undated = set()
                if key in self.undated:
                    continue
                self.undated.add(key)
            else:
                if self.undated is not None:
                    continue  # every dated line came before the first undated one
                if self.last_ms is not None:
                    behind = moment > self.last_ms if self.reverse else moment < self.last_ms
                    if behind or (moment == self.last_ms and key in self.at_last_ms):
                        continue
                if moment != self.last_ms:
                    self.last_ms, self.at_last_ms = moment, set()
                self.at_last_ms.add(key)
            fresh.append(line)
        self.written += len(fresh)
        return fresh

    def query(self, query: LogQuery) -> LogQuery:
        """`query`, bounded to start where the lines written end (nothing to skip: unchanged)."""
        if self.last_ms is None:
            return query
        if self.undated is not None:
            # past the dated lines: a bound beyond the last one leaves the dated streams empty
            step = -1 if self.reverse else 1
            bound = _at(self.last_ms + step)
        else:
            # that millisecond again (its lines not yet written); one more either way covers
            # a nanosecond time that the bound's milliseconds would cut
            bound = _at(self.last_ms + 1) if self.reverse else _at(self.last_ms)
        if bound is None:
            return query  # beyond any datetime: read from the start again, `take` skips what was written
        if self.reverse:
            until = bound if query.until is None else min(query.until, bound)
            return replace(query, until=until)
        since = bound if query.since is None else max(query.since, bound)
        return replace(query, since=since)


def _at(ms: int) -> datetime | None:
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)
    except OverflowError:
        return None
