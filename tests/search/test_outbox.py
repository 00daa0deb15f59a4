"""The outbox: every change reaches every index, the embedded one first; an engine that is down loses nothing."""

import os
import time
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from library.models import LibraryItem
from search import registry
from search.engines.choice import get_cluster_engine
from search.models import IndexEntry, OutboxEntry
from search.selectors import search_items
from search.services import (
    UNAVAILABLE_MARK,
    UNREADABLE_MARK,
    search_documents_changed,
    search_outbox_drain,
    search_outbox_drain_all,
)
from search.tasks import search_outbox_drain_task
from tests.search.test_registry import register_items, registrations, simple_document  # noqa: F401 — a fixture

pytestmark = pytest.mark.django_db
OPENSEARCH_URL = os.environ.get("SEARCH_URL", "")
needs_opensearch = pytest.mark.skipif(
    not OPENSEARCH_URL or os.environ.get("SEARCH_ENGINE", "opensearch") != "opensearch",
    reason="needs a real OpenSearch node: SEARCH_URL is unset (run `make test`, or source var/services/env)",
)
LABEL = "library.libraryitem"
TASK_PATH = f"{search_outbox_drain_task.func.__module__}.{search_outbox_drain_task.func.__qualname__}"


@pytest.fixture
def opensearch(settings):
    """The configured engine on a fresh index prefix; its indices are deleted afterwards."""
    settings.SEARCH_URL = OPENSEARCH_URL
    settings.SEARCH_ENGINE = "opensearch"
    settings.SEARCH_INDEX_PREFIX = f"lhtest-outbox-{uuid.uuid4().hex[:8]}"
    engine = get_cluster_engine()
    yield engine
    engine.admin.indices.delete(index=f"{engine.alias}-*", params={"ignore_unavailable": "true"}, ignore=[404])


@pytest.fixture
def db_tasks(settings):
    """Tasks go to the database backend's table, so a test can see what was queued (and when it may run)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


def _drains_queued() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="search.tasks.search_outbox_drain_task").count()


def _titles(query, **kwargs):
    return [hit.title for hit in search_items(query=query, user=None, **kwargs).hits]


def _engine_titles(engine, query):
    engine.refresh()
    results = search_items(query=query, user=None)
    assert results.backend == "opensearch" and not results.degraded
    return [hit.title for hit in results.hits]


def _embedded_titles():
    return sorted(IndexEntry.objects.values_list("title", flat=True))


def test_change_is_recorded_then_drained_then_found(embedded, make_item):
    """Saving an item writes an outbox entry; draining it makes the item findable and empties the outbox."""
    item = make_item("红楼梦有声书")
    assert list(OutboxEntry.objects.values_list("doc_id", "op")) == [(f"library.libraryitem:{item.pk}", "upsert")]
    assert _titles("红楼梦") == []
    assert search_outbox_drain() == 1
    assert _titles("红楼梦") == ["红楼梦有声书"]
    assert not OutboxEntry.objects.exists()


def test_delete_is_recorded(embedded, make_item, drain):
    """Deleting an item records a delete that removes it from the index."""
    item = make_item("西游记")
    drain()
    doc_id = f"library.libraryitem:{item.pk}"
    item.delete()
    assert OutboxEntry.objects.get().op == "delete"
    drain()
    assert not IndexEntry.objects.filter(doc_id=doc_id).exists()


def test_drain_is_enqueued_after_commit(embedded, make_item, django_capture_on_commit_callbacks, settings):
    """The drain task is enqueued only when the transaction commits, and running it indexes the change."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": settings.TASK_QUEUES}
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_item("水浒传")
    # Other apps may hear the save too (screens notes items for its manifests): the drain is one of the callbacks.
    assert callbacks and _titles("水浒") == []
    for callback in callbacks:
        callback()
    assert _titles("水浒") == ["水浒传"]


@pytest.mark.usefixtures("db_tasks")
def test_one_drain_is_enqueued_per_transaction(embedded, make_item, django_capture_on_commit_callbacks):
    """100 saves (and a bulk change) in one transaction enqueue one drain, not 101: one drain takes them all."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        items = [make_item(f"党史读本第{number}卷") for number in range(100)]
        search_documents_changed(model_label=LABEL, pks=[item.pk for item in items])
    assert _drains_queued() == 1 and OutboxEntry.objects.count() == 200


@pytest.mark.usefixtures("db_tasks")
def test_a_drain_dropped_with_a_savepoint_is_registered_again(embedded, make_item, django_capture_on_commit_callbacks):
    """The drain registered inside a savepoint that rolls back goes with it; the next change in the transaction
    registers it again, so a committed change always gets its drain."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            make_item("撤销的修改")
            raise RuntimeError
        search_documents_changed(model_label=LABEL, pks=[1])
    assert _drains_queued() == 1


def test_rolled_back_change_leaves_nothing(embedded, unit):
    """A change rolled back takes its outbox entry with it (same transaction)."""
    with pytest.raises(RuntimeError), transaction.atomic():
        LibraryItem.objects.create(title="三国演义", owning_unit=unit, kind="ebook")
        raise RuntimeError
    assert not OutboxEntry.objects.exists()


def test_repeated_changes_collapse_to_one_document(embedded, make_item):
    """Several changes to one item are applied once, with the latest state."""
    item = make_item("初稿")
    for title in ("二稿", "定稿"):
        item.title = title
        item.save()
    assert search_outbox_drain() == 1
    assert _titles("定稿") == ["定稿"] and _titles("初稿") == []


def test_drain_all_works_through_every_batch(embedded, make_item):
    """Draining everything takes as many batches as needed and leaves nothing behind."""
    for number in range(5):
        make_item(f"党史读本第{number}卷")
    assert search_outbox_drain_all(limit=2) == 5
    assert not OutboxEntry.objects.exists() and IndexEntry.objects.count() == 5


def test_engine_down_updates_the_embedded_index_and_keeps_entries(settings, closed_port_url, make_item):
    """With the engine unreachable the embedded index is still updated at once (the site answers from it), and
    the entries stay, with attempts, the error and a back-off, for the engine part only."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    assert search_outbox_drain() == 0
    assert _embedded_titles() == ["红楼梦有声书"]
    entry = OutboxEntry.objects.get()
    assert entry.attempts == 1 and entry.last_error.startswith(UNAVAILABLE_MARK)
    assert entry.next_attempt_at > timezone.now()
    results = search_items(query="红楼梦", user=None)
    assert results.degraded and [hit.title for hit in results.hits] == ["红楼梦有声书"]
    # Not due yet: a second drain right away does not hammer the engine.
    assert search_outbox_drain() == 0 and OutboxEntry.objects.get().attempts == 1


def test_changes_while_the_engine_is_down_reach_the_embedded_index_and_share_one_retry(
    settings, closed_port_url, make_item
):
    """Later changes during an outage still reach the embedded index at once; their engine part waits for the
    same retry as the first failure, instead of each trying the unreachable engine again."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    search_outbox_drain()
    first_retry = OutboxEntry.objects.get().next_attempt_at
    make_item("西游记连环画")
    search_outbox_drain()
    assert _embedded_titles() == ["红楼梦有声书", "西游记连环画"]
    assert set(OutboxEntry.objects.values_list("next_attempt_at", flat=True)) == {first_retry}


def test_entries_drain_once_every_target_takes_them(settings, closed_port_url, make_item):
    """Entries kept while the engine was down drain as soon as every configured target takes them."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    search_outbox_drain()
    OutboxEntry.objects.update(next_attempt_at=None)
    settings.SEARCH_URL = ""
    assert search_outbox_drain() == 1 and not OutboxEntry.objects.exists()


def test_a_failed_drain_schedules_one_retry_and_idle_runs_schedule_none(settings, closed_port_url, make_item, db_tasks):
    """A drain task that leaves entries waiting schedules one deferred run for their retry time; a run that
    found nothing due schedules nothing, so retry chains do not multiply during an outage."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    DBTaskResult.objects.all().delete()  # the run enqueued by the save itself
    search_outbox_drain_task.call()
    scheduled = DBTaskResult.objects.filter(task_path=TASK_PATH)
    assert [result.run_after for result in scheduled] == [OutboxEntry.objects.get().next_attempt_at]
    search_outbox_drain_task.call()  # e.g. a run enqueued by another save, with nothing due now
    assert scheduled.count() == 1


def test_an_unreadable_entry_waits_alone_and_blocks_nothing(embedded, make_item):
    """An entry whose object cannot be read (a key that is no key, "abc") gets attempts, its error and a back-off;
    the changes behind it are drained as usual, then and later."""
    OutboxEntry.objects.create(doc_id=f"{LABEL}:abc", op="upsert")
    make_item("红楼梦有声书")
    assert search_outbox_drain() == 1
    assert _embedded_titles() == ["红楼梦有声书"]
    entry = OutboxEntry.objects.get()
    assert entry.doc_id == f"{LABEL}:abc" and entry.attempts == 1 and entry.next_attempt_at > timezone.now()
    assert entry.last_error.startswith(UNREADABLE_MARK)
    make_item("西游记连环画")
    assert search_outbox_drain() == 1 and OutboxEntry.objects.get().attempts == 1
    assert _embedded_titles() == ["红楼梦有声书", "西游记连环画"]


@pytest.mark.usefixtures("registrations")
def test_a_bug_in_one_document_holds_up_no_other(embedded, make_item):
    """An object whose to_document raises waits (attempts, its error); the other objects of the batch reach the
    index, a delete in the same batch too."""
    broken, fine, gone = make_item("坏页面"), make_item("红楼梦有声书"), make_item("西游记连环画")
    search_outbox_drain_all()

    def to_document(item):
        if item.pk == broken.pk:
            raise RuntimeError("get_url 出错")
        return simple_document(item)

    register_items(to_document)
    for item in (broken, fine):
        item.title += "（修订）"
        item.save()
    gone.delete()
    assert search_outbox_drain() == 1 + 1
    assert _embedded_titles() == ["坏页面", "红楼梦有声书（修订）"]
    entry = OutboxEntry.objects.get()
    assert entry.doc_id == f"{LABEL}:{broken.pk}" and entry.attempts == 1
    assert entry.last_error == UNREADABLE_MARK + "RuntimeError: get_url 出错"


def test_a_run_with_an_unreadable_entry_still_schedules_its_retry(embedded, make_item, db_tasks):
    """The drain task does not die on an entry it cannot read: it drains the rest and schedules one run for
    when that entry's retry is due."""
    OutboxEntry.objects.create(doc_id=f"{LABEL}:abc", op="upsert")
    make_item("红楼梦有声书")
    DBTaskResult.objects.all().delete()
    assert search_outbox_drain_task.call() == 1
    scheduled = DBTaskResult.objects.filter(task_path=TASK_PATH)
    assert [result.run_after for result in scheduled] == [OutboxEntry.objects.get().next_attempt_at]


@pytest.mark.usefixtures("registrations")
def test_a_drain_reads_each_model_with_the_same_queries_for_3_or_30(embedded, make_item):
    """A drain reads the objects of one model with one query (and its prefetches once), however many changed:
    no query per document."""
    register_items()

    def queries_for(count: int) -> int:
        for number in range(count):
            make_item(f"党史读本第{number}卷").tags.add("党史")
        with CaptureQueriesContext(connection) as captured:
            assert search_outbox_drain(limit=500) == count
        return len(captured)

    assert queries_for(3) == queries_for(30)


@pytest.mark.services
@needs_opensearch
def test_drain_applies_to_both_indexes(opensearch, make_item):
    """One drain puts a change into the embedded index and the engine; a delete leaves both."""
    item = make_item("红楼梦有声书")
    assert search_outbox_drain() == 1
    assert _embedded_titles() == ["红楼梦有声书"] and _engine_titles(opensearch, "红楼梦") == ["红楼梦有声书"]
    item.delete()
    assert search_outbox_drain() == 1
    assert _embedded_titles() == [] and _engine_titles(opensearch, "红楼梦") == []


@pytest.mark.services
@needs_opensearch
def test_engine_back_drains_what_waited(opensearch, settings, closed_port_url, make_item):
    """Engine down: the entries wait; once it is back and the retry is due, they reach the engine."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    item = make_item("西游记连环画")
    search_outbox_drain_all()
    item.delete()
    search_outbox_drain_all()
    assert OutboxEntry.objects.count() == 3
    settings.SEARCH_URL = OPENSEARCH_URL
    OutboxEntry.objects.update(next_attempt_at=timezone.now())  # the retry time has come
    assert search_outbox_drain_all() == 2
    assert not OutboxEntry.objects.exists()
    assert _engine_titles(opensearch, "红楼梦") == ["红楼梦有声书"] and _engine_titles(opensearch, "西游") == []


@pytest.mark.services
@needs_opensearch
def test_a_stale_write_does_not_overwrite_a_newer_drain(opensearch, make_item):
    """A slow worker that read a document before the latest change cannot overwrite it: its version (taken before
    it read) is older than the drain's, and the engine ignores it."""
    item = make_item("初稿")
    search_outbox_drain()
    stale_version, stale_document = time.time_ns(), registry.documents_for(LABEL, [item.pk]).documents[item.pk]
    item.title = "定稿"
    item.save()
    search_outbox_drain()
    opensearch.index([stale_document], version=stale_version)
    assert _engine_titles(opensearch, "定稿") == ["定稿"] and _engine_titles(opensearch, "初稿") == []
    item.delete()
    search_outbox_drain()
    opensearch.index([stale_document], version=stale_version)  # nor bring back a deleted one (tombstone)
    assert _engine_titles(opensearch, "初稿") == []


def _index_rows():
    """Every embedded row as stored, but for when it was written."""
    return sorted(IndexEntry.objects.values_list("doc_id", "title", "title_terms", "terms", "pinyin", "title_key"))


def test_a_batch_takes_each_document_once_and_leaves_the_rest_due(embedded, make_item):
    """A drain batch of `limit` documents forgets every entry of those documents (repeats included) and no other;
    the next batch takes the rest."""
    items = [make_item(f"党史读本第{number}卷") for number in range(4)]
    search_documents_changed(model_label=LABEL, pks=[items[0].pk, items[0].pk])  # repeats of the first document
    assert search_outbox_drain(limit=2) == 2
    waiting = set(OutboxEntry.objects.values_list("doc_id", flat=True))
    assert waiting == {registry.make_doc_id(LABEL, item.pk) for item in items[2:]}
    assert IndexEntry.objects.count() == 2
    assert search_outbox_drain(limit=2) == 2 and not OutboxEntry.objects.exists() and IndexEntry.objects.count() == 4


def test_draining_the_same_changes_again_changes_nothing(embedded, make_item):
    """A replayed drain (the same entries recorded again) rewrites the same rows: no duplicate, no lost term, and
    searches find each document once."""
    items = [make_item(title) for title in ("红楼梦有声书", "红楼梦连环画", "西游记")]
    search_outbox_drain_all()
    before = _index_rows()
    search_documents_changed(model_label=LABEL, pks=[item.pk for item in items])
    assert search_outbox_drain_all() == 3
    assert _index_rows() == before
    assert sorted(_titles("红楼梦")) == ["红楼梦有声书", "红楼梦连环画"]


def test_a_drained_change_replaces_the_rows_terms(embedded, make_item):
    """An upsert of a document already indexed replaces its terms: the old title is no longer found (FTS rows
    follow the row), the new one is, and by pinyin too."""
    item = make_item("灯塔大课堂")
    search_outbox_drain_all()
    item.title = "沂蒙精神"
    item.save()
    search_outbox_drain_all()
    assert _titles("灯塔") == [] and _titles("沂蒙") == ["沂蒙精神"] and _titles("yimeng") == ["沂蒙精神"]
    assert IndexEntry.objects.count() == 1


def test_overlapping_batches_leave_the_one_on_its_way_alone_and_keep_the_latest_change(embedded, make_item):
    """While a batch is still on its way to the engine, the next batch leaves that batch's entries alone but takes a
    newer change of the same document; each forgets only its own entries, and the index ends with the latest
    state."""
    from search.services import _due_batch, _finish_batch, _start_batch

    first, second, third = make_item("甲书"), make_item("乙书"), make_item("丙书")
    on_its_way = _start_batch(limit=2)
    assert set(on_its_way.entries) == {registry.doc_id_for(first), registry.doc_id_for(second)}
    first.title = "甲书（修订）"
    first.save()  # a newer change of a document in the batch on its way
    following = _due_batch(10, on_its_way.entry_ids())
    assert set(following) == {registry.doc_id_for(first), registry.doc_id_for(third)}
    assert not set(following[registry.doc_id_for(first)]) & on_its_way.entry_ids()
    overlapping = _start_batch(limit=10, busy=on_its_way.entry_ids())
    assert overlapping.entries == following
    assert _finish_batch(on_its_way) == (2, 2)
    assert OutboxEntry.objects.count() == 2  # the overlapping batch's own entries, until it finishes
    assert _finish_batch(overlapping) == (2, 2)
    assert not OutboxEntry.objects.exists()
    assert sorted(IndexEntry.objects.values_list("title", flat=True)) == ["丙书", "乙书", "甲书（修订）"]
