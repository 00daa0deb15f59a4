"""Writes for the courses: quiz attempts (start, answers, submit, the server's deadline), practice checks, lesson
completions from the library's honest study clock. Keyword-only, typed; each checks everything before it writes,
and refuses with a courses.errors exception that carries a Chinese message (docs/courses.md)."""

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from library.selectors import study_seconds_by_item

from . import selectors
from .errors import CourseNotFound, QuizConflict, QuizForbidden, QuizInvalid, QuizTimeUp
from .models import CourseLesson, CoursePage, LessonCompletion, Question, QuestionBank, QuizAnswer, QuizAttempt
from .quiz.drawing import PoolTooSmall, Rule, draw
from .quiz.grading import is_correct
from .quiz.responses import position_of, stored_response
from .reports import hours as report_hours
from .reports import stats as report_stats

logger = logging.getLogger(__name__)

MAX_ANSWERS_PER_REQUEST = 50
SEQ_MAX = 2**62  # a client's clock in milliseconds; anything larger is a broken client
EXPIRY_SWEEP_SECONDS = 60  # deadlines are swept by the minute: one task per minute in which any falls


def _local(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y年n月j日 H:i")


def _lock_member(member) -> None:
    """Serialise one member's starts (double press, two devices): the row lock the library's heartbeat uses too.
    On SQLite the IMMEDIATE transaction already serialises writers."""
    get_user_model().objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).first()


# --- Start ------------------------------------------------------------------------------------------------------


def _check_can_start(*, member, course: CoursePage, now: datetime) -> None:
    if not selectors.in_audience(member=member, course=course):
        raise QuizForbidden(_("本期课程面向%(unit)s的党员，你不在其中。") % {"unit": course.audience_unit.name})
    phase = selectors.quiz_phase(course=course, now=now)
    if phase == "none":
        raise QuizConflict(_("本期课程没有测验。"))
    if phase == "not_open":
        raise QuizConflict(_("测验将于 %(at)s 开放，请到时再来。") % {"at": _local(course.premiere_at)})
    if phase == "closed":
        raise QuizConflict(_("本期测验已于 %(at)s 截止。") % {"at": _local(course.makeup_deadline)})


def _draw_set(course: CoursePage) -> list[dict]:
    rules = [Rule.of(rule) for rule in course.quiz_rules.all().order_by("sort_order", "pk")]
    try:
        return draw(course.question_bank_id, rules)
    except PoolTooSmall:
        logger.error("course %s: question pool smaller than 3x the blueprint", course.pk)
        raise QuizConflict(_("本期测验的题库题量不足，暂时无法开始，请联系课程编辑。")) from None


def _attempt_create(*, member, course: CoursePage, number: int, now: datetime) -> QuizAttempt:
    deadline = min(now + timedelta(minutes=course.time_limit_minutes), course.makeup_deadline)
    entries = _draw_set(course)
    return QuizAttempt.objects.create(
        course=course,
        member=member,
        unit_id=member.org_unit_id,  # the unit at the time: reports keep it after the member moves branch
        number=number,
        started_at=now,
        deadline=deadline,
        questions=entries,
        nonce=secrets.token_hex(16),
        max_score=sum(entry["p"] for entry in entries),
        late=now > course.study_closes_at,
    )


def quiz_attempt_start(*, member, course: CoursePage, now: datetime | None = None) -> tuple[QuizAttempt, bool]:
    """The member's open attempt, or a new one if the quiz is open and attempts are left: (attempt, created).

    Idempotent under double presses, two devices and racing requests: the member's row is locked while deciding,
    and the unique constraints (one open attempt per member and course; one row per attempt number) settle any race
    that slips past a lock (the loser gets the winner's attempt)."""
    now = now or timezone.now()
    _check_can_start(member=member, course=course, now=now)
    try:
        with transaction.atomic():
            _lock_member(member)
            attempt, created = _attempt_start_locked(member=member, course=course, now=now)
    except IntegrityError:
        attempt = selectors.attempt_open_of(member=member, course=course)
        if attempt is None:
            raise QuizConflict(_("答题正在开始，请稍后刷新页面。")) from None
        return attempt, False
    if created:
        _expiry_sweep_schedule(deadline=attempt.deadline)
    return attempt, created


def _attempt_start_locked(*, member, course: CoursePage, now: datetime) -> tuple[QuizAttempt, bool]:
    open_attempt = selectors.attempt_open_of(member=member, course=course)
    if open_attempt is not None and not _is_overdue(open_attempt, now):
        return open_attempt, False
    if open_attempt is not None:
        _close(open_attempt, state=QuizAttempt.State.TIMED_OUT, now=now)
    used = QuizAttempt.objects.filter(member=member, course=course).count()
    if used >= course.attempts_allowed:
        raise QuizConflict(_("你已用完本期测验的 %(n)d 次答题机会。") % {"n": course.attempts_allowed})
    return _attempt_create(member=member, course=course, number=used + 1, now=now), True


# --- Answers ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerWrite:
    """One autosave from a client: which question (its ref), the response, and the write's own id and clock."""

    ref: str
    answer_id: uuid.UUID
    seq: int
    options: list[str] | None = None
    blanks: list[str] | None = None


def _is_overdue(attempt: QuizAttempt, now: datetime) -> bool:
    return now > attempt.deadline + timedelta(seconds=selectors.grace_seconds())


def _attempt_locked(*, member, attempt_id: int) -> QuizAttempt:
    if not 1 <= attempt_id <= selectors.ID_MAX:
        raise CourseNotFound(_("未找到这次答题"))
    # Only the attempt's own row is locked (of=self): with the course joined, PostgreSQL would lock the course's rows
    # too, and every save of the whole province would wait in line for one row. The course (a page with its
    # lessons) is read only where grading needs it, not on each autosave.
    attempt = (
        QuizAttempt.objects.select_for_update(of=("self",))
        .filter(pk=attempt_id, member_id=getattr(member, "pk", None))
        .first()
    )
    if attempt is None:
        raise CourseNotFound(_("未找到这次答题"))
    return attempt


def _validated(attempt: QuizAttempt, writes: list[AnswerWrite]) -> list[tuple[int, dict, AnswerWrite]]:
    """Every write checked before any is saved: one bad item refuses the whole request."""
    if not 1 <= len(writes) <= MAX_ANSWERS_PER_REQUEST:
        raise QuizInvalid(_("每次可保存 1 到 %(n)d 个答案。") % {"n": MAX_ANSWERS_PER_REQUEST})
    positions = [position_of(attempt=attempt, ref=write.ref) for write in writes]
    ids = {attempt.questions[position]["q"] for position in positions}
    questions = Question.objects.only("kind", "answer").in_bulk(list(ids))
    checked = []
    for write, position in zip(writes, positions, strict=True):
        if not 0 <= write.seq <= SEQ_MAX:
            raise QuizInvalid(_("第 %(n)d 题的保存序号无效。") % {"n": position + 1})
        question = questions[attempt.questions[position]["q"]]
        response = stored_response(
            attempt=attempt,
            position=position,
            kind=question.kind,
            answer=question.answer,
            options=write.options,
            blanks=write.blanks,
        )
        checked.append((position, response, write))
    return checked


def _apply(attempt: QuizAttempt, checked, now: datetime) -> list[dict]:
    """Latest write by seq wins per question; a replay (same answer_id) or an older write changes nothing."""
    positions = {position for position, _response, _write in checked}
    current = {answer.position: answer for answer in attempt.answers.filter(position__in=positions)}
    results = []
    for position, response, write in checked:
        answer = current.get(position)
        applied = answer is None or (answer.answer_id != write.answer_id and write.seq > answer.seq)
        if applied and answer is None:
            question_id = attempt.questions[position]["q"]
            answer = QuizAnswer(attempt=attempt, position=position, question_id=question_id)
        if applied:
            answer.response, answer.answer_id, answer.seq, answer.saved_at = response, write.answer_id, write.seq, now
            answer.save()
            current[position] = answer
        results.append({"ref": write.ref, "answer_id": write.answer_id, "applied": applied, "seq": answer.seq})
    return results


def quiz_answers_save(
    *, member, attempt_id: int, writes: list[AnswerWrite], now: datetime | None = None
) -> tuple[QuizAttempt, list[dict]]:
    """Autosave answers (one, or a queue flushed after the network came back): idempotent per write. The attempt row
    is locked, so two devices saving at once interleave cleanly. Refused whole, with nothing saved, when any item
    is invalid (422), the attempt is closed (409) or the server's deadline has passed (409, and the attempt is
    closed with the answers it had)."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = _attempt_locked(member=member, attempt_id=attempt_id)
        if not attempt.is_open:
            raise QuizConflict(_("本次答题已交卷，答案不能再修改。"))
        overdue = _is_overdue(attempt, now)
        if not overdue:
            return attempt, _apply(attempt, _validated(attempt, writes), now)
    quiz_attempt_close_if_overdue(attempt_id=attempt.pk, now=now)
    raise QuizTimeUp(_("答题时间已到，这次的答案未保存；已按截止前保存的答案自动交卷。"))


# --- Submit, deadline, grading ----------------------------------------------------------------------------------


def _grade(attempt: QuizAttempt) -> None:
    questions = Question.objects.only("kind", "answer").in_bulk([entry["q"] for entry in attempt.questions])
    answers = list(attempt.answers.all())
    score = 0
    for answer in answers:
        question = questions.get(answer.question_id)
        points = attempt.questions[answer.position]["p"]
        answer.correct = bool(question) and is_correct(
            kind=question.kind, answer=question.answer, response=answer.response
        )
        answer.points = points if answer.correct else 0
        score += answer.points
    QuizAnswer.objects.bulk_update(answers, ["correct", "points"])
    attempt.score = score
    attempt.percent = score * 100 // attempt.max_score if attempt.max_score else 0
    attempt.passed = attempt.percent >= attempt.course.pass_mark


def _close(attempt: QuizAttempt, *, state: str, now: datetime) -> QuizAttempt:
    """Grade with what is saved and close (the caller holds the attempt's lock)."""
    _grade(attempt)
    attempt.state = state
    attempt.submitted_at = min(now, attempt.deadline) if state == QuizAttempt.State.TIMED_OUT else now
    attempt.save(update_fields=["state", "submitted_at", "score", "percent", "passed"])
    report_stats.attempt_closed(attempt=attempt)
    _quiz_hours_credit(attempt)
    logger.info("attempt %s closed (%s): %s/%s", attempt.pk, state, attempt.score, attempt.max_score)
    return attempt


def _quiz_hours_credit(attempt: QuizAttempt) -> None:
    """A course's quiz passed counts for the year's study hours (once per course and year, as ``credits.hours``).
    After commit: the premiere's thousand submits must not hold the units' year rows for the rest of their own
    transactions (a failure here is logged; the member's next credit catches it up)."""
    if attempt.passed:
        member_id, year = attempt.member_id, report_hours.year_of(attempt.submitted_at)
        transaction.on_commit(lambda: report_hours.refresh(member_id=member_id, year=year), robust=True)


def quiz_attempt_submit(*, member, attempt_id: int, now: datetime | None = None) -> QuizAttempt:
    """Hand in: grade and close. Idempotent: a second submit (a double press, a retried request) returns the first
    result. After the deadline it closes as timed out, with the answers saved in time."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = _attempt_locked(member=member, attempt_id=attempt_id)
        if not attempt.is_open:
            return attempt
        state = QuizAttempt.State.TIMED_OUT if _is_overdue(attempt, now) else QuizAttempt.State.SUBMITTED
        return _close(attempt, state=state, now=now)


def quiz_attempt_close_if_overdue(*, attempt_id: int, now: datetime | None = None) -> QuizAttempt | None:
    """Close an attempt whose deadline (plus grace) has passed, with what it has: on next access and by the sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = (
            QuizAttempt.objects.select_for_update(of=("self",)).select_related("course").filter(pk=attempt_id).first()
        )
        if attempt is None or not attempt.is_open or not _is_overdue(attempt, now):
            return attempt
        return _close(attempt, state=QuizAttempt.State.TIMED_OUT, now=now)


def quiz_attempts_expire_due(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Close every overdue open attempt (the sweep task and `manage.py courses_expire_attempts`)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=selectors.grace_seconds())
    due = QuizAttempt.objects.filter(state=QuizAttempt.State.IN_PROGRESS, deadline__lt=cutoff)
    ids = list(due.order_by("deadline").values_list("pk", flat=True)[:limit])
    closed = 0
    for attempt_id in ids:
        attempt = quiz_attempt_close_if_overdue(attempt_id=attempt_id, now=now)
        closed += bool(attempt and attempt.state == QuizAttempt.State.TIMED_OUT)
    return closed


def _expiry_sweep_schedule(*, deadline: datetime) -> None:
    """One deferred sweep per minute in which deadlines fall (the shared cache deduplicates across processes), so
    an abandoned attempt is closed soon after its deadline even if nobody opens it again."""
    grace = timedelta(seconds=selectors.grace_seconds() + 1)
    minute = int((deadline + grace).timestamp() // EXPIRY_SWEEP_SECONDS + 1) * EXPIRY_SWEEP_SECONDS
    if not cache.add(f"courses:expiry-sweep:{minute}", 1, timeout=6 * 3600):
        return
    run_after = datetime.fromtimestamp(minute, tz=timezone.get_current_timezone())

    def enqueue():
        from .tasks import quiz_attempts_expire_task

        quiz_attempts_expire_task.using(run_after=run_after).enqueue()

    transaction.on_commit(enqueue, robust=True)


# --- Practice ---------------------------------------------------------------------------------------------------


def practice_check(
    *, question_id: int, options: list[str] | None = None, blanks: list[str] | None = None, member=None
) -> dict:
    """Check one practice answer at once: right or wrong, the key and the explanation (practice hides nothing).
    Only practice questions: an exam question's key is never told here (404). With ``member``, only questions of a
    bank that a course the member may see uses; any other is the same 404."""
    from .quiz.grading import blank_count, key_display

    question = selectors.practice_question_get(question_id, member=member)
    if question is None:
        raise CourseNotFound(_("未找到这道练习题"))
    labels = {option["id"] for option in selectors.practice_options(question)}
    if options and any(str(option) not in labels for option in options):
        raise QuizInvalid(_("选项无效。"))
    if blanks and len(blanks) > blank_count(question.answer):
        raise QuizInvalid(_("这道题只有 %(n)d 个空。") % {"n": blank_count(question.answer)})
    response = {"blanks": [str(text) for text in blanks or []]} if blanks else {"options": sorted(set(options or []))}
    return {
        "question_id": question.pk,
        "correct": is_correct(kind=question.kind, answer=question.answer, response=response),
        "key": key_display(kind=question.kind, answer=question.answer),
        "explanation": question.explanation,
    }


# --- Lessons done -------------------------------------------------------------------------------------------------


def study_hours_credited(*, member_id: int, at: datetime) -> None:
    """Honest study time credited by the library counts towards the year's study hours in the reports."""
    report_hours.refresh(member_id=member_id, year=report_hours.year_of(at))


def member_changed(*, member_id: int) -> None:
    """A member moved or changed party role (cms.events.member_changed): this year's hours follow them."""
    report_hours.refresh(member_id=member_id, year=timezone.localdate().year)


def lesson_study_credited(*, member_id: int, item_id: int, at: datetime) -> list[LessonCompletion]:
    """A heartbeat credited study time on an item (library.events.study_credited): for each live course that has
    the item as a lesson and whose window holds the moment, record the lesson done once the window's honest study
    time reaches what the lesson needs. Idempotent (one row per course, member and item)."""
    recorded = []
    for entry in selectors.lesson_entries_for_item(item_id):
        if not entry.premiere_at <= at <= entry.makeup_deadline:
            continue
        if LessonCompletion.objects.filter(course_id=entry.course_id, member_id=member_id, item_id=item_id).exists():
            continue
        studied = study_seconds_by_item(
            member_ids=[member_id], item_ids=[item_id], since=entry.since, until=entry.until
        )
        seconds = studied.get((member_id, item_id), 0)
        if seconds < entry.required_seconds:
            continue
        with transaction.atomic():
            # One member's completions one at a time: the reports' "first" and "last" lesson are decided here.
            get_user_model().objects.select_for_update().filter(pk=member_id).values_list("pk", flat=True).first()
            completion, created = LessonCompletion.objects.get_or_create(
                course_id=entry.course_id,
                member_id=member_id,
                item_id=item_id,
                defaults={
                    "unit_id": get_user_model()
                    .objects.filter(pk=member_id)
                    .values_list("org_unit_id", flat=True)
                    .first(),
                    "completed_at": at,
                    "study_seconds": seconds,
                    "late": at > entry.study_closes_at,
                },
            )
            if created:
                report_stats.completion_recorded(completion=completion)
                recorded.append(completion)
    return recorded


def course_lessons_changed(*, course: CoursePage) -> None:
    """A course was published or its lessons changed: forget the cached lesson lookups of its items (and of items
    it no longer has), and back-fill completions for study already done in its window after commit."""
    item_ids = set(CourseLesson.objects.filter(page=course).values_list("item_id", flat=True))
    item_ids |= set(LessonCompletion.objects.filter(course=course).values_list("item_id", flat=True).distinct())
    cache.delete_many([f"courses:lessons-of:{item_id}" for item_id in item_ids])
    course_id = course.pk

    def enqueue():
        from .tasks import course_completions_backfill_task

        course_completions_backfill_task.enqueue(course_id)

    transaction.on_commit(enqueue, robust=True)


def course_completions_backfill(*, course_id: int, now: datetime | None = None) -> int:
    """Record completions for members whose honest study in the window already reaches a lesson's need (lessons
    added after members studied them). The unit is the member's unit now: the moment it was reached is not known."""
    now = now or timezone.now()
    course = CoursePage.objects.filter(pk=course_id, live=True).first()
    if course is None or now < course.premiere_at:
        return 0
    lessons = selectors.course_lessons(course)
    needed = selectors.lessons_required_seconds(lessons)
    since, until = selectors.study_window_days(course)
    created = 0
    for item_id, seconds_needed in needed.items():
        totals = study_seconds_by_item(member_ids=None, item_ids=[item_id], since=since, until=until)
        reached = {member_id: seconds for (member_id, _item), seconds in totals.items() if seconds >= seconds_needed}
        done = set(
            LessonCompletion.objects.filter(course=course, item_id=item_id, member_id__in=list(reached)).values_list(
                "member_id", flat=True
            )
        )
        units = dict(
            get_user_model()
            .objects.filter(pk__in=[m for m in reached if m not in done])
            .values_list("pk", "org_unit_id")
        )
        rows = [
            LessonCompletion(
                course=course,
                member_id=member_id,
                item_id=item_id,
                unit_id=unit_id,
                completed_at=min(now, course.makeup_deadline),
                study_seconds=reached[member_id],
                late=now > course.study_closes_at,
            )
            for member_id, unit_id in units.items()
        ]
        created += len(LessonCompletion.objects.bulk_create(rows, ignore_conflicts=True))
    report_stats.rebuild(course=course)  # lessons changed: "completed" may mean something else now
    return created


# --- Question bank ------------------------------------------------------------------------------------------------


def question_bank_import(
    *,
    data: bytes,
    filename: str,
    bank: QuestionBank,
    practice_default: bool = False,
    dry_run: bool = False,
):
    """Import a bank file (XLSX or CSV): every row checked, then all written or nothing (courses.bank.importer)."""
    from .bank.importer import bank_import

    return bank_import(data=data, filename=filename, bank=bank, practice_default=practice_default, dry_run=dry_run)


# --- Branch sessions (courses/sessions/writes.py) -----------------------------------------------------------------

from .sessions.writes import (  # noqa: E402, F401 — the front door re-exports the sessions' writes
    session_check_in,
    session_check_in_members,
    session_check_in_verified,
    session_checkin_reset,
    session_open,
    session_photos_add,
    session_record,
    session_reflection_save,
)


def study_certificate_issue(*, member, year: int):
    """The member's annual certificate (issued once the year's study hours meet the requirement)."""
    from .credits import certificates, hours

    return certificates.issue(member=member, hours=hours.study_hours(member=member, year=year))


# --- Notices (courses/notices.py) ---------------------------------------------------------------------------------


def course_notices_send(*, course_id: int, kind: str) -> int:
    """Send one kind of notice for a course as it is now (0 when it no longer exists or is not live)."""
    from . import notices

    course = CoursePage.objects.filter(pk=course_id).first()
    return notices.send(course=course, kind=kind) if course else 0


def course_notices_schedule(*, course: CoursePage) -> None:
    from . import notices

    notices.schedule(course=course)
