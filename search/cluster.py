"""Elasticsearch and OpenSearch engines: the same bodies (bodies.py), each sent through its own client.

Searches go to an alias so a full rebuild can fill a fresh index and swap it in without downtime.
"""

import logging
from datetime import UTC, datetime

from django.utils.safestring import mark_safe

from search import bodies
from search.registry import SearchDocument
from search.results import Hit, SearchError, SearchFilters, SearchResults, SearchUnavailable

logger = logging.getLogger(__name__)
# Short: when the engine is down the site answers from the embedded index instead of waiting.
REQUEST_TIMEOUT = 5
# Index management and bulk writes run in workers, not in front of a member: a busy node may take longer to
# create an index or allocate its shards, and failing them early only costs a retry.
ADMIN_TIMEOUT = 60
# Deep paging beyond the engine's result window is refused by it; we stop there.
MAX_RESULT_WINDOW = 10_000


class ClusterEngine:
    """Everything but the client: subclasses supply `_make_client`, `_bulk` and their exception types."""

    name = "cluster"
    unavailable_errors: tuple[type[Exception], ...] = ()
    engine_errors: tuple[type[Exception], ...] = ()

    def __init__(self, *, url: str, prefix: str):
        self.url = url
        self.alias = f"{prefix}-documents"
        self._client = None
        self._admin = None
        self._index_checked = False

    @property
    def client(self):
        """For member-facing reads: gives up after REQUEST_TIMEOUT."""
        if self._client is None:
            self._client = self._make_client(timeout=REQUEST_TIMEOUT)
        return self._client

    @property
    def admin(self):
        """For index management and bulk writes in workers: ADMIN_TIMEOUT."""
        if self._admin is None:
            self._admin = self._make_client(timeout=ADMIN_TIMEOUT)
        return self._admin

    def _call(self, function, *args, **kwargs):
        """Run one client call; every failure becomes a SearchError (never shown to users as is)."""
        try:
            return function(*args, **kwargs)
        except self.unavailable_errors as exc:
            raise SearchUnavailable(f"{self.name}: {exc}") from exc
        except self.engine_errors as exc:
            raise SearchError(f"{self.name}: {exc}") from exc

    def ping(self) -> None:
        self._call(self.client.info)

    def new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    def create_index(self, *, with_alias: bool = False) -> str:
        name = self.new_index_name()
        body = bodies.index_body(name, alias=self.alias if with_alias else None)
        self._call(self.admin.indices.create, index=name, body=body)
        return name

    def ensure_index(self) -> None:
        if self._index_checked:
            return
        if not self._call(self.admin.indices.exists_alias, name=self.alias):
            self.create_index(with_alias=True)
        self._index_checked = True

    def indices_behind_alias(self) -> list[str]:
        if not self._call(self.admin.indices.exists_alias, name=self.alias):
            return []
        return sorted(self._call(self.admin.indices.get_alias, name=self.alias))

    def switch_alias(self, index: str) -> None:
        """Point the alias at `index` in one atomic step, then drop the indices it pointed at before."""
        old = self.indices_behind_alias()
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": index, "alias": self.alias}})
        self._call(self.admin.indices.update_aliases, body={"actions": actions})
        for name in old:
            if name != index:
                self._call(self.admin.indices.delete, index=name)
        self._index_checked = True

    def index(self, documents: list[SearchDocument], *, index: str | None = None) -> None:
        actions = [
            {"_op_type": "index", "_index": index or self.alias, "_id": d.doc_id, "_source": bodies.document_source(d)}
            for d in documents
        ]
        self._send(actions)

    def delete(self, doc_ids: list[str]) -> None:
        self._send([{"_op_type": "delete", "_index": self.alias, "_id": doc_id} for doc_id in doc_ids])

    def _send(self, actions: list[dict]) -> None:
        if not actions:
            return
        try:
            _, errors = self._call(self._bulk, actions)
        except SearchError:
            # The index may have been dropped meanwhile: check (and recreate) it on the next try.
            self._index_checked = False
            raise
        # Deleting what is already gone is success.
        errors = [error for error in errors if error.get("delete", {}).get("status") != 404]
        if errors:
            raise SearchError(f"{self.name}: {len(errors)} bulk errors, first: {errors[0]}")

    def refresh(self) -> None:
        self._call(self.admin.indices.refresh, index=self.alias)

    def count(self) -> int:
        return self._call(self.client.count, index=self.alias)["count"]

    def search(self, query: str, *, filters: SearchFilters, page: int = 1, per_page: int = 20) -> SearchResults:
        results = SearchResults(hits=[], total=0, page=page, per_page=per_page, query=query, backend=self.name)
        if not filters.access or page * per_page > MAX_RESULT_WINDOW:
            return results
        body = bodies.search_body(query, filters=filters, page=page, per_page=per_page)
        if not body["query"]["bool"].get("must"):
            return results
        response = self._call(self.client.search, index=self.alias, body=body)
        results.total = response["hits"]["total"]["value"]
        results.hits = [_hit(raw) for raw in response["hits"]["hits"]]
        return results


def _first_fragment(highlight: dict, *names: str) -> str | None:
    for name in names:
        if highlight.get(name):
            return highlight[name][0]
    return None


def _hit(raw: dict) -> Hit:
    source, highlight = raw["_source"], raw.get("highlight", {})
    date = datetime.fromisoformat(source["date"]) if source.get("date") else None
    # The engine escaped the text itself (encoder "html") and added only our <mark> tags.
    title_html = _first_fragment(highlight, "title", "title.uni")
    return Hit(
        doc_id=raw["_id"],
        kind=source["kind"],
        title=source["title"],
        url=source["url"],
        snippet=mark_safe(_first_fragment(highlight, "body", "body.uni") or ""),
        score=raw.get("_score") or 0.0,
        date=date,
        title_html=mark_safe(title_html) if title_html else None,
    )


class OpenSearchEngine(ClusterEngine):
    name = "opensearch"

    def __init__(self, **kwargs):
        import opensearchpy

        super().__init__(**kwargs)
        self.unavailable_errors = (opensearchpy.ConnectionError, opensearchpy.ConnectionTimeout)
        self.engine_errors = (opensearchpy.OpenSearchException,)

    def _make_client(self, *, timeout: float):
        from opensearchpy import OpenSearch

        return OpenSearch(hosts=[self.url], timeout=timeout, max_retries=0, retry_on_timeout=False)

    def _bulk(self, actions):
        from opensearchpy import helpers

        return helpers.bulk(self.admin, actions, raise_on_error=False, raise_on_exception=True)


class ElasticsearchEngine(ClusterEngine):
    name = "elasticsearch"

    def __init__(self, **kwargs):
        import elastic_transport
        import elasticsearch

        super().__init__(**kwargs)
        self.unavailable_errors = (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout)
        self.engine_errors = (elasticsearch.ApiError, elastic_transport.TransportError)

    def _make_client(self, *, timeout: float):
        from elasticsearch import Elasticsearch

        return Elasticsearch(self.url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)

    def _bulk(self, actions):
        from elasticsearch import helpers

        return helpers.bulk(self.admin, actions, raise_on_error=False, raise_on_exception=True)
