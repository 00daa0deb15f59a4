"""When a search counts for the editors' analytics: one rule for the search page and the JSON API."""

import logging
from functools import partial

from django.http.response import HttpResponseBase

from search.engines.results import SearchResults
from search.services import search_query_record

logger = logging.getLogger(__name__)


def counts_as_new_search(*, page: int, refining: bool) -> bool:
    """A query the member typed (or chose from "did you mean") is counted once, whatever filters the search box
    carried along. Following a facet, sort or page link refines a search already counted: those links (and API
    calls that say `refine`) are marked, and later pages are never new."""
    return page == 1 and not refining


def record_search(response: HttpResponseBase, *, query: str, results: SearchResults, page: int, refining: bool) -> None:
    """Count one search of `query` when it is new, once `response` has been sent; nothing for empty or
    unsearchable input (bots, punctuation).

    What it found includes the editors' promoted results: a query answered only by promotions is not a miss.
    """
    if not counts_as_new_search(page=page, refining=refining) or not query.strip() or results.notice == "empty":
        return
    # The server closes the response after writing it (WSGI and ASGI alike): the upsert's few database round
    # trips are then no longer part of what the member waits for.
    response._resource_closers.append(partial(_record, query=query, total=results.total + len(results.promoted)))


def _record(*, query: str, total: int) -> None:
    try:
        search_query_record(query=query, total=total)
    except Exception:  # the answer is already sent: a lost count is logged, never raised into the server
        logger.exception("search analytics: could not count %r", query)
