"""Links to an item's protected files (OWNER: readers helper): rights are checked, then a redirect to a short-lived
signed URL (library/links.py).

Anyone who may not read (or download) the item gets the same 404 as for an item that does not exist: these URLs
never reveal what the library holds. The redirects are never cached, since the signed URLs they point at expire.
"""

import logging

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from media_pipeline.models import MediaAsset

from . import selectors
from .basic_auth import with_feed_user
from .links import asset_download_url, asset_master_url, download_name
from .models import LibraryItem

logger = logging.getLogger(__name__)


@require_GET
@with_feed_user
def item_download(request: HttpRequest, user, item_id: int) -> HttpResponseRedirect:
    """The master file as an attachment, for members the item's download setting allows. Reading apps follow this
    link from the OPDS catalogue with the member's Basic credentials, so those count as well as the session."""
    item = selectors.item_visible_to(user, item_id)
    if item is None or item.media_asset is None or not selectors.item_downloadable(user=user, item=item):
        raise Http404
    logger.info("Download of item %s by user %s", item.pk, getattr(user, "pk", None))
    return _redirect(asset_download_url(item.media_asset, filename=download_name(item)))


@require_GET
def item_read(request: HttpRequest, item_id: int) -> HttpResponseRedirect:
    """A fresh reading link of a readable item's document (PDF/EPUB), for readers whose link expired mid-book:
    served inline, never cached, for minutes (links.asset_master_url). Reading is not the download right: the
    attachment link comes only from ``item_download``, and no parameter added to this one makes it one.

    Only documents: a video's or audio programme's master is read through its streams, and handing it out here
    would let anyone who may play it download it."""
    item = selectors.item_visible_to(request.user, item_id)
    if item is None or not _is_document(item):
        raise Http404
    return _redirect(asset_master_url(item.media_asset))


def _is_document(item: LibraryItem) -> bool:
    asset = item.media_asset
    if asset is None:
        return False
    if asset.kind == MediaAsset.Kind.DOCUMENT:
        return True
    # Not analysed yet: an e-book or issue whose file is a document by its item (the reader works meanwhile).
    return asset.kind == MediaAsset.Kind.UNKNOWN and item.document_id is not None


def _redirect(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    return response
