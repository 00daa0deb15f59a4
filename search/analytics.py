"""Reads for the search editors' screens: what members search for, the index's health, entries to promote."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, IntegerField, Max, Min, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from search.engines.analysis import parse_query
from search.engines.choice import engine_configured, get_cluster_engine, get_embedded_engine
from search.engines.results import Audience, SearchRequest
from search.models import IndexEntry, OutboxEntry, Promotion, QueryStat

logger = logging.getLogger(__name__)
PERIODS = (7, 30, 90)
# Editors choose what to promote among everything in the index, whoever may see it.
_EVERYONE = Audience(levels=("public", "members"), all_units=True)


def period_start(days: int) -> date:
    """The first day of a report period of `days` days that ends today (an unknown period counts as 7)."""
    days = days if days in PERIODS else PERIODS[0]
    return timezone.localdate() - timedelta(days=days - 1)


def _per_query(since: date) -> QuerySet:
    # last total: what the query found the last day it was searched (the newest row wins).
    latest = QueryStat.objects.filter(query=OuterRef("query")).order_by("-day").values("last_total")[:1]
    return (
        QueryStat.objects.filter(day__gte=since)
        .values("query")
        .annotate(search_count=Sum("searches"), no_result_count=Sum("no_results"), latest_total=Subquery(latest))
    )


def top_queries(*, since: date, limit: int | None = None) -> QuerySet:
    """Queries searched since `since`, most searched first: dicts of query, search_count, no_result_count,
    latest_total."""
    rows = _per_query(since).order_by("-search_count", "query")
    return rows[:limit] if limit else rows


def zero_result_queries(*, since: date, limit: int | None = None) -> QuerySet:
    """Queries that found nothing at least once since `since`, most often first (same dicts as top_queries)."""
    rows = _per_query(since).filter(no_result_count__gt=0).order_by("-no_result_count", "-search_count", "query")
    return rows[:limit] if limit else rows


@dataclass(frozen=True)
class EngineHealth:
    name: str
    configured: bool
    healthy: bool
    count: int | None = None
    error: str = ""


@dataclass(frozen=True)
class SearchStatus:
    pending: int
    oldest_created_at: datetime | None
    max_attempts: int
    last_error: str
    embedded_count: int
    engine: EngineHealth

    @property
    def oldest_age_seconds(self) -> int:
        if self.oldest_created_at is None:
            return 0
        return max(0, int((timezone.now() - self.oldest_created_at).total_seconds()))


def _engine_health() -> EngineHealth:
    if not engine_configured():
        return EngineHealth(name=get_embedded_engine().name, configured=False, healthy=True)
    engine = get_cluster_engine()
    try:
        engine.ping()
        return EngineHealth(name=engine.name, configured=True, healthy=True, count=engine.count())
    except Exception as exc:  # noqa: BLE001 — the status page must render whatever the engine does
        logger.warning("search status: engine %s is not healthy: %s", engine.name, exc)
        return EngineHealth(name=engine.name, configured=True, healthy=False, error=str(exc)[:300])


def search_status() -> SearchStatus:
    """The outbox backlog, the engine's health and both indexes' document counts (never raises for the engine)."""
    stats = OutboxEntry.objects.aggregate(oldest=Min("created_at"), attempts=Max("attempts"))
    failed = OutboxEntry.objects.exclude(last_error="").order_by("-id").values_list("last_error", flat=True).first()
    return SearchStatus(
        pending=OutboxEntry.objects.count(),
        oldest_created_at=stats["oldest"],
        max_attempts=stats["attempts"] or 0,
        last_error=(failed or "")[:2000],
        embedded_count=IndexEntry.objects.count(),
        engine=_engine_health(),
    )


def index_entries_matching(query: str, *, limit: int = 50) -> QuerySet:
    """Index entries an editor may promote for `query`, best first: the embedded index's ranking (titles
    weigh most), plus an entry whose doc_id is exactly `query`."""
    parsed = parse_query(query)
    doc_ids = [query.strip()]
    if not parsed.empty:
        results = get_embedded_engine().search(parsed, SearchRequest(audience=_EVERYONE, per_page=limit))
        doc_ids += [hit.doc_id for hit in results.hits]
    rank = Case(*(When(doc_id=doc_id, then=Value(i)) for i, doc_id in enumerate(doc_ids)), output_field=IntegerField())
    return IndexEntry.objects.filter(doc_id__in=doc_ids).order_by(rank)


def promotions_with_titles() -> QuerySet:
    """Promotions with `document_title`: the promoted document's title in the index (None when it left it)."""
    title = IndexEntry.objects.filter(doc_id=OuterRef("doc_id")).values("title")[:1]
    return Promotion.objects.annotate(document_title=Subquery(title))
