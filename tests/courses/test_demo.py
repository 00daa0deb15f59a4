"""The demo (`make run`): a current course with lessons from the demo library, next month's counting down, a bank
imported through the real import, members with finished attempts and lessons done, a held branch session and the
report's figures; loading twice changes nothing
(courses/demo.py, hooked into cms/demo/loader.py)."""

import pytest
from django.test import Client

from cms.demo.loader import demo_load
from courses import selectors
from courses.models import (
    BranchSession,
    CoursePage,
    CourseUnitStats,
    LessonCompletion,
    Question,
    QuestionBank,
    QuizAttempt,
    SessionAttendance,
)

pytestmark = pytest.mark.django_db


def _counts():
    return (
        CoursePage.objects.count(),
        Question.objects.count(),
        QuizAttempt.objects.count(),
        LessonCompletion.objects.count(),
        SessionAttendance.objects.count(),
    )


def test_the_demo_has_a_current_course_a_bank_and_results(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        demo_load(log=lambda *args: None, media=False, library=True)
    current = selectors.course_current()
    assert current is not None and current.live
    assert current.lessons.first().item.title == "灯塔大课堂：学习贯彻党的二十大精神"
    bank = QuestionBank.objects.get(code="demo-dangshi")
    assert (
        bank.questions.filter(is_practice=False).count() == 42 and bank.questions.filter(is_practice=True).count() == 6
    )
    assert CoursePage.objects.count() == 2
    phase = selectors.quiz_phase(course=current, now=current.premiere_at)
    assert phase == "open"
    attempts = QuizAttempt.objects.filter(course=current)
    if attempts.exists():  # not in the last days of a long month, when the month's quiz has closed
        assert set(attempts.values_list("state", flat=True)) == {"submitted"}
        assert attempts.count() == 3 and attempts.filter(passed=True).exists()
        assert LessonCompletion.objects.filter(course=current).count() == 2  # two students read the article
        # 常山庄村党支部 held its session: two checked in, minutes and a reflection; the report has the figures.
        session = BranchSession.objects.get(course=current)
        assert session.attendances.count() == 2 and session.minutes
        assert session.attendances.exclude(reflection="").exists()
        province = CourseUnitStats.objects.get(course=current, unit__code="shandong")
        assert (province.attended, province.scored) == (2, 3)
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True):
        demo_load(log=lambda *args: None, media=False, library=True)
    assert _counts() == before
    assert Client().get(current.url).status_code == 200
