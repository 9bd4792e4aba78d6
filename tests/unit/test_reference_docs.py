"""README's settings and exit-code tables are what the code says (scripts/gen-docs writes them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from elastic_cli.config.reference import render
from elastic_cli.config.settings import KEYS
from elastic_cli.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]


def test_readme_tables_are_generated_from_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, "README.md is stale: run scripts/gen-docs and commit the result"


def test_every_setting_and_exit_code_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key in KEYS:
        assert f"| {key.name} |" in readme and f"`{key.env}`" in readme
    for code in EXIT_CODES:
        assert f"| {code} |" in readme


def test_the_check_notices_a_setting_added_without_regenerating(tmp_path):
    stale = (ROOT / "README.md").read_text(encoding="utf-8").replace("| project_id |", "| project |")
    assert render(stale) != stale
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-docs"), "--check"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr  # the committed README is current
