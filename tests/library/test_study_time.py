"""Study time that visibly moves and agrees: 我的图书馆's totals and each item's row come from one calculation
(library.activity.study_time_of), under a minute reads 不足1分钟, the item page carries the clock progress.js counts
up, 继续学习 lists only what was really started, and a series page plays the first episode or the member's next one."""

from datetime import UTC, datetime, timedelta

import pytest

from library import activity
from library.models import ItemProgress
from library.templatetags.library_tags import study_duration
from tests.factories import MemberFactory, VideoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("library_page")]

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 2 March


@pytest.fixture
def member(unit):
    return MemberFactory(username="wang", org_unit=unit)


def _study(member, item, *, seconds, start, position=None):
    """``seconds`` of honest study of ``item`` from ``start``, in beats of 20 seconds as progress.js sends them."""
    done = 0
    while done < seconds:
        step = min(20, seconds - done)
        done += step
        activity.progress_heartbeat(
            member=member,
            item=item,
            position=position if position is not None else done,
            active_seconds=step,
            now=start + timedelta(seconds=done),
        )


def test_duration_words():
    """Under a minute is 不足1分钟 (never "0 分钟"); then minutes; from an hour on, hours and minutes."""
    assert [study_duration(value) for value in (0, 20, 59, 60, 119, 3725)] == [
        "不足1分钟",
        "不足1分钟",
        "不足1分钟",
        "1分钟",
        "1分钟",
        "1小时2分钟",
    ]


def test_totals_and_rows_are_one_calculation(unit, member):
    """Today's and the total time are the sums of the same rows the items' figures are read from: the rows add up
    to the total, and today's only counts today's local day."""
    first, second = VideoFactory(owning_unit=unit), VideoFactory(owning_unit=unit)
    _study(member, first, seconds=200, start=T0 - timedelta(days=1))
    _study(member, first, seconds=60, start=T0)
    _study(member, second, seconds=40, start=T0 + timedelta(minutes=10))
    study = activity.study_time_of(member=member, item_ids=[first.pk, second.pk], today=T0.date())
    assert (study.today, study.total) == (100, 300)
    assert (study.of(first.pk).total, study.of(first.pk).today) == (260, 60)
    assert study.of(second.pk).total == 40
    assert sum(study.of(item).total for item in (first.pk, second.pk)) == study.total
    # The progress rows the API and the item page's clock read were credited by the same beats.
    assert sorted(ItemProgress.objects.filter(member=member).values_list("study_seconds", flat=True)) == [40, 260]


def test_my_library_shows_time_from_the_first_seconds(client, unit, member):
    """20 seconds of study show at once on 我的图书馆: today, in all and on the item's rows read 不足1分钟 (not
    "0 分钟"); a few minutes more and the figures move together."""
    item = VideoFactory(owning_unit=unit, title="初心如磐")
    _study(member, item, seconds=20, start=datetime.now(UTC) - timedelta(seconds=30))
    client.force_login(member)
    html = client.get("/library/me/").content.decode()
    assert "今天学习 <strong>不足1分钟</strong>，累计学习 <strong>不足1分钟</strong>" in html
    assert "0 分钟" not in html and html.count("不足1分钟") == 4  # totals (2), 继续学习 card, history row

    _study(member, item, seconds=200, start=datetime.now(UTC))
    response = client.get("/library/me/")
    html = response.content.decode()
    assert "今天学习 <strong>3分钟</strong>，累计学习 <strong>3分钟</strong>" in html
    assert response.context["study"].total == 220 == response.context["history"][0].study.total


def test_continue_lists_only_what_was_really_started(unit, member):
    """Opening a page, or leaving it at once (a beat with nothing in it), does not put an item in 继续学习; time
    studied or a position past the start does; finishing takes it out."""
    opened, left, studied, moved, finished = (VideoFactory(owning_unit=unit) for _ in range(5))
    activity.item_opened(member=member, item=opened)
    activity.progress_heartbeat(member=member, item=left, position=0, active_seconds=0, now=T0)
    activity.progress_heartbeat(member=member, item=studied, position=0, active_seconds=15, now=T0 + timedelta(60))
    activity.progress_heartbeat(member=member, item=moved, position=120, active_seconds=0, now=T0 + timedelta(61))
    beat = {"position": 99, "active_seconds": 5, "completed": True, "now": T0 + timedelta(62)}
    activity.progress_heartbeat(member=member, item=finished, **beat)
    rows, _next = activity.continue_items(member=member)
    assert {row.item_id for row in rows} == {studied.pk, moved.pk}


def test_item_page_carries_the_clock_for_members(client, unit, member, library_page):
    """A member's item page has the study clock progress.js fills from the server's figure and counts up; the
    progress GET gives that figure; a visitor's page has none."""
    item = VideoFactory(owning_unit=unit)
    url = f"/library/item/{item.pk}/"
    assert "data-study-clock" not in client.get(url).content.decode()
    _study(member, item, seconds=40, start=T0)
    client.force_login(member)
    html = client.get(url).content.decode()
    assert f'data-study-clock="{item.pk}"' in html and "progress.js" in html
    assert client.get(f"/api/v1/library/items/{item.pk}/progress").json()["study_seconds"] == 40


def _series(unit, *, episodes=3, **fields):
    series = VideoFactory(owning_unit=unit, role="series", title="党史故事", **fields)
    made = [
        VideoFactory(owning_unit=unit, role="episode", parent=series, position=n, title=f"党史故事第{n}集")
        for n in range(1, episodes + 1)
    ]
    return series, made


def test_series_page_plays_the_first_episode(client, unit):
    """A series page's clear action, above the list: 播放第一集, linked to the first episode."""
    series, episodes = _series(unit)
    html = client.get(f"/library/item/{series.pk}/").content.decode()
    assert "播放第一集" in html and html.index("播放第一集") < html.index("全部剧集")
    assert f'class="button-primary play-button" href="/library/item/{episodes[0].pk}/"' in html


def test_series_page_continues_where_the_member_left(client, unit, member):
    """A member who watched episode 2 is offered 继续播放第2集; once it is finished, the next one."""
    series, episodes = _series(unit)
    _study(member, episodes[1], seconds=30, start=T0)
    client.force_login(member)
    html = client.get(f"/library/item/{series.pk}/").content.decode()
    assert "继续播放第2集" in html and f'href="/library/item/{episodes[1].pk}/"' in html
    activity.progress_heartbeat(member=member, item=episodes[1], position=600, active_seconds=0, completed=True)
    html = client.get(f"/library/item/{series.pk}/").content.decode()
    assert "继续播放第3集" in html and f'play-button" href="/library/item/{episodes[2].pk}/"' in html


def test_series_button_never_offers_a_closed_episode(client, unit):
    """The button plays only an episode the visitor may open: with the first episode members-only, an anonymous
    visitor's 播放第一集 starts at the first one open to everyone."""
    series, episodes = _series(unit)
    episodes[0].access = "members"
    episodes[0].save()
    html = client.get(f"/library/item/{series.pk}/").content.decode()
    assert f'play-button" href="/library/item/{episodes[1].pk}/"' in html
