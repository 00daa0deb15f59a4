"""The Elasticsearch path, checked through the request bodies its client really sends.

No Elasticsearch 8/9 node runs here, so a small local HTTP server plays one: it records each request and
answers like Elasticsearch (including the X-Elastic-Product header the client insists on).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from search.bodies import index_body, search_body
from search.engine import get_cluster_engine
from search.registry import SearchDocument
from search.results import SearchFilters


class _Recorder(BaseHTTPRequestHandler):
    requests: list  # (method, path, body) per request, set per server

    def log_message(self, *args):
        pass

    def _answer(self, status: int, payload: dict | None):
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        self.server.recorded.append((self.command, self.path.split("?")[0], raw))
        path = self.path.split("?")[0]
        if self.command == "HEAD":
            return self._answer(404, None)
        if path.endswith("/_bulk"):
            items = [json.loads(line) for line in raw.splitlines() if line.strip()]
            actions = [item for item in items if set(item) & {"index", "delete"}]
            results = [{op: {"status": 201 if op == "index" else 200}} for action in actions for op in action]
            return self._answer(200, {"errors": False, "took": 1, "items": results})
        if path.endswith("/_search"):
            hit = {"_id": "library.libraryitem:1", "_score": 2.5, "_source": {"kind": "ebook", "title": "红楼梦有声书"}}
            hit["_source"].update(url="/library/item/1/", date="2024-05-01T08:00:00+08:00")
            hit["highlight"] = {"title": ["<mark>红楼梦</mark>有声书"]}
            return self._answer(200, {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [hit]}})
        return self._answer(200, {"acknowledged": True})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


@pytest.fixture
def fake_elasticsearch(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.recorded = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SEARCH_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.SEARCH_ENGINE = "elasticsearch"
    settings.SEARCH_INDEX_PREFIX = "estest"
    yield server.recorded
    server.shutdown()
    server.server_close()


def test_index_body_has_chinese_analysis():
    """The index analyses text with standard + cjk_width + lowercase + cjk_bigram and folds traditional."""
    body = index_body("lh-1", alias="lh")
    analysis = body["settings"]["analysis"]
    assert analysis["analyzer"]["lighthouse_cjk"]["filter"] == ["cjk_width", "lowercase", "cjk_bigram"]
    assert analysis["analyzer"]["lighthouse_cjk"]["tokenizer"] == "standard"
    assert "黨=>党" in analysis["char_filter"]["lighthouse_t2s"]["mappings"]
    properties = body["mappings"]["properties"]
    assert properties["title"]["fields"]["uni"]["analyzer"] == "lighthouse_cjk_unigram"
    assert {properties[name]["type"] for name in ("kind", "access")} == {"keyword"}
    assert properties["unit_id"]["type"] == "long" and properties["date"]["type"] == "date"
    assert body["aliases"] == {"lh": {}}


def test_search_body_boosts_title_and_filters_access():
    """A query ANDs its bigrams over the text fields, title boosted, with access as a non-scoring filter."""
    body = search_body("紅樓夢", filters=SearchFilters(access=("public",), kind="ebook"), page=2, per_page=10)
    run = body["query"]["bool"]["must"][0]["bool"]["must"][0]["multi_match"]
    assert run["query"] == "红楼梦" and run["operator"] == "and" and "title^3" in run["fields"]
    assert body["query"]["bool"]["filter"] == [{"terms": {"access": ["public"]}}, {"term": {"kind": "ebook"}}]
    assert body["from"] == 10 and body["size"] == 10
    assert body["highlight"]["pre_tags"] == ["<mark>"] and body["highlight"]["encoder"] == "html"


def test_one_character_query_uses_the_unigram_fields():
    """A one-character query searches the unigram subfields."""
    body = search_body("党", filters=SearchFilters(), page=1, per_page=20)
    fields = body["query"]["bool"]["must"][0]["bool"]["must"][0]["multi_match"]["fields"]
    assert all(".uni" in name for name in fields)


def test_elasticsearch_client_sends_these_bodies(fake_elasticsearch):
    """Through the elasticsearch client: index creation behind the alias, bulk documents, and the query."""
    engine = get_cluster_engine()
    assert type(engine).__name__ == "ElasticsearchEngine"
    engine.ensure_index()
    document = SearchDocument(doc_id="library.libraryitem:1", kind="ebook", title="红楼梦有声书", url="/x/")
    engine.index([document])
    results = engine.search("红楼梦", filters=SearchFilters(), page=1, per_page=20)

    methods_paths = [(method, path) for method, path, _ in fake_elasticsearch]
    assert methods_paths[0] == ("HEAD", "/_alias/estest-documents")
    create = next(json.loads(body) for method, path, body in fake_elasticsearch if method == "PUT")
    assert create["aliases"] == {"estest-documents": {}}
    assert create == index_body(next(p for m, p, _ in fake_elasticsearch if m == "PUT")[1:], alias="estest-documents")
    bulk = next(body for _, path, body in fake_elasticsearch if path.endswith("_bulk")).splitlines()
    assert json.loads(bulk[0]) == {"index": {"_index": "estest-documents", "_id": "library.libraryitem:1"}}
    assert json.loads(bulk[1])["title"] == "红楼梦有声书"
    sent = next(json.loads(body) for _, path, body in fake_elasticsearch if path.endswith("_search"))
    assert sent == search_body("红楼梦", filters=SearchFilters(), page=1, per_page=20)
    assert results.total == 1 and results.hits[0].title_html == "<mark>红楼梦</mark>有声书"
