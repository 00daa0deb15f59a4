"""The editors' dashboard shows this month's course with its dates, linked to its page, and nothing while there is
no course (courses/admin/dashboard.py)."""

import pytest
from django.test import Client

from cms.services import member_create

pytestmark = pytest.mark.django_db


def dashboard(units) -> str:
    editor = member_create(username="bianji", password="pw-123456", org_unit=units["zouping"], roles=("editor",))
    client = Client()
    client.force_login(editor)
    return client.get("/admin/").content.decode()


def test_dashboard_shows_this_months_course(course, units):
    """The current course: issue, theme, premiere and deadlines, and a link to edit its page."""
    html = dashboard(units)
    assert "本月课程" in html and "第 3 期：学习贯彻党的二十大精神" in html
    assert "首播 3月5日 09:00" in html and "补学截止 3月31日" in html
    assert f'href="/admin/pages/{course.pk}/edit/"' in html


def test_no_course_no_panel(units):
    """Before the first course there is no course panel."""
    assert "本月课程" not in dashboard(units)
