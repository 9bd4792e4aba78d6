"""Shared pytest setup: real Elasticsearch nodes for the integration tests.

Fixtures (all session-scoped, started lazily: a run of unit tests starts nothing):

* ``es_version`` -- the Elasticsearch version of the current parameter
  (``--es-versions`` / ``ORX_TEST_ES_VERSIONS``, default ``8.19.21,9.5.4``);
  test ids carry it as ``[es8.19.21]``.
* ``es_node`` -- an HTTP node of that version, security on.
* ``es_tls_node`` -- an HTTPS node of that version (generated CA).
* ``es_cluster`` -- three HTTP nodes of that version in one cluster (``es_sandbox.ESCluster``),
  started only when a test asks for it: the same attributes as ``es_node`` (``url`` is node
  0's), plus ``urls`` (every node), ``nodes``, ``stop_node(i)``, ``start_node(i)``,
  ``wait_for_health()`` and ``node_of_primary(index, shard)``. After every test that uses it,
  whatever it stopped is started again and the cluster is green before the next test.

Both node fixtures give an object with: ``version``, ``url``, ``scheme``,
``host``, ``port``, ``admin_user``, ``admin_password``, ``ca_path`` and
``fingerprint`` (``None`` over HTTP), ``workdir``, ``log_path`` and
``admin_client()``.  Nodes are shared by every test of a version: use your
own index names.  Pytest groups tests by the session-scoped parameter, so one
version's nodes are stopped before the next version's start.

An existing cluster instead of downloaded nodes: set ``ORX_TEST_ES_URL``,
``ORX_TEST_ES_USER``, ``ORX_TEST_ES_PASSWORD`` and optionally
``ORX_TEST_ES_CA``; ``es_tls_node`` uses it when it is https, else
``ORX_TEST_ES_TLS_URL`` (same credentials).

A node that cannot start fails the tests with the reason; nothing is skipped.

Running the CLI: ``run_cli(*args, env=Env(...))`` runs ``orx-elastic`` in this process
through its real entry point (exit codes, stderr, secret masking) and returns a
``CliResult``. ``Env`` is everything the CLI sees of its surroundings: environment
variables (``ORX_ELASTIC_*`` and ``NO_COLOR`` cleared unless given), whether stdin and
stdout are terminals, the terminal width, and what is typed on stdin. The ``clean_env``
fixture gives an ``Env`` whose config file is in the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import ssl
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Mapping, Optional
from urllib.parse import urlsplit

import es_sandbox  # the node harness at the repository root (pyproject: pytest pythonpath)
import hypothesis
import pytest

# No per-example time limit: Hypothesis' 200 ms deadline is a timed test, and on a loaded CI
# machine one example of test_settings' YAML property took 376 ms once (then 1.7 ms) and failed
# the run. The properties state what is true; how fast is for bench/.
hypothesis.settings.register_profile("orx", deadline=None)
hypothesis.settings.load_profile("orx")

DEFAULT_VERSIONS = ",".join(es_sandbox.TEST_VERSIONS)
INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"
NODE_FIXTURES = ("es_node", "es_tls_node", "es_cluster")
CLUSTER_SIZE = 3


def pytest_addoption(parser):
    parser.addoption(
        "--es-versions",
        default=os.environ.get("ORX_TEST_ES_VERSIONS", DEFAULT_VERSIONS),
        help="comma-separated Elasticsearch versions for the integration tests "
        f"(env ORX_TEST_ES_VERSIONS; default {DEFAULT_VERSIONS}); "
        "ignored when ORX_TEST_ES_URL points at an existing cluster",
    )


def _versions(config) -> list:
    if os.environ.get("ORX_TEST_ES_URL"):
        return ["external"]
    versions = [v.strip() for v in config.getoption("--es-versions").split(",") if v.strip()]
    if not versions:
        raise pytest.UsageError("--es-versions is empty")
    return versions


def pytest_generate_tests(metafunc):
    if "es_version" in metafunc.fixturenames:
        versions = _versions(metafunc.config)
        metafunc.parametrize(
            "es_version", versions, indirect=True, scope="session",
            ids=[v if v == "external" else f"es{v}" for v in versions],
        )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)


# ---------------------------------------------------------------- external


class ExternalNode(es_sandbox.AdminAccess):
    """An existing cluster, with the same attributes as ``es_sandbox.ESNode``."""

    def __init__(self, url: str, user: str, password: str, ca: Optional[str]) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme or "http"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.scheme == "https" else 9200)
        self.url = f"{self.scheme}://{self.host}:{self.port}"
        self.https = self.scheme == "https"
        self.admin_user = user
        self.admin_password = password
        self.ca_path = Path(ca) if ca else None
        self.fingerprint = None
        self.ca_fingerprint = None
        self.workdir = None
        self.log_path = None
        if self.https:
            pem = ssl.get_server_certificate((self.host, self.port))
            self.fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
        self.version = self._read_version()

    def __repr__(self) -> str:
        return f"<ExternalNode {self.version} {self.url}>"

    def _read_version(self) -> str:
        try:
            status, body = self.request("GET", "/_nodes/_local")
            if status == 200:
                nodes = json.loads(body).get("nodes", {})
                for info in nodes.values():
                    return info.get("version", "external")
        except (OSError, ValueError):
            pass
        return "external"

    def stop(self) -> None:  # not ours to stop
        pass


def _external(tls: bool) -> ExternalNode:
    url = os.environ["ORX_TEST_ES_URL"]
    if tls and not url.startswith("https://"):
        url = os.environ.get("ORX_TEST_ES_TLS_URL", "")
        if not url.startswith("https://"):
            pytest.fail(
                "es_tls_node needs an HTTPS cluster: ORX_TEST_ES_URL is not https, "
                "set ORX_TEST_ES_TLS_URL=https://... (same ORX_TEST_ES_USER/PASSWORD/CA)",
                pytrace=False,
            )
    user = os.environ.get("ORX_TEST_ES_USER")
    password = os.environ.get("ORX_TEST_ES_PASSWORD")
    if not user or not password:
        pytest.fail("ORX_TEST_ES_URL is set: set ORX_TEST_ES_USER and ORX_TEST_ES_PASSWORD too",
                    pytrace=False)
    return ExternalNode(url, user, password, os.environ.get("ORX_TEST_ES_CA"))


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def es_version(request) -> str:
    # Parametrized by pytest_generate_tests; the fallback covers getfixturevalue().
    return getattr(request, "param", None) or _versions(request.config)[0]


def _start_node(request, version: str, https: bool):
    if version == "external":
        return _external(tls=https)
    # the reaper of expired search contexts runs every second (default: a minute), so a test
    # can see a point in time expire; a context within its keep-alive is never touched
    node = es_sandbox.ESNode(version, https=https, extra_settings={"search.keep_alive_interval": "1s"})
    # Registered before start(): a failed or interrupted start is cleaned up too.
    request.addfinalizer(node.stop)
    try:
        node.start()
    except es_sandbox.ESSandboxError as exc:
        pytest.fail(str(exc), pytrace=False)
    return node


@pytest.fixture(scope="session")
def es_node(request, es_version):
    """A real HTTP Elasticsearch node (security on) of ``es_version``."""
    return _start_node(request, es_version, https=False)


@pytest.fixture(scope="session")
def es_tls_node(request, es_version):
    """A real HTTPS Elasticsearch node (security on, generated CA) of ``es_version``."""
    return _start_node(request, es_version, https=True)


@pytest.fixture(scope="session")
def es_cluster(request, es_version):
    """A real three-node Elasticsearch cluster (security on, HTTP) of ``es_version``."""
    if es_version == "external":
        pytest.fail("es_cluster starts and stops nodes of its own: it cannot run on ORX_TEST_ES_URL's "
                    "cluster (unset ORX_TEST_ES_URL to run the cluster tests)", pytrace=False)
    cluster = es_sandbox.ESCluster(es_version, size=CLUSTER_SIZE,
                                   extra_settings={"search.keep_alive_interval": "1s"})
    request.addfinalizer(cluster.stop)
    try:
        cluster.start()
    except es_sandbox.ESSandboxError as exc:
        pytest.fail(str(exc), pytrace=False)
    return cluster


@pytest.fixture(autouse=True)
def _cluster_all_up_after_each_test(request):
    """A test that stopped nodes of ``es_cluster`` leaves it whole: all nodes up, green."""
    yield
    if "es_cluster" in request.fixturenames:
        cluster = request.getfixturevalue("es_cluster")
        if any(not node.running for node in cluster.nodes):
            try:
                cluster.all_up()
            except es_sandbox.ESSandboxError as exc:
                pytest.fail(f"could not bring the cluster back for the next test: {exc}", pytrace=False)


# ---------------------------------------------------------------- running the CLI


@dataclass(frozen=True)
class Env:
    """What the CLI sees around it (httpie's test Environment): variables, terminal or not, stdin."""

    vars: Mapping[str, str] = field(default_factory=dict)  # added to os.environ minus ORX_ELASTIC_*/NO_COLOR
    tty: bool = False          # stdin and stdout are terminals (colour, tables, password prompts)
    columns: int = 120         # the terminal width, when tty
    stdin: str = ""            # what the user types

    def with_vars(self, **more: str) -> "Env":
        return replace(self, vars={**self.vars, **more})

    def environ(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("ORX_ELASTIC_") and k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")}
        base.update(COLUMNS=str(self.columns), LINES="40")
        base.update(self.vars)
        return base


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def returncode(self) -> int:  # subprocess's name, so a test reads the same run in or out of process
        return self.exit_code

    def json(self):
        return json.loads(self.stdout)


class _Stream(io.TextIOWrapper):
    """A text stream over bytes that says whether it is a terminal as the Env says."""

    def __init__(self, tty: bool, text: str = "") -> None:
        super().__init__(io.BytesIO(text.encode("utf-8")), encoding="utf-8", newline="", write_through=True)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:  # like a pipe the test cannot hand over
        raise io.UnsupportedOperation("fileno")

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8", "replace")


@contextlib.contextmanager
def _isolated(env: Env) -> Iterator[tuple[_Stream, _Stream]]:
    import click.termui

    saved_environ, saved_streams = dict(os.environ), (sys.stdin, sys.stdout, sys.stderr)
    saved_hidden = click.termui.hidden_prompt_func
    out, err = _Stream(env.tty), _Stream(env.tty)
    os.environ.clear()
    os.environ.update(env.environ())
    sys.stdin, sys.stdout, sys.stderr = _Stream(env.tty, env.stdin), out, err

    def hidden_prompt(prompt: str) -> str:
        # getpass would read the developer's real /dev/tty: the password comes from Env.stdin
        sys.stderr.write(prompt)
        return sys.stdin.readline().rstrip("\r\n")

    click.termui.hidden_prompt_func = hidden_prompt
    # what a new process starts without: registered secrets and --debug's log handlers
    from elastic_cli import redaction

    secrets = getattr(redaction, "_secrets", None)
    saved_secrets = set(secrets) if isinstance(secrets, set) else None
    if saved_secrets is not None:
        secrets.clear()
    # nor a keychain backend chosen by an earlier run (keyring picks one per process, for its environment)
    keyring_core, keyring_backend = sys.modules.get("keyring.core"), sys.modules.get("keyring.backend")
    if keyring_core is not None and keyring_backend is not None:
        keyring_core._keyring_backend = None
        vars(keyring_backend.get_all_keyring).pop("saved_result", None)
    from elastic_cli.commands.debug_log import DEBUG_LOGGERS

    loggers = [logging.getLogger(name) for name in DEBUG_LOGGERS]
    saved_logging = [(logger.level, list(logger.handlers)) for logger in loggers]
    try:
        yield out, err
    finally:
        from elastic_cli.commands import app as app_state

        app_state.set_current(None)  # nor the run's AppContext, whose streams were this run's
        for logger, (level, handlers) in zip(loggers, saved_logging):
            logger.setLevel(level)
            logger.handlers[:] = handlers
        if saved_secrets is not None:
            secrets.clear()
            secrets.update(saved_secrets)
        click.termui.hidden_prompt_func = saved_hidden
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_environ)


def run_cli(*args: str, env: Optional[Env] = None) -> CliResult:
    """Run `orx-elastic ARGS` in this process through its entry point, as a user would in `env`."""
    from elastic_cli.cli import main

    with _isolated(env or Env()) as (out, err):
        try:
            main([str(arg) for arg in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return CliResult(code, out.text(), err.text())


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory):
    """A real Secret Service (gnome-keyring on a private D-Bus session, tests/keychain.py);
    `.env` is what the CLI needs to reach it. Fails with the reason when it cannot start."""
    import keychain

    service = keychain.SecretService(tmp_path_factory.mktemp("secret-service"))
    try:
        service.start()
    except keychain.SecretServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield service
    service.stop()


@pytest.fixture
def clean_env(tmp_path) -> Env:
    """An Env with no ORX_ELASTIC_* settings, no NO_COLOR, and the config file in tmp_path (not a terminal)."""
    return Env(vars={"ORX_ELASTIC_CONFIG": str(tmp_path / "config.yaml")})
