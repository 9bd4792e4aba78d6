"""The last known shapes of a cluster's indices (from `_field_caps`), kept in the user's cache directory.

A lookup plans its search from them and sends it while a fresh `_field_caps` answer is on its way;
the search is only used when the fresh answer plans exactly the same requests, so a stale file
costs a round trip, never a wrong answer. Keyed by the cluster's URL, the key id (never the secret),
the patterns and the field names asked; holds index names and field names only. A file that cannot
be read or parsed is ignored; one that cannot be written is not an error.

The cache is only ever a small regular file: anything else at its path (a FIFO, which would block a
read forever; a symlink, to `/dev/zero` say; a device; a file larger than `MAX_BYTES`) is ignored
without being read, and the next save replaces it with a regular file (the rename replaces the
directory entry, never what a symlink points to).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from elastic_cli.search.analysis import KINDS
from elastic_cli.search.fields import FieldPolicy, IndexShape

if TYPE_CHECKING:
    from elastic_cli.config.settings import Settings

FORMAT = 3  # 2: with how each index analyses a marked line; 3: judged from several contexts (2 from one line)
# far above what any cluster's shapes take (about 100 bytes an index): a larger file is not ours
MAX_BYTES = 4 * 1024 * 1024
# never wait on a FIFO's writer, never follow a symlink (the cache writes regular files only)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/orx-elastic/shapes, else ~/.cache/orx-elastic/shapes (LOCALAPPDATA on Windows)."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    root = Path(base) if base else Path.home() / ".cache"
    return root / "orx-elastic" / "shapes"


class ShapeCache:
    """One cache file: the shapes one key saw for one set of patterns on one cluster."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def for_search(cls, url: str, key_id: str | None, patterns: Sequence[str], policy: FieldPolicy,
                   directory: Path | None = None) -> ShapeCache:
        identity = json.dumps([url, key_id or "", list(patterns), policy.fields_to_ask(), policy.time_explicit,
                               policy.level_explicit])
        name = hashlib.sha256(identity.encode()).hexdigest()[:32] + ".json"
        return cls((directory or cache_dir()) / name)

    @classmethod
    def for_settings(cls, settings: Settings, patterns: Sequence[str], policy: FieldPolicy) -> ShapeCache | None:
        """The cache of the configured cluster and key for `patterns` (None when the key's id is
        unreadable: the client then says what is wrong)."""
        from elastic_cli.config.settings import split_api_key

        try:
            key_id = split_api_key(settings.id, settings.api_key)[0]
        except Exception:  # noqa: BLE001 — the key is unreadable: the client says so; no cache
            return None
        return cls.for_search(settings.url, key_id, patterns, policy) if key_id else None

    def load(self) -> list[IndexShape] | None:
        """The shapes last saved, or None (no file, unreadable, or not what this version writes)."""
        try:
            raw = read_small_regular_file(self.path, MAX_BYTES)
            if raw is None:
                return None
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return None
            shapes = []
            for index, message_type, time_field, level_fields, message_terms in data["shapes"]:
                if not (isinstance(index, str) and _str_or_none(message_type) and _str_or_none(time_field)
                        and isinstance(level_fields, list) and all(isinstance(f, str) for f in level_fields)
                        and (message_terms is None or message_terms in KINDS)):
                    return None
                shapes.append(IndexShape(index, message_type, time_field, tuple(level_fields), message_terms))
            return shapes
        except Exception:  # noqa: BLE001 — a corrupt or unreadable cache is no cache
            return None

    def save(self, shapes: Sequence[IndexShape]) -> None:
        """Write atomically (0600); never raises."""
        data = {"format": FORMAT, "shapes": [[s.index, s.message_type, s.time_field, list(s.level_fields),
                                              s.message_terms] for s in shapes]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".shapes-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, separators=(",", ":"))
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except Exception:  # noqa: BLE001 — a read-only home must not fail a lookup
            pass


def read_small_regular_file(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of `path` when it is a regular file (not a symlink) of at most `max_bytes`, else
    None. Decided on the opened descriptor (what is read is what was checked), and read with a cap
    (a file that grows while read is refused too). OSError when it cannot be opened."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                return None
        return b"".join(chunks)
    finally:
        os.close(fd)


def _str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)
