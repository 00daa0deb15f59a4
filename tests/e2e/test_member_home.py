"""A member's day in a real browser (Debian's Chromium driven by Playwright) on a 390×844 phone and a 1440×900 desk:
they sign in from the header of the home page, open a members-only article from its 最新读物 row, study it a little
(the page's clock counts the seconds up), and then find it in 继续学习 on the home page and on 我的图书馆 with the time
they spent, the same on both."""

import re

import pytest
from django.core.management import call_command

from cms.demo.data import DEMO_PASSWORD, MEMBERS
from cms.models import OrgUnit
from library.models import LibraryItem, StudyDay

pytestmark = [pytest.mark.browser]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1440, "height": 900}}
TITLE = "支部书记工作手册（党员学习版）"
# Long enough to read for a while: the article is not finished (read to the end) while the member studies it.
LINE = "支部要经常开展谈心谈话，了解党员思想、工作和生活情况，帮助解决实际困难。"
BODY = "".join(f"<p>第{n}条：{LINE}</p>" for n in range(120))
STUDY_SECONDS = 24  # one heartbeat (every 20 s) and a little


@pytest.fixture
def members_only_article(transactional_db, django_db_serialized_rollback):
    # Serialized rollback: the next test again finds Wagtail's root page, which a transactional flush removes.
    call_command("load_demo", "--no-media")
    return LibraryItem.objects.create(
        owning_unit=OrgUnit.objects.get(code="shandong"),
        kind="article",
        title=TITLE,
        summary="党员内部学习材料。",
        body=BODY,
        access=LibraryItem.Access.MEMBERS,
    )


def _no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _clock_seconds(page) -> int:
    """The item page's study clock ("本条已学习 1分05秒") in seconds."""
    text = page.locator("[data-study-clock]").inner_text()
    match = re.fullmatch(r"本条已学习 (?:(\d+)分)?(\d+)秒", text.strip())
    assert match, text
    return int(match[1] or 0) * 60 + int(match[2])


def _study(page, seconds: int) -> None:
    """Read like a member does: scroll a little every couple of seconds (the text page counts only while the
    member is active)."""
    for _ in range(seconds // 2):
        page.mouse.wheel(0, 60)
        page.wait_for_timeout(2000)


def _row(page, heading: str):
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_member_studies_and_finds_it_in_continue(live_server, browser_page, members_only_article, device):
    """Anonymous, the home page shows no members-only article and no 继续学习; signed in from the header, the member
    opens the article from 最新读物 (a card with its picture or a placeholder of the same size), studies it while
    the clock counts up, and finds it first in 继续学习 on the home page and on 我的图书馆, where the article's time,
    today's and the total all read 不足1分钟, from the one calculation."""
    page = browser_page
    page.set_viewport_size(VIEWPORTS[device])
    _username, _name, phone, _unit = MEMBERS[0]

    page.goto(live_server.url + "/")
    assert page.get_by_role("link", name=TITLE).count() == 0 and _row(page, "继续学习").count() == 0
    assert _no_sideways_scrolling(page)
    page.locator(".site-header").get_by_role("link", name="登录").click()
    page.get_by_label("手机号码或用户名").fill(phone)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="登录").click()
    assert page.url == live_server.url + "/"

    reading = _row(page, "最新读物")
    card = reading.locator(".item-card", has=page.get_by_role("link", name=TITLE))
    cover = card.locator(".cover").bounding_box()
    assert cover["width"] > 90 and cover["height"] > cover["width"]  # a 3:4 box, reserved before any picture
    with page.expect_navigation():
        card.get_by_role("link", name=TITLE).click()
    assert page.get_by_role("heading", name=TITLE).is_visible()

    clock = page.locator("[data-study-clock]")
    clock.wait_for(state="visible")
    _study(page, 6)
    early = _clock_seconds(page)
    _study(page, STUDY_SECONDS - 6)
    assert early >= 2 and _clock_seconds(page) >= early + 10  # the seconds visibly move
    page.wait_for_function("document.querySelector('[data-study-clock]').textContent.indexOf('秒') > 0")
    page.goto(live_server.url + "/")  # leaving the page sends what was not yet sent

    continuing = _row(page, "继续学习")
    continuing.wait_for()
    assert continuing.locator(".item-card").first.get_by_role("link", name=TITLE).is_visible()
    assert "学习 不足1分钟" in continuing.locator(".item-card").first.inner_text()
    assert _no_sideways_scrolling(page)

    page.locator(".site-header").get_by_role("link", name="我的").click()
    page.wait_for_url("**/library/me/")
    assert page.locator(".study-total").inner_text().strip() == "今天学习 不足1分钟，累计学习 不足1分钟。"
    first = page.locator("#continue-heading + .cards .item-card").first
    assert first.get_by_role("link", name=TITLE).is_visible() and "学习 不足1分钟" in first.inner_text()
    history = page.locator("table.history tbody tr", has=page.get_by_role("link", name=TITLE))
    assert "不足1分钟" in history.inner_text()
    assert _no_sideways_scrolling(page)
    studied = sum(StudyDay.objects.filter(item=members_only_article).values_list("seconds", flat=True))
    assert 15 <= studied < 60  # honest: about what the member spent, never more than the clock allows
