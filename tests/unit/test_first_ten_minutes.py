"""What a newcomer hits first (issue 17): options after the subcommand, one -o rule,
`check` with nothing configured, `config show` in words, no Python reprs."""

from __future__ import annotations

import io
import json
import sys

import click
import pytest
from elastic_cli.cli import cli
from elastic_cli.output import print_table

from main_in_process import no_orx_environment, run  # noqa: F401 — an autouse fixture


@pytest.fixture
def config(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    for profile, host in (("default", "http://es-default:9200"), ("dev", "http://es-dev:9200")):
        code, _, err = run(capsys, "--config", str(path), "--profile", profile, "configure", "--host", host,
                           "--id", "kid", "--api-key", "secret-value")
        assert code == 0, err
    return path


# ---------------------------------------------------------------- global options after the subcommand

def test_quiet_after_the_subcommand_is_accepted(capsys):
    code, out, err = run(capsys, "create-key", "--dry-run", "-q")
    assert code == 0, err
    assert "No such option" not in err and "POST /_security/api_key" in out


def test_profile_and_config_after_the_subcommand_choose_the_settings(capsys, config):
    code, out, err = run(capsys, "config", "show", "-o", "json", "--config", str(config), "--profile", "dev")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["profile"] == "dev" and shown["settings"]["host"]["value"] == "http://es-dev"


def test_an_option_after_the_subcommand_wins_over_the_same_before_it(capsys, config):
    code, out, _ = run(capsys, "--config", str(config), "--profile", "default", "config", "show", "-o", "json",
                       "--profile", "dev")
    assert code == 0 and json.loads(out)["profile"] == "dev"


def test_config_path_after_a_nested_subcommand(capsys, tmp_path):
    code, out, _ = run(capsys, "config", "path", "--config", str(tmp_path / "x.yaml"))
    assert code == 0 and out.strip() == str(tmp_path / "x.yaml")


@pytest.mark.parametrize("flag", ["-v", "--debug", "--no-color", "-q"])
def test_every_global_flag_is_accepted_after_the_subcommand(capsys, flag):
    code, _, err = run(capsys, "create-key", "--dry-run", flag)
    assert code == 0, err


# ---------------------------------------------------------------- one -o rule

COMMANDS_WITH_OUTPUT = [(["check"], "json"), (["config", "show"], "json"), (["keys", "list"], "json"),
                        (["keys", "rotate"], "json"), (["logs"], "ndjson")]


def output_default(path, monkeypatch, terminal):
    class Stdout(io.StringIO):
        def isatty(self):
            return terminal

    monkeypatch.setattr(sys, "stdout", Stdout())
    ctx = click.Context(cli)
    command = cli
    for name in path:
        command = command.get_command(ctx, name)
    args = ["2618307011354435587"] if path == ["logs"] else []
    return command.make_context(path[-1], args, parent=ctx).params["output"]


@pytest.mark.parametrize("path,piped", COMMANDS_WITH_OUTPUT, ids=lambda p: " ".join(p) if isinstance(p, list) else p)
def test_every_command_prints_a_table_on_a_terminal_and_json_when_piped(path, piped, monkeypatch):
    assert output_default(path, monkeypatch, terminal=True) == "table"
    assert output_default(path, monkeypatch, terminal=False) == piped


def test_config_show_piped_is_json(capsys, config):
    code, out, _ = run(capsys, "--config", str(config), "config", "show")
    assert code == 0 and json.loads(out)["profile"] == "default"


# ---------------------------------------------------------------- check before any configuration

def test_check_without_any_configuration_says_how_to_make_one(capsys, tmp_path):
    code, out, err = run(capsys, "--config", str(tmp_path / "none.yaml"), "check")
    assert code == 3 and out == ""
    assert err.count("\n") == 2  # one line, one fix
    assert "no configuration yet" in err and "refused" not in err
    assert "orx-elastic create-key" in err and "--save" in err


def test_check_with_a_host_flag_runs_the_checks(capsys, tmp_path):
    code, out, err = run(capsys, "--config", str(tmp_path / "none.yaml"), "check", "--host", "http://127.0.0.1:9",
                         "--deadline", "5", "-o", "json")
    assert code == 10
    assert [f["id"] for f in json.loads(out)][:2] == ["secret", "connect"] and "no configuration yet" not in err


# ---------------------------------------------------------------- words, not Python reprs

def test_config_show_says_not_set_and_aligns_the_sources(capsys, tmp_path):
    code, out, err = run(capsys, "--config", str(tmp_path / "c.yaml"), "--no-color", "config", "show", "-o", "table",
                         "--host", "http://es.example.com")
    assert code == 0, err
    first_panel = out[: out.index("\n\n")].splitlines()[1:]  # the panels stand apart by a blank line
    sources = {"host": "flag", "id": "default", "fingerprint": "default", "timeout": "default"}
    columns = {line.rindex(sources[line.split()[0]]) for line in first_panel if line.split()[0] in sources}
    assert len(columns) == 1, out  # the source column starts at the same place on every row
    id_line = next(line for line in out.splitlines() if line.startswith("  id "))
    assert "(not set)" in id_line
    assert "[default]" not in out and "None" not in out


def test_booleans_in_tables_are_words():
    stream = io.StringIO()
    sys_stdout, sys.stdout = sys.stdout, stream
    try:
        print_table(("name", "invalidated"), [("k1", False), ("k2", True)], color=False)
    finally:
        sys.stdout = sys_stdout
    text = stream.getvalue()
    assert "False" not in text and "True" not in text
    assert text.splitlines()[1:] == ["k1    no", "k2    yes"]
