"""Member pages of the courses: the course index, the course page (countdown, lessons with progress, the quiz
entry), the quiz (server-rendered questions without answers, enhanced by quiz.mjs: autosave, offline queue, a
timer on the server's clock), the result, and practice.

The quiz works without JavaScript too: the form posts every answer and submits (``quiz_submit``). Every write goes
through courses.services; pages that show a member's own state are never cached by proxies.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from library.selectors import item_url, library_page

from .. import selectors, services
from ..errors import CourseError
from ..models import CoursePage, QuizAttempt
from .premiere import live_premiere

PRACTICE_COUNT = 10


def _page_url(page: CoursePage, route: str, **kwargs) -> str:
    return page.url + page.reverse_subpage(route, kwargs=kwargs or None)


def _sign_in(request):
    return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))


def _private(response):
    add_never_cache_headers(response)
    return response


def _render(request, template: str, page: CoursePage, **context):
    context = {"page": page, "self": page, **context}
    return _private(TemplateResponse(request, template, context))


# --- The index and the course page --------------------------------------------------------------------------------


def course_index_context(request, *, page) -> dict:
    now = timezone.now()
    courses = list(selectors.courses_visible_to(request.user).child_of(page).select_related("cover"))
    current = selectors.course_current(now=now, member=request.user)
    current = current if current and any(course.pk == current.pk for course in courses) else None
    return {"now": now, "current": current, "courses": [course for course in courses if course != current]}


def _lesson_rows(progress, *, started: bool) -> list[dict]:
    page = library_page()
    return [
        {
            "progress": row,
            "item": row.lesson.item,
            "url": item_url(row.lesson.item, page) if started and row.readable else "",
        }
        for row in progress.lessons
    ]


def course_page_context(request, *, page: CoursePage) -> dict:
    now = timezone.now()
    member = request.user
    status = selectors.quiz_status(member=member, course=page, now=now)
    if status.open_attempt is not None and now > status.open_attempt.deadline:
        services.quiz_attempt_close_if_overdue(attempt_id=status.open_attempt.pk, now=now)
        status = selectors.quiz_status(member=member, course=page, now=now)
    progress = selectors.course_progress(member=member, course=page)
    started = now >= page.premiere_at
    return {
        "now": now,
        "started": started,
        "lessons": _lesson_rows(progress, started=started),
        "progress": progress,
        "quiz": status,
        "in_audience": selectors.in_audience(member=member, course=page) if member.is_authenticated else True,
        "quiz_url": _page_url(page, "quiz_route"),
        "start_url": _page_url(page, "quiz_start_route"),
        "practice_url": _page_url(page, "practice_route"),
        "best_url": _page_url(page, "quiz_result_route", attempt_id=status.best.pk) if status.best else "",
        "has_practice": bool(page.question_bank_id and page.pk) and selectors.practice_pool(course=page).exists(),
        "time_url": "/api/v1/courses/time",
        # Secretaries, committee members and editors run their branches' sessions from here.
        "live": live_premiere(request, page=page) if started else None,
        "sessions_url": _page_url(page, "sessions_route") if selectors.branches_run_by(member).exists() else "",
        "reports_url": f"{reverse('courses_reports')}?course={page.pk}" if selectors.report_root(member) else "",
    }


# --- The quiz -----------------------------------------------------------------------------------------------------


def quiz_start(request, *, page: CoursePage):
    """The course page's 开始答题 button (a POST: a double press is the same attempt)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated:
        return _sign_in(request)
    try:
        services.quiz_attempt_start(member=request.user, course=page)
    except CourseError as exc:
        messages.error(request, exc.message)
        return redirect(page.url + "#quiz")
    return redirect(_page_url(page, "quiz_route"))


def _open_attempt(request, page: CoursePage) -> QuizAttempt | None:
    attempt = selectors.attempt_open_of(member=request.user, course=page)
    if attempt is not None and timezone.now() > attempt.deadline:
        services.quiz_attempt_close_if_overdue(attempt_id=attempt.pk)
        attempt = selectors.attempt_open_of(member=request.user, course=page)
    return attempt


def quiz_page(request, *, page: CoursePage):
    if not request.user.is_authenticated:
        return _sign_in(request)
    attempt = _open_attempt(request, page)
    if attempt is None:
        last = QuizAttempt.objects.filter(member=request.user, course=page).order_by("-number").first()
        return redirect(_page_url(page, "quiz_result_route", attempt_id=last.pk) if last else page.url + "#quiz")
    now = timezone.now()
    return _render(
        request,
        "courses/quiz.html",
        page,
        attempt=attempt,
        questions=[_with_blank_inputs(question) for question in selectors.attempt_questions(attempt=attempt)],
        seconds_left=selectors.seconds_left(attempt=attempt, now=now),
        grace_seconds=selectors.grace_seconds(),
        submit_url=_page_url(page, "quiz_submit_route"),
        result_url=_page_url(page, "quiz_result_route", attempt_id=attempt.pk),
    )


def _with_blank_inputs(question: dict) -> dict:
    """One text box per blank, holding what is saved."""
    saved = (question["saved"] or {}).get("blanks", [])
    count = question["blank_count"]
    return question | {"blank_inputs": (list(saved) + [""] * count)[:count]}


def _form_writes(request, attempt: QuizAttempt) -> list[services.AnswerWrite]:
    """The no-script form's answers: ``q-<ref>`` option ids, ``b-<ref>`` blank texts (one field per blank)."""
    seq = int(timezone.now().timestamp() * 1000)
    writes = []
    for question in selectors.attempt_questions(attempt=attempt):
        ref = question["ref"]
        if question["kind"] == "blank":
            blanks = request.POST.getlist(f"b-{ref}")
            if any(text.strip() for text in blanks):
                writes.append(services.AnswerWrite(ref=ref, answer_id=uuid.uuid4(), seq=seq, blanks=blanks))
        elif request.POST.getlist(f"q-{ref}"):
            options = request.POST.getlist(f"q-{ref}")
            writes.append(services.AnswerWrite(ref=ref, answer_id=uuid.uuid4(), seq=seq, options=options))
    return writes


def quiz_submit(request, *, page: CoursePage):
    """Without script: save the form's answers, then hand in (or, with 保存, come back to the quiz)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated:
        return _sign_in(request)
    attempt = selectors.attempt_open_of(member=request.user, course=page)
    if attempt is None:
        return redirect(_page_url(page, "quiz_route"))
    try:
        writes = _form_writes(request, attempt)
        if writes:
            services.quiz_answers_save(member=request.user, attempt_id=attempt.pk, writes=writes)
        if request.POST.get("action") == "save":
            messages.success(request, _("答案已保存。"))
            return redirect(_page_url(page, "quiz_route"))
        services.quiz_attempt_submit(member=request.user, attempt_id=attempt.pk)
    except CourseError as exc:
        messages.error(request, exc.message)
    return redirect(_page_url(page, "quiz_result_route", attempt_id=attempt.pk))


def quiz_result(request, *, page: CoursePage, attempt_id: int):
    if not request.user.is_authenticated:
        return _sign_in(request)
    attempt = selectors.attempt_of_member(member=request.user, attempt_id=attempt_id)
    if attempt is None or attempt.course_id != page.pk:
        raise Http404(_("未找到这次答题"))
    if attempt.is_open and timezone.now() > attempt.deadline:
        attempt = services.quiz_attempt_close_if_overdue(attempt_id=attempt.pk) or attempt
    if attempt.is_open:
        return redirect(_page_url(page, "quiz_route"))
    status = selectors.quiz_status(member=request.user, course=page)
    return _render(
        request,
        "courses/result.html",
        page,
        attempt=attempt,
        result=selectors.attempt_result(attempt=attempt),
        quiz=status,
        start_url=_page_url(page, "quiz_start_route"),
    )


# --- Practice -------------------------------------------------------------------------------------------------------


def _practice_rows(questions, answers: dict | None = None) -> list[dict]:
    rows = []
    for question in questions:
        row = {
            "question": question,
            "options": selectors.practice_options(question),
            "blank_range": range(selectors.practice_blank_count(question)),
        }
        if answers is not None:
            row["check"] = answers.get(question.pk)
        rows.append(row)
    return rows


def practice_page(request, *, page: CoursePage):
    """Practice: a random handful each time (GET), checked all at once without script (POST); practice.mjs checks
    each answer as it is given."""
    if not request.user.is_authenticated:
        return _sign_in(request)
    if not page.question_bank_id:
        raise Http404(_("本期课程没有练习题"))
    topic = request.GET.get("topic", "")[:64]
    if request.method == "POST":
        return _practice_checked(request, page)
    questions = selectors.practice_questions(course=page, topic=topic, count=PRACTICE_COUNT)
    return _render(
        request,
        "courses/practice.html",
        page,
        rows=_practice_rows(questions),
        topics=selectors.practice_topics(course=page),
        topic=topic,
        practice_url=_page_url(page, "practice_route"),
    )


def _practice_checked(request, page: CoursePage):
    ids = [int(value) for value in request.POST.getlist("question") if value.isdigit()][:PRACTICE_COUNT]
    questions = [
        q for q in (selectors.practice_question_get(pk) for pk in ids) if q and q.bank_id == page.question_bank_id
    ]
    checks = {}
    for question in questions:
        try:
            checks[question.pk] = services.practice_check(
                question_id=question.pk,
                options=request.POST.getlist(f"q-{question.pk}"),
                blanks=[text for text in request.POST.getlist(f"b-{question.pk}")],
            )
        except CourseError:
            checks[question.pk] = None
    return _render(
        request,
        "courses/practice.html",
        page,
        rows=_practice_rows(questions, checks),
        topics=selectors.practice_topics(course=page),
        topic="",
        practice_url=_page_url(page, "practice_route"),
        checked=True,
    )
