"""An item's own page: the player or reader for its kind (OWNER: readers helper).

The page is the access check: ``selectors.item_visible_to`` answers 404 for an item the member may not open, and
only then are the signed file URLs in ``readers`` made.
"""

import logging

from django.http import Http404
from django.template.response import TemplateResponse

from . import selectors
from .activity import is_favourite, item_opened
from .readers import ReaderRequest, item_page_extras, reader_context

logger = logging.getLogger(__name__)

# Books and rich text are editors' and publishers' files: nothing in them may run as our page. The e-book reader
# shows EPUB chapters in same-origin frames, which inherit this policy, so a <script> inside a book never runs.
# Workers: hls.js and pdf.js start theirs from blob: or our own static files.
CONTENT_SECURITY_POLICY = (
    "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'"
)


def item_detail(request, *, page, item_id):
    item = selectors.item_visible_to(request.user, item_id)
    if item is None:
        raise Http404
    if request.user.is_authenticated:
        item_opened(member=request.user, item=item)  # enters the member's history
    reader = reader_context(item=item, user=request.user, request=_reader_request(request), library_page=page)
    context = {
        "page": page,
        "item": item,
        "reader": reader,
        "is_favourite": is_favourite(member=request.user, item=item),
        **item_page_extras(item=item, user=request.user, library_page=page),
    }
    response = TemplateResponse(request, "library/item_detail.html", context)
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _reader_request(request) -> ReaderRequest:
    return ReaderRequest(
        page=_positive_int(request.GET.get("p")),
        view="text" if request.GET.get("view") == "text" else "",
        part=_positive_int(request.GET.get("part")),
    )


def _positive_int(raw: str | None) -> int:
    """A page or part number from the query string; anything odd means the first."""
    try:
        value = int(raw or 1)
    except ValueError:
        return 1
    return value if 0 < value < 1_000_000 else 1
