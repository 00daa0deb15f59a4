"""Short-lived signed links to an item's protected files, after the member's rights are checked by the caller.

The files themselves live with the media pipeline (masters under ``uploads/``, renditions under ``renditions/``):
on S3 they are presigned URLs, on local disk URLs signed by ``media_pipeline.storage``. Both sign the response
parameters with the name, so nobody turns a read link into a download by adding or changing one. Ask the
selectors ``item_readable`` / ``item_downloadable`` first; these functions only make the link.

Reading is not downloading (issue 11, item 5). The master itself goes only to who may take the whole file
(``master_allowed``: the download right, or an editor who manages the item); for them the read link serves it
inline, uncached and for minutes, so pdf.js and foliate-js read it as before. Everyone else who may read gets what
reading needs and never the master's bytes: a PDF's page images from the pipeline (``readers.document_pages``) and
an EPUB's parts one by one (``epub_parts``). What a reader was shown can still be kept (a screenshot, a page image);
that is accepted. What is not: the master by a read link, a page, the API or any parameter.
"""

import re
from pathlib import PurePosixPath
from urllib.parse import quote

from library import selectors
from library.admin.selectors import items_managed_by
from library.models import LibraryItem
from media_pipeline.models import MediaAsset

READ_LINK_SECONDS = 900  # a reader whose link expired asks the item's read route for a fresh one
READ_PARAMETERS = {"ResponseContentDisposition": "inline", "ResponseCacheControl": "private, no-store"}
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069/\\]")
_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def master_allowed(*, user, item: LibraryItem) -> bool:
    """Whether ``user`` may be handed the master of ``item``, an item they may read (the caller checked, e.g. with
    ``selectors.item_visible_to``): with the download right, or as an editor of the item (checking their file)."""
    if selectors.item_downloadable(user=user, item=item, known_readable=True):
        return True
    return getattr(user, "is_authenticated", False) and items_managed_by(user).filter(pk=item.pk).exists()


def asset_master_url(asset: MediaAsset) -> str:
    """The uploaded document for a reader (a PDF or EPUB; pdf.js fetches it with HTTP range requests): shown
    inline, never stored by a cache, valid for minutes."""
    return asset.file.storage.url(asset.file.name, parameters=dict(READ_PARAMETERS), expire=READ_LINK_SECONDS)


def download_name(item: LibraryItem) -> str:
    suffix = PurePosixPath(item.media_asset.original_name or item.media_asset.file.name).suffix.lower()
    # Control and direction characters or a path in a title would break the header or mislead the save dialog.
    title = _UNSAFE_IN_NAME.sub("", item.title).strip() or "download"
    return f"{title[:150]}{suffix}"


def attachment_disposition(filename: str) -> str:
    """``attachment`` with both names RFC 6266 asks for: ``filename`` in plain ASCII for clients that know no other
    (older reading apps and download managers save "download" or garble UTF-8 without it), and ``filename*`` in
    UTF-8 with the real, Chinese name for everyone else (they prefer it)."""
    stem, dot, suffix = filename.rpartition(".")
    if not dot:
        stem, suffix = filename, ""
    ascii_stem = _NOT_PLAIN_ASCII.sub("-", stem).strip("-.")[:80] or "download"
    ascii_suffix = _NOT_PLAIN_ASCII.sub("", suffix)[:10]
    fallback = f"{ascii_stem}.{ascii_suffix}" if ascii_suffix else ascii_stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def asset_download_url(asset: MediaAsset, *, filename: str) -> str:
    """The master as an attachment named ``filename`` (the browser saves it instead of opening it); the
    disposition and its name are part of the signature (presigned on S3, signed on local disk)."""
    disposition = attachment_disposition(filename)
    return asset.file.storage.url(asset.file.name, parameters={"ResponseContentDisposition": disposition})
