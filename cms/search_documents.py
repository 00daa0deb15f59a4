"""Registers the pages members read with the search index: editorial pages and education bases.

Only what a visitor can open is indexed: live pages (Wagtail keeps a draft in its revisions, never in the page
row, so a saved draft never reaches the index), not aliases (the same text at a second address). A view
restriction on the page or any page above it decides access: "login" → members only; a password or a group
restriction → not indexed at all (search cannot check either). The owning unit is the unit whose section (its
`section_page`, or a SectionPage's `org_unit`) holds the page, nearest first.

The registered querysets annotate both (restrictions above the page, the nearest section of each kind) so that a
rebuild or a drain batch reads them in the pages' own query; a page read any other way costs three small queries.

Publishing, unpublishing and deleting save or delete the page row, which the registry's signals send to the
outbox. What changes a whole subtree without saving its pages (a move, a new slug, a view restriction) is
recorded here for every page below.
"""

from django.db.models import Exists, JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject, Left, Length
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, PageViewRestriction
from wagtail.rich_text import get_text_for_indexing
from wagtail.signals import page_slug_changed, post_page_move

from search.registry import SearchDocument, register
from search.services import search_documents_changed

from .models import EducationBasePage, OrgUnit, SectionPage, StandardPage

PAGE_KINDS = [("page", _("编辑页面")), ("education_base", _("教育基地"))]
INDEXED_PAGE_MODELS = (StandardPage, SectionPage, EducationBasePage)
# Restrictions search cannot check per member: pages behind them are left out.
HIDDEN_RESTRICTIONS = {PageViewRestriction.PASSWORD, PageViewRestriction.GROUPS}


def ancestor_paths(path: str) -> list[str]:
    """The treebeard paths of the page and every page above it."""
    return [path[:end] for end in range(Page.steplen, len(path) + 1, Page.steplen)]


def page_access(paths: list[str]) -> str | None:
    """ "public", "members" (a login restriction above), or None (a password or group restriction above)."""
    kinds = set(PageViewRestriction.objects.filter(page__path__in=paths).values_list("restriction_type", flat=True))
    if kinds & HIDDEN_RESTRICTIONS:
        return None
    return "members" if PageViewRestriction.LOGIN in kinds else "public"


def owning_unit(paths: list[str]) -> tuple[int | None, str]:
    """(unit id, unit path) of the nearest section above (or at) the page, or (None, "")."""
    sections = list(
        OrgUnit.objects.filter(section_page__path__in=paths).values_list("section_page__depth", "pk", "path")
    )
    sections += SectionPage.objects.filter(path__in=paths, org_unit__isnull=False).values_list(
        "depth", "org_unit_id", "org_unit__path"
    )
    if not sections:
        return None, ""
    _depth, unit_id, unit_path = max(sections, key=lambda row: row[0])
    return unit_id, unit_path


def _texts(page: Page) -> tuple[str, str]:
    """(subtitle, body) as a reader sees them."""
    if isinstance(page, EducationBasePage):
        body = [page.address, page.opening_hours, get_text_for_indexing(page.body or "")]
        return page.address, "\n".join(part for part in body if part)
    rich_text = page.intro if isinstance(page, SectionPage) else page.body
    return page.search_description, get_text_for_indexing(rich_text or "")


def page_document(page: Page) -> SearchDocument | None:
    if not page.live or page.alias_of_id:
        return None
    paths = ancestor_paths(page.path)
    access = _access(page, paths)
    url = page.get_url()
    if access is None or not url:  # hidden, or not under any site (nothing to open)
        return None
    unit_id, unit_path = _owning_unit(page, paths)
    subtitle, body = _texts(page)
    date = page.first_published_at or page.last_published_at
    return SearchDocument(
        doc_id=f"{page._meta.label_lower}:{page.pk}",
        kind="education_base" if isinstance(page, EducationBasePage) else "page",
        title=page.title,
        subtitle=subtitle,
        body=body,
        url=url,
        unit_id=unit_id,
        unit_path=unit_path,
        access=access,
        year=date.year if date else None,
        date=date,
    )


def pages_changed(*, path: str) -> None:
    """Record every indexed page at or below `path` as changed (their URL or access may have changed)."""
    for model in INDEXED_PAGE_MODELS:
        pks = model.objects.filter(path__startswith=path).values_list("pk", flat=True)
        search_documents_changed(model_label=model._meta.label_lower, pks=list(pks))


def _restriction_changed(sender, instance, raw=False, **kwargs):
    path = Page.objects.filter(pk=instance.page_id).values_list("path", flat=True).first()
    if path and not raw:  # no path: the page itself is being deleted, which removes its own documents
        pages_changed(path=path)


def _subtree_moved(sender, instance, **kwargs):
    pages_changed(path=Page.objects.filter(pk=instance.pk).values_list("path", flat=True).first() or instance.path)


def _connect() -> None:
    uid = "cms:search:"
    post_save.connect(_restriction_changed, sender=PageViewRestriction, dispatch_uid=uid + "restriction-save")
    post_delete.connect(_restriction_changed, sender=PageViewRestriction, dispatch_uid=uid + "restriction-delete")
    post_page_move.connect(_subtree_moved, dispatch_uid=uid + "move")
    page_slug_changed.connect(_subtree_moved, dispatch_uid=uid + "slug")


# --- Reading restrictions and sections with the pages (one query for a batch, not three per page) ----------------


def _at_or_above_page(path_field: str) -> dict:
    """A filter for rows whose page (`path_field`) is the outer page or above it: its path starts the page's."""
    return {path_field: Left(OuterRef("path"), Length(path_field))}


def _restricted(kinds) -> Exists:
    return Exists(PageViewRestriction.objects.filter(restriction_type__in=kinds, **_at_or_above_page("page__path")))


def _nearest_section(rows, *, depth: str, unit_id: str, unit_path: str, path: str) -> Subquery:
    """{"depth", "unit_id", "unit_path"} of the deepest section of one kind at or above the page, or None."""
    nearest = rows.filter(**_at_or_above_page(path)).order_by(f"-{depth}", unit_id)
    values = nearest.values(section=JSONObject(depth=depth, unit_id=unit_id, unit_path=unit_path))[:1]
    return Subquery(values, output_field=JSONField())


def _live_pages(model):
    def queryset():
        return (
            model.objects.live()
            .filter(alias_of__isnull=True)
            .annotate(
                search_hidden=_restricted(HIDDEN_RESTRICTIONS),
                search_login=_restricted([PageViewRestriction.LOGIN]),
                search_unit_section=_nearest_section(
                    OrgUnit.objects.filter(section_page__isnull=False),
                    depth="section_page__depth", unit_id="pk", unit_path="path", path="section_page__path",
                ),
                search_page_section=_nearest_section(
                    SectionPage.objects.filter(org_unit__isnull=False),
                    depth="depth", unit_id="org_unit_id", unit_path="org_unit__path", path="path",
                ),
            )
        )  # fmt: skip

    return queryset


def _access(page: Page, paths: list[str]) -> str | None:
    if not hasattr(page, "search_hidden"):  # not read through the registered queryset
        return page_access(paths)
    if page.search_hidden:
        return None
    return "members" if page.search_login else "public"


def _owning_unit(page: Page, paths: list[str]) -> tuple[int | None, str]:
    if not hasattr(page, "search_unit_section"):
        return owning_unit(paths)
    # The same choice as owning_unit: the deepest section; on a tie a unit's own section page first.
    sections = [row for row in (page.search_unit_section, page.search_page_section) if row]
    if not sections:
        return None, ""
    nearest = max(sections, key=lambda row: row["depth"])
    return nearest["unit_id"], nearest["unit_path"]


for _model in INDEXED_PAGE_MODELS:
    register(_model, to_document=page_document, queryset=_live_pages(_model), kind_labels=PAGE_KINDS)
_connect()
