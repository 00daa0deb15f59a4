"""Reads for the library: what a member may see, and how to play or read it."""

from django.db.models import QuerySet

from .models import LibraryItem, LibraryPage


def items_visible_to(user) -> QuerySet[LibraryItem]:
    """Published items the user may open: everyone sees public items, signed-in members also members-only."""
    items = LibraryItem.objects.filter(is_published=True)
    if not user.is_authenticated:
        items = items.filter(access=LibraryItem.Access.PUBLIC)
    return items


def item_visible_to(user, item_id: int) -> LibraryItem | None:
    return items_visible_to(user).select_related("owning_unit", "media_asset", "cover").filter(pk=item_id).first()


def items_page(
    *, user, kind: str | None = None, before: tuple[str, int] | None = None, per_page: int = 24
) -> tuple[list[LibraryItem], tuple[str, int] | None]:
    """One page of items, newest first, by keyset (stays fast on the last page); returns (items, next cursor)."""
    items = items_visible_to(user).select_related("owning_unit").order_by("-published_at", "-id")
    if kind:
        items = items.filter(kind=kind)
    if before:
        published_at, item_id = before
        items = items.filter(published_at__lte=published_at).exclude(published_at=published_at, id__gte=item_id)
    rows = list(items[: per_page + 1])
    next_cursor = (rows[per_page - 1].published_at.isoformat(), rows[per_page - 1].pk) if len(rows) > per_page else None
    return rows[:per_page], next_cursor


def library_page() -> LibraryPage | None:
    return LibraryPage.objects.live().first()


def item_url(item: LibraryItem, page: LibraryPage | None = None) -> str:
    page = page or library_page()
    if page is None:
        return ""
    return page.url + page.reverse_subpage("item_route", kwargs={"item_id": item.pk})
