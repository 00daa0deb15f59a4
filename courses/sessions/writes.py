"""Writes for branch sessions. Each checks before it writes, inside one transaction, and is idempotent where a
person may press twice: checking in again, or being checked in by the secretary after scanning, is one row."""

import datetime
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import OrgUnit

from ..errors import QuizConflict, QuizForbidden, QuizInvalid
from ..models import BranchSession, CoursePage, SessionAttendance
from ..reports import hours as report_hours
from ..reports import stats as report_stats
from . import codes, reads

# Check-in by code is open from an hour before the start until the end of the session's day.
CHECKIN_EARLY = datetime.timedelta(hours=1)
MAX_TEXT = 5000


def _check_branch(*, by, course: CoursePage, branch: OrgUnit) -> None:
    from .. import selectors

    if branch.level != OrgUnit.Level.BRANCH:
        raise QuizInvalid(_("集中学习须由党支部组织。"))
    if not reads.may_run(by, branch):
        raise QuizForbidden(_("只有本支部书记、支委委员或上级编辑可以组织集中学习。"))
    if not selectors.in_audience(member=_UnitMember(branch), course=course):
        raise QuizForbidden(_("本期课程不面向这个支部。"))


class _UnitMember:
    """Asks ``in_audience`` about a branch as about one of its members."""

    is_superuser = False
    is_authenticated = True

    def __init__(self, unit: OrgUnit):
        self.org_unit_id = unit.pk


def session_open(
    *, by, course: CoursePage, branch: OrgUnit, starts_at: datetime.datetime, place: str, mode: str
) -> BranchSession:
    """Open a branch session for the course, between its premiere and its make-up deadline."""
    _check_branch(by=by, course=course, branch=branch)
    place = (place or "").strip()
    if not place or len(place) > 200:
        raise QuizInvalid(_("请填写地点（不超过 200 字）。"))
    if mode not in BranchSession.Mode.values:
        raise QuizInvalid(_("请选择学习形式。"))
    if not course.premiere_at - CHECKIN_EARLY <= starts_at <= course.makeup_deadline:
        raise QuizConflict(_("集中学习时间须在首播之后、补学截止之前。"))
    return BranchSession.objects.create(
        course=course,
        branch=branch,
        opened_by=by,
        starts_at=starts_at,
        place=place,
        mode=mode,
        checkin_secret=secrets.token_hex(16),
    )


def session_record(*, by, session: BranchSession, minutes: str, checkin_open: bool) -> BranchSession:
    """The secretary's record of the session: its minutes, and whether scanning still checks people in."""
    if not reads.may_run(by, session.branch):
        raise QuizForbidden(_("只有本支部书记、支委委员或上级编辑可以修改会议记录。"))
    if len(minutes or "") > MAX_TEXT * 4:
        raise QuizInvalid(_("会议记录太长（不超过 %(n)d 字）。") % {"n": MAX_TEXT * 4})
    session.minutes, session.checkin_open = (minutes or "").strip(), checkin_open
    session.save(update_fields=["minutes", "checkin_open"])
    return session


def session_checkin_reset(*, by, session: BranchSession) -> BranchSession:
    """A new secret: every code shown so far stops working (a photo of the screen went round)."""
    if not reads.may_run(by, session.branch):
        raise QuizForbidden(_("只有本支部书记、支委委员或上级编辑可以更换签到码。"))
    session.checkin_secret = secrets.token_hex(16)
    session.save(update_fields=["checkin_secret"])
    return session


def _attend(*, session: BranchSession, member, method: str, by, now) -> tuple[SessionAttendance, bool]:
    try:
        with transaction.atomic():
            attendance, created = SessionAttendance.objects.get_or_create(
                session=session,
                member=member,
                defaults={"method": method, "checked_in_at": now, "checked_in_by": by},
            )
            if created:
                report_stats.attendance_recorded(attendance=attendance)
                report_hours.refresh(member_id=member.pk, year=report_hours.year_of(session.starts_at))
            return attendance, created
    except IntegrityError:  # two presses raced past get's miss: the other one wrote the row
        return SessionAttendance.objects.get(session=session, member=member), False


def session_check_in(
    *, session: BranchSession, member, token: str, now: datetime.datetime | None = None
) -> tuple[SessionAttendance, bool]:
    """A member checks in with the code they scanned: (their attendance, whether this call made it)."""
    now = now or timezone.now()
    try:
        codes.check(session, token, now=now.timestamp())
    except codes.CodeRefused as exc:
        raise QuizConflict(str(exc)) from None
    return session_check_in_verified(session=session, member=member, now=now)


def session_check_in_verified(
    *, session: BranchSession, member, now: datetime.datetime | None = None
) -> tuple[SessionAttendance, bool]:
    """Check-in once the code is known good (also the path for a member who scanned, then had to sign in)."""
    now = now or timezone.now()
    if not session.checkin_open:
        raise QuizConflict(_("本次集中学习的扫码签到已关闭，请找支部书记签到。"))
    day_end = timezone.make_aware(datetime.datetime.combine(reads.session_day(session), datetime.time.max))
    if not session.starts_at - CHECKIN_EARLY <= now <= day_end:
        raise QuizConflict(_("现在不在签到时间内（开始前一小时至当天结束）。"))
    if not reads.member_in_branch_on(member, session.branch, reads.session_day(session)):
        raise QuizForbidden(_("你不是%(branch)s的党员，不能在这里签到。") % {"branch": session.branch.name})
    return _attend(session=session, member=member, method=SessionAttendance.Method.CODE, by=None, now=now)


def session_check_in_members(*, by, session: BranchSession, member_ids: list[int]) -> int:
    """The secretary checks in members without phones; returns how many were newly checked in. Every id must be a
    member of the branch that day: one stranger refuses the whole list."""
    if not reads.may_run(by, session.branch):
        raise QuizForbidden(_("只有本支部书记、支委委员或上级编辑可以代为签到。"))
    roster = {row.member.pk: row.member for row in reads.session_roster(session)}
    if any(pk not in roster for pk in member_ids):
        raise QuizInvalid(_("名单中有不属于本支部的人员，未做任何签到。"))
    now, created = timezone.now(), 0
    with transaction.atomic():
        for pk in dict.fromkeys(member_ids):
            _row, made = _attend(
                session=session, member=roster[pk], method=SessionAttendance.Method.SECRETARY, by=by, now=now
            )
            created += made
    return created


def session_reflection_save(*, session: BranchSession, member, text: str) -> SessionAttendance:
    """A member's 心得体会 on a session they attended (written again, it replaces the earlier one)."""
    attendance = reads.attendance_of(member=member, session=session)
    if attendance is None:
        raise QuizConflict(_("签到后才能提交心得体会。"))
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise QuizInvalid(_("心得体会不能为空，且不超过 %(n)d 字。") % {"n": MAX_TEXT})
    attendance.reflection, attendance.reflection_at = text, timezone.now()
    attendance.save(update_fields=["reflection", "reflection_at"])
    return attendance


MAX_PHOTOS = 12


def session_photos_add(*, by, session: BranchSession, files: list) -> int:
    """Photos of the session (at most twelve in all), as pictures of the branch's nearest collection; every file
    is checked as an image first (format, size) and a bad one refuses the whole upload."""
    from django.core.exceptions import ValidationError
    from wagtail.images import get_image_model
    from wagtail.images.fields import WagtailImageField
    from wagtail.models import Collection

    if not reads.may_run(by, session.branch):
        raise QuizForbidden(_("只有本支部书记、支委委员或上级编辑可以上传照片。"))
    if session.photos.count() + len(files) > MAX_PHOTOS:
        raise QuizInvalid(_("每次集中学习最多 %(n)d 张照片。") % {"n": MAX_PHOTOS})
    field = WagtailImageField()
    for upload in files:
        try:
            field.clean(upload)
        except ValidationError as exc:
            raise QuizInvalid(
                _("“%(name)s”不是可用的图片：%(why)s") % {"name": upload.name, "why": "；".join(exc.messages)}
            ) from None
    collection_id = next(
        (
            unit.collection_id
            for unit in reversed([*session.branch.get_ancestors(), session.branch])
            if unit.collection_id
        ),
        Collection.get_first_root_node().pk,
    )
    image_model = get_image_model()
    with transaction.atomic():
        for upload in files:
            upload.seek(0)
            image = image_model(
                title=f"{session.branch.name}集中学习", file=upload, collection_id=collection_id, uploaded_by_user=by
            )
            image.save()
            session.photos.create(image=image)
    return len(files)
