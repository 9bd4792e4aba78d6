"""The three-node cluster of the harness (es_sandbox/cluster.py) is a real cluster, and its
nodes stop and come back as the resilience tests need (8.19.x and 9.x)."""

from __future__ import annotations

import json
import uuid

import pytest
from elasticsearch import Elasticsearch

import faults  # tests/faults.py (pyproject: pytest pythonpath)


def test_three_nodes_of_one_version_form_one_cluster_on_loopback(es_cluster, es_version):
    status, body = es_cluster.request("GET", "/_nodes/http")
    assert status == 200, body
    nodes = json.loads(body)["nodes"].values()
    assert {node["version"] for node in nodes} == {es_version}
    assert sorted(node["name"] for node in nodes) == sorted(node.name for node in es_cluster.nodes)
    assert sorted(f"http://{node['http']['publish_address']}" for node in nodes) == sorted(es_cluster.urls)
    assert len(set(es_cluster.urls)) == 3 and es_cluster.url == es_cluster.urls[0]


def test_a_key_made_through_one_node_reads_through_every_node(es_cluster):
    admin = es_cluster.admin_client()
    index = f"orxcl-{uuid.uuid4().hex[:8]}"
    admin.indices.create(index=index, settings={"number_of_shards": 3, "number_of_replicas": 1})
    admin.index(index=index, document={"message": "hello"}, refresh=True)
    es_cluster.wait_for_health("green", nodes=3)
    key = admin.security.create_api_key(name=f"{index}-reader", role_descriptors={
        "r": {"cluster": [], "index": [{"names": [index], "privileges": ["read"]}]}})
    try:
        for url in es_cluster.urls:
            with Elasticsearch(url, api_key=(key["id"], key["api_key"])) as client:
                assert client.count(index=index)["count"] == 1
        # three primaries, one replica each: all six copies started, each shard's two on two nodes
        status, body = es_cluster.request("GET", f"/_cat/shards/{index}?format=json&h=shard,state,node")
        rows = json.loads(body)
        assert [row["state"] for row in rows] == 6 * ["STARTED"]
        assert all(len({row["node"] for row in rows if row["shard"] == str(shard)}) == 2 for shard in range(3))
    finally:
        admin.indices.delete(index=index)


def test_a_stopped_node_comes_back_on_its_data_and_url(es_cluster):
    admin = es_cluster.admin_client()
    index = f"orxcl-{uuid.uuid4().hex[:8]}"
    # every shard on node 2 only: its data must survive the stop
    admin.indices.create(index=index, settings={
        "number_of_shards": 1, "number_of_replicas": 0,
        "index.routing.allocation.require._name": es_cluster.nodes[2].name})
    admin.index(index=index, document={"message": "kept"}, refresh=True)
    url = es_cluster.nodes[2].url
    try:
        es_cluster.stop_node(2)
        assert len(es_cluster.running_nodes()) == 2
        health = es_cluster.wait_for_health("red", nodes=2)
        assert health["status"] == "red"  # its only copy is gone with the node
        with pytest.raises(Exception):  # noqa: B017 — whatever the client raises for an unavailable shard
            Elasticsearch(url, basic_auth=(es_cluster.admin_user, es_cluster.admin_password),
                          max_retries=0).info()
        es_cluster.start_node(2)
        assert es_cluster.nodes[2].url == url
        assert admin.count(index=index)["count"] == 1
    finally:
        admin.indices.delete(index=index)


def test_the_fixture_brings_stopped_nodes_back_for_the_next_test_first(es_cluster):
    es_cluster.stop_node(1, hard=True)
    assert not es_cluster.nodes[1].running


def test_the_fixture_brings_stopped_nodes_back_for_the_next_test_then(es_cluster):
    assert all(node.running for node in es_cluster.nodes)
    assert es_cluster.wait_for_health("green", nodes=3)["number_of_nodes"] == 3


def test_the_cut_proxy_drops_open_connections_refuses_new_ones_then_forwards(es_cluster):
    import socket
    import time

    with faults.NetworkCut(es_cluster.nodes[0].port) as cut:
        client = Elasticsearch(cut.url, basic_auth=(es_cluster.admin_user, es_cluster.admin_password),
                               max_retries=0, request_timeout=5)
        assert client.cluster.health()["cluster_name"] == es_cluster.name
        before = cut.accepted
        held = socket.create_connection(("127.0.0.1", cut.port))
        deadline = time.monotonic() + 10
        while cut.accepted == before and time.monotonic() < deadline:
            time.sleep(0.01)
        cut.cut(2.0)
        held.settimeout(5)
        try:
            got = held.recv(1)
        except ConnectionResetError:
            got = b""
        assert got == b""  # the open connection was dropped
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", cut.port), timeout=5)
        assert cut.wait_restored(10)
        assert cut.cuts == 1
        assert client.cluster.health()["cluster_name"] == es_cluster.name
