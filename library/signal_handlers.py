"""Queue full-text extraction when what an item's text is read from changes: the item's document or media asset,
the document's file, or the captions of the asset (the media pipeline has no hook of its own for captions).

Handlers only compare and enqueue after commit; library_item_fulltext_refresh_task does the reading. The
comparison is done before the save (one small query) so that editing a title never re-reads a 3,000-page PDF.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from media_pipeline.events import renditions_published

from .models import LibraryItem

ITEM_SOURCES = ("document_id", "media_asset_id")
DOCUMENT_SOURCES = ("file",)
_STALE = "_fulltext_stale"


def fulltext_refresh_soon(*, item_ids) -> None:
    """Enqueue one extraction per item once the current transaction commits (robust: a queue that is down
    must not undo the editor's committed change; `manage.py library_fulltext` catches up).

    One upload saves the same rows more than once (a caption is created, then its file saved): every item
    recorded in one transaction joins one pending batch, so each is queued once.
    """
    ids = list(item_ids)
    if not ids:
        return
    batch = _pending_batch()
    if batch is None:
        batch = _Batch()
        transaction.on_commit(batch.run, robust=True)  # a bound method: Django logs a failure by its __qualname__
    batch.item_ids.update(dict.fromkeys(ids))


class _Batch:
    """The items to queue when the transaction that recorded them commits (a dict: ordered, each id once)."""

    def __init__(self):
        self.item_ids: dict[int, None] = {}
        self.done = False

    def run(self) -> None:
        self.done = True
        _enqueue(list(self.item_ids))


def _pending_batch() -> _Batch | None:
    """This transaction's batch not yet run, if any. Django keeps on-commit callbacks in `run_on_commit` and drops
    one when a savepoint open at its recording rolls back, so a batch found there still runs at commit; an id added
    to it later is dropped with it only when that id's own change is rolled back too (it was inside the savepoint)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None  # autocommit: on_commit runs at once
    for _savepoints, callback, _robust in connection.run_on_commit:
        batch = getattr(callback, "__self__", None)
        if isinstance(batch, _Batch) and not batch.done:
            return batch
    return None


def _enqueue(ids: list[int]) -> None:
    from .tasks import library_item_fulltext_refresh_task

    for item_id in ids:
        library_item_fulltext_refresh_task.enqueue(item_id)


def _changed(instance, fields: tuple[str, ...], update_fields) -> bool:
    # update_fields may name a foreign key by its field ("document") or its column ("document_id").
    named = {name for field in fields for name in (field, field.removesuffix("_id"))}
    if update_fields is not None and not named & set(update_fields):
        return False
    if instance._state.adding:
        return any(getattr(instance, field) for field in fields)
    previous = type(instance)._default_manager.filter(pk=instance.pk).values_list(*fields).first()
    current = tuple(str(getattr(instance, field)) if field == "file" else getattr(instance, field) for field in fields)
    return previous != current


def _item_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    setattr(instance, _STALE, not raw and _changed(instance, ITEM_SOURCES, update_fields))


def _item_post_save(sender, instance, **kwargs):
    if getattr(instance, _STALE, False):
        fulltext_refresh_soon(item_ids=[instance.pk])


def _document_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    setattr(
        instance, _STALE, not raw and not instance._state.adding and _changed(instance, DOCUMENT_SOURCES, update_fields)
    )


def _document_post_save(sender, instance, **kwargs):
    if getattr(instance, _STALE, False):
        fulltext_refresh_soon(item_ids=LibraryItem.objects.filter(document_id=instance.pk).values_list("pk", flat=True))


def _document_pre_delete(sender, instance, **kwargs):
    # Before the delete: afterwards the items' document is already NULL (SET_NULL sends no signal of its own).
    fulltext_refresh_soon(item_ids=LibraryItem.objects.filter(document_id=instance.pk).values_list("pk", flat=True))


def _caption_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        ids = LibraryItem.objects.filter(media_asset_id=instance.asset_id).values_list("pk", flat=True)
        fulltext_refresh_soon(item_ids=ids)


def _renditions_published(sender, *, asset_id, **kwargs):
    from .services import library_items_asset_published

    library_items_asset_published(asset_id=asset_id)


def connect() -> None:
    """Wire the handlers (idempotent: each has a dispatch_uid)."""
    uid = "library:fulltext:"
    pre_save.connect(_item_pre_save, sender=LibraryItem, dispatch_uid=uid + "item-pre")
    post_save.connect(_item_post_save, sender=LibraryItem, dispatch_uid=uid + "item-post")
    pre_save.connect(_document_pre_save, sender="cms.LighthouseDocument", dispatch_uid=uid + "document-pre")
    post_save.connect(_document_post_save, sender="cms.LighthouseDocument", dispatch_uid=uid + "document-post")
    pre_delete.connect(_document_pre_delete, sender="cms.LighthouseDocument", dispatch_uid=uid + "document-delete")
    post_save.connect(_caption_changed, sender="media_pipeline.Caption", dispatch_uid=uid + "caption-save")
    post_delete.connect(_caption_changed, sender="media_pipeline.Caption", dispatch_uid=uid + "caption-delete")
    # The end of a transcode: the one event the pipeline sends; the library decides what follows.
    renditions_published.connect(_renditions_published, dispatch_uid="library:renditions-published")
