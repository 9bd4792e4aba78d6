"""A newcomer's first hour (issue 39) against a real node: `check` on ECS indices that `logs` reads,
every command a hint prints run as printed, and `keys` telling which profiles hold a key, which keys
expired, and asking before it cuts a profile off."""

from __future__ import annotations

import re
import shlex
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from conftest import Env, run_cli

FLAKE_EPOCH_MS = 1550000000000


def _session_started(ago: timedelta) -> str:
    """A session id (a flake id) whose session started `ago` before now."""
    start_ms = int((datetime.now(timezone.utc) - ago).timestamp() * 1000)
    return str(((start_ms - FLAKE_EPOCH_MS) << 24) | 0x2a01)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


SESSION = _session_started(timedelta(hours=1))
ECS_MAPPING = {"properties": {"message": {"type": "text"}, "@timestamp": {"type": "date"},
                              "log": {"properties": {"level": {"type": "keyword"}}}}}


@pytest.fixture(scope="module")
def hour(es_node, tmp_path_factory):
    """An ECS index (`@timestamp`, `log.level`, no `utc_time` nor `tags`) with a recent session's
    error lines, and profile `main` holding a read-only key for it, made by `create-key --save`."""
    admin = es_node.admin_client()
    prefix = f"orxhour-{uuid.uuid4().hex[:8]}"
    index = f"{prefix}-ecs-logs"
    admin.indices.create(index=index, mappings=ECS_MAPPING)
    started = datetime.now(timezone.utc) - timedelta(minutes=50)
    for i, level in enumerate(("ERROR", "INFO", "ERROR")):
        admin.index(index=index, document={"@timestamp": _iso(started + timedelta(seconds=i)), "log": {"level": level},
                                           "message": f"GET /cart 500 step {i} openReplaySession.id={SESSION}"})
    admin.indices.refresh(index=index)
    config = tmp_path_factory.mktemp("first-hour") / "config.yaml"
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(config), "ORX_ELASTIC_PASSWORD": es_node.admin_password,
                    "NO_COLOR": "1"})
    made = run_cli("--profile", "main", "create-key", "--host", es_node.url, "--username", es_node.admin_user,
                   "--name", f"{prefix}-reader", "--indexes", f"{prefix}-*", "--save", "-o", "json", env=env)
    assert made.exit_code == 0, made.output
    made_keys = [made.json()["id"]]
    yield {"node": es_node, "admin": admin, "prefix": prefix, "index": index, "env": env, "key": made.json(),
           "made": made_keys}
    admin.indices.delete(index=f"{prefix}-*")
    # every key made here: by the tests, and by the pasted fixes (saved to the profiles)
    saved = yaml.safe_load(config.read_text())["profiles"].values()
    admin.security.invalidate_api_key(ids=sorted({*made_keys, *(p["id"] for p in saved if p.get("id"))}))


def orx(hour, *args, env: Env | None = None):
    result = run_cli(*args, env=env or hour["env"])
    assert "Traceback" not in result.stderr and hour["key"]["api_key"] not in result.output
    return result


def _profile(hour, name: str, key: dict, *extra: str) -> None:
    """Profile `name` on the node with `key` (id and api_key), reading this module's indices."""
    done = orx(hour, "--profile", name, "configure", "--host", hour["node"].url, "--id", key["id"],
               "--api-key", key["api_key"], "--indexes", hour["index"], *extra)
    assert done.exit_code == 0, done.output


def _read_key(hour, name: str, names, expiration: str | None = None) -> dict:
    body = {"name": f"{hour['prefix']}-{name}",
            "role_descriptors": {"reader": {"indices": [{"names": list(names), "privileges": ["read"]}]}}}
    if expiration:
        body["expiration"] = expiration
    key = hour["admin"].security.create_api_key(**body)
    hour["made"].append(key["id"])
    return {"id": key["id"], "api_key": key["api_key"]}


def _expired_key(hour, name: str) -> dict:
    """A key that has expired: made with a one-second lifetime, then asked for until Elasticsearch
    refuses it (the event, not a guessed sleep)."""
    from elasticsearch import AuthenticationException, Elasticsearch

    key = _read_key(hour, name, [hour["index"]], expiration="1s")
    with Elasticsearch(hour["node"].url, api_key=(key["id"], key["api_key"])) as client:
        while True:
            try:
                client.security.authenticate()
            except AuthenticationException:
                return key


def _findings(result) -> dict:
    return {f["id"]: f for f in result.json()}


def commands_in(text: str) -> list[str]:
    """Every `orx-elastic ...` command a message quotes between backticks, as a user would paste it."""
    return re.findall(r"`(orx-elastic [^`]+)`", text)


# a hint's words left for the user to fill in, as a user fills them here
PLACEHOLDERS = {"STACK": "python-flask"}
# what a hint names that no test here can run: the user's own backend
NEEDS_THE_USERS_BACKEND = ("canary",)


def run_pasted(hour, command: str, user: str | None = None):
    """A printed command, pasted, with its placeholders filled in (USER: the admin's name)."""
    words = shlex.split(command)
    assert words[0] == "orx-elastic", command
    filled = {**PLACEHOLDERS, **({"USER": user} if user else {})}
    return orx(hour, *[filled.get(word, word) for word in words[1:]])


# ---------------------------------------------------------------- check on ECS indices


def test_check_passes_on_ecs_indices_that_logs_reads(hour):
    found = orx(hour, "--profile", "main", "check", "-o", "json")
    by_id = _findings(found)
    assert found.exit_code == 0, {k: (v["status"], v["detail"]) for k, v in by_id.items()}
    time_field = by_id["time_field"]
    assert time_field["status"] == "warning" and "v1.20" in time_field["detail"], time_field
    assert "'utc_time'" in time_field["detail"] and "@timestamp" in time_field["detail"]
    assert by_id["indices"]["detail"].startswith("1 index matches")  # not "1 indices match"
    lines = orx(hour, "--profile", "main", "logs", SESSION, "-o", "json")
    assert lines.exit_code == 0, lines.output
    assert [line["message"].split()[4] for line in lines.json()] == ["0", "2"]  # both error lines, no flag


def test_every_command_check_prints_runs_as_printed(hour):
    """What check prints as a fix or a next step, pasted under the same profile, runs."""
    shown = orx(hour, "--profile", "main", "check")
    printed = commands_in(shown.output)
    assert printed, shown.output
    assert all(command.startswith("orx-elastic --profile main ") for command in printed), printed
    runnable = [c for c in dict.fromkeys(printed) if shlex.split(c)[3] not in NEEDS_THE_USERS_BACKEND]
    assert any(" logs " in c for c in runnable) and any(" shows " in c for c in runnable), runnable
    for command in runnable:
        ran = run_pasted(hour, command, user=hour["node"].admin_user)
        assert ran.exit_code == 0, (command, ran.output)


def test_an_expired_key_s_fix_creates_a_working_key_as_printed(hour):
    _profile(hour, "exp", _expired_key(hour, "expired"))
    checked = orx(hour, "--profile", "exp", "check", "-o", "json")
    auth = _findings(checked)["auth"]
    assert checked.exit_code == 10 and auth["status"] == "failure" and "expired" in auth["detail"]
    from_logs = orx(hour, "--profile", "exp", "logs", SESSION)
    assert from_logs.exit_code == 6
    # the same fix from check and from logs, naming admin credentials: the profile's key may not make keys
    fix = "orx-elastic --profile exp create-key --username USER --save"
    assert commands_in(auth["fix"])[0] == fix and f"`{fix}`" in from_logs.stderr, (auth["fix"], from_logs.stderr)
    made = run_pasted(hour, commands_in(from_logs.stderr)[0], user=hour["node"].admin_user)
    assert made.exit_code == 0, made.output
    again = orx(hour, "--profile", "exp", "check", "-o", "json")
    assert _findings(again)["auth"]["status"] == "ok", _findings(again)["auth"]
    assert orx(hour, "--profile", "exp", "logs", SESSION).exit_code == 0


def test_configure_s_next_step_for_a_profile_without_a_key_runs_as_printed(hour):
    done = orx(hour, "--profile", "fresh", "configure", "--host", hour["node"].url, "--indexes", hour["index"])
    assert done.exit_code == 0 and "has no id and api_key" in done.stderr, done.output
    printed = commands_in(done.stderr)
    assert printed[0] == "orx-elastic --profile fresh create-key --username USER --save", printed
    made = run_pasted(hour, printed[0], user=hour["node"].admin_user)
    assert made.exit_code == 0, made.output
    assert orx(hour, "--profile", "fresh", "logs", SESSION).exit_code == 0


def test_an_unreadable_pattern_s_fix_creates_a_key_that_reads_it(hour):
    _profile(hour, "narrow", _read_key(hour, "narrow", [f"elsewhere-{hour['prefix']}-*"]))
    checked = orx(hour, "--profile", "narrow", "check")
    assert checked.exit_code == 10
    fixes = list(dict.fromkeys(c for c in commands_in(checked.output) if " create-key " in c))  # finding, last line
    assert fixes == [f"orx-elastic --profile narrow create-key --username USER --indexes '{hour['index']}' --save"], \
        checked.output
    made = run_pasted(hour, fixes[0], user=hour["node"].admin_user)
    assert made.exit_code == 0, made.output
    again = orx(hour, "--profile", "narrow", "check", "-o", "json")
    assert _findings(again)["privileges"]["status"] == "ok" and again.exit_code == 0, again.stdout


# ---------------------------------------------------------------- keys


def _admin(hour) -> list[str]:
    return ["--username", hour["node"].admin_user]


def _state(hour, key_id: str) -> dict:
    return hour["admin"].security.get_api_key(id=key_id)["api_keys"][0]


def test_keys_list_names_every_profile_that_holds_a_key_and_expired_ones(hour):
    shared = _read_key(hour, "shared", [hour["index"]])
    _profile(hour, "shared-a", shared)
    _profile(hour, "shared-b", shared)
    expired = _expired_key(hour, "gone")
    listed = orx(hour, "--profile", "shared-a", "keys", "list", "--all", *_admin(hour), "-o", "json")
    assert listed.exit_code == 0, listed.output
    rows = {row["id"]: row for row in listed.json()}
    assert rows[shared["id"]]["used_by_profiles"] == ["shared-a", "shared-b"]
    assert rows[hour["key"]["id"]]["used_by_profiles"] == ["main"]  # not the active profile, still named
    assert (rows[expired["id"]]["state"], rows[expired["id"]]["expired"]) == ("expired", True)
    assert rows[expired["id"]]["invalidated"] is False and rows[expired["id"]]["expires"]
    table = orx(hour, "--profile", "shared-a", "keys", "list", "--all", *_admin(hour), "-o", "table",
                env=Env(vars={**hour["env"].vars, "COLUMNS": "200"}))
    row = next(line for line in table.stdout.splitlines() if shared["id"] in line)
    assert "shared-a, shared-b" in row and "active" in row
    gone = next(line for line in table.stdout.splitlines() if expired["id"] in line)
    assert "expired" in gone and rows[expired["id"]]["expires"] in gone


def test_invalidating_a_profile_s_key_asks_first_and_twice_is_no_error(hour):
    key = _read_key(hour, "victim", [hour["index"]])
    _profile(hour, "victim", key)
    command = ["--profile", "victim", "keys", "invalidate", key["id"], *_admin(hour)]
    refused = orx(hour, *command)  # not a terminal: nobody to ask
    assert refused.exit_code == 2 and "add --yes" in refused.stderr and "'victim'" in refused.stderr
    assert _state(hour, key["id"])["invalidated"] is False
    declined = orx(hour, *command, env=Env(vars=hour["env"].vars, tty=True, stdin="n\n"))
    assert declined.exit_code == 130 and "invalidate it" in declined.output
    assert _state(hour, key["id"])["invalidated"] is False
    confirmed = orx(hour, *command, env=Env(vars=hour["env"].vars, tty=True, stdin="y\n"))
    assert confirmed.exit_code == 0, confirmed.output
    assert confirmed.stdout.split() == [key["id"]] and _state(hour, key["id"])["invalidated"] is True
    assert "profile 'victim' used this key" in confirmed.stderr
    # its fix, pasted, gives the profile a working key again
    made = run_pasted(hour, commands_in(confirmed.stderr)[0], user=hour["node"].admin_user)
    assert made.exit_code == 0, made.output
    assert orx(hour, "--profile", "victim", "logs", SESSION).exit_code == 0
    for again in (command, ["keys", "invalidate", "--name", f"{hour['prefix']}-victim", *_admin(hour)]):
        twice = orx(hour, *again)
        assert twice.exit_code == 0, twice.output
        assert f"{key['id']} was already invalidated" in twice.stderr and twice.stdout == ""


def test_yes_invalidates_a_profile_s_key_without_asking(hour):
    key = _read_key(hour, "yes", [hour["index"]])
    _profile(hour, "yes", key)
    done = orx(hour, "--profile", "yes", "keys", "invalidate", "--name", f"{hour['prefix']}-yes", "--yes",
               *_admin(hour))
    assert done.exit_code == 0 and done.stdout.split() == [key["id"]], done.output
    assert _state(hour, key["id"])["invalidated"] is True
