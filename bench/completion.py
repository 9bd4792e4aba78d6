#!/usr/bin/env python3
"""TAB latency, side by side: the static scripts in completions/ against click's own completion.

    .venv/bin/python bench/completion.py [-n 30]

Contenders, each run N times interleaved (one of each per round), medians against the floor
`python -c "import click"` (target: within 1.3x, as bench/startup.py):

* static: completions/orx-elastic.bash as shipped. Subcommands and options complete in bash alone;
  `--profile <TAB>` runs `orx-elastic completion --profiles` (reads the file without yaml).
* click: click's own bash script (`_ORX_ELASTIC_COMPLETE=bash_source`), which runs the tool on every
  TAB. The tool is the installed package with a `shell_complete=` callback on --profile (set up here,
  in a temporary wrapper, so the product is measured unchanged), reading the profiles either with the
  YAML loader or with the yaml-free reader of commands/completion.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import interleaved_medians, print_ratios

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.3

CLICK_TOOL = '''
import os, sys
from click.shell_completion import CompletionItem
from elastic_cli import cli as root

def profiles(ctx, param, incomplete):
    from elastic_cli.config import file as config_file
    try:
        path = ctx.params.get("config_path") or config_file.default_config_path()
        if not path.is_file():
            return []
        if os.environ.get("BENCH_PROFILE_READER") == "yaml":
            names = list(config_file.load_config_file(path).profiles)
        else:
            from elastic_cli.commands.completion import simple_profile_names
            names = simple_profile_names(path.read_text(encoding="utf-8")) or []
    except Exception:
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]

next(p for p in root.cli.params if p.name == "profile")._custom_shell_complete = profiles
sys.argv[0] = "orx-elastic"
root.entry()
'''


def bash_tab(script: Path, function: str, words: list[str]) -> list[str]:
    """bash sources `script` and completes the last of `words` as after a TAB."""
    body = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; '
            f'COMP_POINT=${{#COMP_LINE}}; {function} orx-elastic; printf "%s\\n" "${{COMPREPLY[@]}}"')
    return ["bash", "--norc", "--noprofile", "-c", body, "bash", str(script), "orx-elastic", *words]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="runs of each (default 30)")
    args = parser.parse_args()
    import common  # the .pyc files a `pip install` writes (this machine sets PYTHONDONTWRITEBYTECODE)

    common.compile_bytecode()
    python = Path(sys.executable)
    sys.path.insert(0, str(ROOT))
    from elastic_cli.config.file import save_profile

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        config = tmp_path / "config.yaml"
        for name in ("default", "prod", "staging"):
            save_profile(config, name, {"host": f"https://{name}.example.com", "port": 9243})
        click_bin = tmp_path / "click-bin"
        click_bin.mkdir()
        tool = click_bin / "orx-elastic"
        tool.write_text(f"#!{python}\n{CLICK_TOOL}")
        tool.chmod(0o755)
        click_script = tmp_path / "click.bash"
        click_script.write_text(subprocess.run([str(tool)], env={**os.environ, "_ORX_ELASTIC_COMPLETE": "bash_source"},
                                               capture_output=True, text=True, check=True).stdout)
        base = {**os.environ, "ORX_ELASTIC_CONFIG": str(config)}
        static_env = {**base, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
        click_env = {**base, "PATH": f"{click_bin}{os.pathsep}{os.environ['PATH']}"}
        static = ROOT / "completions" / "orx-elastic.bash"
        contenders = {
            'python -c "import click" (floor)': ([str(python), "-c", "import click"], static_env),
            "static  orx-elastic lo<TAB>": (bash_tab(static, "_orx_elastic", ["lo"]), static_env),
            "static  orx-elastic logs --al<TAB>": (bash_tab(static, "_orx_elastic", ["logs", "--al"]), static_env),
            "static  orx-elastic --profile <TAB>": (bash_tab(static, "_orx_elastic", ["--profile", ""]), static_env),
            "click   orx-elastic lo<TAB>": (bash_tab(click_script, "_orx_elastic_completion", ["lo"]), click_env),
            "click   orx-elastic logs --al<TAB>": (bash_tab(click_script, "_orx_elastic_completion", ["logs", "--al"]),
                                                  click_env),
            "click   orx-elastic --profile <TAB> (yaml)": (
                bash_tab(click_script, "_orx_elastic_completion", ["--profile", ""]),
                {**click_env, "BENCH_PROFILE_READER": "yaml"}),
            "click   orx-elastic --profile <TAB> (no yaml)": (
                bash_tab(click_script, "_orx_elastic_completion", ["--profile", ""]), click_env),
        }
        for name, (argv, env) in contenders.items():  # warm caches; each must complete something
            result = subprocess.run(argv, capture_output=True, text=True, env=env)
            if result.returncode != 0 or ("floor" not in name and not result.stdout.split()):
                print(f"failed: {name}: {result.stderr}", file=sys.stderr)
                return 1
        medians = interleaved_medians(contenders, args.n)
    print_ratios(medians, TARGET, "TAB", f"{args.n} runs each, interleaved; python {sys.version.split()[0]}; "
                                         f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
