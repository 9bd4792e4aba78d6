"""The docs' settings and exit-code tables are what the code says (scripts/gen-docs writes them):
docs/settings.md holds the settings, docs/commands.md the exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from elastic_cli.config.reference import render
from elastic_cli.config.settings import KEYS
from elastic_cli.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SETTINGS = ROOT / "docs" / "settings.md"
COMMANDS = ROOT / "docs" / "commands.md"


def test_doc_tables_are_generated_from_the_code():
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        assert render(text) == text, f"{path.name} is stale: run scripts/gen-docs and commit the result"


def test_every_setting_and_exit_code_is_in_the_docs():
    settings = SETTINGS.read_text(encoding="utf-8")
    assert "<!-- generated: settings -->" in settings
    for key in KEYS:
        assert f"| {key.name} |" in settings and f"`{key.env}`" in settings
    commands = COMMANDS.read_text(encoding="utf-8")
    assert "<!-- generated: exit-codes -->" in commands
    for code in EXIT_CODES:
        assert f"| {code} |" in commands


def test_the_check_notices_a_setting_added_without_regenerating(tmp_path):
    stale = SETTINGS.read_text(encoding="utf-8").replace("| project_id |", "| project |")
    assert render(stale) != stale
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-docs"), "--check"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr  # the committed docs are current
