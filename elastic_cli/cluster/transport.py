"""The client's transport, with the tool's retry rule: only reads are sent again.

A request that changes something (create or invalidate an API key, write a document)
is sent once: after a 504 or a dropped connection the server may have done the work,
and a second try would leave, say, an orphan key with read access. A read is retried
a bounded number of times, with exponential backoff, waiting at least what a
`Retry-After` header asks. Imported only by `connection.build_client`.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Mapping

from elastic_transport import ConnectionError, ConnectionTimeout, TlsError, Transport, TransportApiResponse
from elastic_transport.client_utils import DEFAULT

# POST requests that only read (the search family, key queries, privilege checks)
_READ_POSTS = re.compile(r"/(_search|_msearch|_count|_field_caps|_pit|_has_privileges|_query/api_key)/?$")
BACKOFF_SECONDS = 0.5  # first wait; doubles each retry, with jitter
MAX_WAIT_SECONDS = 30.0  # a Retry-After beyond this is not waited for: the error is shown instead


def is_read(method: str, target: str) -> bool:
    """True when sending the request twice cannot change more than sending it once."""
    method = method.upper()
    if method in ("GET", "HEAD"):
        return True
    path = target.split("?", 1)[0]
    return method == "POST" and _READ_POSTS.search(path) is not None


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
                        ) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now()).total_seconds())


def backoff_seconds(attempt: int) -> float:
    """0.5 s, 1 s, 2 s... each with up to 50 % less, so parallel runs do not retry in step."""
    return BACKOFF_SECONDS * (2 ** attempt) * random.uniform(0.5, 1.0)


class ReadRetryingTransport(Transport):
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def perform_request(self, method: str, target: str, **kwargs: Any) -> TransportApiResponse:
        max_retries = kwargs.pop("max_retries", DEFAULT)
        retry_on_status: Collection[int] = kwargs.pop("retry_on_status", DEFAULT)
        retry_on_timeout = kwargs.pop("retry_on_timeout", DEFAULT)
        retries = self.max_retries if max_retries is DEFAULT else max_retries
        statuses = self.retry_on_status if retry_on_status is DEFAULT else retry_on_status
        on_timeout = self.retry_on_timeout if retry_on_timeout is DEFAULT else retry_on_timeout
        if not is_read(method, target):
            retries = 0
        attempt = 0
        while True:
            try:
                response = super().perform_request(method, target, max_retries=0, retry_on_status=(),
                                                   retry_on_timeout=False, **kwargs)
            except TlsError:
                raise  # a certificate does not get better by asking again
            except ConnectionTimeout:
                if not on_timeout or attempt >= retries:
                    raise
                wait = backoff_seconds(attempt)
            except ConnectionError:
                if attempt >= retries:
                    raise
                wait = backoff_seconds(attempt)
            else:
                if response.meta.status not in statuses or attempt >= retries:
                    return response
                asked = retry_after_seconds(response.meta.headers)
                if asked is not None and asked > MAX_WAIT_SECONDS:
                    return response
                wait = max(backoff_seconds(attempt), asked or 0.0)
            self.sleep(wait)
            attempt += 1
