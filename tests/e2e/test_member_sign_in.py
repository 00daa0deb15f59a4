"""A member's way in, in a real browser (Debian's Chromium driven by Playwright) on a 390×844 phone and a 1440×900
desk: a members-only item asks them to sign in, they find 登录 in the header, sign in with the demo member's mobile
number and land back on that item, now readable; 退出 signs them out again."""

import pytest
from django.core.management import call_command

from cms.demo.data import DEMO_PASSWORD, MEMBERS
from cms.models import OrgUnit
from library.models import LibraryItem
from library.selectors import item_url

pytestmark = [pytest.mark.browser]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1440, "height": 900}}
BODY = "三会一课的组织方法：支部党员大会每季度召开一次。"


@pytest.fixture
def members_only_item(transactional_db, django_db_serialized_rollback):
    # Serialized rollback: the next test again finds Wagtail's root page, which a transactional flush removes.
    call_command("load_demo", "--no-media")
    return LibraryItem.objects.create(
        owning_unit=OrgUnit.objects.get(code="shandong"),
        kind="article",
        title="基层党支部工作指南",
        summary="党员内部学习材料。",
        body=f"<p>{BODY}</p>",
        access=LibraryItem.Access.MEMBERS,
    )


def _no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_member_signs_in_from_the_header_and_lands_back_on_the_item(
    live_server, browser_page, members_only_item, device
):
    """At a members-only item an anonymous visitor reads 请登录后阅读 (not the text); 登录 is in the header's first
    screen and at least 44 px high; the sign-in form takes the demo member's mobile number and password and returns
    to the item, whose text now shows, with 我的 and 退出 in the header; 退出 ends the session. No page scrolls
    sideways on the phone."""
    page = browser_page
    page.set_viewport_size(VIEWPORTS[device])
    _username, _name, phone, _unit = MEMBERS[0]
    item_address = live_server.url + item_url(members_only_item)

    page.goto(item_address)
    assert page.get_by_text("请登录后阅读").is_visible()
    assert BODY not in page.content()
    header_sign_in = page.locator(".site-header").get_by_role("link", name="登录")
    box = header_sign_in.bounding_box()
    assert box["y"] + box["height"] <= VIEWPORTS[device]["height"] and box["height"] >= 44
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[device]["width"]
    assert _no_sideways_scrolling(page)

    header_sign_in.click()
    page.wait_for_url("**/login/?next=**")
    assert page.get_by_role("heading", name="党员登录").is_visible()
    assert _no_sideways_scrolling(page)
    page.get_by_label("手机号码或用户名").fill(phone)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="显示密码").click()  # the member checks what they typed
    assert page.get_by_label("密码", exact=True).get_attribute("type") == "text"
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="登录").click()

    assert page.url == item_address
    assert page.get_by_text(BODY).is_visible()
    assert page.get_by_text("请登录后阅读").count() == 0
    header = page.locator(".site-header")
    assert header.get_by_role("link", name="我的").is_visible() and header.get_by_role("link", name="登录").count() == 0
    assert {"sessionid", "lh_device"} <= {cookie["name"] for cookie in page.context.cookies()}  # trusted device too

    with page.expect_navigation():
        header.get_by_role("button", name="退出").click()
    assert page.url == live_server.url + "/"
    assert page.locator(".site-header").get_by_role("link", name="登录").is_visible()
    page.goto(item_address)
    assert page.get_by_text("请登录后阅读").is_visible() and BODY not in page.content()
