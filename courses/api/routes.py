"""The courses' JSON API for the phone and TV apps and the quiz page's script. Mounted at /api/v1/courses/.

Who may take a course and what an attempt shows are decided by courses.selectors; every write goes through
courses.services. Refusals come back as JSON with a Chinese ``detail``: 403 outside the audience, 404 no such course
or attempt (another member's is the same), 409 not open / closed / used up / submitted / time is up, 422 bad input.
"""

import functools
from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from cms.api_auth import MEMBER_AUTH, PUBLIC_AUTH, PUBLIC_OPENAPI, api_user
from courses import selectors, services
from courses.errors import CourseError, CourseNotFound
from courses.models import CoursePage, QuizAttempt
from library.selectors import item_url, library_page

from .schemas import (
    AnswersIn,
    AnswersOut,
    AttemptOut,
    CheckInIn,
    CheckInOut,
    CourseOut,
    ErrorOut,
    PracticeCheckIn,
    PracticeCheckOut,
    PracticeOut,
    ResultOut,
    StudyHoursOut,
    TimeOut,
)

router = Router(tags=["courses"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def refusals(view):
    """A service's refusal (courses.errors) as its status and Chinese message; nothing was written."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except CourseError as exc:
            return Status(exc.status, {"detail": exc.message})

    return wrapper


def _absolute(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url) if url else ""


def course_for_request(request: HttpRequest, course_id: int) -> CoursePage:
    """A live course the caller may open (Wagtail view restrictions included; a course for one unit only inside that
    unit's subtree), else 404 — the same answer as an id that names nothing."""
    course = selectors.course_live_get(course_id)
    if course is None or not selectors.course_open_to(member=api_user(request), course=course):
        raise CourseNotFound(_("未找到这期课程"))
    if not all(r.accept_request(request) for r in course.get_view_restrictions()):
        raise CourseNotFound(_("未找到这期课程"))
    return course


def attempt_for_request(request: HttpRequest, attempt_id: int, *, now: datetime) -> QuizAttempt:
    """The caller's own attempt, closed first if its deadline has passed (the server closes it on next access)."""
    attempt = selectors.attempt_of_member(member=api_user(request), attempt_id=attempt_id)
    if attempt is None:
        raise CourseNotFound(_("未找到这次答题"))
    if attempt.is_open and now > attempt.deadline:
        attempt = services.quiz_attempt_close_if_overdue(attempt_id=attempt.pk, now=now) or attempt
    return attempt


def result_url(attempt: QuizAttempt) -> str:
    course = attempt.course
    return course.url + course.reverse_subpage("quiz_result_route", kwargs={"attempt_id": attempt.pk})


# --- Output shapes ------------------------------------------------------------------------------------------------


def _lessons(request, course: CoursePage, member, *, now: datetime) -> tuple[list[dict], dict | None]:
    progress = selectors.course_progress(member=member, course=course)
    page = library_page()
    started = now >= course.premiere_at
    lessons = [
        {
            "item_id": row.lesson.item_id,
            "title": row.lesson.item.title,
            "kind": row.lesson.item.kind,
            "kind_display": row.lesson.item.get_kind_display(),
            "required": row.lesson.required,
            "note": row.lesson.note,
            "url": _absolute(request, item_url(row.lesson.item, page)) if started and row.readable else "",
            "readable": row.readable,
            "required_minutes": row.required_minutes,
            "studied_minutes": row.studied_minutes,
            "done": row.done,
        }
        for row in progress.lessons
    ]
    if not getattr(member, "is_authenticated", False):
        return lessons, None
    summary = {
        "required_total": progress.required_total,
        "required_done": progress.required_done,
        "percent": progress.percent,
        "complete": progress.complete,
    }
    return lessons, summary


def course_out(request, course: CoursePage, member, *, now: datetime) -> dict:
    lessons, progress = _lessons(request, course, member, now=now)
    status = selectors.quiz_status(member=member, course=course, now=now)
    return {
        "id": course.pk,
        "issue_number": course.issue_number,
        "theme": course.theme,
        "title": course.title,
        "summary": course.summary,
        "url": _absolute(request, course.url),
        "premiere_at": course.premiere_at,
        "study_closes_at": course.study_closes_at,
        "makeup_deadline": course.makeup_deadline,
        "server_now": now,
        "lessons": lessons,
        "progress": progress,
        "quiz": {
            "phase": status.phase,
            "opens_at": status.opens_at,
            "closes_at": status.closes_at,
            "attempts_allowed": status.attempts_allowed,
            "attempts_used": status.attempts_used,
            "time_limit_minutes": course.time_limit_minutes,
            "pass_mark": course.pass_mark,
            "open_attempt_id": status.open_attempt.pk if status.open_attempt else None,
            "best_attempt_id": status.best.pk if status.best else None,
        },
    }


def attempt_out(request, attempt: QuizAttempt, *, now: datetime, created: bool = False) -> dict:
    return {
        "id": attempt.pk,
        "course_id": attempt.course_id,
        "number": attempt.number,
        "state": attempt.state,
        "created": created,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "server_now": now,
        "seconds_left": selectors.seconds_left(attempt=attempt, now=now),
        "attempts_allowed": attempt.course.attempts_allowed,
        "questions": selectors.attempt_questions(attempt=attempt) if attempt.is_open else [],
        "result_url": _absolute(request, result_url(attempt)),
    }


def result_out(attempt: QuizAttempt, *, now: datetime) -> dict:
    result = selectors.attempt_result(attempt=attempt, now=now)
    released = result.score_released
    return {
        "attempt_id": attempt.pk,
        "state": attempt.state,
        "submitted_at": attempt.submitted_at,
        "score_released": released,
        "score": attempt.score if released else None,
        "max_score": attempt.max_score,
        "percent": attempt.percent if released else None,
        "passed": attempt.passed if released else None,
        "pass_mark": attempt.course.pass_mark,
        "results_release_at": result.results_release_at,
        "answers_released": result.answers_released,
        "answers_release_at": result.answers_release_at,
        "questions": result.questions,
    }


# --- Routes -------------------------------------------------------------------------------------------------------


class TimeQuery(Schema):
    client_ms: int | None = Field(default=None, ge=0, le=2**53, description="客户端发出请求时的毫秒时刻，原样返回")


@router.get(
    "/time", response={200: TimeOut, 422: ErrorOut}, auth=None, summary="服务器时间（倒计时校准用，NTP 式往返）"
)
def server_time(request: HttpRequest, query: Query[TimeQuery]):
    now = timezone.now()
    return {"now": now, "epoch_ms": int(now.timestamp() * 1000), "client_ms": query.client_ms}


@router.get(
    "/{course_id}",
    response={200: CourseOut, 404: ErrorOut, 422: ErrorOut},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    summary="一期课程：课程内容、我的学习进度、测验状态",
)
def course_detail(request: HttpRequest, course_id: int):
    now = timezone.now()
    return course_out(request, course_for_request(request, course_id), api_user(request), now=now)


@router.post(
    "/{course_id}/attempts",
    response={200: AttemptOut, **ERRORS},
    auth=MEMBER_AUTH,
    summary="开始答题（重复按、两台设备同时按都只会有一次答题）",
)
@refusals
def attempt_start(request: HttpRequest, course_id: int):
    now = timezone.now()
    course = course_for_request(request, course_id)
    attempt, created = services.quiz_attempt_start(member=api_user(request), course=course, now=now)
    return attempt_out(request, attempt, now=now, created=created)


@router.get(
    "/attempts/{attempt_id}",
    response={200: AttemptOut, **ERRORS},
    auth=MEMBER_AUTH,
    summary="我的一次答题：题目（不含答案）、已保存的答案、服务器截止时间",
)
def attempt_detail(request: HttpRequest, attempt_id: int):
    now = timezone.now()
    return attempt_out(request, attempt_for_request(request, attempt_id, now=now), now=now)


@router.post(
    "/attempts/{attempt_id}/answers",
    response={200: AnswersOut, **ERRORS},
    auth=MEMBER_AUTH,
    summary="保存答案（每改一题就保存；断网时排队，联网后一起发送；重发无害）",
)
@refusals
def answers_save(request: HttpRequest, attempt_id: int, payload: AnswersIn):
    now = timezone.now()
    writes = [
        services.AnswerWrite(ref=a.ref, answer_id=a.answer_id, seq=a.seq, options=a.options, blanks=a.blanks)
        for a in payload.answers
    ]
    attempt, results = services.quiz_answers_save(
        member=api_user(request), attempt_id=attempt_id, writes=writes, now=now
    )
    return {
        "state": attempt.state,
        "server_now": now,
        "deadline": attempt.deadline,
        "seconds_left": selectors.seconds_left(attempt=attempt, now=now),
        "results": results,
    }


@router.post(
    "/attempts/{attempt_id}/submit",
    response={200: ResultOut, **ERRORS},
    auth=MEMBER_AUTH,
    summary="交卷（重复交卷返回第一次的结果）",
)
@refusals
def attempt_submit(request: HttpRequest, attempt_id: int):
    now = timezone.now()
    attempt = services.quiz_attempt_submit(member=api_user(request), attempt_id=attempt_id, now=now)
    return result_out(attempt, now=now)


@router.get(
    "/attempts/{attempt_id}/result",
    response={200: ResultOut, **ERRORS},
    auth=MEMBER_AUTH,
    summary="成绩（到公布时间才有分数）与答案解析（到公布时间才有）",
)
def attempt_result(request: HttpRequest, attempt_id: int):
    now = timezone.now()
    attempt = attempt_for_request(request, attempt_id, now=now)
    if attempt.is_open:
        return Status(409, {"detail": _("这次答题还没有交卷。")})
    return result_out(attempt, now=now)


class PracticeQuery(Schema):
    count: int = Field(default=10, ge=1, le=50)
    topic: str = Field(default="", max_length=64)


@router.get(
    "/{course_id}/practice",
    response={200: PracticeOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=MEMBER_AUTH,
    summary="练习题（不限次数，随机抽取）",
)
def practice(request: HttpRequest, course_id: int, query: Query[PracticeQuery]):
    course = course_for_request(request, course_id)
    questions = selectors.practice_questions(course=course, topic=query.topic, count=query.count)
    return {
        "topics": selectors.practice_topics(course=course),
        "questions": [
            {
                "id": question.pk,
                "kind": question.kind,
                "kind_display": question.get_kind_display(),
                "stem": question.stem,
                "topic": question.topic,
                "options": selectors.practice_options(question),
                "blank_count": selectors.practice_blank_count(question),
            }
            for question in questions
        ],
    }


@router.post(
    "/practice/check",
    response={200: PracticeCheckOut, **ERRORS},
    auth=MEMBER_AUTH,
    summary="核对一道练习题：对错、答案与解析（立即反馈）",
)
@refusals
def practice_check(request: HttpRequest, payload: PracticeCheckIn):
    return services.practice_check(
        question_id=payload.question_id, options=payload.options, blanks=payload.blanks, member=api_user(request)
    )


class HoursQuery(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100, description="年度；默认今年")


@router.get(
    "/me/hours",
    response={200: StudyHoursOut, 401: ErrorOut, 422: ErrorOut},
    auth=MEMBER_AUTH,
    summary="我的年度学时：在线学习、集中学习、测验合格，与年度要求",
)
def study_hours(request: HttpRequest, query: Query[HoursQuery]):
    member = api_user(request)
    year = query.year or timezone.localdate().year
    hours = selectors.study_hours(member=member, year=year)
    certificate = selectors.certificate_of(member=member, year=year)
    return {
        "year": year,
        "online_seconds": hours.online_seconds,
        "online_hours": float(hours.online_hours),
        "sessions": hours.sessions,
        "session_hours": float(hours.session_hours),
        "quizzes_passed": hours.quizzes_passed,
        "quiz_hours": float(hours.quiz_hours),
        "total": float(hours.total),
        "required": float(hours.required),
        "met": hours.met,
        "certificate_code": certificate.code if certificate else "",
    }


@router.post(
    "/sessions/checkin",
    response={200: CheckInOut, **ERRORS},
    auth=MEMBER_AUTH,
    summary="支部集中学习扫码签到（app 扫描电视上的二维码；重复签到只记一次）",
)
@refusals
def check_in(request: HttpRequest, payload: CheckInIn):
    from courses.sessions.codes import session_id_of

    session_id = session_id_of(payload.code)
    session = selectors.session_get(session_id) if session_id else None
    if session is None:
        return Status(404, {"detail": _("签到码无效：请扫描电视或投影上正在显示的二维码。")})
    attendance, created = services.session_check_in(session=session, member=api_user(request), token=payload.code)
    return {
        "session_id": session.pk,
        "branch": session.branch.name,
        "checked_in_at": attendance.checked_in_at,
        "created": created,
    }
