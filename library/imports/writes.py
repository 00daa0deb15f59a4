"""How an import compares a row with the stored item, and the bulk writes of the links (credits, tags) it changes.

Fields an editor changed by hand (``item.edited_fields``) are kept as the editor left them and reported as kept."""

from typing import TYPE_CHECKING

from django.db import connection

from library.models import ItemCredit, LibraryItem, LibraryItemTag, LibraryTag
from library.services import CREDIT_SEPARATOR, item_year

if TYPE_CHECKING:
    from .columns import Planned

DRY_RUN_NEW = -1  # a dry run's stand-in id for a parent, file or cover the run would create; never written

# Our attribute → the names that may stand for it in ``edited_fields`` (the editor's form fields).
EDITED_NAMES = {
    "parent_id": ("parent",),
    "access_unit_id": ("access_unit",),
    "cover_id": ("cover",),
    "media_asset_id": ("media_asset", "upload", "document"),
}


# --- Comparing with what is stored -------------------------------------------------------------------------------


def current_credits_and_tags(pks: list[int]) -> tuple[dict[int, list], dict[int, set]]:
    credits: dict[int, list] = {}
    for item_id, name, role in (
        ItemCredit.objects.filter(item_id__in=pks).order_by("position", "id").values_list("item_id", "name", "role")
    ):
        credits.setdefault(item_id, []).append((name, role))
    tags: dict[int, set] = {}
    for item_id, name in LibraryItemTag.objects.filter(content_object_id__in=pks).values_list(
        "content_object_id", "tag__name"
    ):
        tags.setdefault(item_id, set()).add(name)
    return credits, tags


def _edited(item: LibraryItem, attribute: str) -> bool:
    names = EDITED_NAMES.get(attribute, (attribute,))
    return any(name in item.edited_fields for name in names)


def item_diff(
    item: LibraryItem, plan: "Planned", credits: list, tags: set, labels: dict
) -> tuple[list[str], list[str]]:
    """Set the file's values on the item; returns (attributes changed, columns kept as the editor changed them)."""
    changed, kept = [], []
    for attribute, value in plan.fields.items():
        if getattr(item, attribute) == value:
            continue
        if _edited(item, attribute):
            kept.append(attribute.removesuffix("_id"))
            continue
        if value != DRY_RUN_NEW:
            setattr(item, attribute, value)
        changed.append(attribute)
    if plan.credits is not None and plan.credits != credits:
        if _edited(item, "creators"):
            kept.append("creators")
        else:
            item.creators = credits_line(plan.credits, labels)
            changed.append("creators")
    if plan.tags is not None and set(plan.tags) != tags:
        if _edited(item, "tags"):
            kept.append("tags")
        else:
            changed.append("tags")
    if changed:
        year = item_year(item)
        if year != item.year:
            item.year = year
            changed.append("year")
    return changed, kept


def credits_line(credits: list[tuple[str, str]], labels: dict[str, str]) -> str:
    """services.credits_display's catalogue-card line ("曹雪芹 著；高鹗"), with the role labels translated once per
    run: translating them per row cost more than the rest of the row's checks."""
    parts = [
        f"{name} {labels[role]}" if role != ItemCredit.Role.OTHER and labels.get(role) else name
        for name, role in credits
    ]
    return CREDIT_SEPARATOR.join(parts)[:255]


# --- Bulk writes of the links ------------------------------------------------------------------------------------


def credits_write(replace: dict[int, list[tuple[str, str]]], *, existing: set[int]) -> None:
    """library_item_credits_set for many items at once (the display copy was set on the items already)."""
    if existing & replace.keys():
        ItemCredit.objects.filter(item_id__in=list(existing & replace.keys())).delete()
    rows = [
        (item_id, name[:100], role, position)
        for item_id, credits in replace.items()
        for position, (name, role) in enumerate(credits)
    ]
    _insert_rows(ItemCredit, ["item", "name", "role", "position"], rows)


def tags_write(replace: dict[int, list[str]], *, existing: set[int]) -> None:
    names = {name for names in replace.values() for name in names}
    tags = dict(LibraryTag.objects.filter(name__in=names).values_list("name", "pk"))
    for name in sorted(names - tags.keys()):
        tag = LibraryTag(name=name)
        tag.save()  # taggit finds a free slug for it (a few new tags per chunk, not one per row)
        tags[name] = tag.pk
    if existing & replace.keys():
        LibraryItemTag.objects.filter(content_object_id__in=list(existing & replace.keys())).delete()
    rows = [(item_id, tags[name]) for item_id, names in replace.items() for name in names]
    _insert_rows(LibraryItemTag, ["content_object", "tag"], rows)


def _insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Plain INSERTs through the driver for link rows (credits, tags): bulk_create sends every value through the
    field machinery, which cost more than all of a row's checks together; these are ids and short strings that
    need no conversion."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
