"""The Elasticsearch path, checked through the request bodies its client really sends (the same bodies the
OpenSearch engine sends, tested against a real node in test_opensearch.py).

No Elasticsearch 8/9 node runs here, so a small local HTTP server plays one: it records each request and
answers like Elasticsearch (including the X-Elastic-Product header the client insists on).
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from search.engines.analysis import parse_query, synonym_map
from search.engines.bodies import index_body, search_body, suggest_body
from search.engines.choice import get_cluster_engine
from search.engines.cluster import bulk_bodies, document_sources
from search.engines.results import Audience, SearchError, SearchRequest, SearchUnavailable
from search.registry import SearchDocument


class _Recorder(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status: int, payload: dict | None):
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            self.send_response(status)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    def _bulk(self, raw: str):
        items = [json.loads(line) for line in raw.splitlines() if line.strip()]
        actions = [op for item in items for op in item if op in ("index", "delete")]
        statuses = self.server.bulk_statuses or [201] * len(actions)
        results = [{op: {"status": status}} for op, status in zip(actions, statuses, strict=False)]
        return self._answer(200, {"errors": any(s >= 300 for s in statuses), "took": 1, "items": results})

    def _search(self):
        # A node that is slow to answer (search_delay seconds), as a hung engine is.
        time.sleep(self.server.search_delay)
        hit = {"_id": "library.libraryitem:1", "_score": 2.5, "_source": {"kind": "ebook", "title": "红楼梦<有声书>"}}
        hit["_source"].update(url="/library/item/1/", date="2024-05-01T08:00:00+08:00", creators="曹雪芹")
        hit["highlight"] = {"title": ["<mark>红楼梦</mark>&lt;有声书&gt;"], "body": ["<mark>红楼梦</mark>……"]}
        aggregations = {"kind": {"buckets": [{"key": "ebook", "doc_count": 3}]}, "year": {"buckets": []}}
        aggregations["unit"] = {"buckets": [{"key": 7, "doc_count": 2}, {"key": "", "doc_count": 1}]}
        hits = {"total": {"value": 1, "relation": "eq"}, "hits": [hit]}
        return self._answer(200, {"hits": hits, "aggregations": aggregations})

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        path, _, query = self.path.partition("?")
        self.server.recorded.append((self.command, path, raw, query))
        if self.command == "HEAD":
            return self._answer(404, None)
        if path.endswith("/_bulk"):
            return self._bulk(raw)
        if path.endswith("/_search"):
            return self._search()
        return self._answer(200, {"acknowledged": True})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


@pytest.fixture
def fake_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.recorded, server.bulk_statuses, server.search_delay = [], [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_elasticsearch(settings, fake_server):
    settings.SEARCH_URL = f"http://127.0.0.1:{fake_server.server_address[1]}"
    settings.SEARCH_ENGINE = "elasticsearch"
    settings.SEARCH_INDEX_PREFIX = "estest"
    return fake_server


def _walk(node):
    """Every dict key and string value in a body, for checks that hold wherever they appear."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
    else:
        yield node


def _body(query="红楼梦", *, synonyms=None, **request):
    return search_body(parse_query(query, synonyms=synonyms), SearchRequest(**request))


def _ranked(body):
    """The ranked query: the whole query, or the must of the bool that adds an exact title's score."""
    query = body["query"]
    return query["bool"]["must"][0] if "bool" in query else query


def _matching(body):
    """The bool of alternatives (should) inside the function_score wrappers (under the exact-title bool, when the
    query has an exact title to reward)."""
    inner = _ranked(body)["function_score"]["query"]["function_score"]["query"]["bool"]
    return inner["must"][0]["bool"], inner["filter"]


# --- Index body


def test_index_body_has_chinese_analysis_pinyin_and_tombstones():
    """Bigrams with a unigram subfield (standard + cjk_width + lowercase + cjk_bigram, OpenCC folding), a
    whitespace words field, an edge-ngram pinyin field searched whole, typed keywords, and 1h tombstones."""
    body = index_body("lh-1", aliases=["lh-building"], shards=3, replicas=2)
    analysis = body["settings"]["analysis"]
    assert analysis["analyzer"]["lighthouse_cjk"]["filter"] == ["cjk_width", "lowercase", "cjk_bigram"]
    assert analysis["analyzer"]["lighthouse_cjk"]["tokenizer"] == "standard"
    assert "黨=>党" in analysis["char_filter"]["lighthouse_t2s"]["mappings"]
    assert analysis["filter"]["lighthouse_pinyin_edges"] == {"type": "edge_ngram", "min_gram": 2, "max_gram": 40}
    properties = body["mappings"]["properties"]
    assert properties["title"]["fields"]["uni"]["analyzer"] == "lighthouse_cjk_unigram"
    assert properties["words"] == {"type": "text", "analyzer": "whitespace"}
    assert (
        properties["pinyin"]["analyzer"] == "lighthouse_pinyin"
        and properties["pinyin"]["search_analyzer"] == "whitespace"
    )
    assert {properties[name]["type"] for name in ("kind", "access", "subject", "unit_path", "doc_id")} == {"keyword"}
    assert properties["year"]["type"] == "integer" and properties["access_unit_id"]["type"] == "long"
    assert properties["boost"]["type"] == "float" and properties["date"]["type"] == "date"
    assert body["settings"]["gc_deletes"] == "1h"
    assert (body["settings"]["number_of_shards"], body["settings"]["number_of_replicas"]) == (3, 2)
    assert body["aliases"] == {"lh-building": {}}


def test_replicas_and_shards_come_from_settings(settings, fake_elasticsearch):
    """SEARCH_SHARDS/SEARCH_REPLICAS reach the index created (default: 1 shard, 1 replica)."""
    settings.SEARCH_SHARDS, settings.SEARCH_REPLICAS = 2, 0
    get_cluster_engine().ensure_index()
    created = next(json.loads(raw) for method, _path, raw, _q in fake_elasticsearch.recorded if method == "PUT")
    assert (created["settings"]["number_of_shards"], created["settings"]["number_of_replicas"]) == (2, 0)


# --- Search body


def test_search_body_matches_any_alternative_or_the_pinyin():
    """Alternatives are should clauses (one must match), each ANDing its runs with a phrase bonus; synonym
    rewrites weigh less; a pinyin query adds a clause on the pinyin field."""
    synonyms = synonym_map([["党史", "中国共产党历史"]])
    matching, _filters = _matching(_body("黨史", synonyms=synonyms))
    assert matching["minimum_should_match"] == 1
    typed, rewrite = matching["should"]
    run = typed["bool"]["must"][0]["bool"]["must"][0]["multi_match"]
    assert run["query"] == "党史" and run["operator"] == "and" and run["type"] == "cross_fields"
    assert "title^3" in run["fields"] and "body^1" in run["fields"]
    assert typed["bool"]["must"][0]["bool"]["should"][0]["multi_match"]["type"] == "phrase"
    assert typed["bool"]["boost"] == 1.0 and 0 < rewrite["bool"]["boost"] < 1.0
    pinyin_matching, _ = _matching(_body("deng ta"))
    assert pinyin_matching["should"][-1] == {"match": {"pinyin": {"query": "dengta", "boost": 2}}}


def test_one_character_query_uses_the_unigram_fields():
    """A one-character query searches the unigram subfields."""
    matching, _ = _matching(_body("党"))
    fields = matching["should"][0]["bool"]["must"][0]["bool"]["must"][0]["multi_match"]["fields"]
    assert all(".uni" in name for name in fields)


def test_search_body_filters_by_audience_and_choices():
    """The audience (levels, or "unit" documents of its units) and the chosen filters are non-scoring filters;
    the unit filter takes the subtree (a prefix of the unit path)."""
    audience = Audience(levels=("public", "members"), unit_ids=(3, 1))
    body = _body(audience=audience, kind="ebook", subject="历史", year=2024, access="members", unit_path="0001")
    _, filters = _matching(body)
    visible = filters[0]["bool"]
    assert visible["minimum_should_match"] == 1
    assert visible["should"][0] == {"terms": {"access": ["public", "members"]}}
    assert visible["should"][1] == {
        "bool": {"filter": [{"term": {"access": "unit"}}, {"terms": {"access_unit_id": [3, 1]}}]}
    }
    assert filters[1:] == [
        {"term": {"kind": "ebook"}},
        {"term": {"subject": "历史"}},
        {"term": {"access": "members"}},
        {"term": {"year": 2024}},
        {"prefix": {"unit_path": "0001"}},
    ]
    _, all_units = _matching(_body(audience=Audience(levels=(), all_units=True)))
    assert all_units[0]["bool"]["should"] == [{"term": {"access": "unit"}}]
    assert _body(audience=Audience(levels=())) is None


def test_search_body_scores_by_boost_and_freshness():
    """Score × the document's boost × (1 + 0.2 × a date decay halving at one year); undated documents keep
    their score."""
    body = _body()
    outer = _ranked(body)["function_score"]
    assert outer["functions"] == [{"field_value_factor": {"field": "boost", "missing": 1}}]
    assert outer["boost_mode"] == "multiply"
    inner = outer["query"]["function_score"]
    assert inner["score_mode"] == "sum" and inner["boost_mode"] == "multiply"
    constant, decay = inner["functions"]
    assert constant == {"weight": 1}
    assert decay["gauss"]["date"] == {"origin": "now", "scale": "365d", "decay": 0.5}
    assert decay["weight"] == 0.2 and decay["filter"] == {"exists": {"field": "date"}}


def test_search_body_pages_sort_facets_and_highlights():
    """Paging, relevance ties broken deterministically (exact title, score, shorter title, popularity, id),
    newest-first sorting, facet aggregations only when asked (unit: top 10), html-encoded <mark> highlights and
    exact totals."""
    body = _body(page=2, per_page=10)
    assert (body["from"], body["size"]) == (10, 10) and body["track_total_hits"] is True
    assert "aggs" not in body and body["sort"][0] == "_score"
    assert [next(iter(key)) for key in body["sort"][1:]] == ["title_length", "boost", "doc_id"]
    assert body["highlight"]["pre_tags"] == ["<mark>"] and body["highlight"]["encoder"] == "html"
    assert set(body["highlight"]["fields"]) >= {"title", "title.uni", "body", "body.uni"}
    assert "body" in body["_source"]["excludes"]
    newest = _body(sort="newest", facets=True)
    assert newest["sort"] == [{"date": {"order": "desc", "missing": "_last"}}, "_score"]
    assert newest["aggs"]["unit"] == {"terms": {"field": "unit_id", "size": 10}}
    assert set(newest["aggs"]) == {"kind", "subject", "year", "unit", "access"}


def test_a_page_past_the_result_window_asks_for_no_hits():
    """Past 10,000 results the body asks for no hits (size 0) but still for the total."""
    body = _body(page=101, per_page=100)
    assert (body["from"], body["size"]) == (0, 0) and body["track_total_hits"] is True


@pytest.mark.parametrize("query", ["title:*", "AND (", "<script>alert(1)</script>", "a OR b~2", "长" * 100])
def test_odd_queries_are_plain_text(query):
    """Query syntax never reaches a query parser: no query_string anywhere, the text only inside match
    queries."""
    body = _body(query)
    keys = set(_walk(body))
    assert "query_string" not in keys and "simple_query_string" not in keys


def test_empty_queries_send_nothing():
    """Nothing searchable (punctuation, emoji, empty) gives no body at all."""
    assert all(_body(query) is None for query in ("", "！？。", "😀"))


def test_suggest_body_matches_titles_and_pinyin_once_per_title():
    """Suggestions search the title only (the last ASCII word as a prefix), or the pinyin, collapsed on the
    exact title, best match then boost then newest."""
    body = suggest_body(parse_query("灯塔 ke"), Audience(), limit=5)
    (title_query,) = body["query"]["bool"]["should"]
    keys = set(_walk(title_query))
    assert "body" not in str(title_query) and {"prefix", "title.uni"} <= keys
    _title, pinyin = suggest_body(parse_query("deng ta"), Audience(), limit=5)["query"]["bool"]["should"]
    assert pinyin["match"]["pinyin"]["query"] == "dengta"
    assert body["collapse"] == {"field": "title.keyword"} and body["size"] == 5
    assert body["sort"][0] == "_score" and body["sort"][1] == {"boost": {"order": "desc"}}
    assert body["_source"] == ["title", "url"]


# --- Through the elasticsearch client


def test_elasticsearch_client_sends_these_bodies(fake_elasticsearch):
    """Index creation behind the alias, versioned bulk writes that never create an index, the query, and the
    answer read back into hits and facets."""
    engine = get_cluster_engine()
    assert type(engine).__name__ == "ElasticsearchEngine"
    engine.ensure_index()
    document = SearchDocument(doc_id="library.libraryitem:1", kind="ebook", title="红楼梦有声书", url="/x/")
    engine.index([document], version=123)
    engine.delete(["library.libraryitem:2"], version=456)
    parsed, request = parse_query("红楼梦"), SearchRequest(facets=True)
    results = engine.search(parsed, request)

    recorded = fake_elasticsearch.recorded
    assert (recorded[0][0], recorded[0][1]) == ("HEAD", "/_alias/estest-documents")
    put_path, create = next((path, json.loads(raw)) for method, path, raw, _ in recorded if method == "PUT")
    assert create == index_body(put_path[1:], aliases=["estest-documents"])
    bulks = [(raw.splitlines(), query) for _, path, raw, query in recorded if path.endswith("_bulk")]
    (index_lines, index_query), (delete_lines, _) = bulks
    assert json.loads(index_lines[0]) == {
        "index": {
            "_index": "estest-documents",
            "_id": "library.libraryitem:1",
            "version": 123,
            "version_type": "external_gte",
        }
    }
    source = json.loads(index_lines[1])
    assert source["title"] == "红楼梦有声书" and "hlmyss" in source["pinyin"].split()
    assert "require_alias=true" in index_query
    assert json.loads(delete_lines[0])["delete"]["version"] == 456
    sent = next(json.loads(raw) for _, path, raw, _ in recorded if path.endswith("_search"))
    assert sent == search_body(parsed, request)
    assert results.total == 1 and results.backend == "elasticsearch"
    assert results.hits[0].title_html == "<mark>红楼梦</mark>&lt;有声书&gt;"
    assert results.hits[0].snippet == "<mark>红楼梦</mark>……"
    assert [(v.value, v.count) for v in results.facets["unit"]] == [("7", 2)]
    assert [(v.value, v.count) for v in results.facets["kind"]] == [("ebook", 3)]


def test_version_conflicts_and_missing_deletes_are_success(fake_elasticsearch):
    """A 409 (a newer version is stored) and deleting a missing document (404) are success; other item
    errors are a SearchError."""
    engine = get_cluster_engine()
    documents = [SearchDocument(doc_id=f"t:{n}", kind="ebook", title="党史", url="/") for n in range(2)]
    fake_elasticsearch.bulk_statuses = [201, 409]
    engine.index(documents, version=1)
    fake_elasticsearch.bulk_statuses = [404, 409]
    engine.delete(["t:1", "t:2"], version=2)
    fake_elasticsearch.bulk_statuses = [201, 400]
    with pytest.raises(SearchError):
        engine.index(documents, version=3)


def test_prepared_bulk_bodies_go_to_the_index_as_sent_and_their_item_errors_raise(fake_elasticsearch):
    """A rebuild's prepared bodies (bulk_bodies) reach /<index>/_bulk as NDJSON with their versions; 409 is success,
    any other failed item a SearchError."""
    engine = get_cluster_engine()
    documents = [SearchDocument(doc_id=f"t:{n}", kind="ebook", title="党史", url="/") for n in range(2)]
    bodies = bulk_bodies(document_sources(documents), version=7)
    fake_elasticsearch.bulk_statuses = [201, 409]
    engine.index_bodies(bodies, index="lh-new")
    _, path, raw, _ = fake_elasticsearch.recorded[-1]
    lines = [json.loads(line) for line in raw.splitlines()]
    assert path == "/lh-new/_bulk" and lines[0] == {
        "index": {"_id": "t:0", "version": 7, "version_type": "external_gte"}
    }
    assert lines[1]["title"] == "党史" and len(lines) == 4
    fake_elasticsearch.bulk_statuses = [201, 400]
    with pytest.raises(SearchError):
        engine.index_bodies(bodies, index="lh-new")


def test_several_nodes_retry_on_the_next_one(settings, fake_elasticsearch, closed_port_url):
    """SEARCH_URL with several nodes: the client knows them all, retries across them, and a closed first
    node loses no request."""
    live = settings.SEARCH_URL
    settings.SEARCH_URL = f"{closed_port_url}, {live}"
    engine = get_cluster_engine()
    assert engine.nodes == [closed_port_url, live] and engine.max_retries == 1
    assert len(engine.client.transport.node_pool.all()) == 2
    assert [engine.search(parse_query("党史"), SearchRequest()).total for _ in range(4)] == [1, 1, 1, 1]


def _another_closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_every_node_down_is_search_unavailable(settings, closed_port_url):
    """Nothing listening on any node: SearchUnavailable, never the client's exception."""
    settings.SEARCH_URL = f"{closed_port_url},{_another_closed_port_url()}"
    settings.SEARCH_ENGINE = "elasticsearch"
    settings.SEARCH_INDEX_PREFIX = "estest-down"
    with pytest.raises(SearchUnavailable):
        get_cluster_engine().search(parse_query("党史"), SearchRequest())


# --- One "is this Chinese" rule, the owning unit, the result window, facet sizes, shared analysis, boosts


def test_a_lone_letter_that_is_not_chinese_uses_the_word_fields():
    """Only a lone Chinese character searches the unigram subfields; é is a word like any other, and a word being
    typed in any script (Пуш) completes as a prefix in suggestions."""
    matching, _ = _matching(_body("é"))
    fields = matching["should"][0]["bool"]["must"][0]["bool"]["must"][0]["multi_match"]["fields"]
    assert fields and not any(".uni" in name for name in fields)
    title_query = suggest_body(parse_query("Пуш"), Audience(), limit=5)["query"]["bool"]["should"][0]
    assert '{"prefix": {"title.uni": "пуш"}}' in json.dumps(title_query, ensure_ascii=False)
    chinese = suggest_body(parse_query("灯塔"), Audience(), limit=5)["query"]["bool"]["should"][0]
    assert "prefix" not in set(_walk(chinese))


def test_search_body_filters_by_the_exact_owning_unit():
    """unit_id is an exact term on the owning unit, beside the unit_path subtree."""
    _, filters = _matching(_body(unit_id=7, unit_path="0001"))
    assert {"term": {"unit_id": 7}} in filters and {"prefix": {"unit_path": "0001"}} in filters
    _, without = _matching(_body())
    assert not any("unit_id" in str(clause) for clause in without[1:])


def test_result_window_and_facet_sizes_are_the_embedded_ones():
    """A page has hits only when page × per_page <= 10,000, and facets ask for 20 values (units 10): the rule and
    sizes the embedded index uses too."""
    from search.engines.results import FACET_SIZES, RESULT_WINDOW

    assert _body(per_page=RESULT_WINDOW)["size"] == RESULT_WINDOW
    assert _body(per_page=RESULT_WINDOW + 1)["size"] == 0 and _body(page=2, per_page=5_001)["size"] == 0
    aggs = _body(facets=True)["aggs"]
    assert {name: agg["terms"]["size"] for name, agg in aggs.items()} == FACET_SIZES
    assert FACET_SIZES == {"kind": 20, "subject": 20, "year": 20, "unit": 10, "access": 20}


def test_the_admin_index_analyses_chinese_with_our_definitions():
    """Wagtail's admin index gets the very char filter and bigram analyzer of our own index (one definition)."""
    from search.admin_backends.engine_analysis import index_settings

    ours = index_body("lh-1")["settings"]["analysis"]
    admin = index_settings()["settings"]["analysis"]
    assert admin["char_filter"]["lighthouse_t2s"] == ours["char_filter"]["lighthouse_t2s"]
    assert admin["analyzer"]["standard"] == admin["analyzer"]["default_search"] == ours["analyzer"]["lighthouse_cjk"]
    assert "lighthouse_chars_and_bigrams" in admin["analyzer"]["default"]["filter"]


def test_a_boost_that_is_no_number_indexes_as_one():
    """A document whose boost is NaN, infinite, negative or not a number is still indexed (1, or 0 if
    negative), never a failed write."""
    from search.engines.bodies import document_source

    def boost(value):
        return document_source(SearchDocument(doc_id="t:1", kind="ebook", title="党史", url="/", boost=value))["boost"]

    assert [boost(value) for value in (float("nan"), float("inf"), "很多", None, -2, 1.5)] == [1, 1, 1, 1, 0, 1.5]


@pytest.mark.parametrize("engine_name", ["elasticsearch", "opensearch"])
def test_suggestions_give_up_on_a_slow_engine_where_searches_wait(settings, fake_elasticsearch, engine_name):
    """A node that takes longer than SUGGEST_TIMEOUT to answer: suggest() and pinyin_titles() give up with
    SearchUnavailable (the embedded index answers instead), while a search still waits for it."""
    from search.engines.cluster import REQUEST_TIMEOUT, SUGGEST_TIMEOUT

    settings.SEARCH_ENGINE = engine_name
    fake_elasticsearch.search_delay = SUGGEST_TIMEOUT + 1
    assert fake_elasticsearch.search_delay < REQUEST_TIMEOUT
    engine = get_cluster_engine()
    with pytest.raises(SearchUnavailable):
        engine.suggest(parse_query("红楼"), Audience(), limit=5)
    with pytest.raises(SearchUnavailable):
        engine.pinyin_titles("hongloumeng", Audience(), limit=5)
    assert engine.search(parse_query("红楼"), SearchRequest()).total == 1


def test_pinyin_titles_read_title_and_creators(fake_elasticsearch):
    """pinyin_titles answers "title creators" for each document (the correction looks in both) and asks for
    nothing else."""
    engine = get_cluster_engine()
    assert engine.pinyin_titles("caoxueqin", Audience(), limit=5) == ["红楼梦<有声书> 曹雪芹"]
    sent = next(json.loads(raw) for _, path, raw, _ in fake_elasticsearch.recorded if path.endswith("_search"))
    assert sent["_source"] == ["title", "creators"]


def test_a_rebuild_loads_without_refreshes_or_replicas_and_gets_both_back_before_going_live(
    settings, fake_elasticsearch
):
    """create_index (a rebuild's) makes the index with refresh_interval -1 and no replica; switch_alias restores
    SEARCH_REPLICAS and the default refresh, then refreshes, before the alias moves to it."""
    settings.SEARCH_REPLICAS = 2
    engine = get_cluster_engine()
    name = engine.create_index()
    created = next(json.loads(raw) for method, path, raw, _q in fake_elasticsearch.recorded if path == f"/{name}")
    assert created["settings"]["refresh_interval"] == "-1" and created["settings"]["number_of_replicas"] == 0
    engine.switch_alias(name)
    calls = [(method, path, raw) for method, path, raw, _q in fake_elasticsearch.recorded]
    put = next(i for i, call in enumerate(calls) if call[:2] == ("PUT", f"/{name}/_settings"))
    refresh = next(i for i, call in enumerate(calls) if call[:2] == ("POST", f"/{name}/_refresh"))
    aliases = next(i for i, call in enumerate(calls) if call[1] == "/_aliases")
    assert put < refresh < aliases
    assert json.loads(calls[put][2]) == {"index": {"refresh_interval": None, "number_of_replicas": 2}}
