"""OpenReplay v1.21+'s index `logs` is global to a node: the modules that make one (an index or an alias)
remove it with this, so the next module starts without it."""

from __future__ import annotations


def drop_logs(admin) -> None:
    """No index or alias `logs` on the node."""
    if admin.indices.exists_alias(name="logs"):
        for index in admin.indices.get_alias(name="logs"):
            admin.indices.delete_alias(index=index, name="logs")
    if admin.indices.exists(index="logs"):
        admin.indices.delete(index="logs")


def flake_id(start, shard: int) -> str:
    """An OpenReplay session id (a flake id) that starts at `start`, on shard `shard`."""
    return str(((int(start.timestamp() * 1000) - 1550000000000) << 24) | (shard << 8))
