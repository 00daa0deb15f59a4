"""The cluster engines' own helpers, without a server: node lists, snippet clipping, the engine cache, and the
request bodies' exact-title ranking (tests/search/test_opensearch.py runs the same against a real node)."""

from search.engines.analysis import parse_query
from search.engines.bodies import EXACT_TITLE_SCORE, document_source, index_body, search_body
from search.engines.choice import get_cluster_engine
from search.engines.cluster import clip_fragment, split_nodes
from search.engines.results import SearchRequest
from search.registry import SearchDocument


def test_search_url_lists_nodes_separated_by_commas():
    """SEARCH_URL "a, b," gives both nodes, spaces and empty entries dropped."""
    assert split_nodes("http://a:9200, http://b:9200,") == ["http://a:9200", "http://b:9200"]
    assert split_nodes("") == []


def test_a_long_fragment_is_clipped_around_its_first_match():
    """A fragment the engine could not cut (no sentence ends) is cut to the width around its first <mark>, with
    entities kept whole and the mark tags balanced."""
    fragment = "长" * 500 + "<mark>红楼梦</mark>" + "&lt;" * 500
    clipped = clip_fragment(fragment, 20)
    assert clipped == "…" + "长" * 5 + "<mark>红楼梦</mark>" + "&lt;" * 12 + "…"
    assert clip_fragment("<mark>" + "红" * 50 + "</mark>", 10) == "<mark>" + "红" * 10 + "</mark>…"
    assert clip_fragment("短<mark>文</mark>", 10) == "短<mark>文</mark>"
    assert clip_fragment("长" * 30, 10) == "长" * 10 + "…"


def test_one_engine_per_settings_combination(settings):
    """The same settings give the same engine (its connection pool is kept); other replicas or nodes give
    another one, built with them."""
    settings.SEARCH_URL, settings.SEARCH_ENGINE, settings.SEARCH_INDEX_PREFIX = "http://127.0.0.1:1", "opensearch", "t"
    settings.SEARCH_REPLICAS, settings.SEARCH_SHARDS = 0, 2
    engine = get_cluster_engine()
    assert get_cluster_engine() is engine and (engine.replicas, engine.shards) == (0, 2)
    settings.SEARCH_REPLICAS = 1
    assert get_cluster_engine() is not engine and get_cluster_engine().replicas == 1
    settings.SEARCH_URL = "http://127.0.0.1:1,http://127.0.0.1:2"
    assert get_cluster_engine().max_retries == 1 and get_cluster_engine().alias == "t-documents"


def _first_sort_keys(body: dict) -> list:
    return [next(iter(key)) if isinstance(key, dict) else key for key in body["sort"]]


def test_an_exact_title_adds_a_constant_far_above_any_score_and_ties_have_an_order():
    """The body a cluster gets: a title equal to the query (or a synonym rewrite) after folding adds
    EXACT_TITLE_SCORE outside the freshness and boost factors; equal scores go to the shorter title, the more
    popular document, then the doc_id."""
    parsed = parse_query("其一○", synonyms={})
    body = search_body(parsed, SearchRequest())
    exact = body["query"]["bool"]["should"][0]["constant_score"]
    assert exact == {"filter": {"terms": {"title_key": ["其一〇"]}}, "boost": EXACT_TITLE_SCORE}
    assert "function_score" in body["query"]["bool"]["must"][0]
    assert _first_sort_keys(body) == ["_score", "title_length", "boost", "doc_id"]
    assert body["sort"][1]["title_length"]["unmapped_type"] == "integer"


def test_newest_keeps_its_date_order():
    """sort="newest" is still date first, then score."""
    body = search_body(parse_query("党史"), SearchRequest(sort="newest"))
    assert _first_sort_keys(body) == ["date", "_score"]


def test_documents_carry_their_title_key_and_length_in_the_mapping():
    """Each document sends the folded title and its length, which the index maps as a keyword and an integer."""
    source = document_source(SearchDocument(doc_id="t:1", kind="poem", title="秋興 其二○", url="/t/1/"))
    assert (source["title_key"], source["title_length"]) == ("秋兴其二〇", 6)
    properties = index_body("i")["mappings"]["properties"]
    assert properties["title_key"]["type"] == "keyword" and properties["title_length"]["type"] == "integer"
    mappings = index_body("i")["settings"]["analysis"]["char_filter"]["lighthouse_t2s"]["mappings"]
    assert "○=>〇" in mappings
