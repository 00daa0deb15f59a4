"""Course pages in search (courses/search_documents.py): found by theme, discussion guide and lesson titles once
live; a course for one unit is found only by that unit and below; an unpublished course leaves the index."""

import pytest
from django.contrib.auth.models import AnonymousUser

from courses.search_documents import course_document
from search.selectors import search
from search.services import search_outbox_drain_all

from .conftest import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.SEARCH_URL = ""


def _titles(query, user):
    search_outbox_drain_all()
    return [hit.title for hit in search(query=query, user=user).hits]


def test_a_live_course_is_found_by_its_theme_guide_and_lessons(course, lessons):
    course.discussion_guide = "<p>围绕基层治理展开讨论。</p>"
    course.save_revision().publish()
    document = course_document(course)
    assert (document.kind, document.title, document.access) == ("course", "第3期 学习贯彻党的二十大精神", "public")
    assert lessons[0].title in document.body and "基层治理" in document.body
    assert "第3期 学习贯彻党的二十大精神" in _titles("二十大精神", AnonymousUser())
    assert "第3期 学习贯彻党的二十大精神" in _titles("基层治理", AnonymousUser())


def test_a_course_for_one_unit_is_found_by_that_unit_only(index_page, bank, units, member, other_member):
    from cms.services import member_create

    course = make_course(index_page, bank=bank, issue=5, audience_unit=units["daixi-1"])
    course.save_revision().publish()
    outsider = member_create(username="zhao", password="pw-123456", org_unit=units["linyi"])
    assert "第5期 学习贯彻党的二十大精神" in _titles("二十大精神", member)
    assert _titles("二十大精神", outsider) == [] and _titles("二十大精神", AnonymousUser()) == []


def test_an_unpublished_course_leaves_the_index(course):
    course.save_revision().publish()
    assert _titles("二十大精神", AnonymousUser())
    course.unpublish()
    assert course_document(course) is None
    assert _titles("二十大精神", AnonymousUser()) == []
