"""Sample OpenReplay-style logs: two sessions, both marker generations, two indices.

The fixed sample (the constants below) is dated 2024-01-24, the day its session ids say the sessions
started; tests rely on it. ``recent_sessions(now_ms)`` makes the same two sessions started a few minutes
before ``now_ms`` (ids and tokens laid out as OpenReplay's), so the quick start's `check` has a session
to judge and `sessions --since 7d` finds them; ``load_sample_logs(..., sessions=...)`` indexes that copy
beside the fixed one.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from es_sandbox.common import ESSandboxError

# The token from OpenReplay's own tests: session 2618307011354435587 (base36
# "jw4wdfpgqhoj"), delay 4283 ms, expiry 2024-01-24T04:27:39.324Z.
SAMPLE_TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
SAMPLE_SESSION_ID = 2618307011354435587
# A second session (same format; base36 "jw4wdfpgql0n"), negative delay: the token has a "-".
SAMPLE_TOKEN_2 = "jw4wdfpgql0n.-1k.lrrcg18c.5Hq1W9dVgXk3Zr8ZtB8YbD4pE7sLmN2aQw6cJfRuT3x"
SAMPLE_SESSION_ID_2 = 2618307011354439911
SAMPLE_INDEX = "app-logs"
SAMPLE_INDEX_V121 = "logs"  # OpenReplay v1.21+ hard-codes this index
SAMPLE_MAPPING = {
    "properties": {
        "message": {"type": "text"},
        "utc_time": {"type": "date"},
        "tags": {"type": "keyword"},
    }
}

_STACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/shop/api/views.py", line 88, in checkout\n'
    "    order = cart.to_order(user)\n"
    '  File "/srv/shop/api/cart.py", line 41, in to_order\n'
    "    total = sum(item.price * item.qty for item in self.items)\n"
    "TypeError: unsupported operand type(s) for *: 'NoneType' and 'int'"
)


# When both sample sessions started: what their ids encode (OpenReplay's ids are flake ids).
SESSION_START = "2024-01-24T02:27:39.324Z"

FLAKE_EPOCH_MS = 1550000000000  # OpenReplay's flake ids: start ms = (id >> 24) + this
RECENT_MINUTES_AGO = 10  # a recent sample's sessions started this long before it was made
_TOKEN_LIFETIME_MS = (7_200_000, 10_800_000)  # each fixed token's expiry after the start (2 h, 3 h)


@dataclass(frozen=True)
class SampleSessions:
    """The two sample sessions: when they started (ISO, UTC, ms), their tokens and ids."""

    start: str
    token: str
    session_id: int
    token_2: str
    session_id_2: int


FIXED_SESSIONS = SampleSessions(SESSION_START, SAMPLE_TOKEN, SAMPLE_SESSION_ID, SAMPLE_TOKEN_2, SAMPLE_SESSION_ID_2)


def _base36(number: int) -> str:
    digits = string.digits + string.ascii_lowercase
    sign, number = ("-", -number) if number < 0 else ("", number)
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return sign + out


def _iso_ms(epoch_ms: int) -> str:
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(epoch_ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def recent_sessions(now_ms: int, minutes_ago: int = RECENT_MINUTES_AGO) -> SampleSessions:
    """The fixed sample's two sessions as if they had started `minutes_ago` before `now_ms`: ids whose
    start bits say so (the fixed ids' sequence and shard bits kept), tokens with the fixed delays,
    expiries as far after the start, and signatures (no backend can check one without the secret)."""
    start_ms = now_ms - minutes_ago * 60_000
    ids = [((start_ms - FLAKE_EPOCH_MS) << 24) | (fixed & 0xFFFFFF) for fixed in (SAMPLE_SESSION_ID, SAMPLE_SESSION_ID_2)]
    tokens = []
    for session_id, fixed, lifetime in zip(ids, (SAMPLE_TOKEN, SAMPLE_TOKEN_2), _TOKEN_LIFETIME_MS):
        _, delay, _, signature = fixed.split(".")
        tokens.append(".".join((_base36(session_id), delay, _base36(start_ms + lifetime), signature)))
    return SampleSessions(_iso_ms(start_ms), tokens[0], ids[0], tokens[1], ids[1])


def sample_documents(sessions: SampleSessions = FIXED_SESSIONS) -> Dict[str, List[Dict[str, Any]]]:
    """The sample logs by index. Each session's lines sit within the first minutes of its replay,
    as a real session's backend lines do: `logs` shows them at offsets such as +03:12.450 (the
    checkout that failed), which README quotes."""
    from datetime import datetime, timedelta

    t1 = sessions.token
    s1 = sessions.session_id
    t2 = sessions.token_2
    s2 = sessions.session_id_2
    start = datetime.strptime(sessions.start, "%Y-%m-%dT%H:%M:%S.%fZ")

    def at(minutes: int, seconds: float) -> str:
        """The time `minutes:seconds` into the sessions' replays."""
        moment = start + timedelta(minutes=minutes, seconds=seconds)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    app = [
        (at(0, 22.101), ["info"], f"GET /api/cart 200 12ms openReplaySessionToken={t1}"),
        (at(0, 48.530), ["success"], f"POST /api/cart/items 201 30ms openReplaySessionToken={t1}"),
        (at(3, 12.450), ["error"], f"POST /api/checkout 500 openReplaySessionToken={t1}\n{_STACK}"),
        (at(3, 13.021), ["error"], f"payment gateway timeout after 3000ms openReplaySessionToken={t1}"),
        (at(4, 1.337), ["error"], f"ERROR orders: could not reserve stock openReplaySession.id={s1}"),
        (at(4, 30.002), ["info"], f"INFO user logged out openReplaySession.id={s1}"),
        (at(5, 2.210), ["error"], f"GET /api/profile 502 upstream reset openReplaySessionToken={t2}"),
        (at(5, 7.815), ["info"], f"GET /api/profile 200 8ms openReplaySessionToken={t2}"),
        (at(5, 11.090), ["error"], f"ERROR search: index not found openReplaySession.id={s2}"),
        (at(6, 0.000), ["info"], "INFO worker heartbeat ok"),
        (at(6, 1.000), ["error"], "ERROR cron: nightly export failed (no session)"),
        (at(6, 2.000), ["success"], "GET /healthz 200 1ms"),
    ]
    logs = [
        (at(3, 20.118), ["error"], f"ERROR checkout failed: card declined openReplaySession.id={s1}"),
        (at(3, 21.404), ["info"], f"INFO retrying checkout openReplaySession.id={s1}"),
        (at(3, 22.930), ["error"], f"POST /api/checkout 500 openReplaySessionToken={t1}"),
        (at(5, 12.661), ["error"], f"ERROR profile: avatar upload failed openReplaySession.id={s2}"),
        (at(6, 3.000), ["info"], "INFO cache warmed"),
    ]

    def docs(rows):
        return [{"utc_time": t, "tags": tags, "message": m} for t, tags, m in rows]

    return {SAMPLE_INDEX: docs(app), SAMPLE_INDEX_V121: docs(logs)}


def load_sample_logs(client, app_index: str = SAMPLE_INDEX, v121_index: str = SAMPLE_INDEX_V121,
                     sessions: Optional[SampleSessions] = None) -> Dict[str, int]:
    """Create ``app-logs`` and ``logs`` (if missing), index the sample logs, refresh.

    ``client`` is an ``elasticsearch.Elasticsearch`` client allowed to create
    indices.  Other index names can be given (tests sharing a node should use
    their own).  ``sessions`` (``recent_sessions(now)``) indexes that copy of the
    sample instead, under document ids of its own (``recent-N``: loaded again, it
    replaces the earlier recent copy, never the fixed sample).  Returns the number
    of documents indexed per index.
    """
    counts = {}
    names = {SAMPLE_INDEX: app_index, SAMPLE_INDEX_V121: v121_index}
    id_prefix = "sample" if sessions is None or sessions == FIXED_SESSIONS else "recent"
    for default_name, documents in sample_documents(sessions or FIXED_SESSIONS).items():
        index = names[default_name]
        if not client.indices.exists(index=index):
            client.indices.create(
                index=index, mappings=SAMPLE_MAPPING,
                settings={"number_of_shards": 1, "number_of_replicas": 0},
            )
        operations: List[Dict[str, Any]] = []
        for i, doc in enumerate(documents):
            operations.append({"index": {"_index": index, "_id": f"{id_prefix}-{i}"}})
            operations.append(doc)
        resp = client.bulk(operations=operations, refresh=True)
        if resp.get("errors"):
            bad = [it for it in resp["items"] if "error" in next(iter(it.values()))]
            raise ESSandboxError(f"loading sample logs into {index} failed: {bad[:3]}")
        counts[index] = len(documents)
    client.indices.refresh(index=",".join(counts))
    return counts
