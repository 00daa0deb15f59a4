"""A branch session in real browsers (Debian's Chromium through Playwright): the secretary arranges it, opens TV
mode on a TV-sized screen, a member scans the code on a phone and checks in, the TV's corner counts them, the
remote's Back leaves TV mode, and the secretary checks in a member without a phone."""

import json
import os
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cms.models import Member
from cms.services import member_create
from courses.models import BranchSession, SessionAttendance

from .conftest import make_course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here


def _cookie(user, url):
    client = Client()
    client.force_login(user)
    return [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}]


def test_a_secretary_runs_a_session_with_qr_check_in_on_a_tv(live_server, index_page, bank, lessons, units, member):
    from playwright.sync_api import expect, sync_playwright

    course = make_course(
        index_page, bank=bank, issue=11, premiere=timezone.now() - timedelta(minutes=30),
        lessons=[(lessons[0], True), (lessons[2], False)],
    )  # fmt: skip
    secretary = member_create(username="shuji", password="pw-123456", real_name="张书记", org_unit=units["daixi-1"])
    Member.objects.filter(pk=secretary.pk).update(party_role=Member.PartyRole.SECRETARY)
    elder = member_create(username="laozhao", password="pw-123456", real_name="赵大爷", org_unit=units["daixi-1"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tv = browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
        tv.add_cookies(_cookie(secretary, live_server.url))
        page = tv.new_page()
        page.set_default_timeout(20_000)
        # The secretary finds 支部集中学习 on the course page and arranges today's session.
        page.goto(live_server.url + course.url)
        page.get_by_role("link", name="支部集中学习：安排、签到和会议记录").click()
        page.get_by_label("地点").fill("常山庄村党群服务中心")
        page.get_by_label("电视集体收看").check()
        page.get_by_role("button", name="创建").click()
        expect(page.get_by_role("heading", name="第一党支部 · 集中学习")).to_be_visible()
        session = BranchSession.objects.get()
        # TV mode: lessons as large buttons, the first focused; arrows move; the code in a corner.
        page.get_by_role("link", name="电视模式（全屏播放课程并显示签到码）").click()
        expect(page.locator(".tv-qr svg")).to_be_visible()
        expect(page.locator(".tv-lesson").first).to_be_focused()
        # autofocus focuses the first lesson before tv.mjs listens for keys: press only once it says it is ready.
        expect(page.locator("body[data-tv-ready]")).to_have_count(1)
        page.keyboard.press("ArrowDown")
        expect(page.locator(".tv-lesson").nth(1)).to_be_focused()
        feed = json.loads(page.evaluate("fetch(document.body.dataset.codeUrl).then(r => r.text())"))
        # A member scans it on their phone: the page asks, they confirm, and they are checked in.
        phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.add_cookies(_cookie(member, live_server.url))
        scan = phone.new_page()
        scan.goto(feed["url"])
        scan.get_by_role("button", name="确认签到").click()
        expect(scan.get_by_text("签到成功。")).to_be_visible()
        scan.get_by_label("心得体会（可在会后填写）").fill("重温入党誓词，很受教育。")
        scan.get_by_role("button", name="提交心得体会").click()
        expect(scan.get_by_text("心得体会已提交，谢谢。")).to_be_visible()
        # The TV's corner counts them at its next refresh; the remote's Back leaves TV mode.
        expect(page.locator("[data-present]")).to_have_text("1", timeout=40_000)
        page.keyboard.press("Escape")
        expect(page.get_by_role("heading", name="签到 1 / 3 人")).to_be_visible()
        # 赵大爷 has no phone: the secretary ticks him.
        page.get_by_role("row", name="赵大爷").get_by_label("代为签到").check()
        page.get_by_role("button", name="为勾选的党员签到").click()
        expect(page.get_by_text("已代为签到 1 人。")).to_be_visible()
        expect(page.get_by_role("heading", name="签到 2 / 3 人")).to_be_visible()
        browser.close()
    methods = dict(SessionAttendance.objects.filter(session=session).values_list("member__username", "method"))
    assert methods == {member.username: "code", elder.username: "secretary"}
