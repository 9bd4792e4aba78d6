"""What a new user hit after the quick start (issue 26), without a cluster: a closed pipe,
typo suggestions, tables and messages at the widths of real terminals."""

from __future__ import annotations

import io
import re
import sys

import pytest
from elastic_cli.output import print_records, record_table

from main_in_process import no_orx_environment, run  # noqa: F401 — an autouse fixture
from terminal import run_in_terminal, run_with_reader_gone

SESSION_IDS = ["2618307011354439911", "2618307011354435587"]
LINK = "https://openreplay.example.com/3/session/{}"
ROWS = [
    {"session_id": sid, "session_start": "2024-01-24T02:27:39.324Z", "first_line": "2024-01-24T03:53:00.000Z",
     "last_line": "2024-01-24T03:53:10.000Z", "lines": 3, "markers": "v1.20 v1.21",
     "latest_message": f"ERROR profile: avatar upload failed after the retry budget ran out openReplaySession.id={sid}",
     "replay_url": LINK.format(sid)}
    for sid in SESSION_IDS
]
COLUMNS = list(ROWS[0])
COPYABLE = [*SESSION_IDS, *(LINK.format(s) for s in SESSION_IDS), "2024-01-24T02:27:39.324Z",
            "2024-01-24T03:53:00.000Z", "2024-01-24T03:53:10.000Z", *COLUMNS]
# prints the sessions rows as `sessions -o table` does, in whatever terminal it runs in
TABLE_SNIPPET = f"""
from elastic_cli.output import print_records
print_records("table", {COLUMNS!r}, {ROWS!r}, color=False)
"""


# ---------------------------------------------------------------- a closed pipe

@pytest.mark.parametrize("args", [["completion", "bash"], ["create-key", "--dry-run"], ["--help"]],
                         ids=["plain-writes", "rich-console", "click-help"])
def test_a_reader_that_went_away_ends_the_command_quietly(args):
    result = run_with_reader_gone(args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_config_show_as_a_table_into_a_closed_pipe(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("profiles:\n  default:\n    host: http://es:9200\n")
    config.chmod(0o600)
    result = run_with_reader_gone(["config", "show", "-o", "table"], env={"ORX_ELASTIC_CONFIG": str(config)})
    assert result.returncode == 0 and result.stderr == ""


# ---------------------------------------------------------------- suggestions, closest first

def test_a_mistyped_command_suggests_the_closest(capsys):
    code, _, err = run(capsys, "chek")
    assert code == 2
    assert "error: no such command 'chek'. Did you mean 'check'?" in err


def test_a_mistyped_option_suggests_the_closest_first(capsys):
    code, _, err = run(capsys, "logs", "--sinse", "1h", "x")
    assert code == 2
    suggestions = re.findall(r"'(--[a-z-]+)'", err.split("Did you mean", 1)[1])
    assert suggestions[0] == "--since", err


def test_a_mistyped_subcommand_of_a_group(capsys):
    code, _, err = run(capsys, "keys", "lsit")
    assert code == 2 and "Did you mean 'list'?" in err


# ---------------------------------------------------------------- tables at real widths

def whole_on_some_line(value: str, lines: list[str]) -> bool:
    return any(value in line for line in lines)


@pytest.mark.parametrize("columns", [80, 120])
def test_session_rows_in_a_terminal_never_break_ids_times_links_or_headers(columns):
    screen = run_in_terminal(["-c", TABLE_SNIPPET], columns, program=[sys.executable])
    assert screen.exit_code == 0, screen.text
    for value in COPYABLE:
        assert whole_on_some_line(value, screen.lines), f"{value!r} broken at {columns} columns:\n{screen.text}"
    # the message gave way: wrapped on words, each word whole
    for word in ROWS[0]["latest_message"].split():
        assert whole_on_some_line(word, screen.lines)
    rows_lines = [line for line in screen.lines if line.strip()]
    assert len(rows_lines) <= (8 if columns == 80 else 4) * len(ROWS) + 1, screen.text


def test_a_table_that_fits_is_one_line_a_row_in_the_one_style():
    screen = run_in_terminal(["-c", """
from elastic_cli.output import print_table
print_table(("name", "id"), [("openreplay-api-key", "UISVPqIB_BSflwxPHUm6")], color=False)
"""], 80, program=[sys.executable])
    body = [line for line in screen.lines if "UISVPqIB_BSflwxPHUm6" in line]
    assert body == ["openreplay-api-key  UISVPqIB_BSflwxPHUm6"], screen.text
    assert "name                id" in screen.lines, screen.text  # the header, as logs' table: no box


def test_piped_table_honours_columns(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setenv("COLUMNS", "80")
    print_records("table", COLUMNS, ROWS, color=False, stream=stream)
    lines = stream.getvalue().splitlines()
    assert max(len(line) for line in lines if "https://" not in line) <= 80
    monkeypatch.delenv("COLUMNS")
    wide = io.StringIO()
    print_records("table", COLUMNS, ROWS, color=False, stream=wide)
    assert len(wide.getvalue().splitlines()) == len(ROWS) + 1  # a header and one line a row


def test_the_plan_moves_free_text_beneath_first_then_columns_from_the_right():
    cells = [[str(r[c]) for c in COLUMNS] for r in ROWS]
    at_120 = record_table.plan(COLUMNS, cells, 120, ["latest_message"])
    assert not at_120.inline
    assert [COLUMNS[i] for i in at_120.main] == COLUMNS[:6]
    assert [COLUMNS[i] for i in at_120.under] == ["latest_message", "replay_url"]
    assert record_table.plan(COLUMNS, cells, 400, ["latest_message"]).inline


def test_wrap_words_never_breaks_a_word_longer_than_the_line():
    token = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
    lines = record_table.wrap_words(f"a failure for openReplaySessionToken={token} at checkout", 30)
    assert f"openReplaySessionToken={token}" in lines
    assert all(len(line) <= 30 for line in lines if token not in line)


# ---------------------------------------------------------------- messages and check at 80 columns

def test_an_error_and_its_fix_wrap_on_words_under_their_text(tmp_path):
    long_dir = tmp_path / "a-rather-long-directory-name-for-the-configuration-files-of-this-user"
    screen = run_in_terminal(["check"], 80, env={"ORX_ELASTIC_CONFIG": str(long_dir / "config.yaml")})
    assert screen.exit_code == 3, screen.text
    lines = [line for line in screen.lines if line]
    assert all(len(line) <= 80 or " " not in line.strip() for line in lines), screen.text
    assert lines[0].startswith("error: ") and len(lines) > 2
    fix = next(i for i, line in enumerate(lines) if line.startswith("  fix: "))
    assert all(line.startswith("       ") for line in lines[fix + 1:]), screen.text  # under the text
    assert all(line.startswith("       ") for line in lines[1:fix]), screen.text
    assert whole_on_some_line(str(long_dir / "config.yaml"), lines)  # the path is never cut


def test_check_findings_wrap_under_their_text_at_80_columns():
    findings = [{"status": "failure", "title": "read privilege on the index patterns",
                 "detail": "the key may not read app-logs-*, nginx-access-logs-*, checkout-service-logs-*",
                 "fix": "create a key with read on them: `orx-elastic create-key --indexes "
                        "'app-logs-*,nginx-access-logs-*,checkout-service-logs-*'`"}]
    screen = run_in_terminal(["-c", f"""
from elastic_cli.output import print_findings
print_findings({findings!r}, color=False)
"""], 80, program=[sys.executable])
    lines = [line for line in screen.lines if line]
    assert lines[0].startswith("✘ read privilege") and len(lines) >= 4, screen.text
    fix = next(i for i, line in enumerate(lines) if line.startswith("    fix: "))
    assert all(line.startswith("  ") for line in lines[1:fix]), screen.text
    assert all(line.startswith("         ") for line in lines[fix + 1:]), screen.text


# ---------------------------------------------------------------- defaults said, not assumed silently

def test_a_host_without_a_scheme_says_https_was_assumed(capsys, tmp_path):
    config = tmp_path / "config.yaml"
    code, _, err = run(capsys, "--config", str(config), "configure", "--host", "127.0.0.1")
    assert code == 0, err
    assert "assumed https://127.0.0.1" in err and "give http://127.0.0.1" in err
    assert "https://127.0.0.1" in config.read_text()


def test_a_mistyped_scheme_is_refused_with_the_fix(capsys, tmp_path):
    config = tmp_path / "config.yaml"
    code, _, err = run(capsys, "--config", str(config), "configure", "--host", "http//127.0.0.1:45253")
    assert code == 2
    assert "is not a URL" in err and "fix: use http://127.0.0.1:45253" in err
    assert not config.exists()
    code, _, err = run(capsys, "--config", str(config), "check", "--host", "https:/es.example.com:9243")
    assert code == 2 and "fix: use https://es.example.com:9243" in err


def test_the_next_hint_carries_the_profile(capsys, tmp_path):
    config = tmp_path / "config.yaml"
    key = ("--id", "key-id", "--api-key", "key-secret")
    code, _, err = run(capsys, "--config", str(config), "--profile", "manual", "configure",
                       "--host", "http://127.0.0.1:9200", *key)
    assert code == 0 and "next: orx-elastic --profile manual check" in err
    code, _, err = run(capsys, "--config", str(config), "configure", "--host", "http://127.0.0.1:9200", *key)
    assert code == 0 and "next: orx-elastic check" in err  # the default profile needs no flag


@pytest.mark.parametrize("command", [["check"], ["logs", "2618307011354435587"], ["sessions"]])
def test_every_command_without_a_config_gives_the_same_first_step(capsys, tmp_path, command):
    code, _, err = run(capsys, "--config", str(tmp_path / "none.yaml"), *command)
    assert code == 3, err
    assert err.startswith("error: no configuration yet:") and "orx-elastic create-key" in err


@pytest.fixture
def web_server():
    """A real web server that is not Elasticsearch (python -m http.server's handler) on loopback."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("command", [["logs", "2618307011354435587"], ["sessions"]])
def test_a_port_where_another_server_answers_is_not_elasticsearch(capsys, tmp_path, web_server, command):
    code, _, err = run(capsys, "--config", str(tmp_path / "c.yaml"), *command, "--host", web_server,
                       "--id", "kid", "--api-key", "secret")
    assert code == 4, err
    assert f"{web_server} is not Elasticsearch" in err and "X-Elastic-Product" in err
    assert "check host and port" in err


def test_check_names_the_port_that_is_not_elasticsearch(capsys, tmp_path, web_server):
    code, out, _ = run(capsys, "--config", str(tmp_path / "c.yaml"), "check", "-o", "json", "--host", web_server,
                       "--id", "kid", "--api-key", "secret")
    import json

    auth = next(f for f in json.loads(out) if f["id"] == "auth")
    assert code == 10 and auth["status"] == "failure" and "is not Elasticsearch" in auth["detail"]


# ---------------------------------------------------------------- --help lists what a command takes

SUBCOMMANDS = [["create-key"], ["keys", "list"], ["keys", "invalidate"], ["keys", "rotate"], ["configure"],
               ["config", "show"], ["config", "path"], ["check"], ["logs"], ["sessions"], ["completion"]]


def help_sections(capsys, *command) -> dict[str, str]:
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    sections, name = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            name = line[:-1]
            sections[name] = ""
        elif name:
            sections[name] += line + "\n"
    return sections


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_every_subcommand_lists_the_global_options(capsys, command):
    sections = help_sections(capsys, *command)
    shared = sections["Global options (before or after the command)"]
    for flag in ("--profile", "-v, --verbose", "-q, --quiet", "--debug", "--config", "--no-color"):
        assert flag in shared, command
    assert "--profile" not in sections["Options"]  # listed once


@pytest.mark.parametrize("command", [["keys", "list"], ["keys", "invalidate"], ["keys", "rotate"]], ids=" ".join)
def test_keys_subcommands_list_only_the_flags_they_use(capsys, command):
    sections = help_sections(capsys, *command)
    # the connection flags stand in their own section, after the command's own
    connection = sections["Connection options (each overrides the profile's setting)"]
    options = sections["Options"] + connection
    assert "--host" not in sections["Options"] and "--username" not in connection
    for unused in ("--message-field", "--time-field", "--tags-field", "--openreplay-url", "--project-id"):
        assert unused not in options
    assert "--host" in options and "--username" in options


def test_rotate_does_not_offer_the_flags_it_would_refuse(capsys):
    options = help_sections(capsys, "keys", "rotate")["Options"]
    assert "--id " not in options and "--api-key" not in options.replace("--admin-api-key", "")
    code, _, err = run(capsys, "keys", "rotate", "--id", "x")
    assert code == 2 and "error: no such option '--id'" in err


# ---------------------------------------------------------------- configure: secrets off argv, every setting

def configure_process(config, *args, stdin=""):
    import subprocess

    from terminal import CLI, base_env

    return subprocess.run([*CLI, "--config", str(config), "configure", *args], input=stdin, capture_output=True,
                          text=True, env=base_env(), timeout=60)


def test_the_api_key_is_read_from_stdin_and_never_echoed(tmp_path):
    import yaml

    config = tmp_path / "config.yaml"
    result = configure_process(config, "--host", "http://127.0.0.1:9200", "--id", "kid", "--api-key", "-",
                               stdin="s3cret-from-a-file\n")
    assert result.returncode == 0, result.stderr
    assert "s3cret-from-a-file" not in result.stdout + result.stderr
    profile = yaml.safe_load(config.read_text())["profiles"]["default"]
    assert profile["api_key"] == "s3cret-from-a-file" and profile["id"] == "kid"


def test_an_empty_stdin_for_the_api_key_is_refused_and_nothing_written(tmp_path):
    config = tmp_path / "config.yaml"
    result = configure_process(config, "--id", "kid", "--api-key", "-", stdin="")
    assert result.returncode == 2 and "empty api_key" in result.stderr and not config.exists()


def test_configure_sets_the_margin_and_undoes_insecure(tmp_path):
    import yaml

    config = tmp_path / "config.yaml"
    assert configure_process(config, "--host", "https://es:9200", "--insecure", "--session-margin", "6h").returncode == 0
    profile = yaml.safe_load(config.read_text())["profiles"]["default"]
    assert profile["verify_certs"] is False and profile["session_margin"] == "6h"
    assert configure_process(config, "--no-insecure").returncode == 0
    profile = yaml.safe_load(config.read_text())["profiles"]["default"]
    assert "verify_certs" not in profile and profile["host"] == "https://es"  # verifies again; the rest kept
    bad = configure_process(config, "--session-margin", "a day")
    assert bad.returncode == 2 and yaml.safe_load(config.read_text())["profiles"]["default"] == profile


# ---------------------------------------------------------------- times and csv

@pytest.mark.parametrize("command", [["logs"], ["sessions"]])
def test_help_says_a_time_without_a_zone_is_utc(capsys, command):
    options = help_sections(capsys, *command)["Options"]
    since = options[options.index("--since"):options.index("--until")]
    assert "UTC unless it names a zone" in " ".join(since.split())


@pytest.mark.parametrize("lead", ["\t", "\r", "=", "+", "-", "@"])
def test_csv_cells_that_a_spreadsheet_would_run_are_text(lead):
    import csv

    stream = io.StringIO()
    record = {**ROWS[0], "latest_message": f"{lead}=HYPERLINK(\"http://evil\")"}
    print_records("csv", COLUMNS, [record], stream=stream)
    row = next(csv.DictReader(io.StringIO(stream.getvalue())))
    # after a leading tab or CR the `=` starts a cell of its own in a tab-separated reading: defused too
    after = "'" if lead in ("\t", "\r") else ""
    assert row["latest_message"] == "'" + lead + after + "=HYPERLINK(\"http://evil\")"
    assert row["session_id"] == SESSION_IDS[0]  # ordinary cells untouched
