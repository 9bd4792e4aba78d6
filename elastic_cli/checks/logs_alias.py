"""The alias fix: `logs` over the user's log indices or data streams, so that OpenReplay v1.21+
(which searches index `logs` only) finds their lines; checked afterwards with v1.21's own
requests, and undone on demand. No printing: the command says what happened.

Measured on 8.19.21 and 9.5.4: a key whose patterns do not name `logs` gets 403 searching through
the alias (privileges are checked on the alias name), and an alias over both a data stream and an
index is refused with an HTTP 500 `illegal_state_exception`: both are refused here first, clearly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from elastic_cli import errors
from elastic_cli.cluster.connection import body_of, status_of
from elastic_cli.openreplay import fixes
from elastic_cli.openreplay.verdicts import LOGS_INDEX, v121_request


@dataclass(frozen=True)
class AliasTargets:
    indices: tuple[str, ...]
    data_streams: tuple[str, ...]
    existing: dict[str, Any]  # what alias `logs` already points at: name -> its definition


def resolve_targets(admin: Any, patterns: Sequence[str]) -> AliasTargets:
    """What the patterns name (open indices that are not a data stream's, and data streams), and
    what `logs` is now; refuses what cannot become the alias."""
    logs = _resolve(admin, LOGS_INDEX, "all")
    if any(i.get("name") == LOGS_INDEX for i in logs.get("indices") or []) or \
            any(d.get("name") == LOGS_INDEX for d in logs.get("data_streams") or []):
        raise errors.RequestRejected(
            "`logs` is a concrete index (or data stream): an alias cannot take its name",
            "OpenReplay v1.21+ reads that index as it is: write your lines to it, or move its documents elsewhere "
            "and delete it, then run `orx-elastic alias` again")
    found = _resolve(admin, ",".join(patterns), "open")
    indices = tuple(sorted(i["name"] for i in found.get("indices") or []
                           if not i.get("data_stream") and i.get("name") != LOGS_INDEX))
    streams = tuple(sorted(d["name"] for d in found.get("data_streams") or []))
    if not indices and not streams:
        raise errors.IndexNotFound(f"no index or data stream matches {','.join(patterns)!r}",
                                   "check `indexes` (orx-elastic configure --indexes ...)")
    if indices and streams:
        raise errors.RequestRejected(
            f"an alias cannot point at both data streams ({_few(streams)}) and indices ({_few(indices)})",
            "narrow --indexes to one kind (e.g. 'logs-*' for data streams), then run again")
    return AliasTargets(indices, streams, existing_alias(admin))


def _resolve(admin: Any, name: str, expand: str) -> dict[str, Any]:
    try:
        return body_of(admin.indices.resolve_index(name=name, expand_wildcards=expand))
    except Exception as exc:
        if status_of(exc) == 404:  # a name (not a pattern) that does not exist
            return {}
        raise


def _few(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def existing_alias(es: Any) -> dict[str, Any]:
    """index or data stream -> the definition of its alias `logs` ({} when there is none)."""
    try:
        answer = body_of(es.indices.get_alias(name=LOGS_INDEX))
    except Exception as exc:
        if status_of(exc) == 404:
            return {}
        raise
    return {name: (entry.get("aliases") or {}).get(LOGS_INDEX) or {} for name, entry in answer.items()}


def key_may_read_logs(es: Any) -> bool:
    """Whether the configured key may read `logs` (what OpenReplay's search through the alias needs)."""
    answer = body_of(es.security.has_privileges(index=[{"names": [LOGS_INDEX], "privileges": ["read"]}]))
    return bool(((answer.get("index") or {}).get(LOGS_INDEX) or {}).get("read"))


def apply_alias(admin: Any, patterns: Sequence[str]) -> dict[str, Any]:
    body = fixes.add_alias_body(patterns)
    body_of(admin.indices.update_aliases(actions=body["actions"]))
    return body


def our_alias_targets(admin: Any) -> tuple[list[str], list[str]]:
    """(ours, others): where alias `logs` is the one this tool made, and where someone else's."""
    existing = existing_alias(admin)
    ours = sorted(name for name, alias in existing.items() if fixes.is_our_alias(alias))
    return ours, sorted(set(existing) - set(ours))


def remove_alias(admin: Any, targets: Sequence[str]) -> dict[str, Any]:
    body = fixes.remove_alias_body(targets)
    body_of(admin.indices.update_aliases(actions=body["actions"]))
    return body


@dataclass
class Verification:
    """v1.21+'s own requests with the configured key: the save-time search (size 1 on `logs`) and,
    for a session, its fetch."""

    documents: int = 0
    error: str = ""
    session_id: str | None = None
    session_lines: int = 0
    notes: list[str] = field(default_factory=list)


def verify(es: Any, session_id: str | None = None) -> Verification:
    result = Verification(session_id=session_id)
    try:
        answer = body_of(es.search(index=LOGS_INDEX, size=1, track_total_hits=True))
        result.documents = int(((answer.get("hits") or {}).get("total") or {}).get("value") or 0)
        if session_id:
            request = v121_request(session_id)
            fetched = body_of(es.search(index=LOGS_INDEX, track_total_hits=True, **request.body))
            result.session_lines = len((fetched.get("hits") or {}).get("hits") or [])
    except Exception as exc:
        status = status_of(exc)
        if status is None:
            raise
        result.error = f"HTTP {status}" + (": the key may not read `logs`" if status == 403 else "")
    return result
