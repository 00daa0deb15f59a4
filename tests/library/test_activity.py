"""Member activity: history, favourites, resume across devices and honest study time (library/activity.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from cms.models import OrgUnit
from cms.services import member_create
from library import activity
from library.models import ItemProgress, LibraryItem, StudyDay
from library.site.my_library import HISTORY_PER_PAGE
from tests.factories import EbookFactory, MemberFactory, VideoFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def member(unit_tree, library_page):
    return MemberFactory(username="wang", org_unit=unit_tree["zouping"])


def _beat(member, item, seconds_after, active, **extra):
    fields = {"position": extra.pop("position", seconds_after)} | extra
    return activity.progress_heartbeat(
        member=member, item=item, active_seconds=active, now=T0 + timedelta(seconds=seconds_after), **fields
    )


def _studied(member):
    return sum(ItemProgress.objects.filter(member=member).values_list("study_seconds", flat=True))


def test_first_open_counts_one_read_and_enters_history(unit, member):
    """Opening an item records it in history; only a member's first open counts as a read."""
    item = VideoFactory(owning_unit=unit)
    activity.item_opened(member=member, item=item)
    activity.item_opened(member=member, item=item)
    other = member_create(username="li", password="pw-123456")
    activity.item_opened(member=other, item=item)
    item.refresh_from_db()
    assert item.read_count == 2
    rows, _next = activity.history_of(member=member)
    assert [row.item_id for row in rows] == [item.pk]


def test_steady_playback_is_credited_in_full(unit, member):
    """One device beating every 20 s with 20 active seconds is credited 20 s a beat."""
    item = VideoFactory(owning_unit=unit)
    for beat in range(10):
        _beat(member, item, beat * 20, 20)
    assert _studied(member) == 200


def test_client_claiming_an_hour_gets_one_interval(unit, member):
    """A client cannot inflate time: claiming 3600 s credits no more than the time since its last beat."""
    item = VideoFactory(owning_unit=unit)
    first = _beat(member, item, 0, 3600)
    assert first.study_seconds <= activity.HEARTBEAT_SECONDS + activity.GRACE_SECONDS
    second = _beat(member, item, 20, 3600)
    assert second.study_seconds - first.study_seconds <= 20 + activity.GRACE_SECONDS


def test_two_devices_at_once_do_not_double_count(unit, member):
    """Phone and tablet playing two items at once for ten minutes earn about ten minutes, not twenty."""
    phone_item, tablet_item = VideoFactory(owning_unit=unit, title="甲"), VideoFactory(owning_unit=unit, title="乙")
    for beat in range(30):
        _beat(member, phone_item, beat * 20, 20)
        _beat(member, tablet_item, beat * 20 + 10, 20)
    wall = 29 * 20 + 10
    assert _studied(member) <= wall + activity.HEARTBEAT_SECONDS + activity.GRACE_SECONDS
    assert _studied(member) >= wall - activity.HEARTBEAT_SECONDS


def test_two_tabs_on_one_item_do_not_double_count(unit, member):
    """Two tabs of the same item beating together share one clock."""
    item = VideoFactory(owning_unit=unit)
    for beat in range(30):
        _beat(member, item, beat * 20, 20)
        _beat(member, item, beat * 20 + 1, 20)
    assert _studied(member) <= 29 * 20 + 1 + activity.HEARTBEAT_SECONDS + activity.GRACE_SECONDS


def test_idle_beats_earn_nothing_but_save_the_place(unit, member):
    """A beat with no active seconds credits no time and makes no StudyDay row, yet saves the position."""
    item = VideoFactory(owning_unit=unit)
    progress = _beat(member, item, 0, 0, position=95.5)
    assert progress.study_seconds == 0 and progress.position == 95.5
    assert not StudyDay.objects.exists()


def test_a_long_silence_starts_a_new_session(unit, member):
    """After two hours away, the first beat back credits at most one interval whatever it claims."""
    item = VideoFactory(owning_unit=unit)
    _beat(member, item, 0, 20)
    progress = _beat(member, item, 7200, 60)
    assert progress.study_seconds - 20 <= activity.HEARTBEAT_SECONDS + activity.GRACE_SECONDS


def test_study_days_use_local_time(unit, member):
    """Study time is filed under the day in Asia/Shanghai: 16:30 UTC is already the next day there."""
    item = VideoFactory(owning_unit=unit)
    late = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    activity.progress_heartbeat(member=member, item=item, position=1, active_seconds=20, now=late)
    activity.progress_heartbeat(
        member=member, item=item, position=2, active_seconds=20, now=late + timedelta(seconds=20)
    )
    days = list(StudyDay.objects.values_list("day", "seconds"))
    assert days == [(datetime(2026, 3, 2).date(), 40)]
    assert activity.study_seconds_of(member=member) == 40


def test_resume_across_devices_latest_wins_and_completed_sticks(unit, member):
    """The latest beat's place wins on every device; completion is never undone; a missing fraction is kept."""
    item = VideoFactory(owning_unit=unit)
    _beat(member, item, 0, 10, position=120, fraction=0.5, locator="epubcfi(/6/4)")
    assert activity.progress_of(member=member, item=item).position == 120
    _beat(member, item, 20, 10, position=30, completed=True)
    _beat(member, item, 40, 10, position=35, completed=False)
    progress = activity.progress_of(member=member, item=item)
    assert (progress.position, progress.fraction, progress.completed) == (35, 0.5, True)
    assert progress.locator == ""


def test_favourites_add_once_newest_first_and_remove(unit, member):
    """Adding twice keeps one favourite; the list is newest first; removing takes it out."""
    first, second = VideoFactory(owning_unit=unit, title="甲"), VideoFactory(owning_unit=unit, title="乙")
    activity.favourite_add(member=member, item=first)
    activity.favourite_add(member=member, item=first)
    activity.favourite_add(member=member, item=second)
    rows, _next = activity.favourites_of(member=member)
    assert [row.item_id for row in rows] == [second.pk, first.pk]
    activity.favourite_remove(member=member, item=second)
    assert [row.item_id for row in activity.favourites_of(member=member)[0]] == [first.pk]
    assert activity.is_favourite(member=member, item=first)


def test_history_is_most_recent_first_and_pages_without_gaps(unit, member):
    """History lists the most recently used first; keyset pages cover every row exactly once."""
    items = [VideoFactory(owning_unit=unit, title=f"第{n}集") for n in range(7)]
    for offset, item in enumerate(items):
        activity.item_opened(member=member, item=item, now=T0 + timedelta(minutes=offset % 3))  # ties on time
    seen, cursor = [], None
    while True:
        rows, cursor = activity.history_of(member=member, before=cursor, per_page=3)
        seen += [row.item_id for row in rows]
        if cursor is None:
            break
        cursor = activity.activity_cursor_parse(activity.activity_cursor_format(cursor))  # as a link carries it
    assert sorted(seen) == sorted(item.pk for item in items) and len(seen) == len(set(seen))
    stamps = [ItemProgress.objects.get(member=member, item_id=item_id).updated_at for item_id in seen]
    assert stamps == sorted(stamps, reverse=True)


def test_continue_lists_started_unfinished_items(unit, member):
    """继续学习 shows items with a heartbeat that are not completed, most recent first."""
    opened, started, finished, later = (
        VideoFactory(owning_unit=unit, title="只打开"),
        VideoFactory(owning_unit=unit, title="学了一半"),
        VideoFactory(owning_unit=unit, title="学完"),
        VideoFactory(owning_unit=unit, title="刚学"),
    )
    activity.item_opened(member=member, item=opened)
    _beat(member, started, 0, 20)
    _beat(member, finished, 20, 20, completed=True)
    _beat(member, later, 40, 20)
    rows, _next = activity.continue_items(member=member)
    assert [row.item_id for row in rows] == [later.pk, started.pk]


def test_items_that_become_unreadable_disappear_and_refuse_activity(unit, member):
    """An item made unit-only for another unit (or unpublished) leaves the member's lists and refuses writes."""
    item, hidden = VideoFactory(owning_unit=unit, title="公开"), VideoFactory(owning_unit=unit, title="后来限定")
    for each in (item, hidden):
        activity.favourite_add(member=member, item=each)
        _beat(member, each, 0 if each is item else 20, 20)
    hidden.access, hidden.access_unit = LibraryItem.Access.UNIT, OrgUnit.objects.get(code="yinan")
    hidden.save()
    for selector in (activity.favourites_of, activity.history_of, activity.continue_items):
        assert [row.item_id for row in selector(member=member)[0]] == [item.pk]
    with pytest.raises(activity.ItemNotReadable):
        _beat(member, hidden, 40, 20)
    with pytest.raises(activity.ItemNotReadable):
        activity.favourite_add(member=member, item=hidden)
    activity.favourite_remove(member=member, item=hidden)  # taking it out of one's own list still works
    item.is_published = False
    item.save()
    assert activity.history_of(member=member)[0] == []


@pytest.mark.parametrize(
    "fields",
    [{"position": -1}, {"position": float("nan")}, {"position": 1e30}, {"fraction": 1.5}, {"active_seconds": "x"}],
)
def test_bad_values_are_refused_and_nothing_is_stored(unit, member, fields):
    """The service refuses negative, NaN, huge or non-numeric values with a Chinese message, storing nothing."""
    values = {"position": 1, "active_seconds": 20} | fields
    with pytest.raises(ValidationError) as error:
        activity.progress_heartbeat(member=member, item=VideoFactory(owning_unit=unit), **values)
    assert "必须" in str(error.value)
    assert not ItemProgress.objects.exists()


def test_my_library_page_sends_visitors_to_login(client, library_page):
    """Anonymous visitors are redirected to the login page with a way back."""
    response = client.get("/library/me/")
    assert response.status_code == 302 and "next=/library/me/" in response["Location"]


def test_my_library_page_shows_three_sections(client, unit, member):
    """The page lists what to continue, favourites and history with study minutes, and pages each list."""
    started, favourite = (
        VideoFactory(owning_unit=unit, title="学了一半的课"),
        EbookFactory(owning_unit=unit, title="收藏的书"),
    )
    activity.progress_heartbeat(member=member, item=started, position=10, active_seconds=20)
    activity.favourite_add(member=member, item=favourite)
    for n in range(HISTORY_PER_PAGE + 1):
        activity.item_opened(
            member=member, item=VideoFactory(owning_unit=unit, title=f"历史{n}"), now=T0 - timedelta(minutes=n)
        )
    client.force_login(member)
    html = client.get("/library/me/").content.decode()
    for text in ("继续学习", "我的收藏", "学习记录", "学了一半的课", "收藏的书", "已收藏", "分钟"):
        assert text in html
    assert "history=" in html  # more history on the next page
    assert "progress.js" in html


def test_activity_rows_bring_their_item_cover_and_unit(unit, member, django_assert_num_queries):
    """Favourites, history and continue rows arrive with item, cover and owning unit joined: a list card reads
    them without one query per row."""
    for n in range(3):
        item = VideoFactory(owning_unit=unit, title=f"第{n}课")
        activity.favourite_add(member=member, item=item)
        _beat(member, item, n * 20, 20)
    for rows, _next in (
        activity.favourites_of(member=member),
        activity.history_of(member=member),
        activity.continue_items(member=member),
    ):
        assert len(rows) == 3
        with django_assert_num_queries(0):
            assert all(row.item.owning_unit.name == "山东省" and row.item.cover is None for row in rows)
