"""Member-facing library pages, served through LibraryPage's routes."""

from datetime import datetime

from django.http import Http404
from django.template.response import TemplateResponse

from . import selectors
from .models import LibraryItem
from .playback import item_playback


def _parse_cursor(raw: str | None) -> tuple[datetime, int] | None:
    try:
        stamp, item_id = (raw or "").rsplit("_", 1)
        return datetime.fromisoformat(stamp), int(item_id)
    except ValueError:
        return None


def item_list(request, *, page):
    kind = request.GET.get("kind") or None
    if kind not in LibraryItem.Kind.values:
        kind = None
    items, next_cursor = selectors.items_page(
        user=request.user, kind=kind, before=_parse_cursor(request.GET.get("before"))
    )
    context = {
        "page": page,
        "items": items,
        "kinds": LibraryItem.Kind.choices,
        "current_kind": kind,
        "next_cursor": f"{next_cursor[0]}_{next_cursor[1]}" if next_cursor else "",
    }
    return TemplateResponse(request, "library/item_list.html", context)


def item_detail(request, *, page, item_id):
    item = selectors.item_visible_to(request.user, item_id)
    if item is None:
        raise Http404
    context = {"page": page, "item": item, "playback": item_playback(item)}
    return TemplateResponse(request, "library/item_detail.html", context)
