"""`orx-elastic shows` on the shapes where one hit decides more than itself, on a real node.

Each expected verdict is read in OpenReplay's own code (openreplay/openreplay), cited per test:
- v1.20 poller: `backend/pkg/integrations/clients/elasticsearch.go` (`Request`), `client.go` (`Request`:
  progress saved only after the requester returns), `clients/utils.go` (`GetToken`),
  `backend/cmd/integrations/main.go` (`tokenizer.Parse`, an error other than EXPIRED drops the event);
- v1.21+ fetch: `backend/pkg/integrations/clients/elastic.go`;
- v1.21+ panel: `frontend/app/components/Session/Player/SharedComponents/BackendLogs/utils.ts` (newest:
  `processLog` L8-22, `isElasticLog` L39-41, `processElasticLog` L90-94), `Table.tsx` (`LogRow`).

OpenReplay v1.21+ reads the index `logs`, global to the node: each test that needs it points an
alias `logs` at one of this module's indices and removes it afterwards.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from elastic_cli.openreplay.session_token import to_base36 as to36

from conftest import Env, run_cli
from logs_index import drop_logs, flake_id

SIG = "ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
OTHER_SIG = "USxhdMQhkMoYC52vEK6giwuQeu2F5SWuXeqS3EeyidB"  # 32 bytes too: another install's secret
START = datetime(2024, 1, 24, 2, 27, 39, 324000, tzinfo=timezone.utc)


def session_id(n: int) -> str:
    """A flake id that starts at START (shard n): a plausible session of its own."""
    return flake_id(START, n)


def token(sid: str, sig: str = SIG) -> str:
    return f"{to36(int(sid))}.3az.lrraavgc.{sig}"


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def ms(minutes: float) -> int:
    return int((START + timedelta(minutes=minutes)).timestamp() * 1000)


F, G, H, J, M, N, Q, T = (session_id(n) for n in (11, 12, 13, 14, 15, 16, 17, 18))


def v121_line(sid: str, minutes: float, text: str, **more) -> dict:
    return {"message": f"openReplaySession.id={sid} {text}", "level": "error", "@timestamp": at(minutes), **more}


def v120_line(sid: str, minutes: float, text: str, sig: str = SIG, **more) -> dict:
    return {"message": f"openReplaySessionToken={token(sid, sig)} {text}", "tags": ["error"], "utc_time": at(minutes),
            "@timestamp": at(minutes), **more}


LONG = "and a long explanation of what went wrong in the cart service while the user was paying " * 2

# (index suffix, document)
DOCS = [
    # F: the first hit of v1.21's answer has no `message` (its text under `msg`, copied into the
    # searched field): the shortest field scores highest, so it comes first
    ("msg", {"msg": f"openReplaySession.id={F}", "level": "error", "@timestamp": at(1)}),
    ("msg", v121_line(F, 2, f"checkout failed {LONG}")),
    ("msg", v121_line(F, 3, f"payment failed {LONG}")),
    # G: a later hit without `message`
    ("msg", v121_line(G, 1, "short")),
    ("msg", {"msg": f"openReplaySession.id={G} without message {LONG}", "level": "error", "@timestamp": at(2)}),
    # H: a numeric utc_time in an index that maps it as a date; J: another session after it
    ("date", v120_line(H, 1, "before the bad line")),
    ("date", v120_line(H, 2, "numeric utc_time", utc_time=ms(2))),
    ("date", v120_line(H, 3, "after the bad line")),
    ("date", v120_line(J, 4, "another session, later")),
    # M: `message` as a list
    ("list", {**v120_line(M, 1, f"openReplaySession.id={M} first"), "level": "error"}),
    ("list", {**v120_line(M, 2, "x"), "level": "error",
              "message": [f"openReplaySessionToken={token(M)} openReplaySession.id={M} list line", "second value"]}),
    ("list", {**v120_line(M, 3, f"openReplaySession.id={M} third"), "level": "error"}),
    # N in a date index; Q's line in an index where utc_time is a keyword: the poller's sort fails
    ("date2", v120_line(N, 1, "in the date index")),
    ("kw", v120_line(Q, 1, "in the keyword index")),
    # T: two tokens for one session id, one signed with another secret
    ("date3", v120_line(T, 1, "this install's token")),
    ("date3", v120_line(T, 2, "another install's token", sig=OTHER_SIG)),
]

TEXT, DATE, KEYWORD = {"type": "text"}, {"type": "date"}, {"type": "keyword"}
COMMON = {"utc_time": DATE, "tags": KEYWORD, "@timestamp": DATE, "level": KEYWORD}
MAPPINGS = {
    "msg": {"message": TEXT, "msg": {"type": "text", "copy_to": "message"}, "@timestamp": DATE, "level": KEYWORD},
    "date": {"message": TEXT, **COMMON},
    "list": {"message": TEXT, **COMMON},
    "date2": {"message": TEXT, **COMMON},
    "kw": {"message": TEXT, **COMMON, "utc_time": KEYWORD},
    "date3": {"message": TEXT, **COMMON},
}


@pytest.fixture(scope="module")
def env(es_node):
    admin = es_node.admin_client()
    prefix = f"orxshapes-{uuid.uuid4().hex[:8]}"
    drop_logs(admin)
    for suffix, properties in MAPPINGS.items():
        admin.indices.create(index=f"{prefix}-{suffix}", mappings={"properties": properties})
    operations: list = []
    for suffix, doc in DOCS:
        operations += [{"index": {"_index": f"{prefix}-{suffix}"}}, doc]
    admin.bulk(operations=operations, refresh=True)
    key = admin.security.create_api_key(name=f"{prefix}-reader", role_descriptors={
        "reader": {"cluster": [], "index": [{"names": [f"{prefix}-*", "logs"], "privileges": ["read"]}]}})
    yield {"admin": admin, "prefix": prefix, "key": key, "url": es_node.url}
    drop_logs(admin)
    admin.indices.delete(index=f"{prefix}-*")
    admin.security.invalidate_api_key(ids=[key["id"]])


@pytest.fixture
def logs_at(env):
    """Point an alias `logs` at one of this module's indices (by suffix)."""
    def point(suffix: str) -> None:
        env["admin"].indices.put_alias(index=f"{env['prefix']}-{suffix}", name="logs")
    yield point
    drop_logs(env["admin"])


def shows(env, sid, *args, indexes: str, columns: int | None = None):
    patterns = ",".join(f"{env['prefix']}-{suffix}" for suffix in indexes.split(","))
    cli_env = Env(vars={"NO_COLOR": "1"}, tty=columns is not None, columns=columns or 120)
    result = run_cli("shows", sid, *args, "--host", env["url"], "--id", env["key"]["id"], "--api-key",
                     env["key"]["api_key"], "--indexes", patterns, env=cli_env)
    assert env["key"]["api_key"] not in result.output
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.output
    return result


def line_of(data: dict, text: str) -> dict:
    found = [ln for ln in data["lines"] if text in str(ln.get("message"))]
    assert len(found) == 1, [ln.get("message") for ln in data["lines"]]
    return found[0]


def codes(verdict: dict) -> list[str]:
    return [p["code"] for p in verdict["problems"]]


def test_first_hit_without_message_breaks_the_whole_v121_panel(env, logs_at):
    """utils.ts `isElasticLog` (L39-41) tests only `log[0]._source.message`: the first hit without it
    makes the answer "Unknown log format" (L21; v1.21.0: nothing shown). Every line is lost, and the
    message-less hit is listed (the lookup cannot read a marker in it, v1.21's answer returned it)."""
    logs_at("msg")
    data = shows(env, F, "-o", "json", indexes="msg").json()
    v121 = data["summary"]["v1.21+"]
    assert (v121["shown"], v121["lines"]) == (0, 3), v121
    assert v121["reason"].startswith("the panel breaks: the first hit") and "has no `message`" in v121["reason"]
    assert v121["ruin"]["code"] == "first-no-message"
    first = [ln for ln in data["lines"] if codes(ln["openreplay"]["v1.21+"])[:1] == ["first-no-message"]]
    assert len(first) == 1 and first[0]["openreplay"]["v1.21+"]["shown"] is False
    assert codes(line_of(data, "checkout failed")["openreplay"]["v1.21+"])[0] == "panel-broken"
    assert codes(line_of(data, "payment failed")["openreplay"]["v1.21+"])[0] == "panel-broken"
    table = shows(env, F, "-o", "table", indexes="msg", columns=80).stdout
    assert table.startswith("OpenReplay v1.20: 0 of 3 lines") and "the panel breaks: the first hit" in table


def test_later_hit_without_message_is_an_empty_row(env, logs_at):
    """utils.ts `processElasticLog` L93: `message || ''`: a hit after the first without `message` is
    a row with empty text: shown, and listed."""
    logs_at("msg")
    data = shows(env, G, "-o", "json", indexes="msg").json()
    v121 = data["summary"]["v1.21+"]
    assert (v121["shown"], v121["lines"]) == (2, 2), v121
    empty = [ln for ln in data["lines"] if "empty-row" in codes(ln["openreplay"]["v1.21+"])]
    assert len(empty) == 1 and empty[0]["openreplay"]["v1.21+"]["shown"] is True
    assert data["lines"][0]["openreplay"]["v1.21+"]["problems"] == []


def test_numeric_utc_time_kills_the_v120_poller_for_every_later_line(env):
    """elasticsearch.go `Request` L149: `source["utc_time"].(string)` on a number panics in
    `go c.Request()`; nothing recovers it and `client.go` `Request` saves the progress only after it
    returns, so every later poll starts before the hit and dies on it again: no later line of any
    session is shown. The line before it is sent again at each restart."""
    data = shows(env, H, "-o", "json", indexes="date").json()
    v120 = data["summary"]["v1.20"]
    assert (v120["shown"], v120["lines"]) == (1, 3), v120
    assert v120["reason"].startswith(f"the v1.20 poller crashes on a line in `{env['prefix']}-date`")
    assert "`utc_time` is a number" in v120["reason"] and "every session" in v120["reason"]
    assert codes(line_of(data, "numeric utc_time")["openreplay"]["v1.20"]) == ["poller-crash"]
    assert codes(line_of(data, "after the bad line")["openreplay"]["v1.20"])[0] == "poller-dead"
    before = line_of(data, "before the bad line")["openreplay"]["v1.20"]
    assert before["shown"] and codes(before) == ["poller-restarts"]
    # another session in the same index, nothing wrong with its own line: not shown either
    other = shows(env, J, "-o", "json", indexes="date").json()["summary"]["v1.20"]
    assert (other["shown"], other["lines"]) == (0, 1), other
    assert other["reason"].startswith(f"the v1.20 poller crashes on a line in `{env['prefix']}-date`")


def test_message_list_v121_shows_it_v120_poller_crashes(env, logs_at):
    """v1.21+: the phrase matches one value of the list; `isElasticLog` finds `message` truthy and
    `processElasticLog` renders the list (utils.ts L93). v1.20: `source["message"].(string)` on a list
    panics (elasticsearch.go L155) with the consequence of a numeric utc_time."""
    logs_at("list")
    data = shows(env, M, "-o", "json", indexes="list").json()
    listed = line_of(data, "list line")["openreplay"]
    assert listed["v1.21+"]["shown"] is True and "message-list" in codes(listed["v1.21+"])
    assert codes(listed["v1.20"]) == ["poller-crash"] and "`message` is a list" in listed["v1.20"]["reason"]
    assert codes(line_of(data, "third")["openreplay"]["v1.20"])[0] == "poller-dead"
    assert data["summary"]["v1.21+"]["shown"] == 3
    assert data["summary"]["v1.20"]["reason"].startswith("the v1.20 poller crashes")
    table = shows(env, M, "-o", "table", indexes="list", columns=120).stdout
    assert "['" not in table and any(ln.strip() == "second value" for ln in table.splitlines())  # a value a line


def test_utc_time_date_in_one_index_keyword_in_another_fails_the_poller_for_everyone(env):
    """elasticsearch.go L83-89: one search over `indexes` sorted on `utc_time`: Elasticsearch refuses to
    merge a date sort with a keyword one (HTTP 400) once any line of any session in the window sits in
    the keyword index; `Request` returns the error and the poller shows nothing. The session's own
    lines are all in the date index."""
    data = shows(env, N, "-o", "json", indexes="date2,kw").json()
    v120 = data["summary"]["v1.20"]
    assert v120["shown"] == 0 and "its request failed" in v120["reason"] and "utc_time" in v120["reason"], v120
    # the date index alone: shown
    alone = shows(env, N, "-o", "json", indexes="date2").json()["summary"]["v1.20"]
    assert alone["shown"] == 1, alone


def test_a_token_signed_by_another_install_is_not_called_shown_without_a_word(env):
    """main.go: the event's token goes through `tokenizer.Parse`, which drops a token whose HMAC is not
    this install's ("wrong token sign", token/tokenizer.go); orx-elastic has no secret to check it: it
    says so, and says when several tokens carry the session's id."""
    data = shows(env, T, "-o", "json", indexes="date3").json()
    notes = data["summary"]["v1.20"]["notes"]
    assert any("signature is not checked" in n for n in notes)
    assert any("2 different tokens" in n for n in notes)
    other = line_of(data, "another install's token")["openreplay"]["v1.20"]
    assert "token-unverified" in codes(other)


def test_v121_no_logs_index_says_v1210_ends_its_process(env):
    """elastic.go at v1.21.0: `log.Fatalf` on any error answer (`res.IsError()`): the integrations process
    exits; later versions return the error."""
    data = shows(env, G, "-o", "json", indexes="msg").json()
    v121 = data["summary"]["v1.21+"]
    assert v121["reason"] == "index `logs` does not exist"
    assert any("log.Fatalf" in n for n in v121["notes"])
    table = shows(env, G, "-o", "table", indexes="msg").stdout
    assert "log.Fatalf" in table


def test_rows_never_coloured_and_invalid_datetime(env, logs_at):
    """Table.tsx `LogRow`: only status `ERROR`/`WARN` are coloured while the panel's levels are lower
    case; `getDateFromString('')` for a hit without `@timestamp` shows "Invalid DateTime"."""
    env["admin"].index(index=f"{env['prefix']}-date3", refresh=True, document={
        "message": f"openReplaySession.id={T} no timestamp", "level": "error", "utc_time": at(3), "tags": ["info"]})
    logs_at("date3")
    data = shows(env, T, "-o", "json", indexes="date3").json()
    assert any("never colours" in n for n in data["summary"]["v1.21+"]["notes"])
    v = line_of(data, "no timestamp")["openreplay"]["v1.21+"]
    assert v["shown"] and codes(v) == ["no-timestamp"] and "Invalid DateTime" in v["reason"]


@pytest.mark.parametrize("columns", [80, 120])
def test_table_keeps_ids_tokens_and_links_whole_and_says_the_ruin_first(env, logs_at, columns):
    """The table: summaries first (a ruin first), wrapped at spaces; each line's copyable values on one
    line, its message and reasons beneath, wrapped at spaces: a token, an id or a link is never cut."""
    logs_at("date")
    result = shows(env, H, "-o", "table", "--openreplay-url", "https://openreplay.example.com", "--project-id", "3",
                   indexes="date", columns=columns)
    out = result.stdout
    assert out.startswith("OpenReplay v1.20: 1 of 3 lines; the v1.20 poller crashes")
    # a line runs past the width only for one word longer than the room (the token): the terminal wraps it
    assert all(max(len(w) for w in ln.split()) > columns - 20 for ln in out.splitlines() if len(ln) > columns), out
    # (the marker word may break after its '=' so that the token stays whole within the width: issue 39)
    assert token(H) in out and re.search(rf"openReplaySessionToken=\s*{re.escape(token(H))}", out), out
    assert {w.rstrip(".,;:") for w in out.split() if w.startswith("openReplaySession.id=")} == {
        "openReplaySession.id=", f"openReplaySession.id={H}"}  # the summary's marker text, and the whole id
    words = out.split()
    assert token(H) in [w.split("=", 1)[-1] for w in words]  # whole, as one word
    assert "\u2502" not in out  # no box cut a value in two
