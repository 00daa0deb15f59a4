"""Links to an item's protected files: rights are checked, then a redirect to a short-lived signed URL
(library/site/links.py), or, for members who may read but not download, the parts a reader needs.

Anyone who may not read the item gets the same 404 as for an item that does not exist: these URLs never reveal
what the library holds. The master (the whole PDF or EPUB) goes only to who may download it or manages the item
(``links.master_allowed``); for a reader without that right the read link is a 404 too, and the reader uses the
PDF's page images (``item_pages``) or the EPUB's parts (``epub_index``, ``epub_member``) instead. Nothing here is
cached by the browser or a proxy: the signed URLs expire, and a book's parts are not for keeping.
"""

import logging
from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_safe

from library import selectors
from library.feeds.basic_auth import with_feed_user
from library.models import LibraryItem
from library.site import epub_parts
from media_pipeline.models import MediaAsset
from media_pipeline.selectors import is_canonical_request_path

from .links import asset_download_url, asset_master_url, download_name, master_allowed
from .readers import document_format, document_pages, page_number

logger = logging.getLogger(__name__)

# A book's own HTML and SVG, opened straight from this URL, must not run script on our origin or load anything
# from elsewhere: no script source at all, a sandbox (an opaque origin, no scripts, no forms), images and styles
# from here only. foliate-js fetches the bytes and renders them in its own frames under the item page's policy.
MEMBER_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data: blob:; "
    "media-src 'self' blob:; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@require_safe
@with_feed_user
def item_download(request: HttpRequest, user, item_id: int) -> HttpResponseRedirect:
    """The master file as an attachment, for members the item's download setting allows. Reading apps follow this
    link from the OPDS catalogue with the member's Basic credentials, so those count as well as the session."""
    item = selectors.item_visible_to(user, item_id)
    # item_visible_to has just said the user may read it: no second query for that.
    if (
        item is None
        or item.media_asset is None
        or not selectors.item_downloadable(user=user, item=item, known_readable=True)
    ):
        raise Http404
    logger.info("Download of item %s by user %s", item.pk, getattr(user, "pk", None))
    return _redirect(asset_download_url(item.media_asset, filename=download_name(item)))


@require_safe
def item_read(request: HttpRequest, item_id: int) -> HttpResponseRedirect:
    """A fresh reading link of the master of a document (PDF/EPUB), for readers whose link expired mid-book: served
    inline, never cached, for minutes (links.asset_master_url). Only for who may have the whole file (the download
    right, or an editor of the item): any other reader gets 404, as for an item that does not exist, and reads
    page images or the EPUB's parts. No parameter added to this link makes it a download.

    Only documents: a video's or audio programme's master is read through its streams."""
    item = _readable_document(request, item_id)
    if not master_allowed(user=request.user, item=item):
        raise Http404
    return _redirect(asset_master_url(item.media_asset))


@require_safe
def item_pages(request: HttpRequest, item_id: int) -> JsonResponse:
    """The PDF page reader's pages (JSON): from ``?start=`` (1-based), 20 pages, each image at every width as a
    signed, expiring URL. 404 for an item that is not a readable PDF with page images."""
    item = _readable_document(request, item_id)
    data = document_pages(item=item, start=page_number(request.GET.get("start")))
    if data is None:
        raise Http404
    return _private(JsonResponse(data))


@require_safe
def epub_index(request: HttpRequest, item_id: int) -> JsonResponse:
    """The EPUB's members (name and unpacked size) for the reader's loader (foliate-js ``getSize``)."""
    item = _readable_epub(request, item_id)
    try:
        found = epub_parts.members(item.media_asset)
    except epub_parts.NotReadable:
        raise Http404 from None
    return _private(JsonResponse({"members": [{"name": m.name, "size": m.size} for m in found]}))


@require_safe
def epub_member(request: HttpRequest, item_id: int, name: str) -> StreamingHttpResponse:
    """One member of the EPUB, inline and never stored, under a policy that lets nothing in it run (MEMBER_POLICY).
    Only a name the vetted archive lists; anything else, however spelled, is 404."""
    item = _readable_epub(request, item_id)
    if not _canonical_request(request):
        raise Http404
    try:
        chunks, member = epub_parts.open_member(item.media_asset, name)
    except (KeyError, epub_parts.NotReadable):
        raise Http404 from None
    response = StreamingHttpResponse(chunks, content_type=epub_parts.content_type(member.name))
    response["Content-Length"] = str(member.size)
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = MEMBER_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return _private(response)


def _canonical_request(request: HttpRequest) -> bool:
    """Where the server passes on the undecoded path (gunicorn's RAW_URI, uwsgi's REQUEST_URI), it must be spelled
    the one way our URLs spell it: ``%2F``, ``%2e`` and other encodings that change under decoding are refused, as
    for /media/ paths (the decoded name is checked against the archive's list either way)."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if not raw:
        return True
    target = raw.split("#", 1)[0].split("?", 1)[0]
    return is_canonical_request_path(target if target.startswith("/") else urlsplit(target).path, request.path)


def _readable_document(request: HttpRequest, item_id: int) -> LibraryItem:
    item = selectors.item_visible_to(request.user, item_id)
    if item is None or not _is_document(item):
        raise Http404
    return item


def _readable_epub(request: HttpRequest, item_id: int) -> LibraryItem:
    item = _readable_document(request, item_id)
    if document_format(asset=item.media_asset, pages=_pages_rendition(item.media_asset)) != "epub":
        raise Http404
    return item


def _pages_rendition(asset: MediaAsset):
    return asset.renditions.filter(profile="document").order_by("-created_at", "-id").first()


def _is_document(item: LibraryItem) -> bool:
    asset = item.media_asset
    if asset is None:
        return False
    if asset.kind == MediaAsset.Kind.DOCUMENT:
        return True
    # Not analysed yet: an e-book or issue whose file is a document by its item (the reader works meanwhile).
    return asset.kind == MediaAsset.Kind.UNKNOWN and item.document_id is not None


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    response["Vary"] = "Cookie"
    return response


def _redirect(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    return response
