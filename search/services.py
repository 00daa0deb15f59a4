"""Writes: record changes in the outbox, apply them to every index, rebuild everything.

How nothing gets lost:
- A change is an outbox entry written in the caller's transaction. A drain forgets exactly the entries it read, and
  only once every index took them, so a change committed meanwhile (even with a lower id) is drained later.
- The embedded index is written first, whatever the engine does: members searching the fallback see fresh data
  while the engine is down. Only the engine part waits and retries (attempts, last_error, back-off).
- Engine writes carry a version taken *before* the documents were read; the engine ignores a write older than
  what it stores (and keeps tombstones), so a slow worker or a rebuild never brings back older data.
- The embedded index has no versions, so reading documents and writing it happen under one lock (_index_lock).
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Min
from django.utils import timezone

from search import registry
from search.engine import engine_configured, get_cluster_engine, get_embedded_engine
from search.models import IndexEntry, OutboxEntry
from search.registry import SearchDocument
from search.results import SearchError, SearchUnavailable

logger = logging.getLogger(__name__)
# A failed entry waits this long, doubled per attempt, up to the cap, before the next try.
RETRY_BASE_SECONDS = 15
RETRY_MAX_SECONDS = 600
# Marks entries that wait because the engine could not be reached (not because it refused a document). While one
# of them waits, later batches skip the engine instead of each paying a connection timeout, and join that retry.
UNAVAILABLE_MARK = "[引擎不可用] "
# Any fixed number, the same in every process: the PostgreSQL advisory lock behind _index_lock.
_LOCK_KEY = 5_045_170


@contextmanager
def _index_lock():
    """Read documents and write the embedded index as one step, one process at a time.

    Otherwise two workers could read an object at different moments and write the older state last. SQLite
    serialises write transactions itself (IMMEDIATE mode); PostgreSQL gets a transaction-level advisory lock,
    which a worker that dies releases with its connection.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Bounded: a holder that never commits makes this drain fail (its entries stay due), not hang.
                cursor.execute("SET LOCAL lock_timeout = '60s'")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        yield


# --- Recording changes


def _enqueue_drain() -> None:
    from search.tasks import search_outbox_drain_task

    search_outbox_drain_task.enqueue()


def _record(*, doc_id: str, op: str) -> OutboxEntry:
    entry = OutboxEntry.objects.create(doc_id=doc_id, op=op)
    # robust: a queue that is down must not undo the change that was just committed; the entry waits.
    transaction.on_commit(_enqueue_drain, robust=True)
    return entry


def search_document_changed(*, instance: models.Model) -> OutboxEntry:
    """Record that `instance` changed, in the caller's transaction; the index catches up after commit."""
    return _record(doc_id=registry.doc_id_for(instance), op=OutboxEntry.Op.UPSERT)


def search_documents_changed(*, model_label: str, pks: Iterable) -> int:
    """Record many changed objects at once (bulk imports, which send no post_save), in the caller's transaction."""
    entries = [OutboxEntry(doc_id=registry.make_doc_id(model_label, pk), op=OutboxEntry.Op.UPSERT) for pk in pks]
    OutboxEntry.objects.bulk_create(entries, batch_size=1000)
    if entries:
        transaction.on_commit(_enqueue_drain, robust=True)
    return len(entries)


def search_document_removed(*, model_label: str, pk) -> OutboxEntry:
    """Record that an object is gone, in the caller's transaction."""
    return _record(doc_id=registry.make_doc_id(model_label, pk), op=OutboxEntry.Op.DELETE)


# --- Draining the outbox


def _due_batch(limit: int) -> dict[str, list[int]]:
    """doc_id → ids of its outbox entries, for the documents of the oldest due entries.

    The ids are exactly the rows visible now: the drain forgets these and no others.
    """
    now = timezone.now()
    due = OutboxEntry.objects.filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
    doc_ids = list(dict.fromkeys(due.order_by("id").values_list("doc_id", flat=True)[:limit]))
    batch: dict[str, list[int]] = {doc_id: [] for doc_id in doc_ids}
    for entry_id, doc_id in OutboxEntry.objects.filter(doc_id__in=doc_ids).values_list("id", "doc_id"):
        batch[doc_id].append(entry_id)
    return batch


def _read(doc_ids: Iterable[str]) -> tuple[list[SearchDocument], list[str]]:
    """The documents as the database holds them now, and the doc_ids that must no longer be found."""
    documents, removed = [], []
    for doc_id in doc_ids:
        document = registry.document_for_id(doc_id)
        if document is None:
            removed.append(doc_id)
        else:
            documents.append(document)
    return documents, removed


def _apply(engine, documents: list[SearchDocument], removed: list[str], *, version: int) -> None:
    engine.ensure_index()
    engine.index(documents, version=version)
    engine.delete(removed, version=version)


def _engine_resting_until() -> datetime | None:
    """When the next retry of an unreachable engine is due, if one is pending."""
    waiting = OutboxEntry.objects.filter(next_attempt_at__gt=timezone.now(), last_error__startswith=UNAVAILABLE_MARK)
    return waiting.aggregate(first=Min("next_attempt_at"))["first"]


def _one_by_one(engine, documents: list[SearchDocument], removed: list[str], *, version: int) -> dict[str, str]:
    """After the engine refused a batch: find which documents it refuses, so one bad document holds up no other."""
    failed = {}
    for document in documents:
        try:
            engine.index([document], version=version)
        except SearchError as exc:
            failed[document.doc_id] = str(exc)
    for doc_id in removed:
        try:
            engine.delete([doc_id], version=version)
        except SearchError as exc:
            failed[doc_id] = str(exc)
    return failed


def _to_engine(documents: list[SearchDocument], removed: list[str], *, version: int) -> dict[str, str]:
    """Apply a batch to the engine; return the doc_ids it did not take, each with why."""
    doc_ids = [document.doc_id for document in documents] + removed
    if _engine_resting_until() is not None:
        return dict.fromkeys(doc_ids, UNAVAILABLE_MARK + "等待引擎恢复后重试")
    engine = get_cluster_engine()
    try:
        _apply(engine, documents, removed, version=version)
        return {}
    except SearchUnavailable as exc:
        logger.warning("search outbox: %d documents wait for the engine: %s", len(doc_ids), exc)
        return dict.fromkeys(doc_ids, UNAVAILABLE_MARK + str(exc))
    except SearchError as exc:
        logger.warning("search outbox: the engine refused a batch, retrying one by one: %s", exc)
        return _one_by_one(engine, documents, removed, version=version) if len(doc_ids) > 1 else {doc_ids[0]: str(exc)}


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2**attempts, RETRY_MAX_SECONDS))


def _record_failure(entry_ids: list[int], error: str) -> None:
    entries = list(OutboxEntry.objects.filter(id__in=entry_ids))
    # Entries that wait for an unreachable engine join the retry already pending, so one retry serves them all.
    shared = _engine_resting_until() if error.startswith(UNAVAILABLE_MARK) else None
    for entry in entries:
        entry.next_attempt_at = shared or timezone.now() + _backoff(entry.attempts)
        entry.attempts += 1
        entry.last_error = error[:2000]
    OutboxEntry.objects.bulk_update(entries, ["attempts", "last_error", "next_attempt_at"], batch_size=500)


def _drain_batch(*, limit: int) -> tuple[int, int]:
    """Drain one batch; return (documents handled, documents that reached every index)."""
    with _index_lock():
        batch = _due_batch(limit)
        if not batch:
            return 0, 0
        version = time.time_ns()  # before reading: see the module docstring
        documents, removed = _read(batch)
        _apply(get_embedded_engine(), documents, removed, version=version)
    failed = _to_engine(documents, removed, version=version) if engine_configured() else {}
    by_error: dict[str, list[int]] = {}
    for doc_id, error in failed.items():
        by_error.setdefault(error, []).extend(batch[doc_id])
    for error, entry_ids in by_error.items():
        _record_failure(entry_ids, error)
    OutboxEntry.objects.filter(
        id__in=[i for doc_id, ids in batch.items() if doc_id not in failed for i in ids]
    ).delete()
    return len(batch), len(batch) - len(failed)


def search_outbox_drain(*, limit: int = 500) -> int:
    """Apply one batch of due outbox entries to every index; return how many documents reached them all.

    The embedded index always takes the batch. Documents the engine did not take keep their entries (attempts,
    last_error, next_attempt_at) and a later drain retries them; the rest are forgotten.
    """
    return _drain_batch(limit=limit)[1]


def search_outbox_drain_all(*, limit: int = 500) -> int:
    """Drain until nothing is due; return how many documents reached every index."""
    total = 0
    while True:
        handled, done = _drain_batch(limit=limit)
        if not handled:
            return total
        total += done


def search_outbox_retry_now() -> int:
    """Make every waiting entry due at once (the engine is known to be back); return how many."""
    return OutboxEntry.objects.filter(next_attempt_at__isnull=False).update(next_attempt_at=None)


# --- Rebuilding everything


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rebuild_may_write(doc_id: str, *, written: dict[str, datetime], existed: set[str], started_at: datetime) -> bool:
    """May the rebuild's snapshot replace what the embedded index holds for `doc_id`?

    Not when a drain wrote the row since the rebuild began (fresher data), nor when the row existed then and is
    gone now (a drain removed it: bringing it back could show a withdrawn item).
    """
    if doc_id in written:
        return written[doc_id] < started_at
    return doc_id not in existed


def _rebuild_embedded(chunk: list[SearchDocument], *, existed: set[str], started_at: datetime, version: int) -> None:
    """Write a chunk to the embedded index, except where drains meanwhile wrote fresher data."""
    with _index_lock():
        doc_ids = [document.doc_id for document in chunk]
        written = dict(IndexEntry.objects.filter(doc_id__in=doc_ids).values_list("doc_id", "indexed_at"))
        fresh = [
            d for d in chunk if _rebuild_may_write(d.doc_id, written=written, existed=existed, started_at=started_at)
        ]
        get_embedded_engine().index(fresh, version=version)


def _remove_stale(*, seen: set[str], started_at: datetime, chunk_size: int) -> int:
    """Remove embedded rows of objects the rebuild did not find (gone, or no longer findable), except rows written
    since it started (a drain put them there with fresher data)."""
    rows = IndexEntry.objects.filter(indexed_at__lt=started_at).values_list("doc_id", flat=True)
    stale = [doc_id for doc_id in rows.iterator(chunk_size=chunk_size) if doc_id not in seen]
    for chunk in _chunks(stale, chunk_size):
        with _index_lock():
            gone = list(
                IndexEntry.objects.filter(doc_id__in=chunk, indexed_at__lt=started_at).values_list("doc_id", flat=True)
            )
            get_embedded_engine().delete(gone)
    return len(stale)


def _abandon(cluster, index: str) -> None:
    """Drop a half-built index (its `-building` alias goes with it); the live alias never pointed at it.

    Best effort: when the engine cannot be reached now, the next rebuild's create_index() drops it.
    """
    try:
        if index not in cluster.indices_behind_alias():
            cluster.admin.indices.delete(index=index)
    except Exception as exc:  # noqa: BLE001 — cleanup must not hide the failure that brought us here
        logger.warning("search rebuild: could not drop the half-built index %s: %s", index, exc)


def search_rebuild(
    *,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 500,
    embedded: bool = True,
    engine: bool = True,
) -> int:
    """Re-index every registered object; return the number of documents indexed.

    The engine gets a fresh index (behind `-building`, so drains meanwhile reach it too) that replaces the live
    one in one alias swap: searches never see a half-built index. If the rebuild fails, the live alias stays and
    the new index is dropped. The embedded index is refreshed in place and loses the rows of objects that are gone.
    Outbox entries stay: they replay harmlessly (versions), and one committed during the rebuild may not be in it.
    `embedded=False` / `engine=False` skip one side. Raises SearchError when the engine cannot be reached.
    """
    cluster = get_cluster_engine() if engine and engine_configured() else None
    new_index = cluster.create_index() if cluster else None
    started_at = timezone.now()
    existed = set(IndexEntry.objects.values_list("doc_id", flat=True)) if embedded else set()
    version = time.time_ns()  # before reading: a drain's later write (newer data) wins over ours
    total, done, seen = registry.count_objects(), 0, set()
    try:
        for chunk in _chunks(registry.iter_documents(chunk_size=chunk_size), chunk_size):
            if embedded:
                _rebuild_embedded(chunk, existed=existed, started_at=started_at, version=version)
            if cluster:
                cluster.index(chunk, version=version, index=new_index)
            seen.update(document.doc_id for document in chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        if cluster:
            cluster.switch_alias(new_index)
    except BaseException:
        if cluster:
            _abandon(cluster, new_index)
        raise
    if embedded:
        _remove_stale(seen=seen, started_at=started_at, chunk_size=chunk_size)
    return done


def search_query_record(*, query: str, total: int) -> None:
    """Count one member search of `query` (normalized) for today's analytics; `total` is how many it found.

    One upsert per search; F() increments keep concurrent searches from losing counts.
    """
    from django.db.models import F

    from search.analysis import query_key
    from search.models import QueryStat

    text = query_key(query)
    if not text:
        return
    day = timezone.localdate()
    missed = 1 if total == 0 else 0
    updated = QueryStat.objects.filter(query=text, day=day).update(
        searches=F("searches") + 1, no_results=F("no_results") + missed, last_total=total
    )
    if not updated:
        try:
            with transaction.atomic():
                QueryStat.objects.create(query=text, day=day, searches=1, no_results=missed, last_total=total)
        except IntegrityError:  # another request created today's row first
            QueryStat.objects.filter(query=text, day=day).update(
                searches=F("searches") + 1, no_results=F("no_results") + missed, last_total=total
            )
