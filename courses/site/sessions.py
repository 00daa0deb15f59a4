"""Branch session pages: the secretary's list and record of a session (roster, check-in for members without
phones, minutes), the TV mode (lessons full screen in order, the check-in code in a corner, a remote's keys), and
the member's check-in by scanned code with their reflection afterwards.

A code scanned by a member who is not signed in is remembered in their session for ten minutes, so signing in
first (slowly, on an old phone) does not make them scan again. Every write goes through courses.services."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from library.selectors import items_visible_to
from media_pipeline.selectors import asset_playback_urls

from .. import selectors, services
from ..errors import CourseError
from ..models import BranchSession, CoursePage
from ..sessions import codes
from .views import _page_url, _private, _render, _sign_in

PENDING_KEY = "courses_checkin"
PENDING_SECONDS = 600


def _session_of_course(request, page: CoursePage, session_id: int) -> BranchSession:
    session = selectors.session_run_by(request.user, session_id)
    if session is None or session.course_id != page.pk:
        raise Http404
    return session


def sessions_page(request, *, page: CoursePage):
    """The secretary's sessions for this course, and the form that opens one."""
    if not request.user.is_authenticated:
        return _sign_in(request)
    branches = list(selectors.branches_run_by(request.user).order_by("path")[:200])
    if not branches:
        raise Http404
    if request.method == "POST":
        return _session_open(request, page, branches)
    sessions = [
        (session, _page_url(page, "session_route", session_id=session.pk))
        for session in selectors.sessions_of(course=page, branches=branches)
    ]
    leads_branch = selectors.branches_as_secretary(request.user).exists()
    # The premiere when it is still to come, else now: a session arranged after the premiere is today's, and one
    # dated at a premiere of the day before could no longer be checked into (check-in ends with the session's day).
    default_start = max(page.premiere_at, timezone.now().replace(second=0, microsecond=0))
    return _render(
        request,
        "courses/sessions/list.html",
        page,
        branches=branches,
        sessions=sessions,
        leads_branch=leads_branch,
        default_start=default_start,
    )


def _session_open(request, page: CoursePage, branches):
    branch = next((b for b in branches if str(b.pk) == request.POST.get("branch")), None)
    starts_at = parse_datetime(request.POST.get("starts_at") or "")
    if branch is None or starts_at is None:
        messages.error(request, _("请选择支部并填写开始时间。"))
        return redirect(_page_url(page, "sessions_route"))
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    try:
        session = services.session_open(
            by=request.user,
            course=page,
            branch=branch,
            starts_at=starts_at,
            place=request.POST.get("place", ""),
            mode=request.POST.get("mode", ""),
        )
    except CourseError as exc:
        messages.error(request, exc.message)
        return redirect(_page_url(page, "sessions_route"))
    messages.success(request, _("已创建集中学习。开始时在电视或投影上打开“电视模式”，党员扫码签到。"))
    return redirect(_page_url(page, "session_route", session_id=session.pk))


def session_page(request, *, page: CoursePage, session_id: int):
    """One session: who came and who did not (with their make-up progress), check-in by the secretary, minutes."""
    if not request.user.is_authenticated:
        return _sign_in(request)
    session = _session_of_course(request, page, session_id)
    if request.method == "POST":
        return _session_post(request, page, session)
    roster = selectors.session_roster(session)
    return _render(
        request,
        "courses/sessions/manage.html",
        page,
        session=session,
        roster=roster,
        photos=session.photos.select_related("image").order_by("added_at"),
        present=sum(1 for row in roster if row.attendance),
        tv_url=_page_url(page, "session_tv_route", session_id=session.pk),
    )


def _session_post(request, page: CoursePage, session: BranchSession):
    action = request.POST.get("action")
    try:
        if action == "check_in":
            ids = [int(value) for value in request.POST.getlist("member") if value.isdigit()]
            count = services.session_check_in_members(by=request.user, session=session, member_ids=ids)
            messages.success(request, _("已代为签到 %(n)d 人。") % {"n": count})
        elif action == "record":
            services.session_record(
                by=request.user,
                session=session,
                minutes=request.POST.get("minutes", ""),
                checkin_open=request.POST.get("checkin_open") == "on",
            )
            messages.success(request, _("会议记录已保存。"))
        elif action == "photos":
            count = services.session_photos_add(by=request.user, session=session, files=request.FILES.getlist("photos"))
            messages.success(request, _("已上传 %(n)d 张照片。") % {"n": count})
        elif action == "reset_code":
            services.session_checkin_reset(by=request.user, session=session)
            messages.success(request, _("已更换签到码，之前显示的二维码全部失效。"))
    except CourseError as exc:
        messages.error(request, exc.message)
    return redirect(_page_url(page, "session_route", session_id=session.pk))


def _checkin_url(request, page: CoursePage, session: BranchSession) -> str:
    return request.build_absolute_uri(_checkin_path(page, codes.code_for(session)))


def _checkin_path(page: CoursePage, token: str) -> str:
    return f"{_page_url(page, 'checkin_route')}?{urlencode({'c': token})}"


def session_code(request, *, page: CoursePage, session_id: int):
    """The current check-in code as JSON for the TV's corner: the QR code (SVG), its URL, seconds until the next."""
    if not request.user.is_authenticated:
        raise Http404
    session = _session_of_course(request, page, session_id)
    url = _checkin_url(request, page, session)
    now = timezone.now().timestamp()
    refresh = codes.WINDOW_SECONDS - int(now) % codes.WINDOW_SECONDS
    present = session.attendances.count()
    return _private(JsonResponse({"svg": codes.qr_svg(url), "url": url, "refresh_in": refresh, "present": present}))


def _lesson_screens(request, page: CoursePage) -> list[dict]:
    lessons = selectors.course_lessons(page)
    open_ids = set(
        items_visible_to(request.user)
        .filter(pk__in=[lesson.item_id for lesson in lessons])
        .values_list("pk", flat=True)
    )
    screens = []
    for lesson in lessons:
        item = lesson.item
        urls = asset_playback_urls(asset=item.media_asset) if item.media_asset_id and item.pk in open_ids else {}
        screens.append({"lesson": lesson, "item": item, "hls": urls.get("hls", ""), "poster": urls.get("poster", "")})
    return screens


def session_tv(request, *, page: CoursePage, session_id: int):
    """TV mode: each lesson full screen in order, the code in a corner; arrows, Enter and Back drive it."""
    if not request.user.is_authenticated:
        return _sign_in(request)
    session = _session_of_course(request, page, session_id)
    return _render(
        request,
        "courses/sessions/tv.html",
        page,
        session=session,
        screens=_lesson_screens(request, page),
        qr_svg=codes.qr_svg(_checkin_url(request, page, session)),
        code_url=_page_url(page, "session_code_route", session_id=session.pk),
        back_url=_page_url(page, "session_route", session_id=session.pk),
    )


# --- The member's side: check-in by scanned code, then a reflection. ---------------------------------------------


def _pending_ok(request, session: BranchSession) -> bool:
    pending = request.session.get(PENDING_KEY) or {}
    at = pending.get("at", 0)
    return pending.get("s") == session.pk and 0 <= timezone.now().timestamp() - at <= PENDING_SECONDS


def _remember(request, session: BranchSession) -> None:
    request.session[PENDING_KEY] = {"s": session.pk, "at": timezone.now().timestamp()}


def _code_session(page: CoursePage, token: str) -> BranchSession:
    session_id = codes.session_id_of(token)
    session = selectors.session_get(session_id) if session_id else None
    if session is None or session.course_id != page.pk:
        raise Http404
    return session


def checkin_page(request, *, page: CoursePage, token: str):
    """GET: the member confirms (a scan must not check in by itself: link previews fetch URLs too); POST: checked
    in, then the reflection form. A code too old is accepted if this browser presented it in time."""
    session = _code_session(page, token)
    if request.method == "POST" and "reflection" in request.POST and request.user.is_authenticated:
        return _checkin_post(request, page, session, token)  # attended members write later too: no code needed
    error = ""
    try:
        codes.check(session, token)
        _remember(request, session)
    except codes.CodeRefused as exc:
        if not _pending_ok(request, session):
            error = str(exc)
    if not error and not request.user.is_authenticated:
        return _sign_in(request)
    attendance = selectors.attendance_of(member=request.user, session=session)
    if request.method == "POST" and not error:
        return _checkin_post(request, page, session, token)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return _render(request, "courses/sessions/checkin.html", page, session=session, error=error, attendance=attendance)


def _checkin_post(request, page: CoursePage, session: BranchSession, token: str):
    here = _checkin_path(page, token)
    try:
        if "reflection" in request.POST:
            services.session_reflection_save(session=session, member=request.user, text=request.POST["reflection"])
            messages.success(request, _("心得体会已提交，谢谢。"))
        else:
            _attendance, created = services.session_check_in_verified(session=session, member=request.user)
            messages.success(request, _("签到成功。") if created else _("你已经签到过了。"))
    except CourseError as exc:
        messages.error(request, exc.message)
    return redirect(here)
