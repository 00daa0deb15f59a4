"""Reads for the library admin: which items, parents and lists an editor may manage.

Management follows the organisation tree (cms.selectors.units_managed_by); who may *read* an item is a different
question, answered only by library.selectors.
"""

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from wagtail.models import ModelLogEntry

from cms.models import OrgUnit
from cms.selectors import units_managed_by
from library.models import ImportBatch, IssuePage, ItemList, LibraryItem
from library.selectors import visible_q

# Which role a child of each role has, and which role its parent must have.
CHILD_ROLE = {
    (LibraryItem.Kind.VIDEO, LibraryItem.Role.SERIES): LibraryItem.Role.EPISODE,
    (LibraryItem.Kind.AUDIO, LibraryItem.Role.SERIES): LibraryItem.Role.EPISODE,
    (LibraryItem.Kind.PERIODICAL, LibraryItem.Role.SERIES): LibraryItem.Role.ISSUE,
    (LibraryItem.Kind.NEWSPAPER, LibraryItem.Role.SERIES): LibraryItem.Role.ISSUE,
    (LibraryItem.Kind.PERIODICAL, LibraryItem.Role.ISSUE): LibraryItem.Role.ARTICLE,
    (LibraryItem.Kind.NEWSPAPER, LibraryItem.Role.ISSUE): LibraryItem.Role.ARTICLE,
}
PARENT_ROLES = (LibraryItem.Role.SERIES, LibraryItem.Role.ISSUE)


def items_managed_by(user) -> QuerySet[LibraryItem]:
    """Items whose owning unit lies in the editor's subtree(s); everything for superusers."""
    if getattr(user, "is_superuser", False):
        return LibraryItem.objects.all()
    return LibraryItem.objects.filter(owning_unit__in=units_managed_by(user))


def item_managed(*, user, item_id) -> LibraryItem | None:
    return items_managed_by(user).filter(pk=item_id).first()


def parents_managed_by(user, *, kind: str | None = None) -> QuerySet[LibraryItem]:
    """Series, titles and issues the editor may file children under (optionally of one kind)."""
    parents = items_managed_by(user).filter(role__in=PARENT_ROLES)
    return parents.filter(kind=kind) if kind else parents


def items_choosable_by(user) -> QuerySet[LibraryItem]:
    """Items an editor may put in a curated list or link as related: their own, and anything anyone may open
    (published and public, and so is every series, title or issue that holds it)."""
    if getattr(user, "is_superuser", False):
        return LibraryItem.objects.all()
    return LibraryItem.objects.filter(visible_q(AnonymousUser()) | Q(owning_unit__in=units_managed_by(user)))


def child_role(parent: LibraryItem) -> str | None:
    """The role a new child of this item has (episode, issue, article), or None when it takes no children."""
    return CHILD_ROLE.get((parent.kind, parent.role))


def children_for_admin(*, parent: LibraryItem, limit: int = 200) -> list[LibraryItem]:
    """The first children of a series/title/issue in order, for its edit page (a title may have thousands)."""
    return list(
        parent.children.order_by("position", "id").only("id", "title", "number", "position", "is_published")[:limit]
    )


def next_child_position(parent: LibraryItem) -> int:
    last = parent.children.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def issue_articles(issue: LibraryItem) -> QuerySet[LibraryItem]:
    return issue.children.filter(role=LibraryItem.Role.ARTICLE).order_by("position", "id")


def issue_pages_managed_by(user) -> QuerySet[IssuePage]:
    return IssuePage.objects.filter(issue__in=items_managed_by(user)).select_related("issue", "image")


def item_lists_managed_by(user) -> QuerySet[ItemList]:
    if getattr(user, "is_superuser", False):
        return ItemList.objects.all()
    return ItemList.objects.filter(owning_unit__in=units_managed_by(user))


def units_for_editor(user) -> QuerySet[OrgUnit]:
    return units_managed_by(user).order_by("path")


def item_version(item: LibraryItem) -> str:
    """The version an edit form carries: the row's last-saved time, exact to the microsecond. Every write that
    changes what the form shows moves it (the form, bulk actions, imports); counters and extracted text do not."""
    return item.updated_at.isoformat() if item.updated_at else ""


def version_parse(version: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(version or "")
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def item_last_saved(*, item: LibraryItem, since: datetime | None) -> tuple[str, datetime]:
    """Who saved the item (from the admin's action log, when the save came after ``since``) and when."""
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(LibraryItem), object_id=str(item.pk)
    )
    if since is not None:
        entries = entries.filter(timestamp__gte=since)
    entry = entries.order_by("-timestamp", "-pk").first()
    return (entry.user_display_name if entry else ""), item.updated_at


# --- The editor's dashboard and the pipeline's job screens.

DASHBOARD_ROWS = 8


def items_on_assets(*, user, asset_ids) -> QuerySet[LibraryItem]:
    """The items the user manages that use these media assets (how the transcode screens name a job)."""
    return items_managed_by(user).filter(media_asset_id__in=asset_ids).only("id", "title", "media_asset_id")


def items_unpublished(user, *, limit: int = DASHBOARD_ROWS) -> QuerySet[LibraryItem]:
    """Items of the editor's units that are not published yet (drafts, and imports waiting for review), most
    recently changed first."""
    items = items_managed_by(user).filter(is_published=False).select_related("owning_unit")
    return items.order_by("-updated_at", "-pk")[:limit]


def import_batches_recent(user, *, limit: int = 5) -> QuerySet[ImportBatch]:
    """The latest imports into the units the editor manages (every unit's for superusers)."""
    batches = ImportBatch.objects.filter(owning_unit__in=units_managed_by(user))
    return batches.select_related("owning_unit").order_by("-started_at", "-pk")[:limit]


def items_of_import(batch: ImportBatch) -> QuerySet[LibraryItem]:
    """The items a (real) import created: its source and unit, created while it ran (the importer stamps each new
    row as it builds it). Served by the (source, external_id) index; callers scope it to the editor."""
    if batch.dry_run:
        return LibraryItem.objects.none()
    items = LibraryItem.objects.filter(source=batch.source, owning_unit_id=batch.owning_unit_id)
    items = items.filter(created_at__gte=batch.started_at)
    if batch.state != ImportBatch.State.RUNNING and batch.finished_at is not None:
        items = items.filter(created_at__lte=batch.finished_at)
    return items


def import_batches_recent_with_items(user, *, limit: int = 5, items: int = 3) -> list[ImportBatch]:
    """``import_batches_recent`` with, on each real import, the first items it created (``new_items``): the
    dashboard names what came in, not only how many."""
    batches = list(import_batches_recent(user, limit=limit))
    for batch in batches:
        batch.new_items = list(items_of_import(batch).order_by("pk").only("id", "title", "is_published")[:items])
    return batches
