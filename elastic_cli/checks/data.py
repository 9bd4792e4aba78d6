"""Checks 8 and 9: log lines carry an OpenReplay marker, and OpenReplay v1.21's hard-coded
index `logs` exists and has documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from elastic_cli.checks.findings import FAILURE, OK, WARNING, Deadline, Finding, finding, reason, status_of
from elastic_cli.cluster.connection import body_of as _body
from elastic_cli.errors import plural
from elastic_cli.openreplay.session_token import SESSION_ID_MARKER_PREFIX, TOKEN_MARKER_PREFIX
from elastic_cli.search.fields import KEYWORD_TYPES, IndexShape, error_filter
from elastic_cli.search.pager import describe_failure

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

PROPAGATE_FIX = ("propagate the session to the backend and log it with every line "
                 f"({TOKEN_MARKER_PREFIX}<token> and {SESSION_ID_MARKER_PREFIX}<id>): "
                 "`orx-elastic instrument STACK` prints the code, `orx-elastic canary URL` proves it")


def marker_query(message_field: str, message_types: Sequence[str]) -> dict[str, Any]:
    """Documents carrying either OpenReplay marker (any session), for the mapping's type(s).

    On text, the standard analyzer indexes `openreplaysessiontoken` and `openreplaysession.id`
    as terms, so a phrase of the marker name (without `=`) finds them; on keyword, a wildcard.
    """
    clauses: list[dict[str, Any]] = []
    types = set(message_types) or {"text"}
    if types - KEYWORD_TYPES:
        for prefix in (TOKEN_MARKER_PREFIX, SESSION_ID_MARKER_PREFIX):
            clauses.append({"match_phrase": {message_field: prefix.rstrip("=")}})
    if types & KEYWORD_TYPES:
        for prefix in (TOKEN_MARKER_PREFIX, SESSION_ID_MARKER_PREFIX):
            clauses.append({"wildcard": {message_field: {"value": f"*{prefix}*"}}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _one_marker(message_field: str, message_types: Sequence[str], prefix: str) -> dict[str, Any]:
    query = marker_query(message_field, message_types)
    query["bool"]["should"] = [c for c in query["bool"]["should"]
                               if prefix.rstrip("=") in str(c)]
    return query


def errors_query(shapes: Sequence[IndexShape]) -> dict[str, Any]:
    """Error lines as `logs` tells them: each index by its own level fields (pure)."""
    by_fields: dict[tuple[str, ...], list[str]] = {}
    for shape in shapes:
        if shape.level_fields:
            by_fields.setdefault(shape.level_fields, []).append(shape.index)
    if not by_fields:
        return {"match_none": {}}
    if len(by_fields) == 1 and len(next(iter(by_fields.values()))) == len(shapes):
        return error_filter(next(iter(by_fields)))  # one shape everywhere: no index list in the body
    return {"bool": {"should": [{"bool": {"filter": [{"terms": {"_index": names}}, error_filter(fields)]}}
                                for fields, names in by_fields.items()], "minimum_should_match": 1}}


def check_marked_logs(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str],
                      shapes: Sequence[IndexShape]) -> Finding:
    message_types = sorted({s.message_type for s in shapes if s.message_type})
    time_fields = sorted({s.time_field for s in shapes if s.time_field})
    aggs: dict[str, Any] = {
        "generation": {"filters": {"filters": {
            "token": _one_marker(settings.message_field, message_types, TOKEN_MARKER_PREFIX),
            "session_id": _one_marker(settings.message_field, message_types, SESSION_ID_MARKER_PREFIX),
        }}},
        "errors": {"filter": errors_query(shapes)},  # as `logs` counts errors: ERROR, fatal, in any level field
    }
    for number, name in enumerate(time_fields):  # each index's own time field, as `logs` reads it
        aggs[f"newest_{number}"] = {"max": {"field": name}}
        aggs[f"oldest_{number}"] = {"min": {"field": name}}
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).search(
            index=",".join(patterns), size=0, track_total_hits=True,
            query=marker_query(settings.message_field, message_types), aggs=aggs,
            ignore_unavailable=True, allow_no_indices=True))
    except Exception as exc:  # noqa: BLE001
        message, fix = reason(exc, settings, "search for marked lines")
        return finding("marked_logs", FAILURE, f"the search for marked lines failed: {message}", fix)
    shards = body.get("_shards") or {}
    if shards.get("failed"):
        # the counts below would leave out what those shards hold, and `logs` would miss it too
        return finding("marked_logs", FAILURE, f"{shards['failed']} of {shards.get('total', '?')} shards failed "
                       f"to count the marked lines: {describe_failure(shards)}",
                       "fix or leave out the index named (indexes), then run `orx-elastic check` again")
    total = (body.get("hits") or {}).get("total") or {}
    marked = total.get("value") if isinstance(total, dict) else total or 0
    aggregations = body.get("aggregations") or {}
    buckets = (aggregations.get("generation") or {}).get("buckets") or {}
    data = {
        "marked": marked,
        "token_markers": (buckets.get("token") or {}).get("doc_count", 0),
        "session_id_markers": (buckets.get("session_id") or {}).get("doc_count", 0),
        "errors": (aggregations.get("errors") or {}).get("doc_count", 0),
        "newest": _extreme(aggregations, "newest", len(time_fields), max),
        "oldest": _extreme(aggregations, "oldest", len(time_fields), min),
    }
    if not marked:
        return finding("marked_logs", WARNING,
                       f"no log line carries {TOKEN_MARKER_PREFIX} or {SESSION_ID_MARKER_PREFIX}: "
                       "OpenReplay cannot link any backend log to a session", PROPAGATE_FIX, **data)
    span = f", from {data['oldest']} to {data['newest']}" if data["newest"] else ""
    detail = (f"{plural(marked, 'marked line')} ({data['token_markers']} with {TOKEN_MARKER_PREFIX}, "
              f"{data['session_id_markers']} with {SESSION_ID_MARKER_PREFIX}), {data['errors']} tagged error{span}")
    if not data["errors"]:
        levels = sorted({f for s in shapes for f in s.level_fields}) or [settings.tags_field]
        return finding("marked_logs", WARNING, detail + ": `logs` shows only error lines by default (an error "
                       f"word in {' or '.join(levels)}), and OpenReplay up to v1.20 only lines tagged 'error' in "
                       f"{settings.tags_field!r}",
                       f"log error lines with level 'error' (or add 'error' to {settings.tags_field!r}); "
                       "`logs --all-levels` shows every line", **data)
    return finding("marked_logs", OK, detail, **data)


def _extreme(aggregations: dict[str, Any], name: str, count: int, pick: Any) -> str | None:
    """The newest (or oldest) time over each time field's aggregation, as the server wrote it."""
    found = [(agg["value"], agg.get("value_as_string")) for agg in
             (aggregations.get(f"{name}_{n}") or {} for n in range(count)) if agg.get("value") is not None]
    return pick(found)[1] if found else None


def check_logs_index(es: Any, settings: Settings, deadline: Deadline) -> Finding:
    why = "OpenReplay v1.21+ searches only the index `logs`, and its dashboard refuses to save when it is missing or empty"
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).count(index="logs"))
    except Exception as exc:  # noqa: BLE001
        status = status_of(exc)
        if status == 404:
            return finding("logs_index", WARNING, "no index named `logs` (only matters for OpenReplay v1.21+: "
                           + why + ")", "for v1.21+, send the logs to an index (or alias) named `logs`",
                           exists=False, documents=0)
        if status == 403:
            return finding("logs_index", WARNING, "the key may not read the index `logs` (only matters for "
                           "OpenReplay v1.21+: " + why + ")", "for v1.21+, include `logs` in the key's index "
                           "patterns", exists=None)
        message, fix = reason(exc, settings, "count index logs")
        return finding("logs_index", WARNING, f"cannot count the index `logs`: {message}", fix, exists=None)
    docs = body.get("count", 0)
    if not docs:
        return finding("logs_index", WARNING, "the index `logs` is empty (only matters for OpenReplay v1.21+: "
                       + why + ")", "for v1.21+, send the logs to the index `logs`", exists=True, documents=0)
    return finding("logs_index", OK, f"the index `logs` holds {plural(docs, 'document')}", exists=True, documents=docs)
