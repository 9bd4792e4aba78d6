"""What every part of the harness shares: versions, the error type, where things live."""

from __future__ import annotations

import os
from pathlib import Path

# Newest versions served by Maven Central when this was written.
DEFAULT_VERSION = "9.5.4"
TEST_VERSIONS = ("8.19.21", "9.5.4")


class ESSandboxError(RuntimeError):
    """A node could not be fetched, started, reached or stopped."""


def cache_root() -> Path:
    env = os.environ.get("ORX_ES_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "orx-elastic" / "elasticsearch"


def state_path() -> Path:
    """Where `start` records the running sandbox (ORX_ES_SANDBOX_STATE lets tests keep their own)."""
    env = os.environ.get("ORX_ES_SANDBOX_STATE")
    if env:
        return Path(env).expanduser()
    return cache_root() / "sandbox" / "state.json"


def major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        raise ESSandboxError(f"not an Elasticsearch version: {version!r}") from None
