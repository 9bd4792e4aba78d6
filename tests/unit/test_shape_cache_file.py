"""The shape cache is only ever a small regular file: a FIFO, a symlink (to /dev/zero or to a
good cache file), a device or an oversized file at its path is ignored without being read, and the
next save puts a regular file there."""

from __future__ import annotations

import os
import stat

import pytest
from elastic_cli.search import shape_cache
from elastic_cli.search.fields import FieldPolicy, IndexShape
from elastic_cli.search.shape_cache import ShapeCache

SHAPES = [IndexShape("logs-a", "text", "utc_time", ("tags",))]


@pytest.fixture
def cache(tmp_path) -> ShapeCache:
    return ShapeCache.for_search("http://es:9200", "key-id", ["*log*"], FieldPolicy(), directory=tmp_path)


def assert_saved_as_regular_file(cache: ShapeCache) -> None:
    cache.save(SHAPES)
    assert stat.S_ISREG(os.lstat(cache.path).st_mode)
    assert cache.load() == SHAPES


def test_a_fifo_in_place_of_the_cache_is_ignored_not_waited_on(cache):
    os.mkfifo(cache.path)
    # a writer holds the FIFO open and writes nothing: a blocking read would wait forever
    writer = os.open(cache.path, os.O_RDWR)
    try:
        assert cache.load() is None
    finally:
        os.close(writer)
    assert_saved_as_regular_file(cache)


def test_a_symlink_to_dev_zero_is_ignored_unread(cache, monkeypatch):
    read = []
    real_read = os.read
    monkeypatch.setattr(shape_cache.os, "read", lambda fd, n: read.append(n) or real_read(fd, n))
    cache.path.symlink_to("/dev/zero")
    assert cache.load() is None
    assert read == []  # not one byte of it
    monkeypatch.undo()
    assert_saved_as_regular_file(cache)
    assert os.path.exists("/dev/zero") and stat.S_ISCHR(os.stat("/dev/zero").st_mode)  # the target untouched


def test_a_symlink_to_a_good_cache_file_is_not_followed(cache, tmp_path):
    elsewhere = ShapeCache(tmp_path / "elsewhere.json")
    elsewhere.save(SHAPES)
    assert elsewhere.load() == SHAPES
    cache.path.symlink_to(elsewhere.path)
    assert cache.load() is None
    cache.save([])
    assert elsewhere.load() == SHAPES  # the save replaced the link, not the file it named
    assert cache.load() == []


def test_a_file_larger_than_the_cap_is_ignored(cache, monkeypatch):
    cache.save(SHAPES)
    good = cache.path.read_bytes()
    monkeypatch.setattr(shape_cache, "MAX_BYTES", len(good))
    assert cache.load() == SHAPES  # exactly the cap: read
    with open(cache.path, "ab") as f:
        f.write(b" ")  # one byte over (valid JSON still)
    assert cache.load() is None


def test_a_device_is_ignored(tmp_path):
    assert ShapeCache(tmp_path.parent / "nothing-here" / "x.json").load() is None
    assert ShapeCache(type(tmp_path)("/dev/null")).load() is None
