"""What OpenReplay will show of one session: the lines `logs` finds, each generation's own request
run with the user's key, and the verdicts (`openreplay.verdicts`) for every line. No printing.

Used by `orx-elastic shows` and by `check --session` (one finding per generation).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from elastic_cli.cluster.connection import body_of, status_of
from elastic_cli.errors import plural
from elastic_cli.openreplay import verdicts as v
from elastic_cli.openreplay.session_token import SessionRef

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings
    from elastic_cli.search.coverage import Coverage
    from elastic_cli.search.session_line import SessionLine

DEFAULT_LIMIT = 5000  # more than v1.21's 1000, so "beyond the first 1000" can be told
_ID_BATCH = 1000


@dataclass
class SessionView:
    ref: SessionRef
    started: datetime | None
    lines: list[SessionLine]
    answers: dict[str, v.Answer]
    judged: list[v.LineVerdicts]
    summaries: list[v.Summary]
    coverage: Coverage
    requests: dict[str, v.Request] = field(default_factory=dict)  # as each generation sends it
    outside: int = 0  # lines v1.21+ returns that were not judged (outside `indexes`, or before the window)

    def summary(self, generation: str) -> v.Summary:
        return next(s for s in self.summaries if s.generation == generation)


def session_view(es: Any, settings: Settings, ref: SessionRef, limit: int = DEFAULT_LIMIT,
                 fetched_at: datetime | None = None, since: datetime | None = None,
                 now: datetime | None = None) -> SessionView:
    """Find the session's lines (every level, as v1.21+ has no error filter), run both generations'
    requests, judge every line. Raises what `session_logs` raises (IndexNotFound, ...)."""
    from elastic_cli.search.lookup import LookupRequest, lookup, prepare
    from elastic_cli.search.session_logs import Limited

    # every level, as v1.21+ has no error filter
    search = prepare(settings, ref, LookupRequest(mode=Limited(limit), errors_only=False, since=since), now)
    started, since = search.started, search.query.since
    # v1.21+'s request does not depend on the lines found: it goes out beside the search for them
    # (far from the cluster each request in turn is a round trip); the v1.20 probe names their ids
    since_ms = int(since.timestamp() * 1000) if since else 0
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="shows") as pool:
        v121_search = pool.submit(_v121_search, es, ref.session_id)
        logs_indices = pool.submit(logs_coverage, es)
        # the v1.20 poller's first page does not depend on the lines either
        poller_first = pool.submit(poller_first_page, es, settings.indexes, since_ms)
        result = lookup(es, search)
        lines = [line for page in result.pages() for line in page]
        answered = v121_search.result()
        # the lookup reads a line by its `message`: a hit v1.21+ returns without a text one is judged too
        lines = with_unreadable(lines, answered, started)
        v120 = v120_answer(es, settings.indexes, since_ms, lines, first_page=poller_first.result)
        answers = {v.V121: v121_answer(es, ref.session_id, lines, answered, logs_indices.result),
                   v.V120: v120}
    fetched_ms = int(fetched_at.timestamp() * 1000) if fetched_at else None
    judged = v.judge(lines, ref.session_id, answers, fetched_at_ms=fetched_ms)
    keys = {_line_key(line) for line in lines}
    return SessionView(ref=ref, started=started, lines=lines, answers=answers, judged=judged,
                       summaries=v.summarize(judged, answers, ref.session_id), coverage=result.coverage,
                       requests={v.V120: v.v120_request(settings.indexes, since_ms),
                                 v.V121: v.v121_request(ref.session_id)},
                       outside=len(answers[v.V121].hits - keys))


def _api_failure(exc: BaseException) -> tuple[str, str] | None:
    """(code, text) for an answer Elasticsearch gave as an error; None for anything else (raised on)."""
    status = status_of(exc)
    if status is None:
        return None
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type", "") if isinstance(error, dict) else ""
    if status == 404 and kind == "index_not_found_exception":
        return "no-logs-index", ""
    if status == 403:
        return "logs-forbidden", ""
    reason = error.get("reason", "") if isinstance(error, dict) else str(body)[:200]
    caused = error.get("caused_by") if isinstance(error, dict) else None
    if isinstance(caused, dict) and caused.get("reason"):  # e.g. a sort across shards that cannot be done
        reason = caused["reason"]
    text = "".join(c if c.isprintable() else " " for c in f"HTTP {status}: {kind}: {reason}".strip(": "))
    return "request-failed", text[:300]


def _hit_keys(body: dict[str, Any]) -> frozenset[tuple[str, str]]:
    return frozenset((str(h.get("_index")), str(h.get("_id"))) for h in (body.get("hits") or {}).get("hits") or [])


def _v121_search(es: Any, session_id: str) -> dict[str, Any] | v.Answer:
    """v1.21+'s fetch as it sends it: its answer, or the failure it meets as an Answer."""
    request = v.v121_request(session_id)
    try:
        return body_of(es.search(index=v.LOGS_INDEX, track_total_hits=True, **request.body))
    except Exception as exc:
        failure = _api_failure(exc)
        if failure is None:
            raise
        return v.Answer(error=failure[0], error_text=failure[1])


def with_unreadable(lines: list[SessionLine], answered: dict[str, Any] | v.Answer,
                    started: datetime | None) -> list[SessionLine]:
    """The lines, and the hits of v1.21+'s answer whose `message` is no text or list (none, null, a
    number: the lookup cannot read a marker in them, yet the fetch returned them), in time order (a
    line without a time last)."""
    from elastic_cli.search.fields import display_index
    from elastic_cli.search.session_line import SessionLine

    if isinstance(answered, v.Answer):
        return lines
    keys = {_line_key(line) for line in lines}
    start_ms = int(started.timestamp() * 1000) if started else None
    extra = []
    for hit in (answered.get("hits") or {}).get("hits") or []:
        source = hit.get("_source") if isinstance(hit.get("_source"), dict) else {}
        if isinstance(source.get("message"), (str, list)) or _hit_key(hit) in keys:
            continue
        moment = _epoch_ms(source.get("@timestamp"))
        offset = moment - start_ms if moment is not None and start_ms is not None else None
        extra.append(SessionLine(hit, moment, None, display_index(str(hit.get("_index") or "")), offset))
    if not extra:
        return lines
    merged = [*lines, *extra]
    merged.sort(key=lambda line: (line.time_ms is None, line.time_ms or 0))
    return merged


def _epoch_ms(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)


def _hit_key(hit: Mapping[str, Any]) -> tuple[str, str]:
    return (str(hit.get("_index")), str(hit.get("_id")))


def _line_key(line: SessionLine) -> tuple[str, str]:
    return (str(line.hit.get("_index")), str(line.hit.get("_id")))


def v121_answer(es: Any, session_id: str, lines: Sequence[SessionLine], answered: dict[str, Any] | v.Answer | None = None,
                logs_indices: Callable[[], tuple[frozenset[str] | None, frozenset[str]]] | None = None) -> v.Answer:
    """v1.21+'s fetch as it sends it (`answered`, when it was sent already), which indices `logs`
    covers, and (when it returned its 1000 and some lines are not among them) which of those lines
    its query matches at all."""
    body = answered if answered is not None else _v121_search(es, session_id)
    if isinstance(body, v.Answer):
        return body
    total = ((body.get("hits") or {}).get("total") or {}).get("value", 0)
    hits = _hit_keys(body)
    covered, keyword = logs_indices() if logs_indices is not None else logs_coverage(es)
    matched = None
    missing = [str(line.hit.get("_id")) for line in lines if _line_key(line) not in hits
               and (covered is None or str(line.hit.get("_index")) in covered)]
    if total > v.V121_SIZE and missing:
        found: set[tuple[str, str]] = set()
        for start in range(0, len(missing), _ID_BATCH):
            probe = v.v121_probe(session_id, missing[start:start + _ID_BATCH])
            found |= _hit_keys(body_of(es.search(index=v.LOGS_INDEX, **probe.params, **_body_args(probe.body))))
        matched = frozenset(found)
    ruin = v.panel_ruin([h for h in (body.get("hits") or {}).get("hits") or [] if isinstance(h, dict)])
    return v.Answer(hits=hits, total=total, matched=matched, logs_indices=covered, keyword_indices=keyword,
                    ruin=ruin)


def _body_args(body: Mapping[str, Any]) -> dict[str, Any]:
    args = dict(body)
    if "_source" in args:
        args["source"] = args.pop("_source")
    return args


def logs_coverage(es: Any) -> tuple[frozenset[str] | None, frozenset[str]]:
    """The concrete indices `logs` resolves to, and those where `message` is a keyword (one
    `_field_caps`, which `read` allows)."""
    try:
        caps = body_of(es.field_caps(index=v.LOGS_INDEX, fields="message"))
    except Exception as exc:
        if _api_failure(exc) is None:
            raise
        return None, frozenset()
    indices = frozenset(caps.get("indices") or [])
    types = (caps.get("fields") or {}).get("message") or {}
    keyword: set[str] = set()
    for kind in ("keyword", "constant_keyword", "wildcard"):
        if kind in types:
            keyword |= set(types[kind].get("indices") or indices)  # no list: every index has this type
    return indices, frozenset(keyword)


def v120_answer(es: Any, indexes: str, since_ms: int, lines: Sequence[SessionLine],
                first_page: Callable[[], dict[str, Any]] | None = None) -> v.Answer:
    """The v1.20 poller's search on `indexes`, narrowed to the ids of the lines found (which lines it
    matches; the shard failures it meets: its sort on `utc_time` fails on an index that lacks the
    field), then its own search as it sends it, not narrowed (`poller_walk`): whether it fails for
    everyone (a sort across a date and a keyword `utc_time`), and the first line it crashes on."""
    ids = sorted({str(line.hit.get("_id")) for line in lines})
    # the probe decides where the walk stops; the walk's next page goes out beside it (`poller_walk`)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="v120-probe") as pool:
        probed = pool.submit(_v120_probe, es, indexes, since_ms, ids)

        def until() -> float | None:
            answer = probed.result()
            return None if isinstance(answer, v.Answer) else answer[2]

        walk = poller_walk(es, indexes, since_ms, until=until, first_page=first_page)
    answer = probed.result()
    if isinstance(answer, v.Answer):
        return answer
    hits, failed, _ = answer
    if walk.error is not None:
        return walk.error
    ruin, before = v.poller_ruin(walk.hits)
    notes: tuple[str, ...] = ()
    if ruin is None and walk.cut:
        notes = (f"read the poller's first {plural(len(walk.hits), 'line')} (every session's) from the start of "
                 "the window: a line after them that crashes it was not looked for",)
    return v.Answer(hits=frozenset(hits), total=len(hits), failed_indices=failed, ruin=ruin, before_ruin=before,
                    notes=notes)


def _v120_probe(es: Any, indexes: str, since_ms: int, ids: Sequence[str]
                ) -> v.Answer | tuple[set[tuple[str, str]], dict[str, str], float | None]:
    """The poller's search narrowed to `ids`: the lines it matches, the shard failures it meets, the
    latest utc_time (sort value) of a line it matches; or the Answer of a search that fails for all."""
    hits: set[tuple[str, str]] = set()
    failed: dict[str, str] = {}
    last: float | None = None
    for start in range(0, len(ids), _ID_BATCH):
        probe = v.v120_probe(indexes, since_ms, list(ids[start:start + _ID_BATCH]))
        try:
            body = body_of(es.search(index=indexes, **probe.params, **_body_args(probe.body)))
        except Exception as exc:
            failure = _api_failure(exc)
            if failure is None:
                raise
            shards = _failed_shards(getattr(exc, "body", None))
            if not shards:
                return v.Answer(error=failure[0] if failure[0] == "request-failed" else "request-failed",
                                error_text=failure[1] or failure[0])
            failed.update(shards)
            continue
        hits |= _hit_keys(body)
        for hit in (body.get("hits") or {}).get("hits") or []:
            value = (hit.get("sort") or [None])[0]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                last = value if last is None else max(last, value)
        failed.update(_failed_shards({"error": body.get("_shards") or {}}))
    return hits, failed, last


WALK_PAGES = 20  # the poller's own search is read at most this many pages of 1000 far


@dataclass
class PollerWalk:
    hits: list[dict[str, Any]] = field(default_factory=list)  # in the poller's order, up to the first crash
    error: v.Answer | None = None  # the whole search failed (as it fails for the poller)
    cut: bool = False  # stopped before the last line of the session


def poller_first_page(es: Any, indexes: str, since_ms: int) -> dict[str, Any]:
    """The poller's search as it sends it: its first page (a scroll opened)."""
    request = v.v120_request(indexes, since_ms)
    return body_of(es.search(index=indexes, **request.params, **_body_args(request.body),
                             source=["message", "utc_time"]))


def poller_walk(es: Any, indexes: str, since_ms: int, until: float | None | Callable[[], float | None],
                first_page: Callable[[], dict[str, Any]] | None = None) -> PollerWalk:
    """The v1.20 poller's search exactly as it sends it (`clients/elasticsearch.go` L83-89: `indexes`,
    size 1000, scroll, sort `utc_time:asc`; every session's token lines tagged error), read page after
    page, `message` and `utc_time` only, until the first line it crashes on (`poller_ruin`), or past
    `until` (the latest utc_time of the session's lines; None: the first page only), or WALK_PAGES
    pages. A failure of the whole search (HTTP 400 for a sort across a date and a keyword `utc_time`)
    is what the poller meets too: it shows nothing.

    `until` may be a function still waiting for its answer (`v120_answer`'s probe): the second page is
    then asked beside it (one round trip less far away; one page read for nothing when the first
    page was already past it)."""
    from concurrent.futures import Future

    request = v.v120_request(indexes, since_ms)
    walk = PollerWalk()
    scroll_id = None
    ahead: Future[Any] | None = None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v120-walk") if callable(until) else None

    def next_page(scroll: str) -> dict[str, Any]:
        return body_of(es.scroll(scroll_id=scroll, scroll=request.params["scroll"]))

    try:
        try:
            # asked beside the lookup (`first_page`, a future's result: its error is raised here), or now
            body = first_page() if first_page is not None else poller_first_page(es, indexes, since_ms)
        except Exception as exc:
            failure = _api_failure(exc)
            if failure is None:
                raise
            if not _failed_shards(getattr(exc, "body", None)):
                walk.error = v.Answer(error="request-failed", error_text=failure[1] or failure[0])
            return walk
        for _page in range(WALK_PAGES):
            scroll_id = body.get("_scroll_id") or scroll_id
            page = [h for h in (body.get("hits") or {}).get("hits") or [] if isinstance(h, dict)]
            walk.hits += page
            if not page or v.poller_ruin(page)[0] is not None:
                return walk
            if callable(until):
                if scroll_id and pool is not None:
                    ahead = pool.submit(next_page, scroll_id)
                until = until()
            value = (page[-1].get("sort") or [None])[0]
            if until is None or not isinstance(value, (int, float)) or value > until:
                return walk
            if not scroll_id:
                return walk
            body = ahead.result() if ahead is not None else next_page(scroll_id)
            ahead = None
        walk.cut = True
        return walk
    finally:
        if ahead is not None:  # a page read ahead and not needed: its answer may carry a newer scroll id
            with contextlib.suppress(Exception):
                scroll_id = ahead.result().get("_scroll_id") or scroll_id
        if pool is not None:
            pool.shutdown(wait=False)
        if scroll_id:
            with contextlib.suppress(Exception):  # it expires by itself within the scroll's keep-alive
                es.clear_scroll(scroll_id=scroll_id)


def _failed_shards(body: Any) -> dict[str, str]:
    """index -> reason, from a search answer's `_shards.failures` or an error's `failed_shards`."""
    if not isinstance(body, dict):
        return {}
    error = body.get("error")
    if not isinstance(error, dict):
        return {}
    out: dict[str, str] = {}
    for failure in error.get("failed_shards") or error.get("failures") or []:
        if isinstance(failure, dict) and failure.get("index") and str(failure["index"]) not in out:
            out[str(failure["index"])] = shard_failure_text(failure)
    return out


def shard_failure_text(failure: dict[str, Any]) -> str:
    """What one shard failure says, as plain text naming the shard: the innermost reason given, else
    the failure's type (an unassigned shard's `no_shard_available_action_exception` has `"reason":
    null`), else that none was given."""
    reason = failure.get("reason")
    text, kind = "", ""
    if isinstance(reason, dict):
        kind = str(reason.get("type") or "")
        caused = reason.get("caused_by")
        text = str((caused.get("reason") if isinstance(caused, dict) else None) or reason.get("reason") or "")
    elif reason is not None:
        text = str(reason)
    if not text:
        text = f"{kind} (no reason given{_NO_NODE if kind == _NO_SHARD else ''})" if kind else "no reason given"
    text = f"shard {failure.get('shard', '?')}: {text}"
    return "".join(c if c.isprintable() else " " for c in text)[:300]


_NO_SHARD = "no_shard_available_action_exception"
_NO_NODE = ": no node holds a copy of it, e.g. it is unassigned"


# ---------------------------------------------------------------- what the table and -o json both say

ALIAS_FIX = ("`orx-elastic alias --username ADMIN` points an alias `logs` at your indices (--dry-run prints the "
             "request)")


def report(view: SessionView) -> dict[str, Any]:
    """Everything `shows` says besides the lines, as values: the fixes, the hint, the advice (one
    line per cause, and the snippets), so -o json carries what the table prints."""
    from elastic_cli.openreplay.fixes import advice_causes, advice_for
    from elastic_cli.openreplay.propagation import KIT_CODES, KIT_HINT

    v121_codes = {p.code for j in view.judged for p in j.verdicts[v.V121].problems}
    all_codes = {p.code for j in view.judged for verdict in j.verdicts.values() for p in verdict.problems}
    fixes = []
    if v121_codes & {"no-logs-index", "index-not-logs"}:
        fixes.append({"for": "v1.21+ reads only index `logs`", "fix": ALIAS_FIX})
    return {
        "fixes": fixes,
        "hint": KIT_HINT if all_codes & KIT_CODES else None,
        "causes": [{"cause": cause, "advice": text} for cause, text in advice_causes(v121_codes)],
        "advice": [{"for": title, "snippet": snippet} for title, snippet in advice_for(v121_codes)],
    }


# ---------------------------------------------------------------- as `check` findings

_CHECK_GENERATION = {"openreplay_v121": v.V121, "openreplay_v120": v.V120}


def check_openreplay_shows(es: Any, settings: Settings, deadline: Any, check_id: str, session: str | None,
                           state: dict[str, Any]) -> Any:
    """One finding per generation: how many of the session's lines it shows, the main reason for the
    others, and the command that shows each line. The view is computed once for both findings."""
    from elastic_cli.checks.findings import OK, WARNING, finding, reason
    from elastic_cli.openreplay.session_token import parse_session_ref

    generation = _CHECK_GENERATION[check_id]
    if not session:
        # a fact, not a fault (as recent_sessions says it): a quiet cluster has no session to judge
        return finding(check_id, OK, "no session to judge: none logged error lines in the last 24 hours "
                                     "(`orx-elastic check --session <token, id or replay link>` names one)")
    if "openreplay_view" not in state:
        try:
            ref = parse_session_ref(session)
            bounded = es.options(request_timeout=deadline.bound(settings.timeout))
            state["openreplay_view"] = session_view(bounded, settings, ref, limit=DEFAULT_LIMIT)
        except Exception as exc:  # noqa: BLE001 — said as this finding, the other checks stand
            message, fix = reason(exc, settings, f"judge session {session}")
            state["openreplay_view"] = (message, fix)
    view = state["openreplay_view"]
    if isinstance(view, tuple):
        return finding(check_id, WARNING, f"cannot tell: {view[0]}", view[1])
    summary = view.summary(generation)
    details = f"`orx-elastic shows {view.ref.session_id}` says why for each line"
    data = {"session_id": view.ref.session_id, **summary.to_dict()}
    if not summary.lines:
        return finding(check_id, OK, f"session {view.ref.session_id}: no line found", **data)
    text = f"session {view.ref.session_id}: {summary.text()}"
    if summary.shown == summary.lines:
        return finding(check_id, OK, text, **data)
    return finding(check_id, WARNING, text, _fix_for(view, generation, details), **data)


def _fix_for(view: SessionView, generation: str, details: str) -> str:
    from elastic_cli.openreplay.propagation import KIT_CODES, KIT_HINT

    codes = {p.code for j in view.judged for p in j.verdicts[generation].problems if p.hides}
    if generation == v.V121 and codes & {"no-logs-index", "index-not-logs"}:
        return f"{details}; `orx-elastic alias --username ADMIN` points an alias `logs` at your log indices"
    if codes & KIT_CODES:  # the lines' shape: the backend's logging code is what to change
        return f"{details}; {KIT_HINT}"
    return details
