"""The sandbox harness's pure parts: the file-realm password hash and what it prints."""

from __future__ import annotations

import base64
import re

from es_sandbox import sandbox
from es_sandbox.cli import tour
from es_sandbox.users import file_realm_hash, users_file

# Written by Elasticsearch 9.5.4's own `bin/elasticsearch-users useradd probe -p 'correct horse battery'`
# with xpack.security.authc.password_hashing.algorithm: pbkdf2.
ES_WRITTEN = "{PBKDF2}10000$uldbHX20VIsrrwkBgvEtJixYcFGaSanyplCvEQF+psw=$F3A1qREz19ch5XbE1zMmdoTSBJ33T05lKaxCs3rhsPs="


def test_hash_is_the_one_elasticsearch_writes_for_the_same_salt():
    salt = base64.b64decode(ES_WRITTEN.split("$")[1])
    assert file_realm_hash("correct horse battery", salt=salt) == ES_WRITTEN


def test_a_wrong_password_gives_another_hash():
    salt = base64.b64decode(ES_WRITTEN.split("$")[1])
    assert file_realm_hash("correct horse batterY", salt=salt) != ES_WRITTEN


def test_each_users_line_has_a_fresh_salt():
    first, second = users_file("admin", "pw"), users_file("admin", "pw")
    assert first != second
    assert re.fullmatch(r"admin:\{PBKDF2\}10000\$[A-Za-z0-9+/=]{44}\$[A-Za-z0-9+/=]{44}\n", first)


def test_loaded_counts_are_words_not_a_dict():
    assert sandbox.loaded_summary({"app-logs": 12, "logs": 1}) == "12 lines into app-logs, 1 line into logs"
    assert "{" not in sandbox.loaded_summary({"app-logs": 12})


def test_tour_never_puts_the_password_on_a_command_line_of_orx_elastic():
    state = {"url": "http://127.0.0.1:9", "user": "elastic-admin", "password": "s3cret-pw", "version": "9.5.4"}
    for line in tour(state):
        if "orx-elastic" in line:
            assert "--password" not in line
