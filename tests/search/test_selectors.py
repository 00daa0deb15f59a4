"""The search pipeline's own rules: skipping an engine that just failed, the last page worth offering, and promoted
results highlighted like the others."""

import socket
import threading
import uuid

import pytest

from search import selectors
from search.engines.results import SearchResults
from search.models import Promotion, Synonym

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusing_node():
    """A real TCP node that accepts each connection and closes it at once (the engine's client fails fast, as on a
    node that is down), counting the connections: how often searches tried the cluster."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    counter = {"connections": 0}

    def serve():
        while True:
            try:
                connection, _address = server.accept()
            except OSError:
                return
            counter["connections"] += 1
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    counter["url"] = f"http://127.0.0.1:{server.getsockname()[1]}"
    yield counter
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def indexed_then_cluster_down(settings, make_item, drain, refusing_node):
    """One item in the embedded index; then the configured cluster is the refusing node."""
    settings.SEARCH_URL = ""
    make_item("党史学习读本")
    drain()
    settings.SEARCH_URL = refusing_node["url"]
    settings.SEARCH_ENGINE = "opensearch"
    settings.SEARCH_INDEX_PREFIX = f"lhtest-{uuid.uuid4().hex[:8]}"
    return refusing_node


def test_a_cluster_that_failed_is_skipped_for_a_while(settings, indexed_then_cluster_down):
    """After the cluster could not be reached, the next searches and suggestions do not try it again during the
    rest (SEARCH_BREAKER_SECONDS): they answer at once from the embedded index, marked degraded."""
    settings.SEARCH_BREAKER_SECONDS = 600
    node = indexed_then_cluster_down
    first = selectors.search(query="党史", user=None)
    assert first.degraded and first.total == 1
    tried = node["connections"]
    assert tried >= 1
    second = selectors.search(query="党史", user=None)
    assert second.degraded and second.total == 1
    assert [suggestion.text for suggestion in selectors.suggestions(prefix="党史", user=None)] == ["党史学习读本"]
    assert node["connections"] == tried


def test_after_the_rest_one_request_tries_the_cluster_again(settings, indexed_then_cluster_down):
    """Once the rest is over a search probes the cluster again (here it is still down: the rest starts anew)."""
    settings.SEARCH_BREAKER_SECONDS = 0
    node = indexed_then_cluster_down
    assert selectors.search(query="党史", user=None).degraded
    tried = node["connections"]
    assert selectors.search(query="党史", user=None).degraded
    assert node["connections"] > tried


def test_the_last_page_stops_at_the_result_window():
    """Pages past the engines' result window (10,000 results) are always empty, so none is offered: 50 a page
    gives 200 pages however many matched; few matches give their own page count."""
    assert selectors.last_page(SearchResults(hits=[], total=1_000_000, page=1, per_page=50)) == 200
    assert selectors.last_page(SearchResults(hits=[], total=1_000_000, page=1, per_page=20)) == 500
    assert selectors.last_page(SearchResults(hits=[], total=45, page=1, per_page=20)) == 3
    assert selectors.last_page(SearchResults(hits=[], total=0, page=1, per_page=20)) == 1


def test_promoted_hits_have_a_highlighted_title_with_synonyms(embedded, make_item, drain):
    """A promoted hit's title is escaped HTML with the query's matches marked, a synonym's included."""
    Synonym.objects.create(terms="党史，中国共产党历史")
    item = make_item("中国共产党历史<读本>")
    drain()
    Promotion.objects.create(query="党史", doc_id=f"library.libraryitem:{item.pk}")
    (hit,) = selectors.promoted_hits(selectors.read_query("党史"), selectors.audience_for(None))
    assert hit.title_html == "<mark>中国共产党历史</mark>&lt;读本&gt;"
