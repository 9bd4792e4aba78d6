"""A newcomer's first hour (issue 39), without a cluster: configure's questions, the wording of
errors and help, the status line of --follow, tokens pasted with
a comma. The parts that need Elasticsearch are in tests/integration/test_first_hour.py."""

from __future__ import annotations

import http.server
import re
import socket
import sys
import threading
from datetime import datetime, timezone

import pytest
import yaml
from elastic_cli.checks.fields import check_time_field
from elastic_cli.config.settings import resolve
from elastic_cli.errors import EXIT_CODES, UsageError
from elastic_cli.keys.api_keys import KeyInfo
from elastic_cli.openreplay.session_token import parse_session_ref

from conftest import Env, run_cli
from terminal import run_in_terminal

TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- configure, interactive


def test_interactive_configure_keeps_the_port_of_the_url(tmp_path):
    path = tmp_path / "c.yaml"
    # host, then Enter at every other question (id, api_key, indexes): no port question is left
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(path)}, tty=True, stdin="http://127.0.0.1:32925\n\n\n\n")
    result = run_cli("configure", env=env)
    assert result.exit_code == 0, result.output
    assert "port [9200]" not in result.output and "port: 32925 (from the host)" in result.stdout
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert (profile["host"], profile["port"]) == ("http://127.0.0.1", 32925)


def test_interactive_configure_asks_the_port_of_a_url_without_one(tmp_path):
    path = tmp_path / "c.yaml"
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(path)}, tty=True, stdin="https://es.example.com\n9243\nkid\nsecret\n\n")
    result = run_cli("configure", env=env)
    assert result.exit_code == 0, result.output
    assert "port [9200]" in result.stdout
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert (profile["host"], profile["port"], profile["id"]) == ("https://es.example.com", 9243, "kid")
    assert "warning" not in result.stderr and "next: orx-elastic check" in result.stderr


def test_interactive_configure_keeps_a_saved_list_of_nodes(tmp_path):
    """Enter at every question kept the default host (localhost) and dropped the saved `hosts`."""
    path = tmp_path / "c.yaml"
    path.write_text("profiles:\n  default:\n    hosts: [https://es1:9200, https://es2:9200]\n    id: kid\n"
                    "    api_key: secret\n")
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(path)}, tty=True, stdin="\n\n\n\n\n")
    result = run_cli("configure", env=env)
    assert result.exit_code == 0, result.output
    assert "hosts (comma separated) [https://es1:9200,https://es2:9200]" in result.stdout
    profile = yaml.safe_load(path.read_text())["profiles"]["default"]
    assert profile["hosts"] == ["https://es1:9200", "https://es2:9200"] and "host" not in profile


def test_a_profile_saved_without_a_key_says_so_and_what_to_run(tmp_path):
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path / "c.yaml")}, tty=True, stdin="http://127.0.0.1:32925\n\n\n\n")
    result = run_cli("--profile", "staging", "configure", env=env)
    assert result.exit_code == 0, result.output
    assert "warning: profile 'staging' has no id and api_key" in result.stderr
    # the next step names admin credentials and the profile, and `check` is not suggested yet
    assert "`orx-elastic --profile staging create-key --username USER --save`" in result.stderr
    assert "`orx-elastic --profile staging configure --id ID --api-key -`" in result.stderr
    assert "next: orx-elastic --profile staging check" not in result.stderr


# ---------------------------------------------------------------- connecting


def test_a_mistyped_scheme_is_refused_without_an_https_assumption(tmp_path):
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path / "c.yaml")})
    result = run_cli("logs", TOKEN, "--host", "http//127.0.0.1:32925", "--id", "k", "--api-key", "s", env=env)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: host 'http//127.0.0.1:32925' is not a URL: its scheme is mistyped",
                                          "  fix: use http://127.0.0.1:32925"]


def test_a_refused_connection_is_tried_once(tmp_path):
    """Nothing listens there: asking again within seconds only made the user wait (3.2-3.6 s)."""
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path / "c.yaml")})
    url = f"http://127.0.0.1:{_closed_port()}"
    result = run_cli("logs", TOKEN, "--host", url, "--id", "k", "--api-key", "s", "--debug", env=env)
    assert result.exit_code == 4 and f"error: connection refused by {url}" in result.stderr
    # --debug says each retry ("retrying in 0.5 s (retry 1 of 3)"); a request that went out is sent
    # once (over http:// the plain-HTTP probe meets the refusal before any request leaves)
    assert "retrying in" not in result.stderr, result.stderr
    sent = re.findall(r"(\S+ \S+) -> no answer after", result.stderr)
    assert len(sent) == len(set(sent)), result.stderr


@pytest.fixture
def empty_server():
    """A web server that answers every request with an empty body (no X-Elastic-Product header)."""

    class Empty(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's name
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_empty_answer_from_another_server_is_called_so(tmp_path, empty_server):
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path / "c.yaml")})
    result = run_cli("logs", TOKEN, "--host", empty_server, "--id", "k", "--api-key", "s", env=env)
    assert result.exit_code == 4
    assert f"{empty_server} is not Elasticsearch: it answered HTTP 404 without the X-Elastic-Product header, " \
           "with an empty answer" in result.stderr
    assert "None" not in result.stderr


# ---------------------------------------------------------------- a token pasted with more


@pytest.mark.parametrize("pasted,edge", [(TOKEN + ",", "ends with ','"), (f'"{TOKEN}"', "starts with '\"'"),
                                         (f"'{TOKEN}'", "starts with \"'\""), ("2618307011354435587,", "ends with ','"),
                                         ("2618307011354435587.", "ends with '.'")])
def test_a_token_pasted_with_a_comma_or_quotes_says_which_character(pasted, edge):
    with pytest.raises(UsageError) as raised:
        parse_session_ref(pasted)
    message = raised.value.message
    assert f"it {edge}: pasted with it? remove it" in message
    assert pasted[-10:].strip("'") in message  # the end of the input, where the stray character sits


def test_a_long_input_shows_its_start_and_end():
    with pytest.raises(UsageError) as raised:
        parse_session_ref(TOKEN[:-1] + "0")  # a base58 signature has no 0
    assert "'jw4wdfpgqhoj.3az.lrr' ... 'XTF3W4c4sndRrpZevt30' (69 characters)" in raised.value.message


def test_the_cli_names_the_stray_comma(tmp_path):
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path / "c.yaml")})
    result = run_cli("shows", TOKEN + ",", env=env)
    assert result.exit_code == 2 and "'TF3W4c4sndRrpZevt3q,'" in result.stderr and "ends with ','" in result.stderr


# ---------------------------------------------------------------- check: what only v1.20 needs


def _settings(tmp_path, **flags):
    from elastic_cli.config.file import load_config_file

    return resolve(load_config_file(tmp_path / "none.yaml"), None, flags)


ECS_CAPS = {"indices": [".ds-logs-app-default-2026.12.07-000001"],
            "fields": {"@timestamp": {"date": {"type": "date", "searchable": True, "aggregatable": True}},
                       "message": {"match_only_text": {"type": "match_only_text"}},
                       "utc_time": {"unmapped": {"type": "unmapped"}}}}


def test_ecs_indices_without_utc_time_are_a_v120_warning_not_a_failure(tmp_path):
    found = check_time_field(_settings(tmp_path), ECS_CAPS)
    assert found.status == "warning"
    assert "'utc_time'" in found.detail and "v1.20" in found.detail and "@timestamp" in found.detail
    assert found.fix.startswith("only for OpenReplay v1.20")


def test_a_time_field_the_user_named_and_no_index_has_is_still_a_failure(tmp_path):
    found = check_time_field(_settings(tmp_path, time_field="when"), ECS_CAPS)
    assert found.status == "failure" and "'when'" in found.detail


# ---------------------------------------------------------------- keys


def test_an_expired_key_says_so():
    now = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
    past, future = int(now.timestamp() * 1000) - 60_000, int(now.timestamp() * 1000) + 60_000
    expired = KeyInfo.from_response({"id": "a", "expiration": past, "invalidated": False}, now=now)
    active = KeyInfo.from_response({"id": "b", "expiration": future, "invalidated": False}, now=now)
    gone = KeyInfo.from_response({"id": "c", "expiration": past, "invalidated": True, "invalidation": past}, now=now)
    assert (expired.state, expired.expires) == ("expired", "2026-12-07T11:59:00Z")
    assert (active.state, gone.state, gone.invalidated_at) == ("active", "invalidated", "2026-12-07T11:59:00Z")


# ---------------------------------------------------------------- help and usage errors


@pytest.mark.parametrize("columns", [80, 120])
def test_the_exit_code_table_never_breaks_a_word(columns):
    screen = run_in_terminal(["--help"], columns)
    assert screen.exit_code == 0
    lines = screen.lines[screen.lines.index("  Exit codes:") + 1:]
    table = [line for line in lines if line.strip()]
    assert all(len(line) <= columns for line in table), screen.text
    words = " ".join(" ".join(line.split()) for line in table).split()
    for _, meaning in EXIT_CODES.values():
        assert " ".join(meaning.split()) in " ".join(words), meaning  # every word whole, in order


def test_session_and_id_have_help(tmp_path):
    env = Env(columns=100)
    shows = run_cli("shows", "--help", env=env).stdout
    assert re.search(r"Positional arguments:\n  SESSION\s+The session: its token", shows), shows
    assert not re.search(r"^  SESSION\s*$", shows, re.M)
    invalidate = run_cli("keys", "invalidate", "--help", env=env).stdout
    assert re.search(r"\[ID\]\s+The key's id", invalidate), invalidate
    assert "--yes" in invalidate


def test_usage_errors_read_as_the_tool_s_own():
    result = run_cli("logs", TOKEN, "--sinse", "1d")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: no such option '--sinse'. Did you mean '--since'? (or one of: '--insecure', '--indexes')",
        "  fix: see `orx-elastic logs --help` (usage: orx-elastic logs [OPTIONS] SESSION)"]
    missing = run_cli("shows")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: missing argument 'SESSION'.")
    assert "Error:" not in missing.stderr and "Usage:" not in missing.stderr


def test_explain_and_dry_run_are_one_flag(tmp_path):
    env = Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path / "c.yaml")})
    for command in (["create-key"], ["alias"]):
        by_explain = run_cli(*command, "--explain", "--indexes", "app-*", env=env)
        by_dry_run = run_cli(*command, "--dry-run", "--indexes", "app-*", env=env)
        assert by_explain.exit_code == 0, by_explain.output
        assert by_explain.stdout == by_dry_run.stdout and "POST /_" in by_explain.stdout
    by_explain = run_cli("shows", TOKEN, "--explain", env=env)
    by_dry_run = run_cli("shows", TOKEN, "--dry-run", env=env)
    assert by_explain.exit_code == 0, by_explain.output
    assert by_explain.stdout == by_dry_run.stdout and "_search" in by_explain.stdout


# ---------------------------------------------------------------- --follow's status line

FOLLOW_SNIPPET = """
import sys, termios
attrs = termios.tcgetattr(0)
attrs[3] &= ~termios.ECHO  # what the test types is not shown
termios.tcsetattr(0, termios.TCSANOW, attrs)
from elastic_cli.output import FollowStatus
from elastic_cli.output.writer import LogWriter
from elastic_cli.search.session_line import SessionLine
hit = SessionLine({"_index": "app-logs", "_source": {"message": "openReplaySession.id=1 boom"}}, None, None,
                  "app-logs", None)
status = FollowStatus(enabled=True, color=False)
writer = LogWriter("table", color=False)
status.polled(0)
sys.stdin.readline()  # the status line is on the screen: a poll finds a line
writer.write_page([hit]); writer.flush(); status.polled(writer.count)
sys.stdin.readline()
writer.write_page([hit]); writer.flush(); status.polled(writer.count)
status.stop(); writer.close()
"""


def test_follow_erases_its_status_line_before_printing_lines():
    screen = run_in_terminal(["-c", FOLLOW_SNIPPET], 80, program=[sys.executable],
                             replies=[("following: 0 lines", "\n"), ("following: 1 line,", "\n")])
    assert screen.exit_code == 0, screen.raw
    lines = [line for line in screen.lines if line.strip()]
    # the header and each line start their own line: nothing glued after `following: ...`
    assert lines[0].split() == ["time", "level"], screen.raw
    assert lines[1:] == ["  openReplaySession.id=1 boom"] * 2, screen.raw
    assert "following: 0 lines" in screen.raw and "following: 2 lines" in screen.raw


WARNING_SNIPPET = """
import sys, termios
attrs = termios.tcgetattr(0)
attrs[3] &= ~termios.ECHO
termios.tcsetattr(0, termios.TCSANOW, attrs)
from elastic_cli.output import FollowStatus
from elastic_cli.output.streams import Streams
streams = Streams.of_process()  # made before the status starts, as a run's are
status = FollowStatus(enabled=True, color=False)
status.polled(3)
sys.stdin.readline()  # the status line is on the screen: a poll fails
streams.say("warning: ", "connection lost: retrying in 1.0 s")
status.retry("retrying in 1.0 s")
sys.stdin.readline()
status.stop()
"""


def test_a_warning_while_following_is_on_its_own_line():
    screen = run_in_terminal(["-c", WARNING_SNIPPET], 80, program=[sys.executable],
                             replies=[("following: 3 lines,", "\n"), ("; retrying in", "\n")])
    assert screen.exit_code == 0, screen.raw
    assert [line for line in screen.lines if line.strip()] == ["warning: connection lost: retrying in 1.0 s"], \
        screen.raw
