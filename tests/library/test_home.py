"""The site's home page: this month's course and 本月推荐 at the top, the member's 继续学习, the newest videos, audio
and reading in rows of their own, newspapers and periodicals one card per title's newest issue (dated by the issue),
everything as the visitor may open it, with a query count that does not grow with the library."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.models import Page, Site

from cms.models import HomePage
from courses.models import CourseIndexPage
from library import activity
from library.models import ItemList, ItemListEntry, LibraryItem
from tests import factories
from tests.courses.conftest import make_course
from tests.factories import (
    AudioFactory,
    EbookFactory,
    LibraryItemFactory,
    MemberFactory,
    NewspaperFactory,
    PeriodicalFactory,
    VideoFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("home")]

NOW = timezone.now()


@pytest.fixture
def home(db):
    """The site's home page (as the demo makes it: the default site's root) with the library under it."""
    root = Page.get_first_root_node()
    page = root.add_child(instance=HomePage(title="灯塔-党建在线", slug="lighthouse"))
    Site.objects.update_or_create(is_default_site=True, defaults={"root_page": page, "hostname": "localhost"})
    return page, factories.library_page()


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _sections(client) -> list[str]:
    """The keys of the home page's sections, in their order (the course's is "course")."""
    return [section.get("key", "course") for section in client.get("/").context["home_sections"]]


def _serial(factory, unit, *, title, issues, articles=3, newest=date(2026, 12, 5), **fields):
    """A newspaper or periodical title with ``issues`` issues (newest first: the first issued today, the others a
    day apart, loaded in reverse so the load date disagrees) of ``articles`` articles each."""
    title_row = factory(owning_unit=unit, role="series", title=title, **fields)
    made = []
    for n in range(issues):
        issue = factory(
            owning_unit=unit,
            role="issue",
            parent=title_row,
            title=f"{title}第{n}期",
            number=f"第{100 - n}期",
            issued=newest - timedelta(days=n),
            published_at=NOW - timedelta(days=issues - n),  # the oldest issue was loaded last
        )
        for k in range(articles):
            factory(owning_unit=unit, role="article", parent=issue, title=f"{title}第{n}期文章{k}")
        made.append(issue)
    return title_row, made


def test_rows_in_order_and_one_card_per_issue(client, unit):
    """Anonymous visitors get 本月推荐, then the newest videos, audio and reading each in their own row, then the
    newest issue of each newspaper and periodical dated by its issue date (not when it was loaded), never an article;
    no 继续学习 and no course when there is none."""
    video = VideoFactory(owning_unit=unit, title="红色电影")
    AudioFactory(owning_unit=unit, title="党史有声书")
    EbookFactory(owning_unit=unit, title="红岩")
    LibraryItemFactory(owning_unit=unit, title="图文：春耕")
    _daily, (today_issue, *_older) = _serial(NewspaperFactory, unit, title="大众日报", issues=3)
    _monthly, (month_issue, *_rest) = _serial(PeriodicalFactory, unit, title="求是", issues=2, newest=date(2026, 12, 1))
    curated = ItemList.objects.create(title="本月推荐", slug="benyue", owning_unit=unit)
    ItemListEntry.objects.create(list=curated, item=video, sort_order=0)

    assert _sections(client) == ["curated", "video", "audio", "reading", "serials"]
    html = _home(client)
    assert html.index("本月推荐") < html.index("最新视频") < html.index("最新音频") < html.index("最新读物")
    assert html.index("最新读物") < html.index("最新报刊") and "继续学习" not in html
    serials = client.get("/").context["home_sections"][-1]["items"]
    assert [issue.pk for issue in serials] == [today_issue.pk, month_issue.pk]
    assert "2026年12月5日" in html and "第99期" not in html and "第100期" in html and "期文章" not in html
    assert ">大众日报<" in html and ">求是<" in html


def test_current_course_first_and_nothing_without_one(client, unit, home):
    """The current course (courses.selectors.course_current) opens the page, above 本月推荐; before the first
    course there is no course section at all."""
    VideoFactory(owning_unit=unit)
    assert "course" not in _sections(client) and "灯塔大课堂" not in _home(client)
    index_page = home[0].add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    course = make_course(index_page, premiere=NOW - timedelta(days=1))
    assert _sections(client)[0] == "course"
    html = _home(client)
    assert "学习贯彻党的二十大精神" in html and course.url in html and "第 3 期" in html


def test_rows_obey_access(client, unit_tree):
    """What a visitor may not open is on no row: members-only items for members only, unit-only items (and a
    unit-only title's issues) for that unit's members only."""
    province, zouping = unit_tree["shandong"], unit_tree["zouping"]
    VideoFactory(owning_unit=province, title="公开视频")
    VideoFactory(owning_unit=province, title="党员视频", access="members")
    AudioFactory(owning_unit=zouping, title="邹平音频", access="unit")
    _serial(NewspaperFactory, zouping, title="邹平日报", issues=1, access="unit")
    _serial(NewspaperFactory, province, title="大众日报", issues=1)

    anonymous = _home(client)
    assert "公开视频" in anonymous and "大众日报" in anonymous
    assert "党员视频" not in anonymous and "邹平音频" not in anonymous and "邹平日报" not in anonymous

    outsider = Client()
    outsider.force_login(MemberFactory(org_unit=unit_tree["yinan"]))
    html = _home(outsider)
    assert "党员视频" in html and "邹平音频" not in html and "邹平日报" not in html

    insider = Client()
    insider.force_login(MemberFactory(org_unit=zouping))
    html = _home(insider)
    assert "党员视频" in html and "邹平音频" in html and "邹平日报" in html


def test_continue_lists_what_was_really_started(client, unit):
    """A signed-in member's 继续学习 shows what they studied (with its time from the one study calculation), not
    what they merely opened; finished items leave it."""
    member = MemberFactory(org_unit=unit)
    studied = VideoFactory(owning_unit=unit, title="学了一会儿的视频")
    opened = VideoFactory(owning_unit=unit, title="只打开过的视频")
    activity.item_opened(member=member, item=opened)
    activity.progress_heartbeat(member=member, item=opened, position=0, active_seconds=0)  # left at once
    activity.progress_heartbeat(member=member, item=studied, position=15, active_seconds=15)
    client.force_login(member)

    rows = client.get("/").context["home_sections"]
    continuing = next(section for section in rows if section["key"] == "continue")
    assert [item.pk for item in continuing["items"]] == [studied.pk]
    html = _home(client)
    assert "继续学习" in html and "学习 不足1分钟" in html

    activity.progress_heartbeat(member=member, item=studied, position=900, active_seconds=0, completed=True)
    assert "continue" not in _sections(client)


def test_query_count_does_not_grow_with_the_library(client, unit, django_assert_max_num_queries):
    """A full home page (24 cards with covers' renditions read in one query) costs a fixed handful of queries,
    the same with four items a row as with one."""
    member = MemberFactory(org_unit=unit)
    client.force_login(member)
    for n in range(6):
        VideoFactory(owning_unit=unit)
        AudioFactory(owning_unit=unit)
        EbookFactory(owning_unit=unit)
        item = LibraryItemFactory(owning_unit=unit)
        activity.progress_heartbeat(member=member, item=item, position=3, active_seconds=3, now=NOW + timedelta(n))
    for n in range(5):
        _serial(NewspaperFactory, unit, title=f"日报{n}", issues=2, articles=1)
    curated = ItemList.objects.create(title="本月推荐", slug="benyue", owning_unit=unit)
    for n, item in enumerate(LibraryItem.objects.filter(role="item")[:6]):
        ItemListEntry.objects.create(list=curated, item=item, sort_order=n)
    _home(client)  # the library page's URL is remembered
    # Wagtail's routing and the session (about 9), the courses' current course (1), the library page (1), 本月推荐
    # (2), 继续学习 and its study time (3), videos, audio, reading (4), issues (1), covers (at most 1), channels (2).
    with django_assert_max_num_queries(26):
        html = _home(client)
    assert html.count('class="card item-card') == 24
