"""Browse counts: how many listed items each filter value has, kept in FacetCount so pages never count the table.

``facet_counts_refresh`` rebuilds every row with one GROUP BY per dimension and audience and swaps them in one
transaction, so a reader sees either the old counts or the new ones, never an empty table in between.
``facet_counts_refresh_soon`` queues that refresh after a change, at most one pending at a time.

Refreshes run one at a time: two at once would each delete and insert the same rows (on PostgreSQL the second's
insert fails on the unique key), and one that counted earlier could swap its older counts in last. A refresh counts
and swaps inside one transaction that first takes the refresh lock (``_refresh_lock``). If it fails, the pending mark
is put back, stale, so the next change queues a refresh at once instead of leaving old counts with nothing pending.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet

from .catalogue.clc import CLC_SECOND, CLC_TOP
from .models import LISTED, FacetCount, LibraryItem, LibraryItemTag

logger = logging.getLogger(__name__)

DIMENSIONS = ("kind", "clc", "year", "unit", "tag")
ALL_KINDS = ""  # FacetCount.kind for counts over every kind
# Tags are open-ended: only the most used ones per kind and audience are kept (the page shows fewer still).
TAG_LIMIT = 100
VALUE_MAX = FacetCount._meta.get_field("value").max_length
# The debounce mark: a FacetCount row no browse page reads, whose ``count`` is when the refresh was queued (epoch
# seconds). One pending refresh at a time, across processes; a mark older than PENDING_STALE_SECONDS is taken to
# be a lost task and queued again.
PENDING = {"kind": ALL_KINDS, "dimension": "_refresh", "value": "pending", "audience": FacetCount.Audience.PUBLIC}
PENDING_STALE_SECONDS = 15 * 60
# PostgreSQL advisory lock key that serialises refreshes across processes (any constant no other code uses).
REFRESH_LOCK_KEY = 0x4C48_4643  # "LHFC"

AUDIENCE_ACCESS = {
    FacetCount.Audience.PUBLIC: (LibraryItem.Access.PUBLIC,),
    FacetCount.Audience.MEMBERS: (LibraryItem.Access.PUBLIC, LibraryItem.Access.MEMBERS),
}


def _second_prefixes() -> tuple[str, ...]:
    """Second-level classes as the prefixes a browse filter matches with ``clc__startswith``: a printed range
    such as "D33/37" becomes D33, D34, … D37."""
    prefixes = set()
    for code in CLC_SECOND:
        head, _sep, tail = code.partition("/")
        if not tail:
            prefixes.add(code)
            continue
        letters = head.rstrip("0123456789")
        prefixes.update(f"{letters}{n}" for n in range(int(head[len(letters) :]), int(tail) + 1))
    return tuple(sorted(prefixes))


SECOND_PREFIXES = _second_prefixes()


def facet_counts_refresh() -> int:
    """Recount every facet of listed, published items and replace the stored counts at once; returns the rows."""
    started = time.monotonic()
    # Cleared first, in its own commit: a change committed while we wait or count queues a fresh refresh instead of
    # being lost (that refresh then waits for this one's lock and counts after it).
    FacetCount.objects.filter(**PENDING).delete()
    try:
        with transaction.atomic():
            _refresh_lock()
            rows = [
                FacetCount(kind=kind, dimension=dimension, value=value, audience=audience, count=count)
                for audience in AUDIENCE_ACCESS
                for dimension in DIMENSIONS
                for (kind, value), count in _counts(dimension, audience).items()
            ]
            FacetCount.objects.exclude(dimension=PENDING["dimension"]).delete()
            FacetCount.objects.bulk_create(rows, batch_size=2000)
    except Exception:
        _pending_mark_again()
        raise
    logger.info("facet counts refreshed: %d rows in %.2f s", len(rows), time.monotonic() - started)
    return len(rows)


def _refresh_lock() -> None:
    """Wait until no other refresh runs; held until the caller's transaction ends. Counting happens under the lock
    too, so the refresh that swaps last is always the one that counted last."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK_KEY])
    # SQLite: the transaction began with BEGIN IMMEDIATE (settings: transaction_mode), which already holds the
    # database's single write lock, so refreshes (and every other write) are serialised.


def _pending_mark_again() -> None:
    """After a failed refresh the counts are stale: mark a refresh pending again, dated as lost, so the next change
    queues one at once. Not queued here: a refresh that keeps failing must not retry itself in a loop. A mark a
    change made meanwhile (its refresh queued) is left as it is."""
    try:
        with transaction.atomic():
            FacetCount.objects.create(**PENDING, count=max(int(time.time()) - PENDING_STALE_SECONDS - 1, 0))
    except IntegrityError:
        pass
    except DatabaseError:
        logger.exception("facet counts: could not mark a refresh pending after a failure")


def facet_counts_refresh_soon() -> None:
    """Queue one background refresh; several changes before it runs share it (called after commit)."""
    from .tasks import facet_counts_refresh_task

    now = int(time.time())
    try:
        with transaction.atomic():
            FacetCount.objects.create(**PENDING, count=now)
    except IntegrityError:
        # One is pending already, unless its task was lost long ago: then take the mark over and queue again.
        if not FacetCount.objects.filter(**PENDING, count__lt=now - PENDING_STALE_SECONDS).update(count=now):
            return
    facet_counts_refresh_task.enqueue()


def _listed(audience: str) -> QuerySet[LibraryItem]:
    """The rows a browse list shows to an audience. Unit-only items are never counted: a count must not reveal
    to others that they exist."""
    return LibraryItem.objects.filter(LISTED, is_published=True, access__in=AUDIENCE_ACCESS[audience])


def _counts(dimension: str, audience: str) -> dict[tuple[str, str], int]:
    """{(kind, value): count} for one dimension, per kind and over all kinds ("")."""
    if dimension == "tag":
        return _tag_counts(audience)
    field = {"kind": "kind", "clc": "clc", "year": "year", "unit": "owning_unit_id"}[dimension]
    grouped = _listed(audience).exclude(**{f"{field}__isnull": True})
    if dimension == "clc":
        grouped = grouped.exclude(clc="")
    pairs = grouped.values_list("kind", field).annotate(n=Count("id")).order_by()
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for kind, raw, n in pairs:
        for value in _values(dimension, raw):
            if dimension != "kind":
                counts[(kind, value)] += n
            counts[(ALL_KINDS, value)] += n
    return counts


def _values(dimension: str, raw) -> Iterable[str]:
    """The facet values one stored value counts under: a CLC code counts for its basic class and for each listed
    second-level class it starts with (the same prefix match the browse filter uses)."""
    if dimension != "clc":
        return (str(raw),)
    code = str(raw).upper()
    values = [code[0]] if code[0] in CLC_TOP else []
    return values + [prefix for prefix in SECOND_PREFIXES if code.startswith(prefix)]


def _tag_counts(audience: str) -> dict[tuple[str, str], int]:
    items = _listed(audience).values("pk")
    pairs = (
        LibraryItemTag.objects.filter(content_object__in=items)
        .values_list("content_object__kind", "tag__slug")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kind, slug, n in pairs:
        if len(slug) <= VALUE_MAX:  # a longer slug could not be stored; the tag still filters, uncounted
            per_kind[kind][slug] += n
            per_kind[ALL_KINDS][slug] += n
    counts = {}
    for kind, by_slug in per_kind.items():
        for slug, n in sorted(by_slug.items(), key=lambda pair: (-pair[1], pair[0]))[:TAG_LIMIT]:
            counts[(kind, slug)] = n
    return counts


def facet_rows(*, kind: str | None, audience: str) -> list[FacetCount]:
    """Every count a browse page shows, in one query: the per-kind totals, and the other dimensions for the kind
    being browsed (all kinds when none)."""
    wanted = Q(kind=kind or ALL_KINDS) & ~Q(dimension__in=("kind", PENDING["dimension"]))
    totals = Q(kind=ALL_KINDS, dimension="kind")
    return list(FacetCount.objects.filter(wanted | totals, audience=audience).order_by("dimension", "-count", "value"))
