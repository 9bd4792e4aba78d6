"""The pure half of api_keys: role descriptors, bodies, validation, Dev Tools and curl forms."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from elastic_cli import __version__
from elastic_cli.cluster.curl import console_post, curl_post
from elastic_cli.errors import UsageError
from elastic_cli.keys import api_keys


def test_role_descriptors_read_only_no_cluster():
    descriptors = api_keys.role_descriptors(["app-logs", "*log*"])
    assert descriptors == {"openreplay-role": {
        "cluster": [], "indices": [{"names": ["app-logs", "*log*"], "privileges": ["read"]}]}}


GUIDE = Path(__file__).resolve().parents[1] / "data" / "openreplay-elasticsearch-integration.md"


def guide_request_body() -> dict:
    """The JSON body after `POST /_security/api_key` in the setup guide (a verbatim copy in tests/data)."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("POST /_security/api_key\n") + len("POST /_security/api_key\n")
    return json.loads(text[start:text.index("```", start)])


def test_guide_body_is_the_setup_guides_request_plus_metadata():
    body = api_keys.create_key_body(api_keys.DEFAULT_KEY_NAME, ["*log*"], guide=True)
    assert body.pop("metadata")["created_by"] == "orx-elastic"
    assert body == guide_request_body()


def test_create_key_body_metadata_and_expiration():
    body = api_keys.create_key_body("k", ["a-*"], "90D")
    assert body["name"] == "k"
    assert body["expiration"] == "90d"
    assert body["metadata"] == {"created_by": "orx-elastic", "orx_elastic_version": __version__}
    assert not any(key.startswith("_") for key in body["metadata"])
    # read on the patterns and nothing on the cluster: not the guide's `"cluster": ["all"]`
    assert body["role_descriptors"] == {"openreplay-role": {
        "cluster": [], "indices": [{"names": ["a-*"], "privileges": ["read"]}]}}
    assert "expiration" not in api_keys.create_key_body("k", ["a-*"])


def test_metadata_rejects_reserved_keys():
    with pytest.raises(ValueError):
        api_keys.key_metadata({"_secret": 1})


@pytest.mark.parametrize("text,expected", [("90d", "90d"), ("12h", "12h"), ("30m", "30m"), ("45s", "45s"),
                                           (" 7D ", "7d"), ("1500ms", "1500ms"), (None, None)])
def test_valid_expiration(text, expected):
    assert api_keys.validate_expiration(text) == expected


@pytest.mark.parametrize("text", ["90", "90x", "1.5h", "-1d", "0d", "d", "", "90 d", "1w", "1y"])
def test_invalid_expiration(text):
    with pytest.raises(UsageError):
        api_keys.validate_expiration(text)


@pytest.mark.parametrize("patterns,expected", [
    ("*log*", ["*log*"]), ("app-logs, *log*", ["app-logs", "*log*"]), (["a", "a"], ["a"]),
    (".ds-logs-*", [".ds-logs-*"]), ("it's*", ["it's*"]),
])
def test_valid_patterns(patterns, expected):
    assert api_keys.validate_patterns(patterns) == expected


@pytest.mark.parametrize("pattern", ["", " ", "a b", "App-*", "a/b", "/[/", "_x", "-x", "+x", "#x", "a?b",
                                     'a"b', "a|b", "a<b", "a\\b", ".", "..", "x" * 256, "r:a", "a\tb"])
def test_invalid_patterns(pattern):
    with pytest.raises(UsageError):
        api_keys.validate_patterns([pattern])


def test_empty_pattern_list():
    with pytest.raises(UsageError):
        api_keys.validate_patterns(" , ")


def test_name_validation():
    for name in ["", " x", "x" * 257, "a\nb"]:
        with pytest.raises(UsageError):
            api_keys.validate_name(name)
    assert api_keys.validate_name("openreplay-api-key") == "openreplay-api-key"


def curl_command(url: str, body: dict, auth_hint, ca_certs=None, insecure=False) -> str:
    """create-key --dry-run's curl command, as `commands.dry_run` prints it."""
    return curl_post(url, api_keys.ENDPOINT, body, auth_hint, ca_certs, insecure, api_key_env=api_keys.ADMIN_API_KEY_ENV)


def test_console_request():
    body = api_keys.create_key_body("k", ["*log*"], "90d")
    text = console_post(api_keys.ENDPOINT, body)
    first, _, rest = text.partition("\n")
    assert first == "POST /_security/api_key"
    assert json.loads(rest) == body


@pytest.mark.parametrize("patterns", [["*log*"], ["it's*", "a$b`c", "x;rm-rf~"]])
def test_curl_body_round_trips_through_the_shell(patterns):
    body = api_keys.create_key_body("k'\"$(x)", patterns, "90d")
    command = curl_command("https://es.example.com:9243", body, "elastic")
    argv = shlex.split(command)
    assert argv[:5] == ["curl", "-sS", "-X", "POST", "https://es.example.com:9243/_security/api_key"]
    assert json.loads(argv[argv.index("--data-binary") + 1]) == body
    assert argv[argv.index("-u") + 1] == "elastic"  # curl asks for the password


def test_curl_never_holds_a_password_and_keeps_tls_flags():
    body = api_keys.create_key_body("k", ["*log*"])
    argv = shlex.split(curl_command("http://h:9200", body, None, ca_certs="/tmp/my ca.pem"))
    assert argv[argv.index("-u") + 1] == "USERNAME"
    assert argv[argv.index("--cacert") + 1] == "/tmp/my ca.pem"
    assert "-k" in shlex.split(curl_command("http://h:9200", body, None, insecure=True))


def test_curl_with_admin_api_key_reads_the_environment():
    command = curl_command("http://h:9200", {"name": "k"}, api_keys.ADMIN_API_KEY_ENV)
    assert '"Authorization: ApiKey $ORX_ELASTIC_ADMIN_API_KEY"' in command
    assert "-u" not in shlex.split(command)


def test_created_key_from_response():
    key = api_keys.CreatedKey.from_response({"id": "abc", "name": "k", "api_key": "s3cr3t", "expiration": 0})
    assert key.encoded == "YWJjOnMzY3IzdA=="  # base64("abc:s3cr3t")
    assert key.expiration == "1970-01-01T00:00:00Z"
    assert "s3cr3t" not in repr(key)


def test_patterns_and_expiration_policy_of_an_existing_key():
    info = {"creation": 1_000_000, "expiration": 1_000_000 + 90 * 86400 * 1000,
            "role_descriptors": {"r": {"indices": [{"names": ["a-*", "b"]}]}, "s": {"index": [{"names": "c"}]}}}
    assert api_keys.patterns_of(info["role_descriptors"]) == ["a-*", "b", "c"]
    assert api_keys.expiration_policy(info) == "90d"
    assert api_keys.expiration_policy({"creation": 0, "expiration": 3 * 3600 * 1000}) == "3h"
    assert api_keys.expiration_policy({"creation": 0, "expiration": 61_000}) == "61s"
    assert api_keys.expiration_policy({"creation": 0}) is None


def test_server_reason_prefers_the_deepest_cause():
    class Err:
        body = {"error": {"type": "x_content_parse_exception", "reason": "Failed to build [api_key_request]",
                          "caused_by": {"type": "illegal_argument_exception",
                                        "reason": "failed to parse setting [expiration] with value [9x]"}}}

    assert api_keys.server_reason(Err()) == "failed to parse setting [expiration] with value [9x]"
