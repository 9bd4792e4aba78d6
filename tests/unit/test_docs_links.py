"""README.md and docs/*.md hold together (issue 39's split): every relative link reaches a file and, with
`#anchor`, a heading of it (GitHub's slugs); every page of docs/ is linked from README; and `.ci/run` runs the
test command README's Development section gives."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            found.add(slug(line.lstrip("#")))
    return found


def prose(path: Path) -> str:
    """The page without its fenced blocks (code is not linked)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_reaches_a_file_and_heading(page):
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https://, mailto:
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        assert path.exists(), f"{page.name}: {target} names no file"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{page.name}: {target}: no such heading in {path.name}"


def test_slug_follows_githubs_rules():
    assert slug("Keeping the api_key out of the config file") == "keeping-the-api_key-out-of-the-config-file"
    assert slug("create-key, keys") == "create-key-keys"
    assert slug("How `shows` asks") == "how-shows-asks"


def test_readme_links_every_page_of_docs():
    readme = prose(ROOT / "README.md")
    for page in PAGES[1:]:
        assert f"(docs/{page.name}" in readme, f"README does not link docs/{page.name}"


def test_ci_runs_the_test_command_readme_gives():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Development"):]
    block = section[section.index("```") + 3:]
    command = block[: block.index("```")].strip().splitlines()[-1]
    assert shlex.split(command)[:3] == ["python", "-m", "pytest"], command
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci[-1] == f"exec {command}", ci[-1]
