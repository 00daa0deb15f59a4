"""An item's own page: the player or reader for its kind (OWNER: readers helper).

The page is the access check: ``selectors.item_visible_to`` answers 404 for an item the member may not open, and
only then are the signed file URLs in ``readers`` made.
"""

import logging

from csp.constants import SELF, UNSAFE_INLINE, WASM_UNSAFE_EVAL
from csp.decorators import csp_update
from django.http import Http404
from django.template.response import TemplateResponse

from . import selectors
from .activity import is_favourite, item_opened
from .readers import ReaderRequest, item_page_extras, reader_context

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
