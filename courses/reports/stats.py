"""Keeping ``CourseUnitStats`` current: each change adds to the row of the unit it is counted under and to the rows of
every unit above it (one UPDATE of at most five rows), so the province's figure is one row, never a count.

Each member is counted once per figure and course, under the unit recorded on the row that first earned it (a
completion's or attempt's unit, a session's branch): a member who moves later stays counted where they studied.
The callers hold the member's row lock, so two writes of one member never both take "the first". ``rebuild``
computes the same figures from the rows themselves: what a test compares and an operator can rerun."""

from django.db.models import F, Max, OuterRef, Subquery

from cms.models import OrgUnit
from cms.selectors import unit_and_ancestor_paths

from ..models import CourseUnitStats, LessonCompletion, QuizAttempt, SessionAttendance

FIGURES = ("studied", "completed", "attended", "scored", "score_sum", "passed")


def bump(*, course_id: int, unit_id: int | None, **deltas: int) -> None:
    """Add ``deltas`` to the unit's row and its ancestors' rows of the course (made when missing)."""
    bump_subtree(CourseUnitStats, key={"course_id": course_id}, unit_id=unit_id, deltas=deltas)


def bump_subtree(model, *, key: dict, unit_id: int | None, deltas: dict[str, int]) -> None:
    """Add ``deltas`` to ``model``'s rows (those matching ``key``) of the unit and every unit above it, making the
    missing rows first: one UPDATE of at most five rows, the same for course and yearly figures."""
    deltas = {name: value for name, value in deltas.items() if value}
    if not unit_id or not deltas:
        return
    path = OrgUnit.objects.filter(pk=unit_id).values_list("path", flat=True).first()
    if not path:
        return
    unit_ids = list(OrgUnit.objects.filter(path__in=unit_and_ancestor_paths(path)).values_list("pk", flat=True))
    model.objects.bulk_create([model(unit_id=pk, **key) for pk in unit_ids], ignore_conflicts=True)
    model.objects.filter(unit_id__in=unit_ids, **key).update(
        **{name: F(name) + value for name, value in deltas.items()}
    )


def required_item_ids(course_id: int) -> set[int]:
    """The items whose completion counts towards "completed": required lessons that count (``counted_items``)."""
    from .. import selectors
    from ..models import CourseLesson, CoursePage

    course = CoursePage.objects.get(pk=course_id)
    lessons = CourseLesson.objects.filter(page=course, required=True, item__in=selectors.counted_items(course))
    return set(lessons.values_list("item_id", flat=True))


def completion_recorded(*, completion: LessonCompletion) -> None:
    """A lesson done: the member's first of the course counts as studied, the one that completes every required
    lesson as completed (the same rule as ``selectors.required_lessons_done``)."""
    mine = LessonCompletion.objects.filter(course_id=completion.course_id, member_id=completion.member_id)
    first = not mine.exclude(pk=completion.pk).exists()
    required = required_item_ids(completion.course_id)
    completed = completion.item_id in required and mine.filter(item_id__in=required).values(
        "item_id"
    ).distinct().count() == len(required)
    bump(course_id=completion.course_id, unit_id=completion.unit_id, studied=int(first), completed=int(completed))


def attempt_closed(*, attempt: QuizAttempt) -> None:
    """A graded attempt: the member's first graded one counts as scored; a better best adds the difference; the
    first pass counts as passed. All under the unit of the member's first graded attempt."""
    earlier = QuizAttempt.objects.filter(
        course_id=attempt.course_id, member_id=attempt.member_id, percent__isnull=False
    )
    earlier = earlier.exclude(pk=attempt.pk)
    first = earlier.order_by("number").values("unit_id").first()
    best_before = earlier.aggregate(best=Max("percent"))["best"]
    passed_before = earlier.filter(passed=True).exists()
    unit_id = first["unit_id"] if first else attempt.unit_id
    gain = attempt.percent - best_before if best_before is not None and attempt.percent > best_before else 0
    bump(
        course_id=attempt.course_id,
        unit_id=unit_id,
        scored=int(first is None),
        score_sum=attempt.percent if first is None else gain,
        passed=int(bool(attempt.passed) and not passed_before),
    )


def attendance_recorded(*, attendance: SessionAttendance) -> None:
    """The member's first check-in at any session of the course counts as attended, under that branch."""
    session = attendance.session
    again = SessionAttendance.objects.filter(member_id=attendance.member_id, session__course_id=session.course_id)
    if not again.exclude(pk=attendance.pk).exists():
        bump(course_id=session.course_id, unit_id=session.branch_id, attended=1)


def rebuild(*, course) -> None:
    """Recompute every row of the course from the rows themselves (after lessons change, or to check)."""
    from .. import selectors

    figures: dict[int, dict[str, int]] = {}

    def add(unit_id, name, value=1):
        if unit_id:
            figures.setdefault(unit_id, dict.fromkeys(FIGURES, 0))[name] += value

    first_unit = LessonCompletion.objects.filter(course=course, member_id=OuterRef("member_id")).order_by(
        "completed_at", "pk"
    )
    for row in (
        LessonCompletion.objects.filter(course=course)
        .order_by()
        .values("member_id")
        .annotate(unit=Subquery(first_unit.values("unit_id")[:1]))
        .distinct()
    ):
        add(row["unit"], "studied")
    required = required_item_ids(course.pk)
    done = selectors.required_lessons_done(course=course)
    last_unit = {}
    for completion in LessonCompletion.objects.filter(course=course, item_id__in=required).order_by(
        "completed_at", "pk"
    ):
        last_unit[completion.member_id] = completion.unit_id
    for member_id, count in done.items():
        if required and count >= len(required):
            add(last_unit.get(member_id), "completed")
    graded = QuizAttempt.objects.filter(course=course, percent__isnull=False)
    first_attempt = graded.filter(member_id=OuterRef("member_id")).order_by("number")
    for row in (
        graded.order_by()
        .values("member_id")
        .annotate(unit=Subquery(first_attempt.values("unit_id")[:1]), best=Max("percent"))
    ):
        add(row["unit"], "scored")
        add(row["unit"], "score_sum", row["best"])
    for row in (
        graded.filter(passed=True)
        .order_by()
        .values("member_id")
        .annotate(unit=Subquery(first_attempt.values("unit_id")[:1]))
    ):
        add(row["unit"], "passed")
    first_session = SessionAttendance.objects.filter(session__course=course, member_id=OuterRef("member_id")).order_by(
        "checked_in_at", "pk"
    )
    for row in (
        SessionAttendance.objects.filter(session__course=course)
        .order_by()
        .values("member_id")
        .annotate(unit=Subquery(first_session.values("session__branch_id")[:1]))
        .distinct()
    ):
        add(row["unit"], "attended")
    CourseUnitStats.objects.filter(course=course).delete()
    for unit_id, values in figures.items():
        bump(course_id=course.pk, unit_id=unit_id, **values)
