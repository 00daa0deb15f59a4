"""Writes the library admin makes beyond one item's form: bulk changes on selected items, article areas of a page,
and the claim that stops a stale item form from overwriting another editor's save (optimistic concurrency).

Bulk ``.update()`` sends no post_save, so every bulk change tells search's outbox itself, and browse counts are
refreshed through library_changed(); deletes go row by row through the ORM's collector, whose post_delete signals
reach the outbox (children and their areas are deleted with their parent).
"""

import logging
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import OrgUnit
from cms.selectors import units_managed_by
from library.models import ArticleArea, IssuePage, LibraryItem
from library.services import library_changed, library_items_opening_changed

from .selectors import item_last_saved, item_version, items_managed_by, version_parse

logger = logging.getLogger(__name__)
ITEM_LABEL = LibraryItem._meta.label_lower


class EditConflict(Exception):
    """Another editor saved the item after this form was opened; ``version`` is the item's version now."""

    def __init__(self, message: str, version: str):
        super().__init__(message)
        self.message, self.version = message, version


def library_item_claim_version(*, item_id: int, version: str | None) -> None:
    """Call first inside the form's save transaction: take the row if it is still at the version the editor's form
    was opened at, else raise EditConflict (who saved it and when, if known). One conditional UPDATE, not a read
    then a write: of two saves racing from the same version, the second waits on the first's row lock, then finds
    the version moved. A post without a version (an old tab, a hand-made request) cannot overwrite blindly."""
    loaded = version_parse(version)
    claimed = loaded is not None and (
        LibraryItem.objects.filter(pk=item_id, updated_at=loaded).update(updated_at=timezone.now()) == 1
    )
    if not claimed:
        current = LibraryItem.objects.get(pk=item_id)
        raise EditConflict(_conflict_message(item=current, since=loaded), item_version(current))


def _conflict_message(*, item: LibraryItem, since) -> str:
    who, when = item_last_saved(item=item, since=since)
    when_text = timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S")
    if who:
        saved = _("（%(who)s 于 %(when)s 保存）") % {"who": who, "when": when_text}
    else:
        saved = _("（最后保存于 %(when)s）") % {"when": when_text}
    return _("此条目已被其他编辑修改，请刷新后重试%(saved)s。如确认用您填写的内容覆盖，请再次点击保存。") % {
        "saved": saved
    }


def _managed_ids(*, user, item_ids: Iterable[int]) -> list[int]:
    """The ids, all of them the editor's; one that is not (another unit's, or gone) makes the whole action a 404."""
    wanted = {int(pk) for pk in item_ids}
    found = set(items_managed_by(user).filter(pk__in=wanted).values_list("pk", flat=True))
    if not wanted or found != wanted:
        raise Http404(_("所选条目不存在，或不归您管理。"))
    return sorted(found)


def _updated(*, user, item_ids: Iterable[int], action: str, **values) -> int:
    with transaction.atomic():
        pks = _managed_ids(user=user, item_ids=item_ids)
        count = LibraryItem.objects.filter(pk__in=pks).update(**values, updated_at=timezone.now())
        library_items_opening_changed(item_ids=pks)  # the items, their children (search) and browse counts
    logger.info("library bulk %s by %s: %d items", action, getattr(user, "pk", None), count)
    return count


def library_items_publish(*, user, item_ids: Sequence[int], published: bool) -> int:
    """Publish or unpublish the selected items (their children keep their own setting)."""
    return _updated(
        user=user, item_ids=item_ids, action="publish" if published else "unpublish", is_published=published
    )


def library_items_set_access(*, user, item_ids: Sequence[int], access: str, access_unit: OrgUnit | None = None) -> int:
    """Set who may read the selected items; "unit" access needs a unit within the editor's own subtree."""
    if access not in LibraryItem.Access.values:
        raise ValidationError(_("阅读权限不正确。"))
    if access == LibraryItem.Access.UNIT:
        if access_unit is None:
            raise ValidationError(_("阅读权限为“指定单位及下级”时，请选择可阅读的单位。"))
        if not units_managed_by(user).filter(pk=access_unit.pk).exists():
            raise PermissionDenied(_("只能开放给您管理的单位。"))
    else:
        access_unit = None
    return _updated(user=user, item_ids=item_ids, action=f"access={access}", access=access, access_unit=access_unit)


def library_items_delete(*, user, item_ids: Sequence[int]) -> int:
    """Delete the selected items with their episodes, issues and articles."""
    with transaction.atomic():
        pks = _managed_ids(user=user, item_ids=item_ids)
        LibraryItem.objects.filter(pk__in=pks).delete()
        library_changed()
    logger.info("library bulk delete by %s: %d items", getattr(user, "pk", None), len(pks))
    return len(pks)


def article_areas_validate(*, page: IssuePage, areas: list) -> list[tuple[int, list[list[float]]]]:
    """Check drawn areas: [{"article": id, "points": [[x, y], ...]}, ...]; at least three points, each inside the
    page (fractions 0–1), each article one of the page's issue's articles. Returns [(article_id, points)]."""
    if not isinstance(areas, list):
        raise ValidationError(_("区域数据格式不正确。"))
    articles = set(page.issue.children.filter(role=LibraryItem.Role.ARTICLE).values_list("pk", flat=True))
    cleaned = []
    for number, area in enumerate(areas, start=1):
        if not isinstance(area, dict):
            raise ValidationError(_("第 %(n)d 个区域格式不正确。") % {"n": number})
        try:
            article = int(area.get("article"))
        except (TypeError, ValueError):
            raise ValidationError(_("第 %(n)d 个区域没有选择文章。") % {"n": number}) from None
        if article not in articles:
            raise ValidationError(_("第 %(n)d 个区域的文章不属于这一期。") % {"n": number})
        cleaned.append((article, _points(area.get("points"), number)))
    return cleaned


def _points(points, number: int) -> list[list[float]]:
    if not isinstance(points, list) or len(points) < 3:
        raise ValidationError(_("第 %(n)d 个区域至少要有三个顶点。") % {"n": number})
    cleaned = []
    for point in points:
        try:
            x, y = (float(value) for value in point)
        except (TypeError, ValueError):
            raise ValidationError(_("第 %(n)d 个区域的顶点格式不正确。") % {"n": number}) from None
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise ValidationError(_("第 %(n)d 个区域超出了版面范围。") % {"n": number})
        cleaned.append([round(x, 5), round(y, 5)])
    return cleaned


def article_areas_set(*, user, page: IssuePage, areas: list) -> list[ArticleArea]:
    """Replace a page's article areas with the drawn ones, all or nothing."""
    if item_is_not_managed(user=user, item_id=page.issue_id):
        raise Http404
    cleaned = article_areas_validate(page=page, areas=areas)
    with transaction.atomic():
        page.areas.all().delete()
        created = ArticleArea.objects.bulk_create(
            ArticleArea(page=page, article_id=article, points=points) for article, points in cleaned
        )
    return created


def item_is_not_managed(*, user, item_id: int) -> bool:
    return not items_managed_by(user).filter(pk=item_id).exists()


def issue_page_save(*, page: IssuePage) -> IssuePage:
    """Save a page of an issue (number unique within the issue, checked by the form)."""
    page.full_clean()
    page.save()
    return page
