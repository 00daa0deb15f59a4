"""Writes for library items. Media files go to the media pipeline; search hears of changes through its outbox."""

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from media_pipeline.services import (
    caption_attach,
    media_asset_create,
    media_asset_replace_file,
    media_asset_set_options,
)
from media_pipeline.uploads import upload_release

from .models import LibraryItem


def library_item_save(
    *,
    item: LibraryItem,
    user,
    upload: UploadedFile | None = None,
    captions: UploadedFile | None = None,
    media_options: dict | None = None,
    upload_id=None,
) -> LibraryItem:
    """Save an item an editor created or changed; a new upload starts (or restarts) the media pipeline,
    new captions or media choices (public screens, portrait fill) re-run the renditions that use them."""
    if item._state.adding and item.created_by_id is None:
        item.created_by = user if user and user.is_authenticated else None
    with transaction.atomic():
        if upload is not None:
            try:
                item.media_asset = _asset_for_upload(item=item, upload=upload, user=user)
            finally:
                upload.close()
            if upload_id is not None:
                upload_release(upload_id=upload_id)  # the resumable upload's leftovers, after commit
        item.save()  # search's outbox hears of it through the registry's post_save handler
        if item.media_asset is not None and media_options is not None:
            media_asset_set_options(asset=item.media_asset, options=media_options)
        if item.media_asset is not None and captions is not None:
            caption_attach(asset=item.media_asset, file=captions)
    return item


def _asset_for_upload(*, item: LibraryItem, upload: UploadedFile, user):
    uploader = user if user and user.is_authenticated else None
    asset = item.media_asset
    shared = asset is not None and LibraryItem.objects.filter(media_asset=asset).exclude(pk=item.pk).exists()
    if asset is not None and not shared and not asset.renditions.exists():
        # The editor is fixing a file that failed: replace it and run the job again.
        return media_asset_replace_file(asset=asset, file=upload, uploaded_by=uploader)
    return media_asset_create(file=upload, uploaded_by=uploader)


@transaction.atomic
def library_item_delete(*, item: LibraryItem) -> None:
    item.delete()
