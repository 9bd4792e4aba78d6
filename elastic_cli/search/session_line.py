"""One line of a session as the search read it: the hit, and what its index's shape says of it.

This is what `search` hands the output layer and `shows` (never a hit with private keys): the
time is the sort value of the line's own index's time field, the level what its level fields
hold, `index` the data stream's name for a backing index.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# a time beyond this many epoch ms either way (the year ~33,600) is no time a logger meant (epoch
# microseconds in a date field, a shipper's bug): the line keeps its place by it, but it is not shown as one
PLAUSIBLE_MS = 10**15


class SessionLine(NamedTuple):
    hit: dict[str, Any]  # as Elasticsearch answered it: _index, _id, _source (fields, sort)
    time_ms: int | None  # epoch ms; None when its index has no time field or the line has no time
    level: Any  # one word, or what its level fields hold (a list, a number); None without a level field
    index_name: str  # the data stream's name for a backing index, else the index's
    offset_ms: int | None  # from the session's start: the position on the replay's timeline
    # with -A/-B/-C (search.context): a line printed around an error line, not one itself; and
    # the first line of a group that does not follow the previous one (grep's `--` before it)
    context: bool = False
    gap: bool = False

    @property
    def id(self) -> tuple[str, str]:
        """(index, _id): the document's identity across points in time and reads."""
        return (self.hit.get("_index") or "", self.hit.get("_id") or "")

    @property
    def source(self) -> Any:
        return self.hit.get("_source")
