"""README's pictures: the real output of `check`, `sessions`, `logs` and `shows` on the sandbox node.

The commands are the quick start's path (README, "What you see"), run as a user on a terminal 100 columns
wide would see them (`-o table --color always`, COLUMNS=100, stderr and stdout in one stream) against the
sample dated minutes ago. Each run is kept as `docs/pictures/NAME.ansi` (the transcript, colours included);
`NAME.svg` and README's text block are rendered from it. `scripts/gen-docs --pictures` runs them again;
`scripts/gen-docs --check` compares the SVGs and README with the transcripts, and
`tests/integration/test_readme.py` compares a fresh run with each transcript, modulo what varies between
runs (ids, tokens, times, the port, the key id, paths, durations).

Only the standard library at import time; `rich` (the tool's own dependency) where an SVG is drawn.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Tuple

from es_sandbox.sample_data import SampleSessions

ROOT = Path(__file__).resolve().parent.parent
PICTURES = ROOT / "docs" / "pictures"
WIDTH = 100
PROFILE = "sandbox"
# name -> the command as the quick start prints it ({token}: the recent sample's first session)
COMMANDS: List[Tuple[str, List[str]]] = [
    ("check", ["check"]),
    ("sessions", ["sessions", "--since", "7d"]),
    ("logs", ["logs", "{token}"]),
    ("shows", ["shows", "{token}"]),
]


def shown_argv(name: str, sessions: SampleSessions) -> List[str]:
    """The command line the picture shows (without the program name)."""
    args = dict(COMMANDS)[name]
    return [a.format(token=sessions.token) for a in args] + ["--profile", PROFILE]


def run(name: str, sessions: SampleSessions, env: Mapping[str, str]) -> str:
    """The transcript of one command: `$ orx-elastic ...` and what a 100-column terminal shows."""
    argv = shown_argv(name, sessions)
    environ = {k: v for k, v in env.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")}
    environ["COLUMNS"] = str(WIDTH)
    result = subprocess.run([sys.executable, "-m", "elastic_cli", *argv, "-o", "table", "--color", "always"],
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"orx-elastic {shlex.join(argv)} exited {result.returncode}:\n{result.stdout}")
    return f"$ orx-elastic {shlex.join(argv)}\n{result.stdout.rstrip()}\n"


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def plain(ansi: str) -> str:
    return _ANSI.sub("", ansi)


# What differs from one run to the next, and stands for it in the comparison.
_VARIES = [
    (re.compile(r"[0-9a-z]{1,13}\.-?[0-9a-z]{1,13}\.[0-9a-z]{1,13}\.[1-9A-HJ-NP-Za-km-z]{32,50}"), "TOKEN"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z"), "TIME"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "DATE"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(?:\.\d{3})?\b"), "CLOCK"),
    (re.compile(r"\b\d{18,20}\b"), "SESSION"),
    (re.compile(r"\b127\.0\.0\.1:\d+"), "HOST"),
    (re.compile(r"\(id [A-Za-z0-9_-]{20}\)"), "(id KEY)"),
    (re.compile(r"\S*/[^/\s]+\.ya?ml\b"), "CONFIG"),
    (re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s)\b"), "DURATION"),
]


def normalized(text: str) -> str:
    """The transcript's words, with what varies between runs replaced and the line breaks (which follow
    the lengths of what varies) made single spaces."""
    text = plain(text)
    for pattern, stand_in in _VARIES:
        text = pattern.sub(stand_in, text)
    return " ".join(text.split())


def difference(committed: str, now: str) -> str:
    """Where two transcripts differ, word by word after `normalized` (for a test's message)."""
    import difflib

    return "\n".join(difflib.unified_diff(normalized(committed).split(), normalized(now).split(), "committed",
                                           "now", lineterm="", n=3))


def svg(name: str, ansi: str) -> str:
    """The picture of a transcript, marked with the transcript's hash (the check compares it)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(record=True, width=WIDTH, force_terminal=True, color_system="truecolor", file=io.StringIO())
    console.print(Text.from_ansi(ansi.rstrip("\n")), soft_wrap=True)
    drawn = console.export_svg(title=f"orx-elastic {name}")
    return f"<!-- rendered from {name}.ansi sha256:{digest(ansi)} -->\n{drawn}"


def digest(ansi: str) -> str:
    return hashlib.sha256(ansi.encode("utf-8")).hexdigest()


_BLOCK = re.compile(r"(<!-- pictures -->\n)(?P<body>.*?)(<!-- end pictures -->)", re.S)
CAPTIONS = {
    "check": "`check` judges the latest session that logged errors",
    "sessions": "`sessions` lists the week's sessions with error lines",
    "logs": "`logs` prints one session's error lines, at their offsets in the replay",
    "shows": "`shows` says which lines each OpenReplay generation shows, and why not",
}


def readme_block(transcripts: Mapping[str, str]) -> str:
    parts = []
    for name, _ in COMMANDS:
        text = "\n".join(line.rstrip() for line in plain(transcripts[name]).rstrip("\n").splitlines())
        parts.append(f"{CAPTIONS[name]}:\n\n![{plain(transcripts[name]).splitlines()[0]}](docs/pictures/{name}.svg)\n\n"
                     f"<details><summary>as text</summary>\n\n```console\n{text}\n```\n\n</details>\n")
    return "\n".join(parts)


def render_readme(readme: str, transcripts: Mapping[str, str]) -> str:
    """README with the block between `<!-- pictures -->` and `<!-- end pictures -->` rendered."""
    return _BLOCK.sub(lambda m: m.group(1) + readme_block(transcripts) + m.group(3), readme)


def committed() -> Dict[str, str]:
    return {name: (PICTURES / f"{name}.ansi").read_text(encoding="utf-8") for name, _ in COMMANDS}


def stale_svgs(transcripts: Mapping[str, str]) -> List[str]:
    """The pictures not rendered from the transcript they sit beside."""
    stale = []
    for name, ansi in transcripts.items():
        path = PICTURES / f"{name}.svg"
        head = path.read_text(encoding="utf-8").split("\n", 1)[0] if path.exists() else ""
        if head != f"<!-- rendered from {name}.ansi sha256:{digest(ansi)} -->":
            stale.append(str(path.relative_to(ROOT)))
    return stale


def prepare(state: Mapping[str, str], sessions: SampleSessions, config: Path) -> Tuple[Dict[str, str], str]:
    """Profile `sandbox` in `config` holding a new read-only key for the node (as the quick start makes
    it); returns the environment the commands run in and the key's id, which the caller invalidates
    (by id: a key of the same name may be the user's own quick start's)."""
    import json

    from es_sandbox import quickstart

    env = {k: v for k, v in os.environ.items() if not k.startswith("ORX_ELASTIC_")}
    env.update(ORX_ELASTIC_CONFIG=str(config), ORX_ELASTIC_PASSWORD=state["password"])
    create = quickstart.steps(state, sessions)[0]
    made = subprocess.run([sys.executable, "-m", "elastic_cli", *create, "-o", "json"], env=env,
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        raise RuntimeError(f"create-key failed (exit {made.returncode}): {made.stderr}")
    env.pop("ORX_ELASTIC_PASSWORD")
    return env, json.loads(made.stdout)["id"]


def invalidate(state: Mapping[str, str], key_id: str) -> None:
    from es_sandbox import sandbox

    sandbox.admin_of(state).request("DELETE", "/_security/api_key", {"ids": [key_id]}, timeout=30)
