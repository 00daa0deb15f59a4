"""An item's own page: the player or reader for its kind.

The page is the access check: ``selectors.item_visible_to`` answers 404 for an item the member may not open, and
only then are the signed file URLs in ``readers`` made. An anonymous visitor at an item any signed-in member may open
gets a sign-in prompt instead (title and cover only, ``selectors.item_opens_on_sign_in``).

Showing the page writes nothing: a signed-in member's visit enters their history through one POST the page makes
when it loads (item.js → POST /api/v1/library/items/<id>/open), so crawlers, link previews and prefetches of a GET
never touch anyone's history or an item's read count.
"""

import logging

from csp.constants import SELF, UNSAFE_INLINE, WASM_UNSAFE_EVAL
from csp.decorators import csp_update
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from library import selectors
from library.activity import is_favourite

from .readers import ReaderRequest, item_page_extras, page_number, reader_context

logger = logging.getLogger(__name__)

# The site's policy (CONTENT_SECURITY_POLICY in settings) plus what the readers need. Books are publishers' files
# and show in same-origin frames (blob: documents) that inherit this policy: script-src stays 'self', so a <script>
# inside a book never runs; but books carry inline styles and <style> elements, and foliate-js styles its shadow DOM
# and each chapter the same way, so styles may be inline or blob: here (and fonts blob:). pdf.js decodes some images
# and colour profiles with WebAssembly ('wasm-unsafe-eval' allows compiling WebAssembly, not eval()).
READER_POLICY = {
    "script-src": [WASM_UNSAFE_EVAL],
    "style-src": [UNSAFE_INLINE, "blob:"],
    "font-src": ["blob:"],
    "frame-src": [SELF, "blob:"],
}


@csp_update(READER_POLICY)
def item_detail(request, *, page, item_id):
    item = selectors.item_visible_to(request.user, item_id)
    if item is None:
        return _sign_in_prompt(request, page=page, item_id=item_id)
    reader = reader_context(item=item, user=request.user, request=_reader_request(request), library_page=page)
    context = {
        "page": page,
        "item": item,
        "reader": reader,
        "is_favourite": is_favourite(member=request.user, item=item),
        "share": item_share(item, page=page),
        **item_page_extras(item=item, user=request.user, library_page=page, known_readable=True),
    }
    response = TemplateResponse(request, "library/item_detail.html", context)
    return response


def _sign_in_prompt(request, *, page, item_id):
    """An anonymous visitor at an item any signed-in member may open: "请登录后阅读" with the sign-in link back to
    this page, the item's title and cover and nothing else (no reader, text, files or playlists: none are made).
    Everyone else who may not open it gets the 404 of an item that does not exist (unit-only items included)."""
    if request.user.is_authenticated:
        raise Http404
    item = selectors.item_opens_on_sign_in(item_id)
    if item is None:
        raise Http404
    # The share card says what the prompt shows, no more: the title (no summary, the site's picture).
    share = {"title": item.title, "description": _("请登录后阅读"), "url": selectors.item_url(item, page=page)}
    return TemplateResponse(request, "library/item_sign_in.html", {"page": page, "item": item, "share": share})


def _largest_rendition_url(image) -> str:
    """The largest rendition the cards already made of a cover (renditions are never made in a request)."""
    rendition = image.renditions.order_by("-width").first() if image is not None else None
    return rendition.url if rendition is not None else ""


def item_share(item, *, page) -> dict:
    """What the item's page tells search engines and share cards (cms_share): its title, its summary, the largest
    cover picture already made (none is made here), its own URL. Only for who may open the item."""
    return {
        "title": item.title,
        "description": item.summary or item.title,
        "image": _largest_rendition_url(item.cover),
        "url": selectors.item_url(item, page=page),
    }


def _reader_request(request) -> ReaderRequest:
    return ReaderRequest(
        page=page_number(request.GET.get("p")),
        view="text" if request.GET.get("view") == "text" else "",
        part=page_number(request.GET.get("part")),
    )
