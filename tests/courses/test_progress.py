"""Lesson progress on the library's honest study clock: a credited heartbeat (library.events.study_credited) records
a lesson done once the window's study time reaches the lesson's rule; progress counts distinct required lessons
from those rows, for the member's page and reports alike (courses/services.py, courses/selectors.py)."""

from datetime import timedelta

import pytest

from courses import selectors, services
from courses.models import CourseLesson, LessonCompletion
from library import activity

from .conftest import DURING, PREMIERE, make_course

pytestmark = pytest.mark.django_db


def _study(member, item, *, start, beats, capture):
    """``beats`` heartbeats 20 s apart, each claiming 20 s of active reading, with on-commit events run."""
    with capture(execute=True):
        for n in range(beats):
            now = start + timedelta(seconds=20 * n)
            activity.progress_heartbeat(member=member, item=item, position=n, active_seconds=20, now=now)


def test_the_completion_rule_per_kind():
    """Media: 60 % of the duration (5 minutes when unknown); articles: half the reading time at 300 characters a
    minute within 1–20 minutes; books: within 5–30 minutes; an editor's minutes win."""
    rule = selectors.required_seconds
    assert rule(length={"kind": "video", "duration": 600.0, "text_chars": 0}, study_minutes=None) == 360
    assert rule(length={"kind": "audio", "duration": None, "text_chars": 0}, study_minutes=None) == 300
    assert rule(length={"kind": "article", "duration": None, "text_chars": 1200}, study_minutes=None) == 120
    assert rule(length={"kind": "article", "duration": None, "text_chars": 10}, study_minutes=None) == 60
    assert rule(length={"kind": "article", "duration": None, "text_chars": 10**6}, study_minutes=None) == 1200
    assert rule(length={"kind": "ebook", "duration": None, "text_chars": 0}, study_minutes=None) == 300
    assert rule(length={"kind": "ebook", "duration": None, "text_chars": 10**7}, study_minutes=None) == 1800
    assert rule(length={"kind": "video", "duration": 600.0, "text_chars": 0}, study_minutes=3) == 180


def test_honest_study_in_the_window_records_the_lesson_with_the_unit_at_the_time(
    member, course, lessons, units, django_capture_on_commit_callbacks
):
    """The 1,200-character article needs 120 s: five beats (100 s) are not enough, the sixth is; the completion
    keeps the member's branch even after they move."""
    _study(member, lessons[0], start=DURING, beats=5, capture=django_capture_on_commit_callbacks)
    assert not LessonCompletion.objects.exists()
    _study(
        member, lessons[0], start=DURING + timedelta(seconds=100), beats=1, capture=django_capture_on_commit_callbacks
    )
    completion = LessonCompletion.objects.get()
    assert (completion.course_id, completion.item_id, completion.unit, completion.late) == (
        course.pk,
        lessons[0].pk,
        units["daixi-1"],
        False,
    )
    assert completion.study_seconds >= 120
    member.org_unit = units["daixi-2"]
    member.save()
    completion.refresh_from_db()
    assert completion.unit == units["daixi-1"]


def test_the_member_page_and_reports_count_the_same(
    member, other_member, course, lessons, django_capture_on_commit_callbacks
):
    """One required lesson done of two; the optional video never counts; required_lessons_done for many members
    (what reports call) says what the member's own progress says."""
    _study(member, lessons[0], start=DURING, beats=7, capture=django_capture_on_commit_callbacks)
    _study(
        member, lessons[2], start=DURING + timedelta(minutes=10), beats=20, capture=django_capture_on_commit_callbacks
    )
    progress = selectors.course_progress(member=member, course=course)
    assert (progress.required_total, progress.required_done, progress.percent, progress.complete) == (2, 1, 50, False)
    by_lesson = {row.lesson.item_id: row for row in progress.lessons}
    assert by_lesson[lessons[0].pk].done and by_lesson[lessons[0].pk].percent == 100
    assert by_lesson[lessons[1].pk].studied_seconds == 0 and not by_lesson[lessons[1].pk].done
    assert by_lesson[lessons[2].pk].done  # optional, recorded, not counted
    assert selectors.required_lessons_done(course=course, member_ids=[member.pk, other_member.pk]) == {member.pk: 1}
    assert selectors.required_lessons_done(course=course) == {member.pk: 1}


def test_study_outside_the_window_does_not_count(member, course, lessons, django_capture_on_commit_callbacks):
    """Before the premiere's day and after the make-up deadline nothing is recorded; between the study window's
    end and the make-up deadline it is recorded as 补学 (late)."""
    _study(member, lessons[0], start=PREMIERE - timedelta(days=2), beats=10, capture=django_capture_on_commit_callbacks)
    assert not LessonCompletion.objects.exists()
    makeup = course.study_closes_at + timedelta(hours=1)
    _study(member, lessons[1], start=makeup, beats=4, capture=django_capture_on_commit_callbacks)
    assert LessonCompletion.objects.get().late
    after = course.makeup_deadline + timedelta(hours=1)
    _study(member, lessons[0], start=after, beats=10, capture=django_capture_on_commit_callbacks)
    assert LessonCompletion.objects.count() == 1


def test_a_client_saying_completed_is_not_believed(member, course, lessons, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        activity.progress_heartbeat(
            member=member, item=lessons[0], position=99, active_seconds=20, completed=True, now=DURING
        )
    assert not LessonCompletion.objects.exists()
    assert not selectors.course_progress(member=member, course=course).lessons[0].done


def test_two_courses_sharing_a_lesson_each_record_it(
    member, course, index_page, lessons, django_capture_on_commit_callbacks
):
    other = make_course(index_page, issue=9, lessons=[(lessons[0], True)])
    _study(member, lessons[0], start=DURING, beats=7, capture=django_capture_on_commit_callbacks)
    assert set(LessonCompletion.objects.values_list("course_id", flat=True)) == {course.pk, other.pk}


def test_lessons_added_later_are_back_filled(member, course, lessons, units, django_capture_on_commit_callbacks):
    """Study done before an item became a lesson is recorded when the course's lessons change (publish)."""
    from library.models import LibraryItem

    extra = LibraryItem.objects.create(
        kind="article", title="新增课文", body="<p>短文</p>", owning_unit=units["shandong"]
    )
    _study(member, extra, start=DURING, beats=4, capture=django_capture_on_commit_callbacks)
    assert not LessonCompletion.objects.exists()
    CourseLesson.objects.create(page=course, item=extra, required=True, sort_order=9)
    with django_capture_on_commit_callbacks(execute=False):
        services.course_lessons_changed(course=course)
    assert services.course_completions_backfill(course_id=course.pk, now=DURING + timedelta(hours=1)) == 1
    assert services.course_completions_backfill(course_id=course.pk, now=DURING + timedelta(hours=1)) == 0
    assert LessonCompletion.objects.get().item == extra


def test_publishing_a_course_forgets_cached_lessons_and_queues_the_backfill(
    course, lessons, db_tasks, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    assert selectors.lesson_entries_for_item(lessons[0].pk)  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        course.save_revision().publish()
    assert DBTaskResult.objects.filter(task_path__endswith="course_completions_backfill_task").count() == 1
