"""Checks 3 and 4: the API key authenticates (and why not: expired, invalidated, wrong secret),
and it holds `read` on the index patterns. Any authenticated key may call both APIs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Sequence

from elastic_cli.checks.findings import FAILURE, OK, SKIPPED, WARNING, Deadline, Finding, finding, reason, status_of
from elastic_cli.cluster.connection import body_of as _body
from elastic_cli.cluster.connection import classify_auth_failure, describe_auth_failure
from elastic_cli.errors import new_key_command
from elastic_cli.keys.api_keys import epoch_ms_to_iso

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

def check_secret(settings: Settings) -> Finding:
    """Check 0, local: the api_key's reference ($(keychain:...), $(env:...), $(file:...)) resolves."""
    from elastic_cli.config.secret_store import kept_in

    where = kept_in(settings)
    problem = settings.api_key_problem
    if problem is not None:
        ref = settings.api_key_ref
        return finding("secret", FAILURE, problem.message, problem.hint or "",
                       kind=ref.kind if ref else None, reference=ref.text if ref else None)
    if where is None:
        return finding("secret", SKIPPED, "no api_key is configured (see `auth`)")
    kind = settings.api_key_ref.kind if settings.api_key_ref else "inline"
    return finding("secret", OK, f"read from the {where}" if settings.api_key_ref else f"in {where}", kind=kind)


def check_auth(es: Any, settings: Settings, deadline: Deadline, key_id: str | None,
               expiration_ahead: Callable[[], str | None] | None = None) -> Finding:
    """Who the key is, and when it expires. `expiration_ahead` gives the expiry of `key_id` looked up
    side by side with the authentication (a round trip saved far from the cluster); it is used only
    when the authentication confirms that same key id, else the key is looked up after."""
    try:
        me = _body(es.options(request_timeout=deadline.bound(settings.timeout)).security.authenticate())
    except Exception as exc:  # noqa: BLE001 — every failure becomes a finding
        if status_of(exc) == 401:
            why = classify_auth_failure(exc)
            fix = (f"create a new key with admin credentials: `{new_key_command()}` (or --admin-api-key), "
                   "or fix id/api_key with `orx-elastic configure`")
            return finding("auth", FAILURE, describe_auth_failure(why, key_id), fix, reason=why, key_id=key_id)
        message, fix = reason(exc, settings, "authenticate")
        return finding("auth", FAILURE, message, fix, key_id=key_id)
    api_key = me.get("api_key") or {}
    who = me.get("username") or "?"
    data = {"username": who, "authentication_type": me.get("authentication_type"),
            "api_key_id": api_key.get("id") or key_id, "api_key_name": api_key.get("name")}
    if me.get("authentication_type") not in (None, "api_key"):
        return finding("auth", OK, f"authenticated as {who} ({me.get('authentication_type')})", **data)
    if expiration_ahead is not None and data["api_key_id"] == key_id:
        expiration = expiration_ahead()
    else:
        expiration = own_key_expiration(es, settings, deadline, data["api_key_id"])
    data["expiration"] = expiration
    name = f"API key {data['api_key_name']!r}" if data["api_key_name"] else "an API key"
    detail = f"{name} (id {data['api_key_id']}) of user {who}"
    if expiration is None:
        return finding("auth", OK, detail + ", expiry unknown", **data)
    if expiration == "never":
        return finding("auth", OK, detail + ", never expires", **data)
    days = (datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            - datetime.now(timezone.utc)).total_seconds() / 86400
    data["expires_in_days"] = round(days, 1)
    if days < 7:
        return finding("auth", WARNING, detail + f", expires {expiration} (in {days:.1f} days)",
                       f"rotate it soon: `{new_key_command()}`, then update OpenReplay's dashboard", **data)
    return finding("auth", OK, detail + f", expires {expiration}", **data)


def own_key_expiration(es: Any, settings: Settings, deadline: Deadline, key_id: str | None) -> str | None:
    """'never', an ISO time, or None when the key may not look itself up."""
    if not key_id or deadline.expired():
        return None
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).security.get_api_key(id=key_id))
    except Exception:  # noqa: BLE001 — optional information
        return None
    for key in body.get("api_keys") or []:
        if key.get("id") == key_id:
            return epoch_ms_to_iso(key.get("expiration")) or "never"
    return None


def check_privileges(es: Any, settings: Settings, deadline: Deadline, patterns: Sequence[str]) -> Finding:
    try:
        body = _body(es.options(request_timeout=deadline.bound(settings.timeout)).security.has_privileges(
            index=[{"names": list(patterns), "privileges": ["read"]}]))
    except Exception as exc:  # noqa: BLE001
        message, fix = reason(exc, settings, "check privileges")
        return finding("privileges", FAILURE, message, fix)
    read = {name: bool((body.get("index") or {}).get(name, {}).get("read")) for name in patterns}
    lacking = [name for name, ok in read.items() if not ok]
    fix = ("create a key with read on them (admin credentials): `"
           + new_key_command("--indexes '" + ",".join(patterns) + "'") + "`")
    if not lacking:
        return finding("privileges", OK, "read on " + ", ".join(patterns), read=read)
    if len(lacking) == len(patterns):
        # what the key sees is what `logs` sees: no index. A mistyped pattern is the likelier cause
        # than a missing grant, so the answer is the one `logs` gives, and the pattern comes first.
        return finding("privileges", FAILURE,
                       f"no index matches {', '.join(lacking)} that the key may read (the key has no read on "
                       "these patterns: they match no index, or the key was made for others)",
                       "check `indexes` for a typo (orx-elastic configure --indexes ...); if the indices exist, "
                       + fix, read=read)
    return finding("privileges", WARNING, "the key may not read " + ", ".join(lacking) + " (it may read "
                   + ", ".join(p for p in patterns if read[p]) + ")", fix, read=read)
