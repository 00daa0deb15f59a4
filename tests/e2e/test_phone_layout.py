"""Phones, measured in a real browser (issue 13): on a 390×844 phone the header takes at most a fifth of the screen
in either type mode, 本月推荐 is one line until opened (open on a 1440×900 desk), 筛选 is above the first result,
and the search page shows one search box. The markup behind it is tested in tests/library/test_phone_layout.py and
tests/search/test_search_page_phone.py; every page's targets, layout shift and width in test_accessibility.py."""

import pytest

from library.facets import facet_counts_refresh
from library.models import ItemList, ItemListEntry
from tests.factories import VideoFactory, province

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def library(transactional_db, django_db_serialized_rollback, library_page):
    # Serialized rollback: the next test again finds Wagtail's root page, which a transactional flush removes.
    unit = province()
    videos = [VideoFactory(owning_unit=unit, title=f"党史微课 第{n}集", summary="党史上的关键时刻。") for n in range(8)]
    picks = ItemList.objects.create(title="本月推荐", slug="benyue", owning_unit=unit)
    for position, video in enumerate(videos[:4]):
        ItemListEntry.objects.create(list=picks, item=video, sort_order=position)
    facet_counts_refresh()
    return library_page


def _set_type(page, live_server, large: bool) -> None:
    host = live_server.url.split("://", 1)[1].split(":")[0]
    page.context.add_cookies([{"name": "lh_large_type", "value": "1" if large else "0", "domain": host, "path": "/"}])


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
def test_on_a_phone_the_header_is_small_and_filters_come_first(live_server, browser_page, library, large):
    """At 390×844 the header is at most 844/5 px high on the library, an item and the search page; 本月推荐 shows as
    one line whose cards appear when it is tapped; 筛选 is above the first result card; nothing is wider than the
    screen; the search page shows one search box."""
    page = browser_page
    page.set_viewport_size(PHONE)
    _set_type(page, live_server, large)
    page.goto(live_server.url + library.url)
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= PHONE["height"] / 5, header

    picks = page.locator(".curated details")
    assert not picks.locator(".card").first.is_visible()
    picks.locator("summary").click()
    assert picks.locator(".card").first.is_visible()

    filters = page.locator(".facets summary").bounding_box()
    first_card = page.locator(".results .card").first.bounding_box()
    assert filters["y"] + filters["height"] <= first_card["y"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]

    page.locator(".results .card h3 a").first.click()
    page.wait_for_load_state()
    assert page.locator(".site-header").bounding_box()["height"] <= PHONE["height"] / 5

    page.goto(live_server.url + "/search/?q=%E5%85%9A%E5%8F%B2")
    assert page.locator(".site-header").bounding_box()["height"] <= PHONE["height"] / 5
    assert page.locator("input[type=search]").count() == 1 and page.locator("#search-q").is_visible()


def test_on_a_desk_this_months_picks_and_filters_are_open(live_server, browser_page, library):
    """At 1440×900 本月推荐 and the filters are open without a click (their summaries hidden, headings shown), the
    filters beside the results; the header keeps its search box on pages other than search."""
    page = browser_page
    page.set_viewport_size(DESK)
    page.goto(live_server.url + library.url)
    assert page.locator(".curated .card").first.is_visible()
    assert page.locator("#curated-title").is_visible() and not page.locator(".curated summary").is_visible()
    assert page.locator(".facets .facet").first.is_visible()
    facets = page.locator(".facets").bounding_box()
    results = page.locator(".results").bounding_box()
    assert facets["x"] + facets["width"] <= results["x"]
    assert page.locator("#site-q").is_visible()
