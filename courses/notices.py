"""The courses' notices (消息): a new course for its audience, a reminder before the study window closes to those
who have not finished, and results released to those who took the quiz. Each is sent by a task scheduled when the
course is published (``course_notices_schedule``); the task reads the course as it is then, so a course moved or
withdrawn meanwhile sends the right thing or nothing, and every notice is idempotent by its key."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.services import notices_send

from .models import CourseLesson, CoursePage, QuizAttempt

REMIND_BEFORE = timedelta(days=3)
KINDS = ("published", "closing", "results")


def _audience(course: CoursePage):
    members = get_user_model().objects.filter(is_active=True, org_unit__isnull=False)
    if course.audience_unit_id:
        members = members.filter(org_unit__path__startswith=course.audience_unit.path)
    return members


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def send(*, course: CoursePage, kind: str) -> int:
    """Send one kind of notice for the course now (nothing when the course is not live or the moment is wrong)."""
    from . import selectors

    if not course.live:
        return 0
    key, url = f"course:{course.pk}:{kind}", course.url or ""
    if kind == "published":
        title = _("第%(n)d期灯塔大课堂《%(theme)s》%(at)s首播") % {
            "n": course.issue_number, "theme": course.theme, "at": _when(course.premiere_at),
        }  # fmt: skip
        return notices_send(members=_audience(course), kind=kind, key=key, title=title, url=url)
    if kind == "closing":
        if timezone.now() >= course.study_closes_at:
            return 0
        required = CourseLesson.objects.filter(page=course, required=True, item__in=selectors.counted_items(course))
        total = required.count()
        done = selectors.required_lessons_done(course=course)
        finished = [member_id for member_id, count in done.items() if total and count >= total]
        title = _("第%(n)d期课程学习将于%(at)s截止，请抓紧学完") % {
            "n": course.issue_number,
            "at": _when(course.study_closes_at),
        }
        members = _audience(course).exclude(pk__in=finished)
        return notices_send(members=members, kind=kind, key=key, title=title, url=url)
    if kind == "results":
        takers = QuizAttempt.objects.filter(course=course).exclude(state=QuizAttempt.State.IN_PROGRESS)
        title = _("第%(n)d期测验成绩已公布") % {"n": course.issue_number}
        members = get_user_model().objects.filter(pk__in=takers.values("member_id"))
        return notices_send(members=members, kind=kind, key=key, title=title, url=url)
    raise ValueError(kind)


def schedule(*, course: CoursePage) -> None:
    """After commit: the new-course notice now, the reminder three days before the window closes, the results
    notice when results are released (each a deferred task; a rerun or republish sends nothing twice)."""
    moments = {"published": timezone.now(), "closing": course.study_closes_at - REMIND_BEFORE}
    if course.results_release_at:
        moments["results"] = course.results_release_at
    course_id = course.pk

    def enqueue():
        from .tasks import course_notices_task

        for kind, at in moments.items():
            task = course_notices_task if at <= timezone.now() else course_notices_task.using(run_after=at)
            task.enqueue(course_id, kind)

    transaction.on_commit(enqueue, robust=True)
