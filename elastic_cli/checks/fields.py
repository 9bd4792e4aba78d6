"""Checks 5 to 7 (and tags): indices match the patterns, and the message, time and tags fields
have mappings OpenReplay's query can use. One _field_caps answer serves them all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from elastic_cli.checks.findings import FAILURE, OK, WARNING, Deadline, Finding, finding, reason
from elastic_cli.cluster.connection import body_of as _body
from elastic_cli.errors import plural
from elastic_cli.search.fields import KEYWORD_TYPES, IndexShape

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

TEXT_TYPES = {"text", "match_only_text"}
DATE_TYPES = {"date", "date_nanos"}


def field_caps(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str]) -> dict[str, Any]:
    """One `_field_caps` answer for every check: the configured fields and the candidates `logs`
    falls back to, with unmapped entries so each index's shape can be resolved as `logs` does."""
    from elastic_cli.search.fields import FieldPolicy

    return _body(es.options(request_timeout=deadline.bound(settings.timeout)).field_caps(
        index=",".join(patterns), fields=FieldPolicy.from_settings(settings).fields_to_ask(),  # a list: a comma
        include_unmapped=True, ignore_unavailable=True, allow_no_indices=True))  # string is URL-encoded


def check_indices(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str], caps: dict[str, Any]) -> Finding:
    indices = sorted(caps.get("indices") or [])
    shown = ", ".join(indices[:10]) + (f", ... ({len(indices) - 10} more)" if len(indices) > 10 else "")
    if not indices:
        return finding("indices", FAILURE, "no index matches " + ", ".join(patterns) + " (or none the key may read)",
                       "check `indexes` (orx-elastic configure --indexes 'app-*,*log*'); "
                       "the patterns must match the indices that hold the backend logs", indices=[], count=0)
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).search(
            index=",".join(patterns), size=0, track_total_hits=True, ignore_unavailable=True, allow_no_indices=True))
    except Exception as exc:  # noqa: BLE001
        message, fix = reason(exc, settings, "search " + ",".join(patterns))
        return finding("indices", FAILURE, f"{_matching(indices)}, but a search fails: {message}", fix,
                       indices=indices, count=len(indices))
    total = (body.get("hits") or {}).get("total") or {}
    docs = total.get("value") if isinstance(total, dict) else total
    data: dict[str, Any] = {"indices": indices, "count": len(indices), "documents": docs}
    if not docs:
        return finding("indices", WARNING, f"{_matching(indices)} ({shown}), but they hold no documents",
                       "ship the backend logs to these indices, or change `indexes`", **data)
    return finding("indices", OK, f"{_matching(indices)} ({shown}), {plural(docs, 'document')}; a search works", **data)


def _matching(indices: Sequence[str]) -> str:
    return f"{plural(len(indices), 'index', 'indices')} match" + ("es" if len(indices) == 1 else "")


def types_of(caps: dict[str, Any], name: str) -> dict[str, list[str] | None]:
    """type -> indices having it (None = all matched indices), from a field_caps answer."""
    entry = (caps.get("fields") or {}).get(name) or {}
    return {kind: info.get("indices") for kind, info in entry.items() if kind != "unmapped"}


def _where(indices: list[str] | None) -> str:
    if not indices:
        return ""
    return " in " + ", ".join(indices[:5]) + (" ..." if len(indices) > 5 else "")


def check_message_field(settings: Settings, caps: dict[str, Any]) -> Finding:
    name = settings.message_field
    types = types_of(caps, name)
    data: dict[str, Any] = {"field": name, "types": sorted(types)}
    if not types:
        return finding("message_field", FAILURE, f"no matched index has a field {name!r}",
                       "set --message-field to the field that holds the log line (OpenReplay reads `message`)",
                       **data)
    keyword = {t: i for t, i in types.items() if t in KEYWORD_TYPES}
    if keyword:
        kinds = "/".join(sorted(keyword))
        where = "" if len(types) == 1 else "".join(_where(i) for i in keyword.values())
        return finding("message_field", WARNING,
                       f"{name!r} is {kinds}{where}: `logs` must use a regexp that scans every distinct value, and "
                       "lines longer than ignore_above are not indexed at all (invisible); OpenReplay's match_phrase "
                       "only finds a line that is exactly the marker",
                       f"map {name!r} as text in the index template (then reindex or wait for the next index)",
                       **data)
    others = [t for t in types if t not in TEXT_TYPES]
    if others:
        return finding("message_field", WARNING, f"{name!r} is {'/'.join(sorted(types))}; a phrase search needs text",
                       f"map {name!r} as text", **data)
    return finding("message_field", OK, f"{name!r} is {'/'.join(sorted(types))} (a phrase search works)", **data)


def check_message_analysis(es: Any, settings: Settings, caps: dict[str, Any], shapes: Sequence[IndexShape],
                           deadline: Deadline) -> Finding:
    """`check_message_field`, then, for a text message, how each index analyses a marked line (what
    `logs` learns the same way): found by a phrase, by a slower form, or by no search at all."""
    from elastic_cli.search import analysis

    typed = check_message_field(settings, caps)
    if typed.status != OK:
        return typed
    try:
        learnt = analysis.with_analysis(es.options(request_timeout=deadline.bound(settings.timeout)), shapes,
                                        settings.message_field)
    except Exception:  # noqa: BLE001 — the type's finding stands; logs learns it when it runs
        return typed
    by_kind: dict[str, list[str]] = {}
    for shape in learnt:
        if shape.message_terms:
            by_kind.setdefault(shape.message_terms, []).append(shape.display_name)
    name = settings.message_field
    data = {**typed.data, "analysis": {kind: sorted(names) for kind, names in by_kind.items()}}
    if by_kind.get(analysis.NONE):
        return finding("message_field", FAILURE,
                       f"{name!r}{_where(sorted(by_kind[analysis.NONE]))} keeps neither the session id nor the "
                       "marker as terms (not indexed, or an analyzer that drops them): no search, ours or "
                       "OpenReplay's, finds a session's lines there; `logs` names those indices (exit 13)",
                       f"map {name!r} as text with the standard analyzer (index: true) in the index template, then "
                       "reindex or wait for the next index", **data)
    slow = sorted(by_kind.get(analysis.WHOLE, []) + by_kind.get(analysis.DROPPED, []))
    if slow:
        return finding("message_field", WARNING,
                       f"{name!r}{_where(slow)} is analysed so that a phrase cannot find the marker (a whitespace, "
                       "keyword or simple analyzer): `logs` finds the lines with a slower query; OpenReplay's "
                       "match_phrase misses them",
                       f"map {name!r} as text with the standard analyzer in the index template", **data)
    if by_kind.get(analysis.UNKNOWN):
        return finding("message_field", WARNING,
                       f"{name!r} is text, but how{_where(sorted(by_kind[analysis.UNKNOWN]))} analyses it could "
                       "not be learnt: `logs` sends every query form there (slower)", "", **data)
    return finding("message_field", OK, f"{name!r} is {'/'.join(sorted(typed.data['types']))}; every index splits "
                   "a marked line as the standard analyzer does (a phrase search works)", **data)


def check_time_field(settings: Settings, caps: dict[str, Any]) -> Finding:
    name = settings.time_field
    types = types_of(caps, name)
    data: dict[str, Any] = {"field": name, "types": sorted(types)}
    if not types:
        fallback = _fallback_time_fields(settings, caps)
        if fallback:  # `logs` reads these indices by their own time field: only v1.20 needs `name`
            used = "/".join(fallback)
            return finding("time_field", WARNING, f"no matched index has a field {name!r}, which OpenReplay up to "
                           f"v1.20 filters on: v1.20 shows nothing from these indices; `logs` and `sessions` read "
                           f"{used}, and OpenReplay v1.21+ needs no time field",
                           f"only for OpenReplay v1.20: add {name!r} (a date) to the logs; nothing to do for v1.21+",
                           fallback=fallback, **data)
        return finding("time_field", FAILURE, f"no matched index has a field {name!r}: OpenReplay up to v1.20 "
                       "filters on it (so it finds nothing) and `logs` sorts by it",
                       f"set --time-field to the field with the log time, or add {name!r} (a date) to the logs",
                       **data)
    if not set(types) <= DATE_TYPES:
        return finding("time_field", WARNING, f"{name!r} is {'/'.join(sorted(types))}, not a date: "
                       "time ranges and sorting compare it as text",
                       f"map {name!r} as date in the index template", **data)
    return finding("time_field", OK, f"{name!r} is {'/'.join(sorted(types))}", **data)


def _fallback_time_fields(settings: Settings, caps: dict[str, Any]) -> list[str]:
    """The date fields `logs` reads instead of a missing configured one (ECS `@timestamp`), as it
    resolves each index; [] when the user named the field (never replaced) or no index has one."""
    from elastic_cli.search.fields import FieldPolicy, resolve_shapes

    policy = FieldPolicy.from_settings(settings)
    if policy.time_explicit:
        return []
    return sorted({shape.time_field for shape in resolve_shapes(caps, policy) if shape.time_field})


def check_tags_field(settings: Settings, caps: dict[str, Any]) -> Finding:
    name = settings.tags_field
    types = types_of(caps, name)
    data: dict[str, Any] = {"field": name, "types": sorted(types)}
    if not types:
        return finding("tags_field", WARNING, f"no matched index has a field {name!r}: OpenReplay up to v1.20 "
                       "shows only lines tagged 'error' there, and `logs` filters on it unless --all-levels",
                       f"add {name!r} (keyword, with 'error' on error lines) to the logs, or set --tags-field",
                       **data)
    return finding("tags_field", OK, f"{name!r} is {'/'.join(sorted(types))}", **data)
