"""The cluster engines' own helpers, without a server: node lists, snippet clipping, the engine cache."""

from search.engines.choice import get_cluster_engine
from search.engines.cluster import clip_fragment, split_nodes


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
