"""Writes: record changes in the outbox, apply them to every index, rebuild everything.

How nothing gets lost:
- A change is an outbox entry written in the caller's transaction. A drain forgets exactly the entries it read, and
  only once every index took them, so a change committed meanwhile (even with a lower id) is drained later.
- The embedded index is written whatever the engine does (the engine's write runs beside it, on a thread): members
  searching the fallback see fresh data while the engine is down. Only the engine part waits and retries
  (attempts, last_error, back-off).
- Engine writes carry a version taken *before* the documents were read; the engine ignores a write older than
  what it stores (and keeps tombstones), so a slow worker or a rebuild never brings back older data.
- The embedded index has no versions, so reading documents and writing it happen under one lock (_index_lock),
  for drains and rebuild chunks alike: whichever comes later reads the later state.
- An object that cannot be read (a bad key, a bug in its to_document) waits with its own back-off; the others go on.
"""

import hashlib
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import Min
from django.http.response import HttpResponseBase
from django.utils import timezone

from search import registry
from search.engines.analysis import load_dictionaries
from search.engines.choice import engine_configured, get_cluster_engine, get_embedded_engine
from search.engines.cluster import bulk_bodies, document_sources
from search.engines.results import SearchError, SearchResults, SearchUnavailable
from search.models import IndexEntry, OutboxEntry
from search.registry import SearchDocument

logger = logging.getLogger(__name__)
# A failed entry waits this long, doubled per attempt, up to the cap, before the next try.
RETRY_BASE_SECONDS = 15
RETRY_MAX_SECONDS = 600
# Marks entries that wait because the engine could not be reached (not because it refused a document). While one
# of them waits, later batches skip the engine instead of each paying a connection timeout, and join that retry.
UNAVAILABLE_MARK = "[引擎不可用] "
# Marks entries whose object could not be read (see registry.documents_for): a bug to fix, not an outage.
UNREADABLE_MARK = "[读取失败] "
# A rebuild holds its lock this long past its last chunk: a rebuild that died blocks the next one no longer.
REBUILD_LOCK_SECONDS = 600
# Documents per drain batch: one read per model, one upsert, one outbox delete. Larger batches spread the per-batch
# queries thinner (an import of 1,000 rows/s records that many a second); each batch holds the index lock while it
# reads and writes, a second or two.
DRAIN_BATCH = 1000
# A rebuild reads and analyses chunks in this many processes at once (see _Readers), when it looks at more than
# PROCESSES_FROM objects: below that, forking costs more than it gains.
REBUILD_PROCESSES = min(4, os.cpu_count() or 1)
PROCESSES_FROM = 5000
# Chunks a rebuild has on their way to the engine at once (each itself sent as parallel bulk requests).
BULKS_IN_FLIGHT = 2
# A drain overlaps its batches unless the one before has more entries than this (they are left out by id).
MAX_BUSY_ENTRIES = 5000
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


def _drain_after_commit() -> None:
    """Enqueue one drain when the transaction commits, however many changes it records (one drain takes them all).

    Each change registers its own callback, so a change in a savepoint that rolls back takes only its own callback
    with it; the first callback to run after a new change enqueues the drain and the rest of that commit's skip.
    """
    _drain_round.wanted = True
    # robust: a queue that is down must not undo the change that was just committed; the entry waits.
    transaction.on_commit(_enqueue_drain_once, robust=True)


# Per thread (a thread runs one transaction at a time): whether a change was recorded since the last drain was
# enqueued.
_drain_round = threading.local()


def _enqueue_drain_once() -> None:
    if getattr(_drain_round, "wanted", False):
        _drain_round.wanted = False
        _enqueue_drain()


def _record(*, doc_id: str, op: str) -> OutboxEntry:
    entry = OutboxEntry.objects.create(doc_id=doc_id, op=op)
    _drain_after_commit()
    return entry


def search_document_changed(*, instance: models.Model) -> OutboxEntry:
    """Record that `instance` changed, in the caller's transaction; the index catches up after commit."""
    return _record(doc_id=registry.doc_id_for(instance), op=OutboxEntry.Op.UPSERT)


def search_documents_changed(*, model_label: str, pks: Iterable) -> int:
    """Record many changed objects at once (bulk imports, which send no post_save), in the caller's transaction."""
    entries = [OutboxEntry(doc_id=registry.make_doc_id(model_label, pk), op=OutboxEntry.Op.UPSERT) for pk in pks]
    OutboxEntry.objects.bulk_create(entries, batch_size=1000)
    if entries:
        _drain_after_commit()
    return len(entries)


def search_document_removed(*, model_label: str, pk) -> OutboxEntry:
    """Record that an object is gone, in the caller's transaction."""
    return _record(doc_id=registry.make_doc_id(model_label, pk), op=OutboxEntry.Op.DELETE)


# --- Draining the outbox


def _due_batch(limit: int, busy: Collection[int] = ()) -> dict[str, list[int]]:
    """doc_id → ids of its outbox entries, for the documents of the oldest due entries, leaving out the entries
    `busy` (a batch of this drain that is still on its way to the engine).

    The ids are exactly the rows visible now: the drain forgets these and no others.
    """
    now = timezone.now()
    due = OutboxEntry.objects.filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
    if busy:
        due = due.exclude(id__in=busy)
    doc_ids = list(dict.fromkeys(due.order_by("id").values_list("doc_id", flat=True)[:limit]))
    batch: dict[str, list[int]] = {doc_id: [] for doc_id in doc_ids}
    entries = OutboxEntry.objects.filter(doc_id__in=doc_ids)
    if busy:
        entries = entries.exclude(id__in=busy)
    for entry_id, doc_id in entries.values_list("id", "doc_id"):
        batch[doc_id].append(entry_id)
    return batch


def _read(doc_ids: Iterable[str]) -> tuple[list[SearchDocument], list[str], dict[str, str]]:
    """The documents as the database holds them now, the doc_ids that must no longer be found, and the doc_ids
    that could not be read (with why): one query per model, and one object's failure is its own."""
    by_model: dict[str, dict[str, str]] = {}
    for doc_id in doc_ids:
        model_label, pk = registry.split_doc_id(doc_id)
        by_model.setdefault(model_label, {})[pk] = doc_id
    documents, removed, unreadable = [], [], {}
    for model_label, doc_id_of in by_model.items():
        lookup = registry.documents_for(model_label, doc_id_of)
        for pk, doc_id in doc_id_of.items():
            if pk in lookup.errors:
                unreadable[doc_id] = UNREADABLE_MARK + lookup.errors[pk]
            elif (document := lookup.documents.get(pk)) is None:
                removed.append(doc_id)
            else:
                documents.append(document)
    if unreadable:
        logger.error("search outbox: %d documents could not be read, they wait: %s", len(unreadable), unreadable)
    return documents, removed, unreadable


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


def _to_engine(documents: list[SearchDocument], removed: list[str], *, version: int) -> Callable[[], dict[str, str]]:
    """Start applying a batch to the engine (on the drain's thread); return a call that waits for it and gives the
    doc_ids the engine did not take, each with why. The engine's analysis and the node's work then overlap the
    embedded index's write; versions keep the order of writes to one document whatever finishes first."""
    doc_ids = [document.doc_id for document in documents] + removed
    if not doc_ids:
        return dict
    if _engine_resting_until() is not None:
        return partial(dict.fromkeys, doc_ids, UNAVAILABLE_MARK + "等待引擎恢复后重试")
    engine = get_cluster_engine()
    return _engine_pool().submit(_engine_write, engine, documents, removed, doc_ids, version=version).result


def _engine_write(engine, documents: list[SearchDocument], removed: list[str], doc_ids: list[str], *, version: int):
    # No database here (it runs on its own thread, which would open a connection of its own).
    try:
        _apply(engine, documents, removed, version=version)
        return {}
    except SearchUnavailable as exc:
        logger.warning("search outbox: %d documents wait for the engine: %s", len(doc_ids), exc)
        return dict.fromkeys(doc_ids, UNAVAILABLE_MARK + str(exc))
    except SearchError as exc:
        logger.warning("search outbox: the engine refused a batch, retrying one by one: %s", exc)
        return _one_by_one(engine, documents, removed, version=version) if len(doc_ids) > 1 else {doc_ids[0]: str(exc)}


_engine_threads: ThreadPoolExecutor | None = None


def _engine_pool() -> ThreadPoolExecutor:
    """One thread per process for the drain's engine writes (each waited for before the drain's next batch)."""
    global _engine_threads
    if _engine_threads is None:
        _engine_threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-drain")
    return _engine_threads


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


class _Batch(NamedTuple):
    """A drain batch whose embedded part is written: its entries, what failed so far, the engine's answer to come."""

    entries: dict[str, list[int]]
    failed: dict[str, str]
    engine_result: Callable[[], dict[str, str]]

    def entry_ids(self) -> set[int]:
        return {entry_id for ids in self.entries.values() for entry_id in ids}


def _start_batch(*, limit: int, busy: Collection[int] = ()) -> _Batch | None:
    """Read a batch and write it to the embedded index (one lock), its engine write started beside; None when
    nothing (but `busy`) is due."""
    engine_result = dict
    try:
        with _index_lock():
            batch = _due_batch(limit, busy)
            if not batch:
                return None
            version = time.time_ns()  # before reading: see the module docstring
            documents, removed, failed = _read(batch)
            if engine_configured():
                engine_result = _to_engine(documents, removed, version=version)
            _apply(get_embedded_engine(), documents, removed, version=version)
    except BaseException:
        # Not left running beside the next batch; its outcome no longer matters (the entries stay, to be retried).
        with suppress(Exception):
            engine_result()
        raise
    return _Batch(batch, failed, engine_result)


def _finish_batch(batch: _Batch) -> tuple[int, int]:
    """Wait for the engine's part, then forget the entries that reached every index and schedule the retries of
    the rest; return (documents handled, documents that reached every index)."""
    failed = {**batch.failed, **batch.engine_result()}
    by_error: dict[str, list[int]] = {}
    for doc_id, error in failed.items():
        by_error.setdefault(error, []).extend(batch.entries[doc_id])
    for error, entry_ids in by_error.items():
        _record_failure(entry_ids, error)
    OutboxEntry.objects.filter(
        id__in=[i for doc_id, ids in batch.entries.items() if doc_id not in failed for i in ids]
    ).delete()
    return len(batch.entries), len(batch.entries) - len(failed)


def _drain_batch(*, limit: int) -> tuple[int, int]:
    """Drain one batch; return (documents handled, documents that reached every index)."""
    batch = _start_batch(limit=limit)
    return (0, 0) if batch is None else _finish_batch(batch)


def search_outbox_drain(*, limit: int = DRAIN_BATCH) -> int:
    """Apply one batch of due outbox entries to every index; return how many documents reached them all.

    The embedded index always takes the batch. Documents the engine did not take, or that could not be read, keep
    their entries (attempts, last_error, next_attempt_at) and a later drain retries them; the rest are forgotten.
    """
    return _drain_batch(limit=limit)[1]


def search_outbox_drain_all(*, limit: int = DRAIN_BATCH) -> int:
    """Drain until nothing is due; return how many documents reached every index.

    Batches overlap: the next one is read and written to the embedded index while the engine still takes the one
    before (whose entries it leaves alone). A document in both is written to the engine twice, and its versions keep
    the later read; each batch forgets only its own entries, once the engine took them.
    """
    total, previous = 0, None
    try:
        while True:
            busy = previous.entry_ids() if previous else set()
            if len(busy) > MAX_BUSY_ENTRIES:  # a batch of many entries per document: no overlap, short queries
                total += _finish_batch(previous)[1]
                previous, busy = None, set()
            batch = _start_batch(limit=limit, busy=busy)
            finishing, previous = previous, batch
            if finishing:
                total += _finish_batch(finishing)[1]
            if batch is None:
                return total
    finally:
        if previous:  # the next batch failed: the one before still gets its bookkeeping
            _finish_batch(previous)


def search_outbox_retry_now() -> int:
    """Make every waiting entry due at once (the engine is known to be back); return how many."""
    return OutboxEntry.objects.filter(next_attempt_at__isnull=False).update(next_attempt_at=None)


# --- Rebuilding everything


class RebuildInProgress(Exception):
    """Another rebuild of the same indexes is running (its create_index would drop ours, or ours its)."""


def _rebuild_lock_key() -> str:
    # One lock per database and engine prefix: what two rebuilds would both write.
    where = f"{connection.settings_dict['NAME']}|{settings.SEARCH_INDEX_PREFIX}"
    return "search:rebuild:" + hashlib.sha256(where.encode()).hexdigest()[:24]


@contextmanager
def _rebuild_lock() -> Iterator[Callable[[], None]]:
    """Hold the rebuild lock (shared cache, so every process and machine sees it); yield `renew`, called per chunk.

    The lock expires REBUILD_LOCK_SECONDS after its last renewal, so a rebuild that was killed blocks the next one
    no longer than that; a rebuild that finds its lock taken over stops rather than write beside the other.
    """
    key, token = _rebuild_lock_key(), uuid.uuid4().hex
    if not cache.add(key, token, REBUILD_LOCK_SECONDS):
        raise RebuildInProgress(
            "另一个搜索索引重建正在进行，请等它完成后再运行。"
            f"如果上次重建被强行中断，最多 {REBUILD_LOCK_SECONDS // 60} 分钟后即可重新运行。"
        )

    def renew() -> None:
        if cache.get(key) != token:
            raise RebuildInProgress("本次重建停顿太久，锁已过期并被另一个重建接管，本次重建已停止。")
        cache.touch(key, REBUILD_LOCK_SECONDS)

    try:
        yield renew
    finally:
        if cache.get(key) == token:
            cache.delete(key)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Sender:
    """Sends each chunk to the engine on a thread of its own while the next chunks are read and analysed, so the
    node and this process work at the same time. At most `in_flight` chunks on their way: the next waits for the
    oldest (and raises its error), so memory stays bounded and a failure stops the rebuild a chunk or two later."""

    def __init__(self, cluster, index: str | None, *, in_flight: int = 1):
        self.cluster, self.index, self.in_flight = cluster, index, in_flight
        self.pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="search-rebuild") if cluster else None
        self.pending: deque[Future] = deque()

    def send(self, bodies: list[bytes] | Callable[[], list[bytes]]) -> None:
        """Send a chunk's `bulk_bodies` (or what makes them, called on the sending thread) to the rebuild's index."""
        if self.pool is None:
            return
        while len(self.pending) >= self.in_flight:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(self._send, bodies))

    def _send(self, bodies: list[bytes] | Callable[[], list[bytes]]) -> None:
        self.cluster.index_bodies(bodies() if callable(bodies) else bodies, index=self.index)

    def wait(self) -> None:
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


class _Chunk(NamedTuple):
    """One chunk read for a rebuild: how many documents, the engine's _bulk bodies (or what makes them), what failed."""

    count: int
    bodies: list[bytes] | Callable[[], list[bytes]]
    errors: dict


def _read_chunk(model_label: str, pks: list, *, embedded: bool, engine: bool, lazy: bool = False) -> _Chunk:
    """Read one chunk, write its embedded part, analyse its engine part (run here or in a reading process).

    Read under the index lock, as a drain reads: a drain that removed an object before this read is seen by it, and
    one after it comes later; so an unpublished or deleted object never comes back from an older snapshot. The
    engine's analysis and its _bulk bodies need no lock (versions order its writes), so they are made after the lock is
    released; `lazy`: when the sender sends the chunk (on its thread, beside the reading of the next chunk here).
    """
    with _index_lock():
        version = time.time_ns()  # before reading: a drain's later write (newer data) wins over ours
        lookup = registry.documents_for(model_label, pks)
        documents = [document for document in lookup.documents.values() if document is not None]
        if embedded:
            gone = [
                registry.make_doc_id(model_label, pk) for pk, document in lookup.documents.items() if document is None
            ]
            get_embedded_engine().index(documents)
            get_embedded_engine().delete(gone)
    bodies = partial(bulk_bodies, document_sources(documents) if engine else (), version=version)
    return _Chunk(len(documents), bodies if lazy else bodies(), lookup.errors)


def _reader_started() -> None:
    # A forked reading process opens its own database connection (the parent closed its before forking) and closes
    # it when the pool ends it, so the server sees a clean goodbye. The parent's drain thread was not forked with it.
    from multiprocessing.util import Finalize

    global _engine_threads
    _engine_threads = None
    Finalize(None, connections.close_all, exitpriority=10)


class _Readers:
    """Reads (and analyses) chunks in forked processes, several at once, handing them back in order.

    Python's analysis of a chunk (pinyin, words, the documents themselves) takes longer than the node needs to index
    it, and one process runs it on one core at a time; `processes` of them keep the node busy. Each still reads
    under the index lock, and the parent sends, counts and renews the rebuild lock in chunk order. With one process
    (small rebuilds, or inside a transaction, whose rows other sessions cannot see) chunks are read here, one by one.
    """

    def __init__(self, *, processes: int, embedded: bool, engine: bool):
        self.options = {"embedded": embedded, "engine": engine}
        self.pool = None
        self.pending: deque[tuple[str, list, Future]] = deque()
        self.ahead = 2 * processes
        if processes > 1:
            load_dictionaries()
            connections.close_all()  # a forked process must not share (and later close) the parent's connection
            context = multiprocessing.get_context("fork")
            self.pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_reader_started)
            self.pool.submit(int).result()  # fork them all now, before this process opens connections again

    def read(self, model_label: str, pks: list) -> Iterator[tuple[str, list, _Chunk]]:
        """Queue a chunk; yield the chunks that are ready (model label, pks, chunk), oldest first."""
        if self.pool is None:
            yield model_label, pks, _read_chunk(model_label, pks, lazy=True, **self.options)
            return
        self.pending.append((model_label, pks, self.pool.submit(_read_chunk, model_label, pks, **self.options)))
        while len(self.pending) > self.ahead:
            yield self._next()

    def rest(self) -> Iterator[tuple[str, list, _Chunk]]:
        while self.pending:
            yield self._next()

    def _next(self) -> tuple[str, list, _Chunk]:
        model_label, pks, future = self.pending.popleft()
        return model_label, pks, future.result()

    def close(self) -> None:
        if self.pool is not None:
            for *_, future in self.pending:
                future.cancel()
            self.pool.shutdown(wait=True)


def _remove_stale(*, seen: set[str], chunk_size: int, renew: Callable[[], None]) -> int:
    """Check again, under the lock, every embedded row of an object the rebuild did not look at: the object gone or
    no longer findable → the row goes; findable (added while the rebuild ran) → rewritten; unreadable → left."""
    rows = IndexEntry.objects.order_by().values_list("doc_id", flat=True)
    candidates = [doc_id for doc_id in rows.iterator(chunk_size=chunk_size) if doc_id not in seen]
    removed = 0
    for chunk in _chunks(candidates, chunk_size):
        with _index_lock():
            documents, gone, _unreadable = _read(chunk)
            get_embedded_engine().index(documents)
            get_embedded_engine().delete(gone)
        removed += len(gone)
        renew()
    return removed


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
    processes: int | None = None,
) -> int:
    """Re-index every registered object; return the number of documents indexed.

    The engine gets a fresh index (behind `-building`, so drains meanwhile reach it too) that replaces the live
    one in one alias swap: searches never see a half-built index. If the rebuild fails, the live alias stays and
    the new index is dropped. The embedded index is refreshed in place and loses the rows of objects that are gone.
    Outbox entries stay: they replay harmlessly (versions), and one committed during the rebuild may not be in it.
    `progress(objects looked at, objects in all)` runs after each chunk. `embedded=False` / `engine=False` skip one
    side. `processes` read and analyse chunks at once (REBUILD_PROCESSES; one for small rebuilds). Raises
    RebuildInProgress when another rebuild runs, SearchError when the engine cannot be reached. An
    object that cannot be read is logged and skipped (its embedded row stays as it was).
    """
    with _rebuild_lock() as renew:
        cluster = get_cluster_engine() if engine and engine_configured() else None
        new_index = cluster.create_index() if cluster else None
        total, done, seen = registry.count_objects(), 0, set()
        if processes is None:
            processes = REBUILD_PROCESSES
        if total <= PROCESSES_FROM or connection.in_atomic_block or connection.vendor != "postgresql":
            processes = 1
        readers = _Readers(processes=processes, embedded=embedded, engine=cluster is not None)
        sender = _Sender(cluster, new_index, in_flight=BULKS_IN_FLIGHT)

        def take(model_label: str, pks: list, chunk: _Chunk) -> None:
            nonlocal done
            if chunk.errors:
                logger.error(
                    "search rebuild: %d %s objects could not be read: %s", len(chunk.errors), model_label, chunk.errors
                )
            sender.send(chunk.bodies)
            done += chunk.count
            seen.update(registry.make_doc_id(model_label, pk) for pk in pks)
            renew()
            if progress:
                progress(len(seen), total)

        try:
            for model_label, pks in registry.iter_pks(chunk_size=chunk_size):
                for chunk_of in readers.read(model_label, pks):
                    take(*chunk_of)
            for chunk_of in readers.rest():
                take(*chunk_of)
            sender.wait()
            if cluster:
                cluster.switch_alias(new_index)
        except BaseException:
            readers.close()
            sender.close()  # the chunks in flight end before the index is dropped
            if cluster:
                _abandon(cluster, new_index)
            raise
        readers.close()
        sender.close()
        if embedded:
            _remove_stale(seen=seen, chunk_size=chunk_size, renew=renew)
    return done


def search_query_record(*, query: str, total: int) -> None:
    """Count one member search of `query` (normalized) for today's analytics; `total` is how many it found.

    One upsert per search; F() increments keep concurrent searches from losing counts.
    """
    from django.db.models import F

    from search.engines.analysis import query_key
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


# --- Counting searches for the editors' statistics: one rule for the search page and the JSON API


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
    response._resource_closers.append(partial(_count_search, query=query, total=results.total + len(results.promoted)))


def _count_search(*, query: str, total: int) -> None:
    try:
        search_query_record(query=query, total=total)
    except Exception:  # the answer is already sent: a lost count is logged, never raised into the server
        logger.exception("search analytics: could not count %r", query)
