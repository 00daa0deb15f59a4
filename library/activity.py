"""Member activity in the library: services AND selectors for favourites, history, resume and honest study time.
Writes and reads live together here because they share one small vocabulary (a member's progress rows and their
keyset cursors); every access decision still goes through library.selectors.

Honest study time: a client sends a heartbeat every ``HEARTBEAT_SECONDS`` only while playback really runs or the
reader is really reading, saying how many seconds were active since its previous beat. The server never believes
more than the wall clock allows: a beat is credited at most the time since this member's previous beat for ANY
item (plus a little grace for network jitter), and never more than ``MAX_CREDIT_SECONDS``. So two tabs or two
devices at once share one clock instead of doubling it, and a client claiming an hour gets one interval.
"""

import logging
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, Max, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .events import study_credited
from .models import Favourite, ItemProgress, LibraryItem, StudyDay
from .selectors import items_visible_to, visible_item_q

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20  # how often progress.js beats while active
GRACE_SECONDS = 5  # network jitter: a beat may arrive a little before a full interval has passed
MAX_CREDIT_SECONDS = 60  # one beat never credits more; a longer silence starts a new session
MAX_POSITION = 10_000_000  # seconds (115 days) or pages: anything larger is a broken client
MAX_ACTIVE_SECONDS = 86_400
LOCATOR_MAX_LENGTH = 512

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ActivityCursor = tuple[datetime, int]  # (created_at or updated_at, id) of the last row shown
ENTRY_JOINS = ("item", "item__cover", "item__owning_unit")  # what a list card shows: one query for a whole page


class ItemNotReadable(Http404):
    """The member may not read this item (or it does not exist): callers answer 404 and never say which."""


# --- Services --------------------------------------------------------------------------------------------


def _readable_item(*, member, item: LibraryItem) -> LibraryItem:
    if not items_visible_to(member).filter(pk=item.pk).exists():
        raise ItemNotReadable(_("未找到该条目"))
    return item


def _progress_get_or_create(*, member, item: LibraryItem, now: datetime) -> tuple[ItemProgress, bool]:
    """The member's row for the item; the first time a member opens an item it counts one read."""
    progress, created = ItemProgress.objects.get_or_create(
        member=member, item=item, defaults={"first_opened_at": now, "updated_at": now}
    )
    if created:
        # F(): concurrent first opens by different members must not lose counts.
        LibraryItem.objects.filter(pk=item.pk).update(read_count=F("read_count") + 1)
    return progress, created


def item_opened(*, member, item: LibraryItem, now: datetime | None = None) -> ItemProgress:
    """A member opened an item's page or player: it enters (or moves to the top of) their history."""
    _readable_item(member=member, item=item)
    now = now or timezone.now()
    with transaction.atomic():
        progress, created = _progress_get_or_create(member=member, item=item, now=now)
        if not created:
            ItemProgress.objects.filter(pk=progress.pk).update(updated_at=now)
            progress.updated_at = now
    return progress


def favourite_add(*, member, item: LibraryItem) -> Favourite:
    """Idempotent: adding twice keeps the first date."""
    _readable_item(member=member, item=item)
    favourite, _created = Favourite.objects.get_or_create(member=member, item=item)
    return favourite


def favourite_remove(*, member, item: LibraryItem) -> None:
    """Removing works even for an item the member can no longer read, so nothing is stuck in their list."""
    Favourite.objects.filter(member=member, item=item).delete()


def _number(value, *, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(_("%(name)s 必须是数字") % {"name": name}) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValidationError(_("%(name)s 必须在 %(low)s 到 %(high)s 之间") % {"name": name, "low": low, "high": high})
    return number


def _heartbeat_allowance(*, previous: datetime | None, now: datetime) -> float:
    """How many seconds this beat may claim at most, by the member's own clock across all items and devices."""
    if previous is None:
        return HEARTBEAT_SECONDS + GRACE_SECONDS
    elapsed = (now - previous).total_seconds()
    if elapsed > MAX_CREDIT_SECONDS:
        return HEARTBEAT_SECONDS + GRACE_SECONDS  # first beat of a new session: one interval at most
    return elapsed + GRACE_SECONDS  # may be ≤ 0: another device already claimed this stretch of time


def heartbeat_credit(*, active_seconds: float, previous: datetime | None, now: datetime) -> int:
    """Seconds of study a beat earns: what the client says it was active, capped by the clock and the maximum."""
    allowance = _heartbeat_allowance(previous=previous, now=now)
    return int(max(0.0, min(float(active_seconds), allowance, MAX_CREDIT_SECONDS)))


def _lock_member(member) -> None:
    """Serialise one member's beats (two devices at once) so both cannot read the same previous beat."""
    get_user_model().objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).first()


def progress_heartbeat(
    *,
    member,
    item: LibraryItem,
    position: float,
    locator: str = "",
    fraction: float | None = None,
    active_seconds: float,
    completed: bool = False,
    now: datetime | None = None,
) -> ItemProgress:
    """Save where the member is (latest beat wins across devices) and credit honest study time.

    ``last_heartbeat_at`` marks the end of the study time credited so far: at most ``GRACE_SECONDS`` ahead of
    the clock, so interleaved beats from two devices share one timeline instead of each claiming it."""
    position = _number(position, name="position", low=0, high=MAX_POSITION)
    active_seconds = _number(active_seconds, name="active_seconds", low=0, high=MAX_ACTIVE_SECONDS)
    if fraction is not None:
        fraction = _number(fraction, name="fraction", low=0, high=1)
    locator = locator or ""
    if len(locator) > LOCATOR_MAX_LENGTH:
        raise ValidationError(_("阅读位置过长（最多 %(max)d 个字符）") % {"max": LOCATOR_MAX_LENGTH})
    _readable_item(member=member, item=item)
    now = now or timezone.now()
    with transaction.atomic():
        _lock_member(member)
        previous = ItemProgress.objects.filter(member=member).aggregate(last=Max("last_heartbeat_at"))["last"]
        credit = heartbeat_credit(active_seconds=active_seconds, previous=previous, now=now)
        row, _created = _progress_get_or_create(member=member, item=item, now=now)
        progress = ItemProgress.objects.select_for_update().get(pk=row.pk)
        progress.position = position
        progress.locator = locator
        if fraction is not None:
            progress.fraction = fraction
        progress.completed = progress.completed or bool(completed)  # sticky: re-watching never un-completes
        progress.study_seconds += credit
        progress.last_heartbeat_at = max(now, previous + timedelta(seconds=credit)) if previous else now
        progress.updated_at = now
        progress.save()
        if credit:
            _study_day_add(member=member, item=item, now=now, seconds=credit)
            _study_credited_on_commit(member_id=member.pk, item_id=item.pk, seconds=credit, at=now)
    logger.debug("heartbeat member=%s item=%s claimed=%s credited=%s", member.pk, item.pk, active_seconds, credit)
    return progress


def _study_credited_on_commit(*, member_id: int, item_id: int, seconds: int, at: datetime) -> None:
    """Tell whoever listens (courses: lessons done) after commit; a listener's failure never fails the beat."""

    def announce():
        study_credited.send(sender=ItemProgress, member_id=member_id, item_id=item_id, seconds=seconds, at=at)

    transaction.on_commit(announce, robust=True)


def _study_day_add(*, member, item: LibraryItem, now: datetime, seconds: int) -> None:
    """Reports add up days in the organisation's own time zone, not UTC."""
    day = timezone.localtime(now, timezone.get_default_timezone()).date()
    study_day, _created = StudyDay.objects.get_or_create(member=member, item=item, day=day)
    StudyDay.objects.filter(pk=study_day.pk).update(seconds=F("seconds") + seconds)


# --- Selectors -------------------------------------------------------------------------------------------


def _visible(member) -> Exists:
    return visible_item_q(member)


def _keyset(
    rows: QuerySet, *, key: str, before: ActivityCursor | None, per_page: int
) -> tuple[list, ActivityCursor | None]:
    if before is not None:
        value, row_id = before
        rows = rows.filter(Q(**{f"{key}__lt": value}) | Q(**{key: value, "id__lt": row_id}))
    page = list(rows.order_by(f"-{key}", "-id")[: per_page + 1])
    next_cursor = (getattr(page[per_page - 1], key), page[per_page - 1].pk) if len(page) > per_page else None
    return page[:per_page], next_cursor


def favourites_of(
    *, member, before: ActivityCursor | None = None, per_page: int = 20
) -> tuple[list[Favourite], ActivityCursor | None]:
    """The member's favourites they may still read, newest first; (rows, next cursor)."""
    rows = Favourite.objects.filter(_visible(member), member=member).select_related(*ENTRY_JOINS)
    return _keyset(rows, key="created_at", before=before, per_page=per_page)


def history_of(
    *, member, before: ActivityCursor | None = None, per_page: int = 20
) -> tuple[list[ItemProgress], ActivityCursor | None]:
    """Items the member opened and may still read, most recently used first, with their study time."""
    rows = ItemProgress.objects.filter(_visible(member), member=member).select_related(*ENTRY_JOINS)
    return _keyset(rows, key="updated_at", before=before, per_page=per_page)


# Really started: studied for a while, or moved on in it. A heartbeat alone is not enough: leaving a page sends one
# with nothing in it, and an item merely opened must not sit in 继续学习.
STARTED = Q(study_seconds__gt=0) | Q(position__gt=0) | Q(fraction__gt=0)


def continue_items(
    *, member, before: ActivityCursor | None = None, per_page: int = 20
) -> tuple[list[ItemProgress], ActivityCursor | None]:
    """Really started (some study time, or a position or progress past the start) and not completed, most recent
    first: 继续学习 on 我的图书馆 and the home page."""
    rows = ItemProgress.objects.filter(STARTED, _visible(member), member=member, completed=False).select_related(
        *ENTRY_JOINS
    )
    return _keyset(rows, key="updated_at", before=before, per_page=per_page)


def series_resume(*, member, series: LibraryItem) -> ItemProgress | None:
    """The episode of this series the member studied last (really started, and still open to them), with its
    progress: where 继续播放 picks up. None for visitors and for members who have not started the series."""
    if not getattr(member, "is_authenticated", False):
        return None
    rows = ItemProgress.objects.filter(STARTED, _visible(member), member=member, item__parent=series)
    return rows.select_related("item").order_by("-updated_at", "-id").first()


def progress_of(*, member, item: LibraryItem) -> ItemProgress | None:
    if not getattr(member, "is_authenticated", False):
        return None
    return ItemProgress.objects.filter(member=member, item=item).first()


def is_favourite(*, member, item: LibraryItem) -> bool:
    if not getattr(member, "is_authenticated", False):
        return False
    return Favourite.objects.filter(member=member, item=item).exists()


@dataclass(frozen=True)
class ItemStudyTime:
    today: int = 0
    total: int = 0


@dataclass(frozen=True)
class StudyTime:
    """A member's honest study seconds today and in all, and per item asked for: one calculation over the
    heartbeat's StudyDay rows, so an item's row and the totals can never disagree."""

    today: int
    total: int
    items: dict[int, ItemStudyTime]

    def of(self, item_id: int) -> ItemStudyTime:
        return self.items.get(item_id, ItemStudyTime())


def study_time_of(*, member, item_ids=(), today: date | None = None) -> StudyTime:
    """The member's study time (today is the organisation's local day): the totals in one query, the items asked
    for in one more, both read from the same rows with the same sums. What 我的图书馆's totals and rows and the home
    page's 继续学习 show."""
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    rows = StudyDay.objects.filter(member=member)
    sums = {"total": Sum("seconds"), "today": Sum("seconds", filter=Q(day=today))}
    totals = rows.aggregate(**sums)
    per_item = {}
    if item_ids:
        for row in rows.filter(item_id__in=list(item_ids)).values("item_id").annotate(**sums).order_by():
            per_item[row["item_id"]] = ItemStudyTime(today=row["today"] or 0, total=row["total"] or 0)
    return StudyTime(today=totals["today"] or 0, total=totals["total"] or 0, items=per_item)


def study_seconds_of(*, member, since=None) -> int:
    """The member's total honest study time (all items), optionally from a local date on."""
    rows = StudyDay.objects.filter(member=member)
    if since is not None:
        rows = rows.filter(day__gte=since)
    return rows.aggregate(total=Sum("seconds"))["total"] or 0


def stamp_format(value: datetime) -> str:
    """A moment as whole microseconds since the epoch: exact, and only digits (safe in any URL unescaped)."""
    return str((value - EPOCH) // timedelta(microseconds=1))


INT64_MAX = 2**63 - 1  # what a database integer column can hold


def int64(raw: str) -> int:
    """``raw`` as an integer a database can compare (a larger one reaches the driver and fails there: a 500);
    ValueError otherwise."""
    number = int(raw)
    if not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise ValueError(raw)
    return number


def stamp_parse(raw: str) -> datetime:
    return EPOCH + timedelta(microseconds=int(raw))


def activity_cursor_format(cursor: ActivityCursor | None) -> str:
    return f"{stamp_format(cursor[0])}_{cursor[1]}" if cursor else ""


def activity_cursor_parse(raw: str | None) -> ActivityCursor | None:
    """The cursor a "more" link or an app sends back; raises ValidationError for anything else."""
    if not raw:
        return None
    try:
        stamp, row_id = raw.split("_", 1)
        return stamp_parse(stamp), int64(row_id)
    except (ValueError, OverflowError):
        raise ValidationError(_("翻页参数无效")) from None
