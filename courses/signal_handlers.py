"""What the courses hear from other apps, handed to their services:

- the library's ``study_credited`` (a heartbeat credited honest study time): a lesson may now be done, and the
  year's study hours in the reports grow;
- the organisation's ``member_changed`` (a move or a new party role): the member's year follows them in the reports;
- Wagtail's page publishing: a course's lessons may have changed (cached lookups forgotten, completions
  back-filled), and its notices are scheduled (new course, closing reminder, results).
"""

from wagtail.signals import page_published, page_unpublished

from cms.events import member_changed
from library.events import study_credited


def _study_credited(sender, *, member_id, item_id, at, **kwargs):
    from .services import lesson_study_credited

    lesson_study_credited(member_id=member_id, item_id=item_id, at=at)


def _study_hours_credited(sender, *, member_id, at, **kwargs):
    from .services import study_hours_credited

    study_hours_credited(member_id=member_id, at=at)


def _member_changed(sender, *, member_id, **kwargs):
    from .services import member_changed

    member_changed(member_id=member_id)


def _course_published(sender, instance, **kwargs):
    from .services import course_lessons_changed

    course_lessons_changed(course=instance)


def _course_went_live(sender, instance, **kwargs):
    from .services import course_notices_schedule

    course_notices_schedule(course=instance)


def connect() -> None:
    """Wire the receivers (idempotent: each has a dispatch_uid)."""
    from .models import CoursePage

    uid = "courses:"
    study_credited.connect(_study_credited, dispatch_uid=uid + "study-credited")
    study_credited.connect(_study_hours_credited, dispatch_uid=uid + "study-hours")
    member_changed.connect(_member_changed, dispatch_uid=uid + "member-changed")
    page_published.connect(_course_published, sender=CoursePage, dispatch_uid=uid + "course-published")
    page_published.connect(_course_went_live, sender=CoursePage, dispatch_uid=uid + "course-notices")
    page_unpublished.connect(_course_published, sender=CoursePage, dispatch_uid=uid + "course-unpublished")
