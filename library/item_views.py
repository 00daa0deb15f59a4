"""An item's own page: the player or reader for its kind (OWNER: readers helper)."""

from django.http import Http404
from django.template.response import TemplateResponse

from . import selectors
from .playback import item_playback


def item_detail(request, *, page, item_id):
    item = selectors.item_visible_to(request.user, item_id)
    if item is None:
        raise Http404
    context = {"page": page, "item": item, "playback": item_playback(item)}
    return TemplateResponse(request, "library/item_detail.html", context)
