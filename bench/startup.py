#!/usr/bin/env python3
"""Startup time of `orx-elastic --help` and of a completion request, against `python -c "import click"`.

    .venv/bin/python bench/startup.py [-n 20]

Each command runs N times, interleaved (one of each per round, so drift hits all alike);
the medians are compared to the floor, a bare interpreter importing click. Target: within 1.3x.
Completion requests measured: `orx-elastic completion --profiles` (what the scripts run for
--profile) and the bash completion function end to end (bash sources the script and completes
`orx-elastic --profile <TAB>`, which runs the former).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import interleaved_medians, print_ratios

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="runs of each command (default 20)")
    args = parser.parse_args()
    import common  # the .pyc files a `pip install` writes (this machine sets PYTHONDONTWRITEBYTECODE)

    common.compile_bytecode()

    python = sys.executable
    entry = Path(python).parent / "orx-elastic"
    tool = [str(entry)] if entry.exists() else [python, "-m", "elastic_cli"]
    bash = shutil.which("bash")

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        sys.path.insert(0, str(ROOT))
        from elastic_cli.config.file import save_profile

        for name in ("default", "prod", "staging"):
            save_profile(config, name, {"host": f"https://{name}.example.com", "port": 9243})
        env = {**os.environ, "ORX_ELASTIC_CONFIG": str(config),
               "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

        commands = {
            'python -c "import click" (floor)': [python, "-c", "import click"],
            "orx-elastic --help": [*tool, "--help"],
            "orx-elastic completion --profiles": [*tool, "completion", "--profiles"],
        }
        if bash:
            script = ('source "$1"; COMP_WORDS=(orx-elastic --profile ""); COMP_CWORD=2; _orx_elastic; '
                      'printf "%s\\n" "${COMPREPLY[@]}"')
            commands["bash: orx-elastic --profile <TAB>"] = [bash, "--norc", "--noprofile", "-c", script, "bash",
                                                             str(ROOT / "completions" / "orx-elastic.bash")]
        for argv in commands.values():  # warm the page cache and .pyc files; check each works
            result = subprocess.run(argv, capture_output=True, env=env)
            if result.returncode != 0:
                print(f"failed: {argv}\n{result.stderr.decode()}", file=sys.stderr)
                return 1

        medians = interleaved_medians({name: (argv, env) for name, argv in commands.items()}, args.n)

    print_ratios(medians, TARGET, "command", f"{args.n} runs each, interleaved; python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
