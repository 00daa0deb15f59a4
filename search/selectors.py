"""Reads: search as a given user sees it, on the engine or, when it fails, on the embedded index; and, at the end,
what the search editors' screens show (what members search for, the index's health, entries to promote)."""

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from search.engines.analysis import ParsedQuery, parse_query, pinyin_match, spoken_pinyins, synonym_map
from search.engines.choice import engine_configured, get_cluster_engine, get_embedded_engine
from search.engines.confusables import shape_variants
from search.engines.pinyin_input import PinyinDictionary, readings
from search.engines.results import (
    RESULT_WINDOW,
    Audience,
    FacetValue,
    Hit,
    SearchError,
    SearchRequest,
    SearchResults,
    SearchUnavailable,
    Suggestion,
)
from search.engines.snippets import highlight
from search.models import IndexEntry, OutboxEntry, Promotion, QueryStat, Synonym
from search.registry import kind_label

logger = logging.getLogger(__name__)
# Longer queries are cut: nobody types more, and each extra character is one more term to AND.
MAX_QUERY_CHARS = 100
MAX_PER_PAGE = 100
# Deep pages are refused by the engines (their result window); nobody reads that far.
MAX_PAGE = 500
SYNONYMS_CACHE_KEY = "search:synonyms"
SYNONYMS_CACHE_SECONDS = 300
SUGGESTION_LIMIT = 8
# Without a signal to clear them these short lives bound how stale they get (an editor's new promotion, a renamed
# unit): see search/signal_handlers.py for what clears them at once.
PROMOTED_QUERIES_CACHE_KEY = "search:promoted-queries"
PROMOTED_QUERIES_CACHE_SECONDS = 60
UNIT_NAME_CACHE_PREFIX = "search:unit-name:"
# 大家都在搜, offered when a search finds nothing: a query searched fewer times than this in the period is nobody's
# business but its searchers' and is never shown to others.
POPULAR_MIN_SEARCHES = 3
POPULAR_DAYS = 30
POPULAR_CACHE_KEY = "search:popular-queries"
POPULAR_CACHE_SECONDS = 300
UNIT_NAME_CACHE_SECONDS = 300
# After the cluster could not be reached, searches skip it this long (SEARCH_BREAKER_SECONDS overrides): a hung
# engine would otherwise make every search and every keystroke's suggestion wait for its timeout.
BREAKER_SECONDS = 30
# While one request probes a cluster that was down, the others keep skipping it at most this long.
PROBE_SECONDS = 15
# 形近字 (search/engines/confusables.py): tried only when a search finds fewer than FEW_RESULTS, at most
# SHAPE_CANDIDATES variants (one count each); a variant is offered when it finds something where the query found
# nothing, or at least SHAPE_RATIO times as much.
FEW_RESULTS = 3
SHAPE_CANDIDATES = 6
SHAPE_RATIO = 5
# 拼音转汉字 (search/engines/pinyin_input.py): a pinyin query that finds nothing (or few) is converted into at most
# PINYIN_READINGS Chinese readings, one count each. The dictionary of the index's characters and pairs is built from
# the embedded index (written on every engine) in each process, from at most PINYIN_DICTIONARY_CHARS characters of
# terms, newest documents first (reading them takes about a second per million characters, in the request that
# needs it); an index of more than PINYIN_SMALL_INDEX documents is re-read at most every PINYIN_DICTIONARY_SECONDS,
# a smaller one whenever it changed.
PINYIN_READINGS = 5
PINYIN_DICTIONARY_CHARS = 5_000_000
PINYIN_DICTIONARY_SECONDS = 1800
PINYIN_SMALL_INDEX = 5000
ACCESS_LABELS = {"public": _("公开"), "members": _("党员"), "unit": _("本单位")}


def audience_for(user) -> Audience:
    """What `user` may find: the same rule as the library's `access_q` (public; members; "unit" documents
    opened to the member's unit or a unit above it; superusers everything)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Audience()
    if user.is_superuser:
        return Audience(levels=("public", "members"), all_units=True)
    from cms.selectors import unit_and_ancestor_ids

    return Audience(levels=("public", "members"), unit_ids=tuple(unit_and_ancestor_ids(user)))


def synonyms() -> dict[str, tuple[str, ...]]:
    """Active synonym groups as normalized word → other words (cached; services clear it on every change)."""
    mapping = cache.get(SYNONYMS_CACHE_KEY)
    if mapping is None:
        mapping = synonym_map([synonym.term_list() for synonym in Synonym.objects.filter(is_active=True)])
        cache.set(SYNONYMS_CACHE_KEY, mapping, SYNONYMS_CACHE_SECONDS)
    return mapping


def read_query(query: str) -> ParsedQuery:
    return parse_query(query, synonyms=synonyms(), max_chars=MAX_QUERY_CHARS)


def _breaker_key(engine) -> str:
    # Per cluster (nodes and index): a test's closed port, or another site sharing the cache, trips only its own.
    identity = f"{engine.name}|{','.join(engine.nodes)}|{engine.alias}"
    return "search:breaker:" + hashlib.sha1(identity.encode()).hexdigest()[:16]


def _cluster_state(key: str) -> str:
    """ "up"; "resting" while a recently failed cluster is skipped; "probe" for the one request (the first to take
    the probe key) that tries it again once its rest is over: the others keep skipping it until that probe ends."""
    retry_at = cache.get(key)
    if retry_at is None:
        return "up"
    if time.time() < retry_at or not cache.add(f"{key}:probe", 1, PROBE_SECONDS):
        return "resting"
    return "probe"


def _trip(key: str) -> None:
    seconds = float(getattr(settings, "SEARCH_BREAKER_SECONDS", BREAKER_SECONDS))
    # Kept well past the rest, so the "one probe at a time" rule holds after it; cleared by a good answer.
    cache.set(key, time.time() + seconds, timeout=int(seconds) + 3600)
    cache.delete(f"{key}:probe")


def _reset(key: str) -> None:
    cache.delete_many([key, f"{key}:probe"])


def _ask(method: str, *args, **kwargs):
    """Call `method` on the cluster, or on the embedded index when the cluster fails or is resting after an
    outage (circuit breaker); returns (answer, degraded)."""
    if not engine_configured():
        return getattr(get_embedded_engine(), method)(*args, **kwargs), False
    cluster = get_cluster_engine()
    key = _breaker_key(cluster)
    state = _cluster_state(key)
    if state != "resting":
        try:
            answer = getattr(cluster, method)(*args, **kwargs)
        except SearchUnavailable as exc:
            _trip(key)
            logger.warning("search engine unreachable, skipping it for a while: %s", exc)
        except SearchError as exc:
            if state == "probe":
                _reset(key)  # it answered (an error about this request only): it is up again
            logger.warning("search engine failed, answering from the embedded index: %s", exc)
        else:
            if state == "probe":
                _reset(key)
            return answer, False
    return getattr(get_embedded_engine(), method)(*args, **kwargs), True


def _run(parsed: ParsedQuery, request: SearchRequest) -> SearchResults:
    results, degraded = _ask("search", parsed, request)
    results.degraded = results.degraded or degraded
    return results


def _has_filters(request: SearchRequest) -> bool:
    return any((request.kind, request.subject, request.year, request.unit_path, request.unit_id, request.access))


def correction(parsed: ParsedQuery, audience: Audience) -> str:
    """A better query for "did you mean": the words in a findable title that sound like the query."""
    readings = [parsed.pinyin] if parsed.pinyin else spoken_pinyins(parsed.normalized)
    for pinyin in readings:
        if len(pinyin) < 2:
            continue
        # Titles (and creators) of visible documents that sound like the query.
        texts, _degraded = _ask("pinyin_titles", pinyin, audience, limit=5)
        for text in texts:
            match = pinyin_match(text, pinyin)
            if match and match != parsed.normalized:
                return match
    return ""


def shape_correction(parsed: ParsedQuery, audience: Audience, *, found: int) -> str:
    """A better query for "did you mean" when `parsed` found `found` (few): the query with one character swapped
    for a look-alike (己/已/巳, 未/末), chosen by what the index finds for each, or ""."""
    best, best_total = "", max(1, SHAPE_RATIO * found) - 1
    for variant in shape_variants(parsed.normalized, limit=SHAPE_CANDIDATES):
        total = _run(read_query(variant), SearchRequest(audience=audience, per_page=1)).total
        if total > best_total:
            best, best_total = variant, total
    return best


@dataclass
class _DictionaryState:
    dictionary: PinyinDictionary | None = None
    version: tuple = ()
    checked: float = 0.0


_PINYIN_STATE = _DictionaryState()
_PINYIN_LOCK = threading.Lock()


def _index_version() -> tuple:
    return tuple(IndexEntry.objects.aggregate(n=Count("id"), top=Max("id"), at=Max("indexed_at")).values())


def _index_terms():
    """Each document's terms, newest first, until PINYIN_DICTIONARY_CHARS characters were read."""
    budget = PINYIN_DICTIONARY_CHARS
    for terms in IndexEntry.objects.order_by("-id").values_list("terms", flat=True).iterator(chunk_size=500):
        if budget <= 0:
            return
        budget -= len(terms)
        yield terms


def pinyin_dictionary() -> PinyinDictionary:
    """The index's characters and pairs of characters by how many documents hold them (see PINYIN_DICTIONARY_*)."""
    state = _PINYIN_STATE
    with _PINYIN_LOCK:
        large = state.dictionary is not None and state.dictionary.documents > PINYIN_SMALL_INDEX
        if large and time.monotonic() - state.checked < PINYIN_DICTIONARY_SECONDS:
            return state.dictionary
        version = _index_version()
        if state.dictionary is None or version != state.version:
            state.dictionary, state.version = PinyinDictionary.from_terms(_index_terms()), version
        state.checked = time.monotonic()
        return state.dictionary


def pinyin_reading(parsed: ParsedQuery, audience: Audience, *, found: int = 0) -> str:
    """The most likely Chinese reading of a pinyin query (把酒问青天 for "bajiuwenqingtian") that finds more than
    `found` documents for this audience, or "" (also when the query is not pinyin)."""
    if not parsed.pinyin:
        return ""
    for reading in readings(parsed.normalized, pinyin_dictionary(), limit=PINYIN_READINGS):
        if _run(read_query(reading), SearchRequest(audience=audience, per_page=1)).total > found:
            return reading
    return ""


def _promoted_queries() -> frozenset[str]:
    """Every query key that has a promotion (whatever its dates), cached briefly: most searches have none, and
    then need no database query at all."""
    queries = cache.get(PROMOTED_QUERIES_CACHE_KEY)
    if queries is None:
        queries = frozenset(Promotion.objects.values_list("query", flat=True).distinct())
        cache.set(PROMOTED_QUERIES_CACHE_KEY, queries, PROMOTED_QUERIES_CACHE_SECONDS)
    return queries


def promoted_hits(parsed: ParsedQuery, audience: Audience) -> list[Hit]:
    """Editors' promoted results for this exact (normalized) query that this audience may see, highlighted like
    ranked hits (synonyms included)."""
    if parsed.normalized not in _promoted_queries():
        return []
    now = timezone.now()
    doc_ids = list(
        Promotion.objects.filter(query=parsed.normalized)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now), Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("sort_order", "id")
        .values_list("doc_id", flat=True)
    )
    if not doc_ids:
        return []
    entries = IndexEntry.objects.in_bulk(doc_ids, field_name="doc_id")
    hits = []
    for doc_id in doc_ids:
        entry = entries.get(doc_id)
        if entry is not None and audience.allows(entry.access, entry.access_unit_id):
            hits.append(
                Hit(
                    doc_id=entry.doc_id,
                    kind=entry.kind,
                    title=entry.title,
                    url=entry.url,
                    snippet=highlight(entry.excerpt or entry.subtitle, parsed, width=120),
                    score=0.0,
                    date=entry.date,
                    title_html=highlight(entry.title, parsed),
                    promoted=True,
                )
            )
    return hits


def _unit_labels(values: list[FacetValue]) -> None:
    """Unit facet values get the unit's name; names are cached a few minutes (units are renamed rarely)."""
    from cms.models import OrgUnit

    ids = [value.value for value in values if value.value.isdigit()]
    keys = {unit_id: f"{UNIT_NAME_CACHE_PREFIX}{unit_id}" for unit_id in ids}
    cached = cache.get_many(list(keys.values()))
    names = {unit_id: cached[key] for unit_id, key in keys.items() if key in cached}
    missing = [unit_id for unit_id in ids if unit_id not in names]
    if missing:
        found = {str(pk): name for pk, name in OrgUnit.objects.filter(pk__in=missing).values_list("pk", "name")}
        cache.set_many({keys[unit_id]: name for unit_id, name in found.items()}, UNIT_NAME_CACHE_SECONDS)
        names.update(found)
    for value in values:
        value.label = names.get(value.value, value.value)


def _labelled(results: SearchResults) -> SearchResults:
    for hit in [*results.hits, *results.promoted]:
        hit.kind_label = kind_label(hit.kind)
    for value in results.facets.get("kind", []):
        value.label = kind_label(value.value)
    for value in results.facets.get("access", []):
        value.label = str(ACCESS_LABELS.get(value.value, value.value))
    for dimension in ("subject", "year"):
        for value in results.facets.get(dimension, []):
            value.label = value.label or value.value
    if results.facets.get("unit"):
        _unit_labels(results.facets["unit"])
    return results


def _empty(parsed: ParsedQuery, request: SearchRequest, notice: str = "") -> SearchResults:
    return SearchResults(
        hits=[], total=0, page=request.page, per_page=request.per_page, query=parsed.text, notice=notice
    )


def search(*, query: str, user, exact: bool = False, **filters) -> SearchResults:
    """One page of results for `user`, with facets, corrections and promotions.

    `filters` are SearchRequest fields (kind, subject, year, unit_path, access, page, per_page, sort,
    facets); bad values are clamped, never passed on. With `exact`, a query that finds nothing is not replaced
    by its correction (the member asked for exactly what they typed). Never raises for bad input; engine
    failures fall back to the embedded index (results.degraded).
    """
    request = _clean_request(SearchRequest(audience=audience_for(user), **filters))
    parsed = read_query(query)
    if parsed.empty:
        return _empty(parsed, request, notice="empty" if parsed.text else "")
    results = _run(parsed, request)
    if results.total == 0 and request.page == 1 and not _has_filters(request):
        fixed = (
            correction(parsed, request.audience)
            or pinyin_reading(parsed, request.audience)
            or shape_correction(parsed, request.audience, found=0)
        )
        if fixed and exact:
            results.did_you_mean = fixed
        elif fixed:
            corrected = _run(read_query(fixed), request)
            if corrected.total:
                corrected.corrected_from = parsed.text
                corrected.query = fixed
                results = corrected
    elif parsed.pinyin and results.hits:
        results.did_you_mean = pinyin_match(results.hits[0].title, parsed.pinyin)
        if not results.did_you_mean and results.total < FEW_RESULTS and request.page == 1 and not _has_filters(request):
            results.did_you_mean = pinyin_reading(parsed, request.audience, found=results.total)
    elif results.total < FEW_RESULTS and request.page == 1 and not _has_filters(request):
        results.did_you_mean = shape_correction(parsed, request.audience, found=results.total)
    if request.page == 1 and not _has_filters(request):
        shown = parsed if results.query == parsed.text else read_query(results.query)
        results.promoted = promoted_hits(shown, request.audience)
        promoted_ids = {hit.doc_id for hit in results.promoted}
        results.hits = [hit for hit in results.hits if hit.doc_id not in promoted_ids]
    return _labelled(results)


def _clean_request(request: SearchRequest) -> SearchRequest:
    return replace(
        request,
        page=min(max(1, int(request.page or 1)), MAX_PAGE),
        per_page=min(max(1, int(request.per_page or 20)), MAX_PER_PAGE),
        sort=request.sort if request.sort in ("relevance", "newest") else "relevance",
        kind=(request.kind or None) and str(request.kind)[:32],
        subject=(request.subject or None) and str(request.subject)[:100],
        unit_path=(request.unit_path or None) and str(request.unit_path)[:255],
        access=request.access if request.access in ACCESS_LABELS else None,
        year=_small_int(request.year, upper=9999),
        unit_id=_small_int(request.unit_id, upper=2**62),
    )


def last_page(results: SearchResults) -> int:
    """The last page worth a link: past the engines' result window every page is empty, and past MAX_PAGE
    pages are refused."""
    return max(1, min(results.num_pages, MAX_PAGE, RESULT_WINDOW // max(1, results.per_page)))


def _small_int(value, *, upper: int) -> int | None:
    """A whole number in 0..upper, or None (a bad filter value is dropped, never sent to an engine)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= upper and str(value).strip().lstrip("+").isdigit() else None


def search_items(*, query: str, user, kind: str | None = None, page: int = 1, per_page: int = 20) -> SearchResults:
    """Plain ranked results (no facets, corrections or promotions), e.g. for OPDS search."""
    request = _clean_request(SearchRequest(audience=audience_for(user), kind=kind, page=page, per_page=per_page))
    parsed = read_query(query)
    if parsed.empty:
        return _empty(parsed, request)
    return _labelled(_run(parsed, request))


def suggestions(*, prefix: str, user, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Titles to offer while the member types (Chinese characters or pinyin), only what they may open."""
    parsed = read_query(prefix)
    if parsed.empty:
        return []
    answer, _degraded = _ask("suggest", parsed, audience_for(user), limit=min(max(1, limit), 20))
    return answer


def popular_queries(*, limit: int = 8) -> list[str]:
    """Searches to offer a member whose search found nothing (大家都在搜): the editors' promoted queries in their
    dates first, then what members searched most in the last POPULAR_DAYS days and found something (at least
    POPULAR_MIN_SEARCHES times). Cached a few minutes: the same list for everyone."""
    queries = cache.get(POPULAR_CACHE_KEY)
    if queries is None:
        now = timezone.now()
        promoted = (
            Promotion.objects.filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
            .order_by("sort_order", "id")
            .values_list("query", flat=True)
        )
        frequent = (
            _per_query(period_start(POPULAR_DAYS))
            .filter(search_count__gte=POPULAR_MIN_SEARCHES, latest_total__gt=0)
            .order_by("-search_count", "query")
        )
        queries = list(dict.fromkeys([*promoted[:limit], *(row["query"] for row in frequent[:limit])]))
        cache.set(POPULAR_CACHE_KEY, queries, POPULAR_CACHE_SECONDS)
    return queries[:limit]


# --- The search editors' screens

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
    name: str  # the engine's id ("opensearch"); `label` is how editors read it ("OpenSearch")
    configured: bool
    healthy: bool
    count: int | None = None
    error: str = ""
    label: str = ""


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
        embedded = get_embedded_engine()
        return EngineHealth(name=embedded.name, label=embedded.label, configured=False, healthy=True)
    engine = get_cluster_engine()
    try:
        engine.ping()
        return EngineHealth(name=engine.name, label=engine.label, configured=True, healthy=True, count=engine.count())
    except Exception as exc:  # noqa: BLE001 — the status page must render whatever the engine does
        logger.warning("search status: engine %s is not healthy: %s", engine.name, exc)
        return EngineHealth(name=engine.name, label=engine.label, configured=True, healthy=False, error=str(exc)[:300])


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
