"""Which engine answers: the configured Elasticsearch/OpenSearch cluster, or the embedded index."""

from django.conf import settings

from search.engines.embedded import EmbeddedEngine

_engines: dict[tuple, object] = {}


def engine_configured() -> bool:
    return bool(settings.SEARCH_URL)


def get_embedded_engine() -> EmbeddedEngine:
    return EmbeddedEngine()


def _cluster_settings() -> dict:
    # Read on every call (never at import): tests and deployments change them.
    return {
        "url": settings.SEARCH_URL,
        "prefix": settings.SEARCH_INDEX_PREFIX,
        "shards": int(getattr(settings, "SEARCH_SHARDS", 1) or 1),
        "replicas": int(getattr(settings, "SEARCH_REPLICAS", 1)),
    }


def get_cluster_engine():
    """The configured cluster engine, one per settings combination (it keeps its connection pool)."""
    from search.engines.cluster import ElasticsearchEngine, OpenSearchEngine

    options = _cluster_settings()
    key = (settings.SEARCH_ENGINE, *options.values())
    if key not in _engines:
        engine_class = ElasticsearchEngine if settings.SEARCH_ENGINE == "elasticsearch" else OpenSearchEngine
        _engines[key] = engine_class(**options)
    return _engines[key]


def get_engine():
    """The engine searches should use: the cluster when SEARCH_URL is set, else the embedded index."""
    return get_cluster_engine() if engine_configured() else get_embedded_engine()
