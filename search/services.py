"""Writes: record changes in the outbox, apply them to every index, rebuild everything."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from search import registry
from search.engine import engine_configured, get_cluster_engine, get_embedded_engine
from search.models import OutboxEntry
from search.results import SearchError

logger = logging.getLogger(__name__)
# A failed entry waits this long, doubled per attempt, up to the cap, before the next try.
RETRY_BASE_SECONDS = 15
RETRY_MAX_SECONDS = 600


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


def search_documents_changed(*, model_label: str, pks) -> int:
    """Record many changed objects at once (bulk imports, which send no post_save), in the caller's transaction."""
    entries = [OutboxEntry(doc_id=registry.make_doc_id(model_label, pk), op=OutboxEntry.Op.UPSERT) for pk in pks]
    OutboxEntry.objects.bulk_create(entries, batch_size=1000)
    if entries:
        transaction.on_commit(_enqueue_drain, robust=True)
    return len(entries)


def search_document_removed(*, model_label: str, pk) -> OutboxEntry:
    """Record that an object is gone, in the caller's transaction."""
    return _record(doc_id=registry.make_doc_id(model_label, pk), op=OutboxEntry.Op.DELETE)


def _due_batch(limit: int) -> dict[str, int]:
    """doc_id → highest outbox id for the oldest due entries (later entries for a doc win)."""
    now = timezone.now()
    due = OutboxEntry.objects.filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
    doc_ids = list(dict.fromkeys(due.order_by("id").values_list("doc_id", flat=True)[:limit]))
    rows = OutboxEntry.objects.filter(doc_id__in=doc_ids).values("doc_id").annotate(last=Max("id"))
    return {row["doc_id"]: row["last"] for row in rows}


def _apply(engine, documents: list, removed: list[str]) -> None:
    engine.ensure_index()
    engine.index(documents)
    engine.delete(removed)


def _targets() -> list:
    # The embedded index always: it answers whenever the engine cannot.
    return [get_embedded_engine(), get_cluster_engine()] if engine_configured() else [get_embedded_engine()]


def _record_failure(batch: dict[str, int], error: Exception) -> None:
    entries = OutboxEntry.objects.filter(doc_id__in=batch, id__lte=max(batch.values()))
    for entry in entries:
        delay = min(RETRY_BASE_SECONDS * 2**entry.attempts, RETRY_MAX_SECONDS)
        entry.attempts += 1
        entry.last_error = str(error)[:2000]
        entry.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        entry.save(update_fields=["attempts", "last_error", "next_attempt_at"])


def _forget(batch: dict[str, int]) -> None:
    # Only entries up to the one we read: a change recorded meanwhile stays for the next drain.
    for doc_id, last_id in batch.items():
        OutboxEntry.objects.filter(doc_id=doc_id, id__lte=last_id).delete()


def search_outbox_drain(*, limit: int = 500) -> int:
    """Apply due outbox entries to every index; return how many documents reached them all.

    Documents are built from the database as it is now, so replaying an entry is harmless. If an engine
    fails, the entries stay (with attempts, last_error and a back-off) and a later drain retries them.
    """
    batch = _due_batch(limit)
    if not batch:
        return 0
    documents, removed = [], []
    for doc_id in batch:
        document = registry.document_for_id(doc_id)
        if document is None:
            removed.append(doc_id)
        else:
            documents.append(document)
    try:
        for engine in _targets():
            _apply(engine, documents, removed)
    except SearchError as exc:
        logger.warning("search outbox: %d documents wait for the engine: %s", len(batch), exc)
        _record_failure(batch, exc)
        return 0
    _forget(batch)
    return len(batch)


def search_outbox_drain_all(*, limit: int = 500) -> int:
    """Drain until nothing due is left or a batch fails."""
    total = 0
    while done := search_outbox_drain(limit=limit):
        total += done
    return total


def _chunks(iterable, size: int):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def search_rebuild(*, progress: Callable[[int, int], None] | None = None, chunk_size: int = 500) -> int:
    """Re-index every registered object; return the number of documents indexed.

    The engine gets a fresh index that replaces the live one in one alias swap (no downtime); the
    embedded index is updated in place and loses the entries of objects that are gone.
    """
    started = OutboxEntry.objects.aggregate(last=Max("id"))["last"] or 0
    total, done, seen = registry.count_objects(), 0, set()
    embedded = get_embedded_engine()
    cluster = get_cluster_engine() if engine_configured() else None
    new_index = cluster.create_index() if cluster else None
    for chunk in _chunks(registry.iter_documents(chunk_size=chunk_size), chunk_size):
        embedded.index(chunk)
        if cluster:
            cluster.index(chunk, index=new_index)
        seen.update(document.doc_id for document in chunk)
        done += len(chunk)
        if progress:
            progress(done, total)
    embedded.delete(sorted(embedded.doc_ids() - seen))
    if cluster:
        cluster.switch_alias(new_index)
    # Everything recorded before the rebuild began is in the new index; later entries still drain.
    OutboxEntry.objects.filter(id__lte=started).delete()
    return done


def search_query_record(*, query: str, total: int) -> None:
    """Count one member search of `query` (normalized) for today's analytics; `total` is how many it found.

    One upsert per search; F() increments keep concurrent searches from losing counts.
    """
    from django.db.models import F

    from search.analysis import normalize
    from search.models import QueryStat

    text = " ".join(normalize(query).split())[:100]
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
