"""The admin search on the engine (SEARCH_URL set): modelsearch's backend for the configured Elasticsearch/OpenSearch
cluster, with our CJK analysis (the site search's own cluster engine is search.engines.cluster).

`BACKEND: "search.admin_backends.engine"` with `ENGINE` ("opensearch" or "elasticsearch"); the modelsearch
backend is the one matching the installed client (opensearch-py 2 → opensearch2, 3 → opensearch3;
elasticsearch 8 → elasticsearch8, 9 → elasticsearch9). Other keys are modelsearch's (URLS, INDEX_PREFIX,
TIMEOUT, OPTIONS, INDEX_SETTINGS).
"""

import logging
from functools import cache
from importlib import import_module

from modelsearch.utils import deep_update

from .engine_analysis import index_settings
from .fallback import FallbackResultsMixin

logger = logging.getLogger(__name__)

# (index, model) pairs this process has seen to exist, so a save costs one request, not two.
_ensured: set[tuple[str, str]] = set()


def _client_major(engine: str) -> int:
    client = import_module("elasticsearch" if engine == "elasticsearch" else "opensearchpy")
    return int(client.__versionstr__.split(".")[0])


def _engine_errors(engine: str) -> tuple[type[Exception], ...]:
    if engine == "elasticsearch":
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        return (ApiError, TransportError)
    from opensearchpy.exceptions import OpenSearchException

    return (OpenSearchException,)


def _modelsearch_backend(engine: str) -> type:
    major = _client_major(engine)
    if engine == "elasticsearch":
        module = "elasticsearch9" if major >= 9 else "elasticsearch8"
    else:
        module = "opensearch3" if major >= 3 else "opensearch2"
    return import_module(f"modelsearch.backends.{module}").SearchBackend


class EnsuredIndexMixin:
    """A save into an index nobody created yet (no `update_index` since deploy) would make the engine create
    it with its stock analysis, and Chinese would stay unfindable: create it with ours first, once."""

    def add_item(self, item):
        key = (self.name, item._meta.label)
        if key not in _ensured:
            if not self.es.indices.exists(index=self.name):
                self._create(type(item))
            _ensured.add(key)
        super().add_item(item)

    def _create(self, model):
        logger.info("Creating the admin search index %s (no update_index has run yet)", self.name)
        try:
            self.put()
        except self.backend.results_class.engine_errors:
            if not self.es.indices.exists(index=self.name):
                raise
            return  # another worker made it a moment ago
        self.add_model(model)


class AllTermsMixin:
    # Every bigram of the query, as on the database backends; stock "or" would match any one of them.
    DEFAULT_OPERATOR = "and"


@cache
def backend_class(engine: str) -> type:
    """modelsearch's backend class for `engine`, with our index, query and results behaviour."""
    base = _modelsearch_backend(engine)

    def extend(mixin, cls, **attrs):
        return type(f"Chinese{cls.__name__}", (mixin, cls), attrs)

    return type(
        f"Chinese{base.__name__}",
        (base,),
        {
            "index_class": extend(EnsuredIndexMixin, base.index_class),
            "query_compiler_class": extend(AllTermsMixin, base.query_compiler_class),
            "autocomplete_query_compiler_class": extend(AllTermsMixin, base.autocomplete_query_compiler_class),
            "results_class": extend(FallbackResultsMixin, base.results_class, engine_errors=_engine_errors(engine)),
        },
    )


def SearchBackend(params):  # the name modelsearch looks up in a backend module
    params = dict(params)
    engine = params.pop("ENGINE", "opensearch")
    urls = params.get("URLS") or []
    # Several nodes: a failed request is tried once on each other node, so one node down loses no save.
    params.setdefault("OPTIONS", {"max_retries": max(len(urls) - 1, 0), "retry_on_timeout": len(urls) > 1})
    params["INDEX_SETTINGS"] = deep_update(deep_update({}, index_settings()), params.get("INDEX_SETTINGS", {}))
    return backend_class(engine)(params)
