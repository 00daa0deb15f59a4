"""The search page as a phone shows it (issue 13): one search box, 筛选 before the results, and a search that finds
nothing offering other searches (大家都在搜) and the library. Measured in a browser: tests/e2e/test_phone_layout.py."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Site

from library.models import LibraryPage
from search.models import Promotion, QueryStat
from search.selectors import POPULAR_MIN_SEARCHES, popular_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def library_page(db):
    root = Site.objects.get(is_default_site=True).root_page
    return root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))


@pytest.fixture
def get(client, embedded, library_page):
    def fetch(**params):
        response = client.get(reverse("search"), params)
        assert response.status_code == 200
        return response.content.decode()

    return fetch


def _searched(query: str, *, times: int, found: int, days_ago: int = 0) -> None:
    day = timezone.localdate() - timedelta(days=days_ago)
    QueryStat.objects.create(query=query, day=day, searches=times, no_results=0 if found else times, last_total=found)


def test_the_search_page_has_one_search_box(get, client, library_page):
    """The search page drops the header's search box (its own is the one); other pages keep the header's."""
    html = get(q="党史")
    assert html.count('type="search"') == 1 and 'id="search-q"' in html and 'id="site-q"' not in html
    assert 'id="site-q"' in client.get(library_page.url).content.decode()


def test_filters_come_before_the_results(get, make_item, drain):
    """筛选 (a details that a phone shows as one line, open as a column on desks) is in the page before the first
    result, so a phone reaches it without scrolling past the results."""
    make_item("党史学习读本")
    make_item("党史故事选")
    drain()
    html = get(q="党史")
    assert '<details class="phone-collapsed">' in html and "<summary>筛选" in html
    assert html.index("<summary>筛选") < html.index('class="search-result')
    assert "跳到筛选" not in html  # no skip link needed any more


def test_popular_queries_are_promoted_then_frequent_and_found(db):
    """大家都在搜 lists the editors' promoted queries in their dates first, then the last month's most searched
    queries that found something; a query searched fewer than POPULAR_MIN_SEARCHES times (one member's business)
    or that found nothing, or older than the period, or a promotion out of its dates, is never offered."""
    now = timezone.now()
    Promotion.objects.create(query="两学一做", doc_id="library.libraryitem:1", sort_order=1)
    Promotion.objects.create(query="过期推荐", doc_id="library.libraryitem:2", ends_at=now - timedelta(days=1))
    _searched("党史", times=9, found=12)
    _searched("党章", times=POPULAR_MIN_SEARCHES, found=3)
    _searched("张三的病历", times=POPULAR_MIN_SEARCHES - 1, found=1)
    _searched("找不到的", times=20, found=0)
    _searched("去年的热词", times=50, found=5, days_ago=60)
    assert popular_queries() == ["两学一做", "党史", "党章"]


def test_a_search_that_finds_nothing_offers_other_searches(get, make_item, drain):
    """A search with no result says so and offers 大家都在搜 (each a new search) and the library to browse; a search
    that finds something, and the page before any search, show its results or the box alone without the list of
    the query itself."""
    make_item("党史学习读本")
    drain()
    _searched("党史", times=5, found=1)
    html = get(q="zzqqxx")
    assert "没有找到与“zzqqxx”相关的内容" in html and "大家都在搜" in html
    assert 'href="?q=%E5%85%9A%E5%8F%B2"' in html and 'href="/library/"' in html
    assert "大家都在搜" not in get(q="党史")
    start = get()
    assert "大家都在搜" in start and 'href="?q=%E5%85%9A%E5%8F%B2"' in start
