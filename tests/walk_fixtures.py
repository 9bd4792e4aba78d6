"""Fixtures for tests of the pager on a fake cluster."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_slice(monkeypatch):
    """Import it into a test module (autouse): walks there are unsliced whatever the machine's load.
    Slicing is chosen from how long opening a point in time took, and a busy machine can take 30 ms
    even for a fake (the sliced walk has its own test, with `slices` given)."""
    from elastic_cli.search import pager

    monkeypatch.setattr(pager, "SLICE_FROM_SECONDS", float("inf"))
