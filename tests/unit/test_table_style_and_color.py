"""One table style and colour as the user controls it (issue 39), in a real pseudo-terminal at 80 and
120 columns: every table (logs, sessions, keys list, shows, config show / create-key panels) is a bold
header and columns two spaces apart, no boxes; `--color auto|always|never`, NO_COLOR, FORCE_COLOR and
CLICOLOR_FORCE decide the escapes, a pipe included (for `less -R`)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from elastic_cli.commands.global_options import color_choice

from main_in_process import no_orx_environment  # noqa: F401 — an autouse fixture
from terminal import CLI, base_env, run_in_terminal

BOX = re.compile("[│┃┌┐└┘╭╮╰╯├┤┬┴┼━┏┓┗┛]")
ESC = "\x1b["
SID = "2618307011354435587"

# each kind of table as its command prints it, in whatever terminal the snippet runs in
SNIPPETS = {
    "logs": f"""
from elastic_cli.output.writer import LogWriter
from elastic_cli.search.session_line import SessionLine
w = LogWriter("table", None, "message")
w.write_page([SessionLine({{"_index": "app", "_id": str(n), "_source": {{"message": "GET /cart 500 step %d "
    "openReplaySession.id={SID}" % n}}}}, 1706063259324 + n * 1000, "error", "app", n * 1000) for n in range(3)])
w.close()
""",
    "logs -C": """
from elastic_cli.output.writer import LogWriter
from elastic_cli.search.session_line import SessionLine
w = LogWriter("table", None, "message", context=True)
lines = [SessionLine({"_index": "app", "_id": str(n), "_source": {"message": "GET /cart step %d" % n}}, 1706063259324 + n * 1000, "error" if n in (1, 5) else "info", "app", n * 1000, context=n not in (1, 5), gap=n == 4) for n in (0, 1, 2, 4, 5)]
w.write_page(lines)
w.close()
""",
    "sessions": f"""
from elastic_cli.output import print_records
rows = [{{"session_id": "{SID}", "session_start": "2024-01-24T02:27:39.324Z", "lines": 3,
         "latest_message": "ERROR cart: payment failed after the retry budget ran out"}}]
print_records("table", list(rows[0]), rows)
""",
    "keys": """
from elastic_cli.output import print_table
print_table(("name", "id", "created", "expires", "state", "used_by_profiles"),
            [("openreplay-api-key", "UISVPqIB_BSflwxPHUm6", "2026-12-07", "never", "active", "default")])
""",
    "shows": """
from elastic_cli.output import print_records
rows = [{"time": "2024-01-24T02:28:39.324Z", "v1.20": "shown", "v1.21+": "not shown: no level field",
         "message": "ERROR cart failed"}]
print_records("table", list(rows[0]), rows)
""",
    "panel": """
from elastic_cli.output import print_panel
print_panel("profile default", [("host", "https://es.example.com", "flag"), ("id", "(not set)", "default")])
""",
}


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("kind", sorted(SNIPPETS))
def test_every_table_has_the_one_style(kind, columns):
    screen = run_in_terminal(["-c", SNIPPETS[kind]], columns, program=[sys.executable])
    assert screen.exit_code == 0, screen.text
    lines = [line for line in screen.lines if line.strip()]
    assert not BOX.search(screen.text), f"{kind} drew a box at {columns} columns:\n{screen.text}"
    assert all(len(line) <= columns for line in lines), screen.text
    header = lines[0]
    if kind == "panel":
        assert header == "profile default" and lines[1].split() == ["host", "https://es.example.com", "flag"]
        assert lines[1].startswith("  host  ") and lines[2].index("(not set)") == lines[1].index("https://")
        return
    titles = header.split()
    assert re.fullmatch(r"\S+(  +\S+)*", header.strip()), header  # titles two spaces apart (at least)
    body = [line for line in lines[1:] if not line.startswith("──")]  # logs' date line
    starts = [header.index(t) for t in titles]
    # every value of the first line of a row starts under its title
    assert all(line[s - 1] == " " for line in body[:1] for s in starts[1:] if len(line) > s), screen.text


def test_the_tables_are_bold_only_in_colour():
    coloured = run_in_terminal(["-c", SNIPPETS["keys"]], 120, program=[sys.executable], env={"NO_COLOR": ""})
    assert f"{ESC}1m" in coloured.raw
    never = SNIPPETS["keys"].replace('"default")])', '"default")], color=False)')  # --color never
    plain = run_in_terminal(["-c", never], 120, program=[sys.executable])
    assert ESC not in plain.raw and "openreplay-api-key" in plain.raw  # no escape at all, not even bold


def config_show(*args: str, env: dict | None = None, terminal: bool = False, columns: int = 80) -> str:
    """`config show` (a table, no cluster) on a terminal or into a pipe; what it wrote."""
    command = ["--config", "/nonexistent/orx-color-test.yaml", *args, "config", "show", "-o", "table",
               "--host", "http://es.example.com"]
    environment = {"NO_COLOR": "", **(env or {})}
    if terminal:
        return run_in_terminal(command, columns, env=environment).raw
    return subprocess.run([*CLI, *command], capture_output=True, text=True, env=base_env(environment),
                          timeout=60).stdout


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("args, env, coloured", [
    ((), {}, True),  # auto on a terminal
    ((), {"NO_COLOR": "1"}, False),
    (("--color", "never"), {}, False),
    (("--no-color",), {}, False),
    (("--color", "always"), {"NO_COLOR": "1"}, True),  # the flag is the user's word for this run
], ids=["auto", "NO_COLOR", "never", "no-color", "always-beats-NO_COLOR"])
def test_colour_on_a_terminal(args, env, coloured, columns):
    raw = config_show(*args, env=env, terminal=True, columns=columns)
    assert "es.example.com" in raw and (ESC in raw) == coloured, raw


@pytest.mark.parametrize("args, env, coloured", [
    ((), {}, False),  # auto: a pipe gets text
    (("--color", "always"), {}, True),  # less -R
    ((), {"FORCE_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),  # set for this run, over a profile's NO_COLOR
    ((), {"FORCE_COLOR": "0"}, False),
    ((), {"CLICOLOR_FORCE": "1"}, True),
    ((), {"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, False),
    (("--color", "never"), {"FORCE_COLOR": "1"}, False),
], ids=["auto", "always", "FORCE_COLOR", "FORCE_COLOR-over-NO_COLOR", "FORCE_COLOR=0", "CLICOLOR_FORCE",
        "NO_COLOR-over-CLICOLOR_FORCE", "never-over-FORCE_COLOR"])
def test_colour_into_a_pipe(args, env, coloured):
    out = config_show(*args, env=env)
    assert "es.example.com" in out and (ESC in out) == coloured, out


def test_the_flag_after_the_command_too():
    out = subprocess.run([*CLI, "--config", "/nonexistent/orx-color-test.yaml", "config", "show", "-o", "table",
                          "--host", "http://es.example.com", "--color", "always"],
                         capture_output=True, text=True, env=base_env({"NO_COLOR": ""}), timeout=60).stdout
    assert ESC in out


def test_the_rule_written_plainly():
    assert color_choice(None, {}) is None  # the stream decides
    assert color_choice("auto", {"NO_COLOR": "1"}) is False
    assert color_choice("auto", {"NO_COLOR": ""}) is None  # set but empty: not set (no-color.org)
    assert color_choice(None, {"FORCE_COLOR": "false"}) is False
    assert color_choice(None, {"CLICOLOR_FORCE": "0"}) is None
    assert color_choice("never", {"FORCE_COLOR": "3"}) is False and color_choice("always", {"NO_COLOR": "1"})


@pytest.mark.parametrize("columns", [80, 120])
def test_context_lines_are_marked_apart_and_groups_separated_in_a_terminal(columns):
    screen = run_in_terminal(["-c", SNIPPETS["logs -C"]], columns, program=[sys.executable])
    rows = [line for line in screen.lines if line.strip() and not line.startswith(("──", "  GET"))][1:]
    # > on the error lines only, grep's -- where the lines do not follow each other
    assert [line if line == "--" else (line[:1], "error" in line) for line in rows] == [
        (" ", False), (">", True), (" ", False), "--", (" ", False), (">", True)], screen.text
