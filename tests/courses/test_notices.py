"""Notices (消息): a published course tells its audience once, a reminder before the window closes goes to those who
have not finished, results go to those who took the quiz; the inbox shows them and marks them read; SMS only for
the kinds an operator switches on, through SMS_BACKEND (which logs by default)."""

import datetime
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from cms.models import Notice
from cms.services import member_create
from courses import services
from library.models import StudyDay

from .conftest import DURING, make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_course(index_page, bank, lessons):
    """A course whose window is still open (the reminder has something to remind of)."""
    return make_course(
        index_page, bank=bank, issue=21, premiere=timezone.now() - timedelta(days=1),
        lessons=[(lessons[0], True), (lessons[1], True)],
    )  # fmt: skip


def test_a_new_course_is_announced_to_its_audience_once(open_course, member, other_member, units):
    """Everyone in a unit gets one notice linking to the course; sending again adds nothing."""
    assert services.course_notices_send(course_id=open_course.pk, kind="published") == 2
    assert services.course_notices_send(course_id=open_course.pk, kind="published") == 0
    notice = Notice.objects.get(member=member)
    assert "第21期灯塔大课堂" in notice.title and "首播" in notice.title and notice.url == open_course.url


def test_a_unit_course_tells_only_its_unit(index_page, bank, lessons, member, units):
    """A course for 临沂市 says nothing to a member of 滨州市."""
    course = make_course(index_page, bank=bank, issue=22, audience_unit=units["linyi"])
    linyi = member_create(username="ly", password="pw-123456", org_unit=units["linyi"])
    services.course_notices_send(course_id=course.pk, kind="published")
    assert list(Notice.objects.values_list("member", flat=True)) == [linyi.pk]


def test_the_closing_reminder_skips_those_who_finished(open_course, lessons, member, other_member):
    """王 has done both required lessons: only 李 is reminded."""
    day = timezone.localdate()
    for item in lessons[:2]:
        StudyDay.objects.create(member=member, item=item, day=day, seconds=5000)
        services.lesson_study_credited(member_id=member.pk, item_id=item.pk, at=timezone.now())
    services.course_notices_send(course_id=open_course.pk, kind="closing")
    assert list(Notice.objects.values_list("member__username", flat=True)) == ["li"]
    assert "截止" in Notice.objects.get().title


def test_results_go_to_those_who_took_the_quiz(course, member, other_member):
    """Only members with a closed attempt hear that results are out."""
    attempt, _ = services.quiz_attempt_start(member=member, course=course, now=DURING)
    services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING + timedelta(minutes=1))
    assert services.course_notices_send(course_id=course.pk, kind="results") == 1
    assert Notice.objects.get().member == member


def test_sms_only_for_switched_on_kinds_through_the_backend(open_course, member, settings, caplog):
    """With NOTIFY_SMS_KINDS = ("closing",) the reminder also goes by SMS to members with a phone (the logging
    backend writes it); the new-course notice stays in the inbox only."""
    settings.NOTIFY_SMS_KINDS = ("closing",)
    member.phone = "13900000001"
    member.save()
    with caplog.at_level(logging.WARNING, logger="cms.accounts.sms"):
        services.course_notices_send(course_id=open_course.pk, kind="published")
        assert not caplog.records
        services.course_notices_send(course_id=open_course.pk, kind="closing")
    assert any("13900000001" in record.getMessage() and "【灯塔】" in record.getMessage() for record in caplog.records)


def test_the_inbox_shows_new_notices_once_then_as_read(client, open_course, member):
    """The header links 消息 with the unread count; the inbox lists the notice marked 新 the first time, the second
    visit shows it read and the header link is gone; anonymous visitors sign in."""
    assert client.get("/inbox/").status_code == 302
    services.course_notices_send(course_id=open_course.pk, kind="published")
    client.force_login(member)
    assert "消息 1" in client.get(open_course.url).content.decode()  # the header's link while one is unread
    first = client.get("/inbox/").content.decode()
    assert "第21期灯塔大课堂" in first and "<strong>新</strong>" in first
    assert "<strong>新</strong>" not in client.get("/inbox/").content.decode()
    assert Notice.objects.get().read_at is not None
    assert "消息 1" not in client.get(open_course.url).content.decode()


def test_publishing_schedules_the_three_notices(open_course, db_tasks, django_capture_on_commit_callbacks, settings):
    """Publishing queues the new-course notice now and the reminder for three days before the window closes."""
    from django_tasks_db.models import DBTaskResult

    open_course.results_release_at = open_course.makeup_deadline
    open_course.save()
    with django_capture_on_commit_callbacks(execute=True):
        open_course.save_revision().publish()
    rows = DBTaskResult.objects.filter(task_path__endswith="course_notices_task")
    kinds = {row.args_kwargs["args"][1]: row.run_after for row in rows}
    assert set(kinds) == {"published", "closing", "results"}
    # At once: django-tasks-db stores "no run_after" as its 9999-01-01 sentinel.
    assert kinds["published"] <= timezone.now() or kinds["published"].year == 9999
    assert kinds["closing"] == open_course.study_closes_at - datetime.timedelta(days=3)
    assert kinds["results"] == open_course.results_release_at
