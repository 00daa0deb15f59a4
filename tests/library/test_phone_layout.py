"""The library's pages as a phone shows them (issue 13): 本月推荐 folded to one line, 筛选 above the results, an
issue's number said once, and no article listed twice on a newspaper issue. What the browser measures (the header's
height, what is open where) is in tests/e2e/test_phone_layout.py."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from cms.models import LighthouseImage
from library.models import ArticleArea, IssuePage, ItemList, ItemListEntry
from library.selectors import item_url
from tests.factories import NewspaperFactory, PeriodicalFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _picks(unit, items) -> ItemList:
    picks = ItemList.objects.create(title="本月推荐", slug="benyue", owning_unit=unit)
    for position, item in enumerate(items):
        ItemListEntry.objects.create(list=picks, item=item, sort_order=position)
    return picks


def test_this_months_picks_fold_on_phones_and_filters_come_before_the_results(client, unit, library_page):
    """On the library's index 本月推荐 is a <details> whose summary names it and counts its items (one line on a
    phone; open on desks by CSS), and 筛选 (the facets, also a details) comes before the first result card."""
    videos = [VideoFactory(owning_unit=unit, title=f"党史微课{n}") for n in range(3)]
    _picks(unit, videos[:2])
    html = _html(client, library_page.url)
    curated = html[html.index('<section class="curated"') : html.index("</section>")]
    assert '<details class="phone-collapsed">' in curated
    assert re.search(r"<summary>本月推荐 <span class=\"count\">2 项</span></summary>", curated)
    assert 'id="curated-title" class="phone-collapsed-title"' in curated  # the heading on desks
    results = html.index('id="results-title"')
    assert html.index("<summary>筛选") < results and html.index('<section class="curated"') < results


def test_the_filter_summary_counts_chosen_filters(client, unit, library_page):
    """With a filter chosen, the folded 筛选 line says how many are chosen, so a phone user sees it without opening."""
    VideoFactory(owning_unit=unit, title="党史微课", year=2024)
    html = _html(client, f"{library_page.url}?year=2024")
    assert re.search(r"<summary>筛选 <span class=\"count\">已选 1 项</span></summary>", html)


def test_an_issue_page_says_its_number_once(client, unit, library_page):
    """An issue whose title holds its number (齐鲁先锋（2026年第1期）) shows the title alone; one whose title does not
    (a newspaper's date) adds the number beside it."""
    periodical = PeriodicalFactory(owning_unit=unit, role="series", title="齐鲁先锋")
    issue = PeriodicalFactory(
        owning_unit=unit, role="issue", parent=periodical, title="齐鲁先锋（2026年第1期）", number="2026年第1期"
    )
    heading = re.search(r"<h1>(.*?)</h1>", _html(client, item_url(issue)), re.S).group(1)
    assert heading.count("2026年第1期") == 1
    paper = NewspaperFactory(owning_unit=unit, role="series", title="灯塔党建报")
    daily = NewspaperFactory(
        owning_unit=unit, role="issue", parent=paper, title="灯塔党建报 2026年03月02日", number="总第1期"
    )
    heading = re.search(r"<h1>(.*?)</h1>", _html(client, item_url(daily)), re.S).group(1)
    assert "灯塔党建报 2026年03月02日" in heading and "总第1期" in heading


def _page_image(unit) -> LighthouseImage:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 420), (250, 250, 245)).save(buffer, "PNG")
    return LighthouseImage.objects.create(
        title="版面", file=ContentFile(buffer.getvalue(), name="page.png"), collection=unit.collection
    )


def test_no_article_is_listed_twice_on_a_newspaper_issue(client, unit, library_page):
    """The articles on the 版面 on screen are listed once, under 本版文章; the issue's list below holds only the
    articles of its other pages (and disappears when there are none)."""
    paper = NewspaperFactory(owning_unit=unit, role="series", title="灯塔党建报")
    issue = NewspaperFactory(owning_unit=unit, role="issue", parent=paper, title="灯塔党建报 2026年03月02日")
    front = NewspaperFactory(owning_unit=unit, role="article", parent=issue, title="全省冬春训全面展开", position=1)
    inside = NewspaperFactory(owning_unit=unit, role="article", parent=issue, title="红色课堂进田间", position=2)
    page_one = IssuePage.objects.create(issue=issue, number=1, name="要闻", image=_page_image(unit))
    page_two = IssuePage.objects.create(issue=issue, number=2, name="基层", image=_page_image(unit))
    ArticleArea.objects.create(page=page_one, article=front, points=[[0, 0], [1, 0], [1, 0.5], [0, 0.5]])
    ArticleArea.objects.create(page=page_two, article=inside, points=[[0, 0], [1, 0], [1, 0.5], [0, 0.5]])

    html = _html(client, item_url(issue))
    assert html.count(f'href="{item_url(front)}">全省冬春训全面展开</a>') == 1
    assert html.count(f'href="{item_url(inside)}">红色课堂进田间</a>') == 1
    assert "本期其他版面的文章" in html and "本期文章" not in html
    page_two_html = _html(client, item_url(issue) + "?p=2")
    assert page_two_html.count(f'href="{item_url(inside)}">红色课堂进田间</a>') == 1

    ArticleArea.objects.create(page=page_one, article=inside, points=[[0, 0.5], [1, 0.5], [1, 1], [0, 1]])
    html = _html(client, item_url(issue))
    assert "本期其他版面的文章" not in html and html.count("红色课堂进田间</a>") == 1
