"""The admin login: who may manage API keys, the client they connect with, and
the wording of the errors API key requests get.

Kept apart from the profile's own key, which is the read-only key OpenReplay
uses: it cannot create keys with privileges, and usually cannot list them.
Nothing here prints or prompts (the command layer asks for a password).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

from elastic_cli import errors

# the admin API key, read from the environment (never a flag value in argv or shell history)
ADMIN_API_KEY_ENV = "ORX_ELASTIC_ADMIN_API_KEY"

PASS_ADMIN = ("pass --username (the password is asked, or env ORX_ELASTIC_PASSWORD) or --admin-api-key "
              "for a user with the manage_api_key or manage_own_api_key privilege")

USER, ADMIN_KEY, PROFILE_KEY = "user", "admin-key", "profile-key"
NEW_KEY = "the new key"  # `who` when rotate checks the key it just saved


@dataclass(frozen=True)
class AdminCredentials:
    """How the admin connects: a user and password, an admin API key, or (neither) the profile's key."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.username and self.api_key:
            raise errors.UsageError("--username and --admin-api-key exclude each other", "pass only one of them")

    @property
    def kind(self) -> str:
        return USER if self.username else ADMIN_KEY if self.api_key else PROFILE_KEY

    @property
    def label(self) -> str:
        """Who is named in error messages."""
        return {USER: f"user '{self.username}'", ADMIN_KEY: "the admin API key",
                PROFILE_KEY: "the profile's API key"}[self.kind]

    @property
    def curl_auth(self) -> str | None:
        """What `create-key --dry-run` puts in its curl command: `-u USER`, or the admin key's variable."""
        return ADMIN_API_KEY_ENV if self.kind == ADMIN_KEY else self.username


def split_admin_key(text: str) -> tuple[str, str]:
    """(id, secret) of an admin key given as `id:key` or in the encoded form."""
    from elastic_cli.config.settings import split_api_key

    text = text.strip()
    key_id: str | None
    secret: str | None
    if ":" in text:
        key_id, _, secret = text.partition(":")
    else:
        key_id, secret, form = split_api_key(None, text)
        if form != "encoded":
            raise errors.UsageError("--admin-api-key is neither id:key nor the encoded form",
                                    "pass the `encoded` value Elasticsearch returned, or id:api_key")
    if not key_id or not secret:
        raise errors.UsageError("--admin-api-key is missing its id or its secret",
                                "pass id:api_key or the encoded form")
    return key_id, secret


def admin_client(settings: Any, admin: AdminCredentials) -> Any:
    """A client authenticated as the admin, with the connection settings of the profile.

    Create and invalidate are not idempotent, so the connection layer decides retries per call;
    this only chooses the credentials."""
    from elastic_cli.cluster.connection import build_client
    from elastic_cli.redaction import register_secret

    if admin.kind == USER:
        return build_client(settings, basic_auth=(admin.username or "", admin.password or ""))
    if admin.kind == ADMIN_KEY:
        key_id, secret = split_admin_key(admin.api_key or "")
        register_secret(secret)
        return build_client(replace(settings, id=key_id, api_key=secret))
    if not settings.api_key and settings.api_key_problem is not None:
        raise settings.api_key_problem  # the profile's key is a reference that cannot be read: say which
    if not settings.api_key:
        raise errors.UsageError("no credentials that may manage API keys", PASS_ADMIN)
    return build_client(settings)


# ---------------------------------------------------------------- errors of API key requests


@contextmanager
def key_errors(settings: Any, action: str, who: AdminCredentials | str) -> Iterator[None]:
    """translated_errors, with messages and fixes that fit API key requests made by `who`."""
    from elastic_cli.cluster.connection import translated_errors

    with translated_errors(settings, action,
                           refine=lambda mapped, exc: refine_error(mapped, exc, settings.url, action, who)):
        yield


def refine_error(mapped: errors.OrxError, exc: BaseException, where: str, action: str,
                 who: AdminCredentials | str) -> errors.OrxError:
    label = who.label if isinstance(who, AdminCredentials) else who
    profile_key = isinstance(who, AdminCredentials) and who.kind == PROFILE_KEY
    if isinstance(mapped, errors.AuthenticationFailed):
        if who == NEW_KEY:
            return errors.AuthenticationFailed(f"{where} does not accept the new key",
                                               "run `orx-elastic keys rotate` again")
        return errors.AuthenticationFailed(
            f"{where} rejected the credentials of {label}",
            "check --username/--password or --admin-api-key (env ORX_ELASTIC_USERNAME, ORX_ELASTIC_PASSWORD, "
            "ORX_ELASTIC_ADMIN_API_KEY)")
    if isinstance(mapped, errors.PrivilegeMissing):
        if profile_key:
            # the profile's key is the read-only one OpenReplay uses: granting it more would be wrong
            return errors.PrivilegeMissing(f"the profile's API key (read-only) may not {action} on {where}",
                                           PASS_ADMIN)
        return errors.PrivilegeMissing(
            f"{label} is not allowed to {action} on {where}",
            "grant it the cluster privilege manage_api_key or manage_own_api_key (superuser has both), "
            "or use another user")
    if isinstance(mapped, errors.RequestRejected):
        return _rejected(exc, where, action, label, profile_key)
    if isinstance(mapped, errors.ClusterUnavailable) and "api keys" in mapped.message.lower():
        return _disabled(where)
    return mapped


def _rejected(exc: BaseException, where: str, action: str, label: str, profile_key: bool) -> errors.OrxError:
    reason = server_reason(exc)
    lowered = reason.lower()
    if "api keys are not enabled" in lowered or "api key service is disabled" in lowered:
        return _disabled(where)
    if "derived api keys" in lowered:
        return errors.RequestRejected(
            f"Elasticsearch lets {label} create only keys without privileges (a key made by an API key)",
            PASS_ADMIN if profile_key else
            "create the key as a user: --username with manage_api_key or manage_own_api_key")
    if "expiration" in lowered or "time value" in lowered:
        return errors.RequestRejected(f"Elasticsearch rejected the expiration: {reason}",
                                      "use a whole number and a unit, e.g. --expiration 90d")
    if "index name" in lowered or "regular expression" in lowered or "indices privileges" in lowered:
        return errors.RequestRejected(f"Elasticsearch rejected the index patterns: {reason}",
                                      "fix --indexes, e.g. --indexes 'app-logs,*log*'")
    return errors.RequestRejected(f"Elasticsearch rejected the request to {action}: {reason}",
                                  "check the values passed; run with --debug for the full answer")


def _disabled(where: str) -> errors.ClusterUnavailable:
    return errors.ClusterUnavailable(f"API keys are disabled on {where}",
                                     "set xpack.security.authc.api_key.enabled: true on every node (the default), "
                                     "and restart them")


def server_reason(exc: Any) -> str:
    """The most specific reason of an API error: the deepest `caused_by`, which names the bad value."""
    from elastic_cli.cluster.connection import error_details
    from elastic_cli.redaction import redact

    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    reason = None
    while isinstance(error, dict):
        if error.get("reason"):
            reason = str(error["reason"])
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("type") == "number_format_exception":
            break  # its parent says it better ("fractional time values are not supported")
        error = caused
    if reason is None:
        return error_details(exc)[1]
    return (redact(reason).strip().splitlines() or [""])[0][:400]
