import pytest

from search.models import IndexEntry, OutboxEntry
from search.selectors import search_items
from search.services import search_outbox_drain

pytestmark = pytest.mark.django_db


def _titles(query):
    return [hit.title for hit in search_items(query=query, user=None).hits]


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
    assert len(callbacks) == 1 and _titles("水浒") == []
    callbacks[0]()
    assert _titles("水浒") == ["水浒传"]


def test_rolled_back_change_leaves_nothing(embedded, unit):
    """A change rolled back takes its outbox entry with it (same transaction)."""
    from django.db import transaction

    from library.models import LibraryItem

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


def test_engine_down_keeps_entries_and_site_answers(settings, closed_port_url, make_item):
    """With the engine unreachable, entries stay (attempts, error, back-off) and search answers embedded."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    assert search_outbox_drain() == 0
    entry = OutboxEntry.objects.get()
    assert entry.attempts == 1 and entry.last_error and entry.next_attempt_at
    results = search_items(query="红楼梦", user=None)
    assert results.degraded and [hit.title for hit in results.hits] == ["红楼梦有声书"]
    # Not due yet: a second drain right away does not hammer the engine.
    assert search_outbox_drain() == 0 and OutboxEntry.objects.get().attempts == 1


def test_entries_drain_once_the_engine_is_gone_from_config(settings, closed_port_url, make_item):
    """Entries kept while the engine was down drain as soon as every configured target takes them."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    search_outbox_drain()
    OutboxEntry.objects.update(next_attempt_at=None)
    settings.SEARCH_URL = ""
    assert search_outbox_drain() == 1 and not OutboxEntry.objects.exists()
