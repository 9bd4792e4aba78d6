"""The admin login: which credentials are named, and what an API key request's error tells the user to do."""

from __future__ import annotations

import base64

import pytest
from elastic_cli import errors
from elastic_cli.keys.admin import AdminCredentials, refine_error, split_admin_key

WHERE = "http://es.example:9200"


def test_kinds_and_labels():
    assert AdminCredentials("elastic", "pw").label == "user 'elastic'"
    assert AdminCredentials(api_key="id:secret").label == "the admin API key"
    assert AdminCredentials().label == "the profile's API key"
    assert "pw" not in repr(AdminCredentials("elastic", "pw"))
    with pytest.raises(errors.UsageError, match="exclude each other"):
        AdminCredentials("elastic", "pw", "id:secret")


@pytest.mark.parametrize("text", ["kid:s3cret", base64.b64encode(b"kid:s3cret").decode()])
def test_admin_key_in_both_forms(text):
    assert split_admin_key(text) == ("kid", "s3cret")


@pytest.mark.parametrize("text", ["not-a-key", ":s3cret", "kid:"])
def test_admin_key_that_is_neither_form(text):
    with pytest.raises(errors.UsageError):
        split_admin_key(text)


def test_missing_privilege_of_the_profiles_read_only_key_asks_for_an_admin():
    mapped = refine_error(errors.PrivilegeMissing("403"), Exception(), WHERE, "list API keys", AdminCredentials())
    assert isinstance(mapped, errors.PrivilegeMissing)
    assert mapped.message == f"the profile's API key (read-only) may not list API keys on {WHERE}"
    assert "--username" in mapped.hint and "--admin-api-key" in mapped.hint and "grant" not in mapped.hint


def test_missing_privilege_of_a_user_says_what_to_grant():
    mapped = refine_error(errors.PrivilegeMissing("403"), Exception(), WHERE, "create API keys",
                          AdminCredentials("bob", "pw"))
    assert mapped.message == f"user 'bob' is not allowed to create API keys on {WHERE}"
    assert "manage_api_key" in mapped.hint
