"""Member-facing browse pages, served through LibraryPage's routes (OWNER: browse helper)."""

from datetime import datetime

from django.http import Http404
from django.template.response import TemplateResponse

from . import selectors
from .models import LibraryItem


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
        "next_cursor": f"{next_cursor[0].isoformat()}_{next_cursor[1]}" if next_cursor else "",
    }
    return TemplateResponse(request, "library/item_list.html", context)


def creator_items(request, *, page, name):
    raise Http404


def item_list_detail(request, *, page, slug):
    raise Http404
