"""What the library hears from other apps, and hands to its services (the item form and imports call the services
directly; nothing here runs on an item's own save):

- the media pipeline's events: renditions published (an item became playable or readable, a document's text is
  stored) and caption tracks changed (a video's transcript);
- the saves of Wagtail's document model, which the library does not own: a replaced file means new text for the
  items that use it. Compared before the save (one small query on a document save) so that renaming a document never
  re-reads a 3,000-page PDF.
"""

from django.db.models.signals import post_save, pre_delete, pre_save

from media_pipeline.events import captions_changed, renditions_published

_FILE_REPLACED = "_library_file_replaced"


def _document_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    replaced = False
    if not raw and not instance._state.adding and (update_fields is None or "file" in update_fields):
        previous = sender._default_manager.filter(pk=instance.pk).values_list("file", flat=True).first()
        replaced = previous != str(instance.file)
    setattr(instance, _FILE_REPLACED, replaced)


def _document_post_save(sender, instance, **kwargs):
    if getattr(instance, _FILE_REPLACED, False):
        from .services import library_items_document_changed

        library_items_document_changed(document_id=instance.pk)


def _document_pre_delete(sender, instance, **kwargs):
    # Before the delete: afterwards the items' document is already NULL (SET_NULL sends no signal of its own).
    from .services import library_items_document_changed

    library_items_document_changed(document_id=instance.pk)


def _renditions_published(sender, *, asset_id, **kwargs):
    from .services import library_items_asset_published

    library_items_asset_published(asset_id=asset_id)


def _captions_changed(sender, *, asset_id, **kwargs):
    from .services import library_items_captions_changed

    library_items_captions_changed(asset_id=asset_id)


def connect() -> None:
    """Wire the receivers (idempotent: each has a dispatch_uid)."""
    uid = "library:"
    pre_save.connect(_document_pre_save, sender="cms.LighthouseDocument", dispatch_uid=uid + "document-pre")
    post_save.connect(_document_post_save, sender="cms.LighthouseDocument", dispatch_uid=uid + "document-post")
    pre_delete.connect(_document_pre_delete, sender="cms.LighthouseDocument", dispatch_uid=uid + "document-delete")
    renditions_published.connect(_renditions_published, dispatch_uid=uid + "renditions-published")
    captions_changed.connect(_captions_changed, dispatch_uid=uid + "captions-changed")
