"""Short-lived signed links to an item's protected files, after the member's rights are checked by the caller.

The files themselves live with the media pipeline (masters under ``uploads/``, renditions under ``renditions/``):
on S3 they are presigned URLs, on local disk URLs signed by ``media_pipeline.storage``. Ask the selectors
``item_readable`` / ``item_downloadable`` first; these functions only make the link.
"""

from pathlib import PurePosixPath
from urllib.parse import quote

from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage

from media_pipeline.models import MediaAsset

from .models import LibraryItem


def asset_master_url(asset: MediaAsset) -> str:
    """The uploaded file itself (a PDF or EPUB for readers; they fetch it with HTTP range requests)."""
    return asset.file.url


def download_name(item: LibraryItem) -> str:
    suffix = PurePosixPath(item.media_asset.original_name or item.media_asset.file.name).suffix.lower()
    return f"{item.title}{suffix}"


def asset_download_url(asset: MediaAsset, *, filename: str) -> str:
    """The master as an attachment named ``filename`` (the browser saves it instead of opening it)."""
    storage = asset.file.storage
    disposition = content_disposition_header(True, filename)
    if isinstance(storage, S3Storage):
        return storage.url(asset.file.name, parameters={"ResponseContentDisposition": disposition})
    return f"{asset.file.url}&dl={quote(filename)}"
