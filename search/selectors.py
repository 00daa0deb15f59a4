"""Reads: search as a given user sees it."""

import logging

from search.engine import engine_configured, get_cluster_engine, get_embedded_engine
from search.registry import kind_label
from search.results import SearchError, SearchFilters, SearchResults

logger = logging.getLogger(__name__)
# Longer queries are cut: nobody types more, and each extra character is one more term to AND.
MAX_QUERY_CHARS = 100
MAX_PER_PAGE = 100


def allowed_access(user) -> tuple[str, ...]:
    """Access levels `user` may see: anonymous visitors only public items, signed-in members also theirs."""
    if user is not None and user.is_authenticated and user.is_active:
        return ("public", "members")
    return ("public",)


def _labelled(results: SearchResults) -> SearchResults:
    for hit in results.hits:
        hit.kind_label = kind_label(hit.kind)
    return results


def _search(query: str, filters: SearchFilters, page: int, per_page: int) -> SearchResults:
    if engine_configured():
        try:
            return get_cluster_engine().search(query, filters=filters, page=page, per_page=per_page)
        except SearchError as exc:
            logger.warning("search engine failed, answering from the embedded index: %s", exc)
            results = get_embedded_engine().search(query, filters=filters, page=page, per_page=per_page)
            results.degraded = True
            return results
    return get_embedded_engine().search(query, filters=filters, page=page, per_page=per_page)


def search_items(*, query: str, user, kind: str | None = None, page: int = 1, per_page: int = 20) -> SearchResults:
    """Search results for `user`; from the engine, or from the embedded index when the engine fails."""
    query = (query or "").strip()[:MAX_QUERY_CHARS]
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    filters = SearchFilters(access=allowed_access(user), kind=kind or None)
    return _labelled(_search(query, filters, page, per_page))
