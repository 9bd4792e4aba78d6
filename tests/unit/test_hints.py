"""Hints name commands to run next; pasted, they act on the profile the user chose."""

from __future__ import annotations

import pytest
from elastic_cli.commands.hints import with_profile
from elastic_cli.commands.registry import COMMANDS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_in_a_hint_carries_the_profile(name):
    # `shows` and `alias` were missing from a list of names of its own: their fixes dropped --profile
    hint = f"run `orx-elastic {name} --help`"
    assert with_profile(hint, "staging") == f"run `orx-elastic --profile staging {name} --help`"


def test_a_hint_that_names_a_profile_or_no_command_is_left_as_it_is():
    assert with_profile("run `orx-elastic --profile a check`", "b") == "run `orx-elastic --profile a check`"
    assert with_profile("orx-elastic is the tool", "b") == "orx-elastic is the tool"
    assert with_profile("run `orx-elastic shows 1`", None) == "run `orx-elastic shows 1`"
