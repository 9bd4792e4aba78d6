"""Shell completion: the committed scripts are current, and bash, zsh and fish really complete with them.

The shells are run for real; a missing shell fails the test (install it: apt-get install -y zsh fish).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from elastic_cli.commands import completion_scripts
from elastic_cli.config.file import save_profile

ROOT = Path(__file__).resolve().parents[2]
COMPLETIONS = ROOT / "completions"
BASH = COMPLETIONS / "orx-elastic.bash"
ZSH = COMPLETIONS / "_orx-elastic"
FISH = COMPLETIONS / "orx-elastic.fish"
LOGS_OPTIONS = {"--since", "--until", "--all-levels", "--follow", "-f", "--output", "-o", "--host", "--ca-certs", "--help"}
FORMATS = {"table", "json", "ndjson", "csv"}
SUBCOMMANDS = {"configure", "config", "logs", "completion"}


def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; the completion tests run the real shell: apt-get install -y zsh fish")
    return path


@pytest.fixture
def env(tmp_path):
    """An environment with orx-elastic on PATH, a private HOME, and no ORX_ELASTIC_* settings."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "orx-elastic").exists():
        pytest.fail(f"orx-elastic is not installed next to {sys.executable}: pip install -e .")
    home = tmp_path / "home"
    home.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_")}
    environ.update(PATH=f"{bin_dir}{os.pathsep}{environ.get('PATH', '')}", HOME=str(home),
                   XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"))
    return environ


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "conf" / "config.yaml"
    save_profile(path, "prod", {"host": "https://prod.example.com"})
    save_profile(path, "staging", {"host": "https://staging.example.com"})
    return path


# ---------------------------------------------------------------- generated and current


@pytest.mark.parametrize("shell", completion_scripts.SHELLS)
def test_committed_script_is_current(shell):
    path = COMPLETIONS / completion_scripts.FILES[shell]
    assert path.exists(), f"{path} is missing: run scripts/gen-completions"
    assert path.read_text(encoding="utf-8") == completion_scripts.generate(shell), (
        f"{path} is stale (a command or option changed): run scripts/gen-completions and commit the result"
    )


def test_the_check_catches_an_option_added_without_regenerating():
    from elastic_cli.commands.logs import logs

    extra = click.Option(["--brand-new-option"], type=click.Choice(["alpha", "beta"]), help="Added later.")
    logs.params.append(extra)
    try:
        root = completion_scripts.build_tree()
        for shell in completion_scripts.SHELLS:
            text = completion_scripts.generate(shell, root)
            assert "--brand-new-option" in text or "'brand-new-option'" in text
            assert "alpha beta" in text or "'alpha' 'beta'" in text
            assert text != (COMPLETIONS / completion_scripts.FILES[shell]).read_text(encoding="utf-8")
        assert sorted(completion_scripts.stale(COMPLETIONS, root)) == sorted([BASH, ZSH, FISH])
    finally:
        logs.params.remove(extra)
    assert completion_scripts.stale(COMPLETIONS) == []


def test_gen_completions_check_mode_passes_on_the_committed_files():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-completions"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_tree_has_nested_groups_choices_and_paths():
    root = completion_scripts.build_tree()
    nodes = {node.key: node for node in root.walk()}
    assert {"", "config", "config show", "logs", "completion"} <= set(nodes)
    output = next(opt for opt in nodes["logs"].options if "--output" in opt.names)
    assert output.names == ("-o", "--output") and set(output.choices) == FORMATS
    kinds = {name: opt.kind for opt in nodes[""].options for name in opt.names}
    assert kinds["--config"] == "file" and kinds["--profile"] == "profile"
    assert not any("--profiles" in opt.names for opt in nodes["completion"].options), "the hidden option stays hidden"


# ---------------------------------------------------------------- the completion command


@pytest.mark.parametrize("shell", completion_scripts.SHELLS)
def test_completion_command_prints_the_committed_script(shell, env):
    result = subprocess.run(["orx-elastic", "completion", shell], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (COMPLETIONS / completion_scripts.FILES[shell]).read_text(encoding="utf-8")


def test_completion_without_a_shell_is_a_usage_error(env):
    result = subprocess.run(["orx-elastic", "completion"], capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "bash, zsh or fish" in result.stderr


def test_profiles_from_config_flag_and_env(env, config_file, tmp_path):
    by_flag = subprocess.run(["orx-elastic", "--config", str(config_file), "completion", "--profiles"],
                             capture_output=True, text=True, env=env)
    assert by_flag.returncode == 0 and by_flag.stdout.split() == ["prod", "staging"]
    by_env = subprocess.run(["orx-elastic", "completion", "--profiles"], capture_output=True, text=True,
                            env={**env, "ORX_ELASTIC_CONFIG": str(config_file)})
    assert by_env.stdout.split() == ["prod", "staging"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("profiles: [oops\n")
    for path in (broken, tmp_path / "missing.yaml"):
        quiet = subprocess.run(["orx-elastic", "--config", str(path), "completion", "--profiles"],
                               capture_output=True, text=True, env=env)
        assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


# the MCP SDK (`mcp`, an extra) and what it brings (pydantic, anyio, starlette) load only when `mcp` serves
FORBIDDEN = ("elasticsearch", "elastic_transport", "rich", "yaml", "mcp", "mcp_types", "pydantic", "anyio", "starlette")


@pytest.mark.parametrize("args", [["completion", "--profiles"], ["--help"], ["mcp", "--help"]],
                         ids=["completion-profiles", "help", "mcp-help"])
def test_fast_paths_do_not_import_the_client_or_rich(args, env, config_file):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "elastic_cli", "--config", str(config_file), *args],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert len(imported) > 10, "no -X importtime output"
    heavy = sorted(name for name in imported if name.split(".")[0] in FORBIDDEN)
    assert heavy == [], f"`orx-elastic {' '.join(args)}` imported {heavy}"


# ---------------------------------------------------------------- bash


def bash_complete(env, *words: str) -> list[str]:
    """Complete the last word of `words` with the bash script, as bash would after TAB."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; '
              '_orx_elastic; printf "%s\\n" "${COMPREPLY[@]}"')
    result = subprocess.run([_shell("bash"), "--norc", "--noprofile", "-c", script, "bash", str(BASH), "orx-elastic", *words],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_bash_registers_the_function(env):
    result = subprocess.run([_shell("bash"), "--norc", "-c", f'source "{BASH}"; complete -p orx-elastic'],
                            capture_output=True, text=True, env=env)
    assert "-F _orx_elastic orx-elastic" in result.stdout, result.stderr


def test_bash_subcommands(env):
    assert bash_complete(env, "lo") == ["logs"]
    assert set(bash_complete(env, "")) >= SUBCOMMANDS
    assert set(bash_complete(env, "config", "")) == {"path", "show"}
    assert bash_complete(env, "--profile", "x", "-v", "config", "sh") == ["show"]


def test_bash_options(env):
    assert set(bash_complete(env, "logs", "-")) >= LOGS_OPTIONS
    assert set(bash_complete(env, "logs", "--al")) == {"--all", "--all-levels"}
    assert {"--config", "--profile", "-V", "--version", "-h"} <= set(bash_complete(env, "-"))
    assert "--reveal" in bash_complete(env, "config", "show", "--r")


def test_bash_choices(env):
    assert set(bash_complete(env, "logs", "-o", "")) == FORMATS
    assert bash_complete(env, "logs", "--output", "nd") == ["ndjson"]
    assert bash_complete(env, "logs", "--output", "=", "nd") == ["ndjson"]   # bash splits --output=nd at '='
    assert bash_complete(env, "logs", "--output=nd") == ["--output=ndjson"]   # COMP_WORDBREAKS without '='
    assert set(bash_complete(env, "config", "show", "-o", "")) == {"table", "json"}
    assert set(bash_complete(env, "completion", "")) == {"bash", "zsh", "fish"}
    # an option's value is not taken for a subcommand: here "logs" is a profile name, so "co" is a subcommand
    assert set(bash_complete(env, "--profile", "logs", "co")) == {"configure", "config", "completion"}


def test_bash_profiles(env, config_file):
    assert bash_complete(env, "--config", str(config_file), "--profile", "") == ["prod", "staging"]
    assert bash_complete(env, "--config", "=", str(config_file), "--profile", "st") == ["staging"]
    assert bash_complete({**env, "ORX_ELASTIC_CONFIG": str(config_file)}, "--profile", "p") == ["prod"]
    assert bash_complete(env, "--profile", "") == []   # no config file: nothing, and no error


def test_bash_paths(env, tmp_path):
    (tmp_path / "ca-bundle.pem").write_text("")
    assert bash_complete(env, "--config", str(tmp_path / "ca-b")) == [str(tmp_path / "ca-bundle.pem")]
    assert bash_complete(env, "logs", "--ca-certs", str(tmp_path / "ca-")) == [str(tmp_path / "ca-bundle.pem")]


# ---------------------------------------------------------------- zsh

# compadd, _describe and _files only work inside a completion widget; these stand-ins print
# what the script offers, so the real script runs in real zsh, loaded by compinit from fpath.
ZSH_HARNESS = r"""
fpath=("$1" $fpath)
autoload -U compinit && compinit -u -D
[[ $_comps[orx-elastic] == _orx-elastic ]] || { print -u2 "compinit did not register _orx-elastic"; exit 3 }
compadd() {
    local -a skip=(-P -S -p -s -J -V -X -x -o -d -M -F -W -E -I -i -r -R -D -O -A)
    while [[ $1 == -* && $1 != -- ]]; do (( ${skip[(Ie)$1]} )) && shift; shift; done
    [[ $1 == -- ]] && shift
    print -rl -- "$@"
}
_describe() { local -a entries; entries=("${(@P)${@[-1]}}"); print -rl -- "${entries[@]%%:*}" }
_files() { print -r -- "<files>" }
compset() { [[ $1 == -P ]] && PREFIX=${PREFIX#*=}; return 0 }
shift
words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
_orx-elastic
"""


def zsh_complete(env, *words: str) -> list[str]:
    result = subprocess.run([_shell("zsh"), "-f", "-c", ZSH_HARNESS, "zsh", str(COMPLETIONS), "orx-elastic", *words],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    prefix = words[-1].split("=", 1)[1] if words[-1].startswith("--") and "=" in words[-1] else words[-1]
    return [line for line in result.stdout.splitlines() if line.startswith(prefix) or line == "<files>"]


def test_zsh_subcommands(env):
    assert zsh_complete(env, "lo") == ["logs"]
    assert set(zsh_complete(env, "")) >= SUBCOMMANDS
    assert set(zsh_complete(env, "config", "")) == {"path", "show"}
    assert zsh_complete(env, "--profile", "x", "config", "sh") == ["show"]


def test_zsh_options_and_choices(env):
    assert set(zsh_complete(env, "logs", "-")) >= LOGS_OPTIONS
    assert set(zsh_complete(env, "logs", "-o", "")) == FORMATS
    assert zsh_complete(env, "logs", "--output=nd") == ["ndjson"]
    assert set(zsh_complete(env, "completion", "")) == {"bash", "zsh", "fish"}
    assert zsh_complete(env, "--config", "") == ["<files>"]
    assert zsh_complete(env, "logs", "--ca-certs", "") == ["<files>"]


def test_zsh_profiles(env, config_file):
    assert zsh_complete(env, "--config", str(config_file), "--profile", "") == ["prod", "staging"]
    assert zsh_complete({**env, "ORX_ELASTIC_CONFIG": str(config_file)}, "--profile", "") == ["prod", "staging"]


# ---------------------------------------------------------------- fish


def fish_complete(env, line: str) -> list[str]:
    """`complete -C` prints what fish would offer for `line`, one candidate a line, tab, description."""
    script = 'source $argv[1]; complete -C $argv[2]'
    result = subprocess.run([_shell("fish"), "--no-config", "-c", script, str(FISH), line],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return [row.split("\t", 1)[0] for row in result.stdout.splitlines() if row]


def test_fish_subcommands(env):
    assert fish_complete(env, "orx-elastic lo") == ["logs"]
    assert set(fish_complete(env, "orx-elastic ")) >= SUBCOMMANDS
    assert set(fish_complete(env, "orx-elastic config ")) == {"path", "show"}
    assert fish_complete(env, "orx-elastic --profile x config sh") == ["show"]


def test_fish_options_and_choices(env, tmp_path):
    assert set(fish_complete(env, "orx-elastic logs -")) | {"-f", "-o"} >= LOGS_OPTIONS and \
        {"--since", "--all-levels", "--output"} <= set(fish_complete(env, "orx-elastic logs --"))
    assert set(fish_complete(env, "orx-elastic logs -o ")) == FORMATS
    assert set(fish_complete(env, "orx-elastic logs --output=")) == {f"--output={f}" for f in FORMATS}
    assert set(fish_complete(env, "orx-elastic completion ")) == {"bash", "zsh", "fish"}
    (tmp_path / "ca-bundle.pem").write_text("")
    assert fish_complete(env, f"orx-elastic --config {tmp_path}/ca-b") == [f"{tmp_path}/ca-bundle.pem"]


def test_fish_profiles(env, config_file):
    assert fish_complete(env, f"orx-elastic --config {config_file} --profile ") == ["prod", "staging"]
    assert fish_complete({**env, "ORX_ELASTIC_CONFIG": str(config_file)}, "orx-elastic --profile s") == ["staging"]


# ---------------------------------------------------------------- profile names without yaml

SIMPLE_FILES = [
    "",
    "# only a comment\n",
    "profiles:\n",
    "default_profile: prod\nprofiles:\n  prod:\n    host: https://a\n  staging:\n    host: https://b\n    port: 9243\n",
    "profiles:\n    prod:\n        host: https://a   # a comment\n\n    dev-2.eu:   # another\n        port: 1\n",
    "profiles:\n  prod:\n    host: |\n      https://a\n  empty:\ndefault_profile: empty\n",
]
ODD_FILES = [  # the fast reader hands these to the YAML loader
    "profiles: {prod: {host: https://a}}\n",
    "profiles:\n  'quoted name':\n    host: https://a\n",
    "profiles:\n  prod: {host: https://a}\n",
    "profiles:\n  prod:\n    host: https://a\n profs:\n",
    "---\nprofiles:\n  prod:\n",
    "profiles:\n\tprod:\n",
    "profiles:\n  a:\n  a:\n",
]


@pytest.mark.parametrize("text", SIMPLE_FILES + ODD_FILES)
def test_profile_names_without_yaml_agree_with_the_loader(text, tmp_path, env):
    from elastic_cli.commands.completion import simple_profile_names
    from elastic_cli.config.file import load_config_file
    from elastic_cli.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text(text)
    path.chmod(0o600)
    fast = simple_profile_names(text)
    assert (fast is None) == (text in ODD_FILES)
    try:
        expected = list(load_config_file(path).profiles)
    except ConfigError:
        expected = []
    if fast is not None:
        assert fast == expected
    shown = subprocess.run(["orx-elastic", "--config", str(path), "completion", "--profiles"],
                           capture_output=True, text=True, env=env)
    assert shown.stdout.splitlines() == expected


def test_profile_names_of_a_saved_file_need_no_yaml(config_file):
    from elastic_cli.commands.completion import simple_profile_names

    save_profile(config_file, "with.dots-and_more", {"port": 9243}, make_default=True)
    assert simple_profile_names(config_file.read_text()) == ["prod", "staging", "with.dots-and_more"]
