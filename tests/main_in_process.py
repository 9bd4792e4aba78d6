"""The CLI's entry point run in this process, as unit tests use it: no ORX_ELASTIC_* or NO_COLOR
from the developer's shell, and (exit code, stdout, stderr) back."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def no_orx_environment(monkeypatch):
    """Import it into a test module (autouse): the shell's ORX_ELASTIC_* never reaches a test."""
    for name in list(os.environ):
        if name.startswith("ORX_ELASTIC_") or name in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE"):
            monkeypatch.delenv(name)


def run(capsys, *args):
    """`orx-elastic ARGS` through `main`: its exit code, stdout and stderr."""
    from elastic_cli.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err
