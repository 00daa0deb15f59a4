"""Three OpenSearch nodes, one replica: stopping the node that holds the primary during a stream of searches and
writes loses no query and no document.

Needs the three-node cluster `make test` starts (`services/up --opensearch-nodes 3`): SEARCH_URL lists the three
nodes and OPENSEARCH_VAR_DIR names the directory whose launcher `services/opensearch node-stop N` controls.
"""

import os
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from django.db import connection

from search.engines.choice import get_cluster_engine
from search.engines.cluster import split_nodes
from search.models import OutboxEntry
from search.selectors import search
from search.services import search_outbox_drain_all

SEARCH_URL = os.environ.get("SEARCH_URL", "")
VAR_DIR = os.environ.get("OPENSEARCH_VAR_DIR", "")
SERVICE = Path(__file__).resolve().parents[2] / "services" / "opensearch"
pytestmark = [
    pytest.mark.serial,  # a stopped node takes other tests' indices (no replicas) with it
    pytest.mark.services,
    pytest.mark.django_db,
    pytest.mark.skipif(
        len(split_nodes(SEARCH_URL)) < 3
        or not VAR_DIR
        or os.environ.get("SEARCH_ENGINE", "opensearch") != "opensearch",
        reason="needs a three-node OpenSearch cluster: SEARCH_URL with three nodes and OPENSEARCH_VAR_DIR "
        "(`make test`, or `services/up --opensearch-nodes 3` and source var/services/env)",
    ),
]
SEEDED = 12


def _node_ctl(action: str, node: int) -> None:
    subprocess.run([str(SERVICE), action, str(node)], env={**os.environ, "VAR_DIR": VAR_DIR}, check=True, timeout=120)


def _health(engine, *, index: str | None = None, **params) -> dict:
    """Cluster health, waiting as `params` say (a wait that times out answers 408 with the health so far)."""
    return engine.admin.cluster.health(index=index, params=params, ignore=[408], request_timeout=150)


def _primary_node(engine) -> int:
    """The number (1-based, as services/opensearch counts) of the node holding the index's primary shard."""
    index = engine.indices_behind_alias()[0]
    shards = engine.admin.cat.shards(index=index, format="json")
    name = next(shard["node"] for shard in shards if shard["prirep"] == "p")
    return int(name.split()[-1])  # the runner names nodes "Node 1", "Node 2", ...


class _Searcher(threading.Thread):
    """Searches as a member would, over and over, recording every answer that was not a full engine answer."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.answers, self.bad = threading.Event(), 0, []

    def run(self):
        try:
            while not self.stop.is_set():
                try:
                    results = search(query="党史", user=None)
                except Exception as exc:  # noqa: BLE001 — a failed query is what this test looks for
                    self.bad.append(repr(exc))
                    continue
                self.answers += 1
                if results.backend != "opensearch" or results.degraded or results.total < SEEDED:
                    self.bad.append((results.backend, results.degraded, results.total))
                self.stop.wait(0.05)
        finally:
            connection.close()  # this thread's own database connection


@pytest.fixture
def cluster(settings):
    settings.SEARCH_URL = SEARCH_URL
    settings.SEARCH_ENGINE = "opensearch"
    settings.SEARCH_REPLICAS = 1
    settings.SEARCH_INDEX_PREFIX = f"lhtest-cluster-{uuid.uuid4().hex[:8]}"
    engine = get_cluster_engine()
    stopped = []
    yield engine, stopped
    for node in stopped:
        _node_ctl("node-start", node)
    _health(engine, wait_for_nodes="3", timeout="120s")
    engine.admin.indices.delete(index=f"{engine.alias}-*", params={"ignore_unavailable": "true"}, ignore=[404])


def _drain_everything(engine) -> None:
    """Drain until the outbox is empty; entries that failed while the node went away are retried at once."""
    for _ in range(20):
        OutboxEntry.objects.update(next_attempt_at=None)
        search_outbox_drain_all()
        if not OutboxEntry.objects.exists():
            return
        _health(engine, index=engine.alias, wait_for_status="yellow", timeout="10s")
    raise AssertionError(f"outbox not drained: {list(OutboxEntry.objects.values_list('doc_id', 'last_error'))}")


def test_stopping_a_node_loses_no_query_and_no_document(cluster, make_item):
    """With the index on three nodes and one replica (green), the node holding the primary is stopped while a
    thread searches without pause and documents are written through the outbox: every search is answered by the
    engine in full (not degraded, nothing missing), and after draining every written document is found."""
    engine, stopped = cluster
    for number in range(SEEDED):
        make_item(f"党史学习材料第{number}号")
    search_outbox_drain_all()
    engine.refresh()
    assert _health(engine, index=engine.alias, wait_for_status="green", timeout="60s")["status"] == "green"
    victim = _primary_node(engine)

    searcher = _Searcher()
    searcher.start()
    written = []
    for number in range(30):
        written.append(make_item(f"乡村振兴读本第{number}册").title)
        if number == 10:
            answers_before = searcher.answers
            _node_ctl("node-stop", victim)
            stopped.append(victim)
        if number % 5 == 4:
            search_outbox_drain_all()
    _drain_everything(engine)
    searcher.stop.set()
    searcher.join(timeout=30)

    assert searcher.answers > answers_before > 0, "the stream must cover the node stop"
    assert searcher.bad == []
    engine.refresh()
    assert engine.count() == SEEDED + len(written)
    for title in written:
        results = search(query=title, user=None, exact=True)
        assert not results.degraded and title in [hit.title for hit in results.hits]
    assert not OutboxEntry.objects.exists()
