"""Hints name commands to run next (`next: orx-elastic check`); run as printed, they must act on
the profile the user chose, not the default one (pure: text in, text out)."""

from __future__ import annotations

import re
import shlex

from elastic_cli.commands.registry import NAMES

# `orx-elastic <command> ...` up to the end of the quoted command or the text; the names are the
# registry's, so a command added there (shows, alias, ...) is recognised here too
_COMMAND = re.compile(r"\borx-elastic (?=(?:%s)\b)([^`'\n]*)" % "|".join(map(re.escape, NAMES)))


def with_profile(text: str, profile: str | None) -> str:
    """Every `orx-elastic COMMAND` in `text` with `--profile NAME` after the program name, unless
    that command already names a profile; `profile` None (the default one) changes nothing."""
    if not profile or "orx-elastic " not in text:
        return text
    flag = f"--profile {shlex.quote(profile)} "

    def add(match: re.Match[str]) -> str:
        rest = match.group(1)
        return match.group(0) if "--profile" in rest else "orx-elastic " + flag + rest

    return _COMMAND.sub(add, text)
