"""The slides chosen when a manifest is computed: a newspaper's latest front page, the current 灯塔大课堂 course's
promotion and the clock. Each becomes a resolver ``Step`` (its seconds are the entry's own) or is skipped with a
short Chinese reason for the editor, like a video without a rendition for the screen.

Content comes through the other apps' front doors: a newspaper's issues the public may open
(``library.selectors.items_visible_to``) and their page images (``library.models.IssuePage``); the course members
of the channel's unit see first (``courses.selectors.course_current``), shown only when anyone may open it
(``courses.selectors.course_public``: a screen stands in a public place). Nothing closed to the public reaches a
manifest: not its words, not its picture, not a link to either. "Latest" and "current" mean at the moment
the manifest is computed; a new issue, a page image or a course change recomputes it (``screens.signal_handlers``).
"""

import hashlib
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.utils.translation import gettext as _

from courses.selectors import AudienceMember, course_current, course_public
from library.models import IssuePage, LibraryItem
from library.selectors import images_closed_to_public, items_visible_to

from .models import SCHEDULE_TIME_ZONE, PlaylistEntry
from .schedule.timeline import Step

NEWEST_ISSUES = 30  # issues read, newest first, to find one with a page image (a paper's pages arrive after it)


class ClosedReason(str):
    """Why an entry is skipped, naming content not everyone may open (a members-only item, one unit's course): the
    editor's preview shows it as it is; a device's manifest says only ``closed_reason_for_devices()``
    (``manifest._skipped``), so not even a title of it reaches a screen."""


def closed_reason_for_devices() -> str:
    return _("这一条不是对所有人公开的内容，公共屏幕不播放。")


def image_key(image, image_filter: str) -> str:
    """The manifest's key of a picture as this screen shows it. Every upload has its own file name (random bits,
    ``cms.models.LighthouseImage``), so a replaced picture gets a new key and a player never keeps the old file."""
    fingerprint = hashlib.sha256(image.file.name.encode()).hexdigest()[:12]
    return f"image:{image.pk}:{image_filter}:{fingerprint}"


def _day(value) -> str:
    return _("%(year)s年%(month)s月%(day)s日") % {"year": value.year, "month": value.month, "day": value.day}


# --- Newspaper front page -----------------------------------------------------------------------------------------


def front_page(title: LibraryItem) -> IssuePage | None:
    """The first page with an image of the newest public issue of a newspaper title that has one (by the issue's
    own date, then the newest loaded)."""
    issues = items_visible_to(AnonymousUser()).filter(parent=title, role=LibraryItem.Role.ISSUE)
    newest = list(
        issues.order_by(F("issued").desc(nulls_last=True), "-published_at", "-id").values_list("pk", flat=True)[
            :NEWEST_ISSUES
        ]
    )
    pages = IssuePage.objects.filter(issue_id__in=newest, image__isnull=False).select_related("issue", "image")
    by_issue: dict[int, IssuePage] = {}
    for page in pages.order_by("number"):
        by_issue.setdefault(page.issue_id, page)
    return next((by_issue[pk] for pk in newest if pk in by_issue), None)


def newspaper_step(entry: PlaylistEntry, *, image_filter: str, public_items: set[int]) -> tuple[Step | None, str]:
    title = entry.item
    if title.pk not in public_items:
        return None, ClosedReason(_("“%(title)s”未发布或不是公开条目，屏幕不播放。") % {"title": title.title})
    page = front_page(title)
    if page is None:
        return None, _("“%(title)s”还没有带版面图的一期，屏幕先跳过它；上传版面图后自动显示。") % {"title": title.title}
    issue = page.issue
    issue_text = " ".join(part for part in (_day(issue.issued) if issue.issued else "", issue.number) if part)
    detail = (
        ("title", title.title),
        ("issue", issue_text or issue.title),
        ("issued", issue.issued.isoformat() if issue.issued else None),
        ("page", page.name or _("第%(number)s版") % {"number": page.number}),
    )
    label = f"{title.title} {issue_text}".strip()
    return Step(entry.pk, entry.kind, float(entry.duration), label, image_key(page.image, image_filter), detail), ""


# --- Course promotion ---------------------------------------------------------------------------------------------


def course_step(entry: PlaylistEntry, *, unit_id: int, image_filter: str, now: datetime) -> tuple[Step | None, str]:
    """The course the members of the channel's unit see first (running, else the next to premiere), or when not
    everyone may open that one (one unit's, behind a login, password or group restriction, unpublished) the one
    everyone may; a course whose make-up deadline has passed is not promoted, nor a closed one. A cover that is a
    closed newspaper page is left out."""
    course = course_current(now=now, member=AudienceMember(unit_id))
    if course is not None and not course_public(course):
        # The unit's own course is for its members only: the lobby promotes the province-wide one instead, if any.
        course = course_current(now=now, member=AnonymousUser(), without_prompt=True) or course
    if course is None or course.makeup_deadline < now:
        return None, _("现在没有正在学习或即将首播的大课堂课程，屏幕先跳过这一条。")
    if not course_public(course):
        # Its title, theme and cover would tell a lobby what only some members may see: skipped, the editor told.
        reason = _(
            "当前的大课堂课程“%(title)s”不是对所有人公开的（只面向部分单位、需要登录或密码，或未发布），公共屏幕不推介它。"
        )
        return None, ClosedReason(reason % {"title": course.title})
    premiere = course.premiere_at.astimezone(SCHEDULE_TIME_ZONE)
    when = _("%(day)s %(time)s") % {"day": _day(premiere), "time": premiere.strftime("%H:%M")}
    detail = (
        ("heading", _("灯塔大课堂")),
        ("title", course.title),
        ("theme", course.theme),
        ("issue", _("第%(number)s期") % {"number": course.issue_number}),
        ("premiere_at", premiere.isoformat()),
        ("premiere", _("首播：%(when)s（北京时间）") % {"when": when}),
        ("text", entry.text),
    )
    cover = (
        course.cover if course.cover_id and course.cover_id not in images_closed_to_public([course.cover_id]) else None
    )
    key = image_key(cover, image_filter) if cover else None
    label = _("灯塔大课堂推介：%(title)s") % {"title": course.title}
    return Step(entry.pk, entry.kind, float(entry.duration), label, key, detail), ""


# --- Image slide -------------------------------------------------------------------------------------------------


def image_step(entry: PlaylistEntry, *, image_filter: str) -> tuple[Step | None, str]:
    """A picture from Wagtail's library, unless it is the page (版面) of an issue not everyone may open: such a file is
    served only signed, to readers who may see the issue, and a lobby screen is not one."""
    if entry.image_id in images_closed_to_public([entry.image_id]):
        return None, ClosedReason(
            _("图片“%(title)s”是不公开的报刊版面，公共屏幕不显示。") % {"title": entry.image.title}
        )
    key = image_key(entry.image, image_filter)
    return Step(entry.pk, entry.kind, float(entry.duration), str(entry.image), key), ""


# --- Clock --------------------------------------------------------------------------------------------------------


def info_step(entry: PlaylistEntry) -> Step:
    """The clock: the player draws the Beijing date and time from its server clock; the entry's short text under
    it. No file."""
    detail = (("heading", _("北京时间")), ("time_zone", "Asia/Shanghai"), ("text", entry.text))
    label = entry.text or str(PlaylistEntry.Kind.INFO.label)
    return Step(entry.pk, entry.kind, float(entry.duration), label, None, detail)
