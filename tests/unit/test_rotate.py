"""api_keys.rotate: the order of its steps and its rollback, with a client that keeps keys in memory.

The same rollback on a real node: tests/integration/test_create_key.py."""

from __future__ import annotations

import itertools

import pytest
from elastic_cli.keys import api_keys


class FakeSecurity:
    """The four API key calls rotate makes, over keys held in a dict (as Elasticsearch answers them)."""

    def __init__(self) -> None:
        self.keys: dict[str, dict] = {}
        self.ids = (f"new{n}" for n in itertools.count(1))

    def add(self, key_id: str, **info) -> None:
        self.keys[key_id] = {"id": key_id, "name": "openreplay-api-key", "invalidated": False, **info}

    def get_api_key(self, id: str) -> dict:
        return {"api_keys": [self.keys[id]] if id in self.keys else []}

    def create_api_key(self, name: str, role_descriptors: dict, metadata: dict, expiration: str | None = None) -> dict:
        key_id = next(self.ids)
        self.add(key_id, name=name, role_descriptors=role_descriptors, metadata=metadata)
        return {"id": key_id, "name": name, "api_key": f"secret-of-{key_id}"}

    def invalidate_api_key(self, ids: list[str]) -> dict:
        for key_id in ids:
            self.keys[key_id]["invalidated"] = True
        return {"invalidated_api_keys": ids, "previously_invalidated_api_keys": [], "error_details": []}

    def live(self) -> set[str]:
        return {key_id for key_id, info in self.keys.items() if not info["invalidated"]}


class FakeClient:
    def __init__(self) -> None:
        self.security = FakeSecurity()


class Store:
    """A profile that holds one key; `fail` names the step that raises."""

    def __init__(self, key_id: str, fail: str | None = None) -> None:
        self.saved, self.fail, self.steps = key_id, fail, []

    def _step(self, name: str) -> None:
        self.steps.append(name)
        if self.fail == name:
            raise OSError(f"{name} failed")

    def replace(self, key: api_keys.CreatedKey) -> None:
        self._step("replace")
        self.before, self.saved = self.saved, key.id

    def verify(self) -> None:
        self._step("verify")

    def restore(self) -> None:
        self._step("restore")
        self.saved = self.before


READ_LOGS = {"openreplay-role": {"cluster": [], "indices": [{"names": ["app-*"], "privileges": ["read"]}]}}


@pytest.fixture
def client() -> FakeClient:
    client = FakeClient()
    client.security.add("old", role_descriptors=READ_LOGS)
    return client


def test_rotate_saves_and_checks_the_new_key_before_invalidating_the_old(client):
    store = Store("old")
    rotation = api_keys.rotate(client, "old", store)
    assert store.steps == ["replace", "verify"] and store.saved == rotation.new.id == "new1"
    assert client.security.live() == {"new1"} and rotation.old_invalidated
    new = client.security.keys["new1"]
    assert new["role_descriptors"] == READ_LOGS and new["metadata"]["rotated_from"] == "old"
    assert rotation.notes == ()


@pytest.mark.parametrize("step", ["replace", "verify"])
def test_a_failure_after_the_new_key_invalidates_it_and_keeps_the_old_one(client, step):
    store, warnings = Store("old", fail=step), []
    with pytest.raises(OSError, match=f"{step} failed"):
        api_keys.rotate(client, "old", store, warn=warnings.append)
    assert client.security.live() == {"old"}, "the new key is invalidated, the old one untouched"
    assert store.saved == "old"
    assert ("restore" in store.steps) == (step == "verify")  # nothing to put back when the save failed


def test_keep_old_leaves_the_old_key_working_and_says_so(client):
    rotation = api_keys.rotate(client, "old", Store("old"), keep_old=True)
    assert client.security.live() == {"old", "new1"} and not rotation.old_invalidated
    assert "keys invalidate old" in rotation.notes[0]


def test_a_broader_old_key_is_narrowed_to_read_unless_asked(client):
    broad = {"r": {"cluster": ["all"], "indices": [{"names": ["app-*"], "privileges": ["all"]}]}}
    client.security.add("broad", role_descriptors=broad)
    narrowed = api_keys.rotate(client, "broad", Store("broad"))
    assert client.security.keys[narrowed.new.id]["role_descriptors"] == READ_LOGS
    assert any("only `read` on app-*" in note for note in narrowed.notes)
    client.security.add("broad2", role_descriptors=broad)
    kept = api_keys.rotate(client, "broad2", Store("broad2"), keep_privileges=True)
    assert client.security.keys[kept.new.id]["role_descriptors"] == broad and kept.notes == ()


def test_an_unknown_old_key_creates_nothing(client):
    from elastic_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="knows no API key gone"):
        api_keys.rotate(client, "gone", Store("gone"))
    assert set(client.security.keys) == {"old"}


def test_a_failed_invalidation_of_the_old_key_keeps_the_rotation_and_says_what_to_run(client):
    def refuse(ids):
        raise RuntimeError("the cluster went away")

    client.security.invalidate_api_key = refuse
    store = Store("old")
    rotation = api_keys.rotate(client, "old", store)
    assert store.saved == rotation.new.id and not rotation.old_invalidated
    assert "keys invalidate old" in rotation.notes[-1]


def test_grace_sets_the_old_key_to_expire_instead_of_invalidating_it(client):
    updates = []

    def update_api_key(id, expiration):
        updates.append((id, expiration))
        client.security.keys[id]["expiration"] = 1_900_000_000_000
        return {"updated": True}

    client.security.update_api_key = update_api_key
    rotation = api_keys.rotate(client, "old", Store("old"), grace="24h")
    assert updates == [("old", "24h")]
    assert client.security.live() == {"old", "new1"} and not rotation.old_invalidated
    assert rotation.old_expires_at == "2030-03-17T17:46:40Z" and rotation.notes == ()


def test_a_grace_that_cannot_be_set_leaves_the_old_key_working_and_says_what_to_run(client):
    def refuse(id, expiration):
        raise RuntimeError("not the owner")

    client.security.update_api_key = refuse
    rotation = api_keys.rotate(client, "old", Store("old"), grace="24h")
    assert client.security.live() == {"old", "new1"} and rotation.old_expires_at is None
    assert "could not set the old key old to expire" in rotation.notes[-1] and "keys invalidate old" in rotation.notes[-1]
