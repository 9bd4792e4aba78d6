"""A real Elasticsearch node (security on) for tests and for trying orx-elastic.

Nothing here imitates Elasticsearch: the node is the real server from the
``org.elasticsearch.distribution.integ-test-zip`` artifact on Maven Central
(the same zip Elasticsearch's own test clusters run), fetched with ``mvn``.

One job per module:

* ``download``    fetch and unpack the distribution (cached)
* ``java``        pick a JDK for the version, and javac
* ``shim``        the analysis module the ``.security`` index needs (API keys)
* ``users``       the admin user of the file realm (a standard-library password hash)
* ``tls``         a test CA and certificate (HTTPS mode only; needs ``cryptography``)
* ``process``     run as an unprivileged user; never leave a node behind
* ``node``        ``ESNode``: start, wait, request, stop
* ``cluster``     ``ESCluster``: several nodes on loopback; stop and start one of them
* ``sample_data`` sample OpenReplay logs
* ``cli``         ``scripts/es-sandbox start|stop|status|tour``
* ``quickstart``  ``scripts/quickstart``: node, the sample dated minutes ago, key, profile, check, logs
* ``pictures``    README's pictures: check, sessions, logs, shows run on the node (``scripts/gen-docs --pictures``)

This package lives at the top of the repository and is not part of the installed
tool (``pyproject.toml`` packages only ``elastic_cli``): tests import it because
pytest puts the repository root on ``sys.path`` (``pythonpath = ["."]``), the scripts
because they run ``python -m es_sandbox`` from the repository root.

Used from Python::

    with ESNode("9.5.4", https=True) as node:
        client = node.admin_client()

If a node cannot start, an ``ESSandboxError`` says why (no Java, no mvn, download
failed, node died: with the tail of its log). Only the standard library is imported
at import time; ``cryptography`` (HTTPS) and ``elasticsearch`` are imported where used.
"""

from es_sandbox.cluster import ESCluster
from es_sandbox.common import DEFAULT_VERSION, TEST_VERSIONS, ESSandboxError, cache_root, state_path
from es_sandbox.download import ensure_distribution
from es_sandbox.java import find_java_home
from es_sandbox.node import ADMIN_USER, AdminAccess, ESNode
from es_sandbox.sample_data import (
    SAMPLE_INDEX,
    SAMPLE_INDEX_V121,
    SAMPLE_SESSION_ID,
    SAMPLE_SESSION_ID_2,
    SAMPLE_TOKEN,
    SAMPLE_TOKEN_2,
    load_sample_logs,
    sample_documents,
)

__all__ = [
    "ADMIN_USER",
    "DEFAULT_VERSION",
    "TEST_VERSIONS",
    "AdminAccess",
    "ESCluster",
    "ESNode",
    "ESSandboxError",
    "SAMPLE_INDEX",
    "SAMPLE_INDEX_V121",
    "SAMPLE_SESSION_ID",
    "SAMPLE_SESSION_ID_2",
    "SAMPLE_TOKEN",
    "SAMPLE_TOKEN_2",
    "cache_root",
    "ensure_distribution",
    "find_java_home",
    "load_sample_logs",
    "sample_documents",
    "state_path",
]
