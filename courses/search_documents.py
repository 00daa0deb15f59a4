"""Registers the monthly course pages with the search index (kind ``course``, 大课堂), as cms/search_documents.py
does for editorial pages: live pages that are not aliases; a "login" view restriction on the page or above makes
it members-only, a password or group restriction keeps it out. A course for one unit (``audience_unit``) is found
by that unit and the units below it. The text: theme, summary, discussion guide and the titles of the lessons
anyone may open.

Publishing saves the page row (and its lessons with it), which the registry's signals send to the outbox."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, PageViewRestriction
from wagtail.rich_text import get_text_for_indexing

from library.selectors import items_visible_to
from search.registry import SearchDocument, register

from .models import CourseLesson, CoursePage

COURSE_KINDS = [("course", _("大课堂"))]
HIDDEN_RESTRICTIONS = {PageViewRestriction.PASSWORD, PageViewRestriction.GROUPS}


def _page_access(page: Page) -> str | None:
    paths = [page.path[:end] for end in range(Page.steplen, len(page.path) + 1, Page.steplen)]
    kinds = set(PageViewRestriction.objects.filter(page__path__in=paths).values_list("restriction_type", flat=True))
    if kinds & HIDDEN_RESTRICTIONS:
        return None
    return "members" if PageViewRestriction.LOGIN in kinds else "public"


def _public_lesson_titles(page: CoursePage) -> list[str]:
    """Only the titles of lessons anyone may open (public and published, and whatever holds them too): a lesson
    closed to a unit, or to members, must not make the course findable by its title for a reader who may not see
    that lesson (the library's access decision, checked now, as the document is built)."""
    rows = list(page.lessons.all())
    public = set(
        items_visible_to(AnonymousUser()).filter(pk__in=[row.item_id for row in rows]).values_list("pk", flat=True)
    )
    return [row.item.title for row in rows if row.item_id in public]


def course_document(page: CoursePage) -> SearchDocument | None:
    if not page.live or page.alias_of_id:
        return None
    access, url = _page_access(page), page.get_url()
    if access is None or not url:
        return None
    lessons = _public_lesson_titles(page)
    body = [page.summary, get_text_for_indexing(page.discussion_guide or ""), "\n".join(lessons)]
    unit = page.audience_unit
    if unit is not None:
        access = "unit"
    return SearchDocument(
        doc_id=f"{page._meta.label_lower}:{page.pk}",
        kind="course",
        title=f"第{page.issue_number}期 {page.theme}",
        subtitle=page.title if page.title != page.theme else "",
        body="\n".join(part for part in body if part),
        url=url,
        unit_id=unit.pk if unit else None,
        unit_path=unit.path if unit else "",
        access=access,
        access_unit_id=unit.pk if unit else None,
        year=page.premiere_at.year,
        date=page.premiere_at,
        boost=1.2,  # the month's course is what members come for
    )


def _courses():
    lessons = Prefetch("lessons", queryset=CourseLesson.objects.select_related("item").order_by("sort_order"))
    return (
        CoursePage.objects.live()
        .filter(alias_of__isnull=True)
        .select_related("audience_unit")
        .prefetch_related(lessons)
    )


register(CoursePage, to_document=course_document, queryset=_courses, kind_labels=COURSE_KINDS)
