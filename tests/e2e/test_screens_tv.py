"""The TV's 10-foot interface in a real browser (Debian's Chromium through Playwright, a 1920×1080 screen): a TV
reaches a lesson of the month's course and plays it with the arrow keys and Enter only (no mouse), Back leaves the
player and goes up; a member's TV counts study time and plays the course's next lesson by itself; and a TV is
signed in by a member scanning its code with a signed-in phone. Every key is pressed only after the page says it is
ready (``body[data-ready]``, set by screens/tv/tv.mjs once focus is placed)."""

from datetime import timedelta

import pytest
from django.core.files import File
from django.test import Client
from django.utils import timezone
from wagtail.models import Site

from courses.models import CourseIndexPage, CourseLesson, CoursePage
from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.services import media_asset_create, transcode_job_run
from media_pipeline.synthetic.media import make_clip
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import LibraryItemFactory, MediaAssetFactory, MemberFactory, VideoFactory, province

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
READY = "body[data-ready]"
TV = {"width": 1920, "height": 1080}


@pytest.fixture
def unit(library_page, local_media):
    return province()


def _processed(path) -> MediaAsset:
    """A short clip run through the real pipeline here (analysis, then the web ladder) until it is ready."""
    asset = media_asset_create(file=File(path.open("rb"), name=path.name), options={"only_groups": ["ladder"]})
    while job := TranscodeJob.objects.filter(asset=asset, state=TranscodeJob.State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="e2e-tv")
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.READY, asset.state_error
    return asset


def _course(lessons) -> CoursePage:
    root = Site.objects.get(is_default_site=True).root_page
    index = root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    premiere = timezone.now() - timedelta(hours=1)
    course = index.add_child(
        instance=CoursePage(
            title="第12期", slug="issue-12", issue_number=12, theme="弘扬沂蒙精神", premiere_at=premiere,
            study_closes_at=premiere + timedelta(days=20), makeup_deadline=premiere + timedelta(days=26),
        )
    )  # fmt: skip
    for position, item in enumerate(lessons):
        CourseLesson.objects.create(page=course, item=item, required=True, sort_order=position)
    return course


def _browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _tv_page(browser):
    page = browser.new_context(locale="zh-CN", viewport=TV).new_page()
    page.set_default_timeout(30_000)
    return page


def _press(page, key: str):
    page.wait_for_selector(READY, state="attached")
    page.keyboard.press(key)


def test_a_tv_reaches_and_plays_a_lesson_with_arrow_keys_only(live_server, unit, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    asset = _processed(make_clip(tmp_path / "yimeng.mp4", size="320x180", seconds=8))
    reading = LibraryItemFactory(owning_unit=unit, title="沂蒙精神读本")
    lecture = VideoFactory(owning_unit=unit, title="沂蒙精神专题讲座", media_asset=asset)
    _course([reading, lecture])
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = _tv_page(browser)
        page.goto(live_server.url + "/tv/")
        page.wait_for_selector(READY, state="attached")
        course_card = page.get_by_role("link", name="弘扬沂蒙精神")
        expect(course_card).to_be_focused()
        # Seen from across the room: a thick focus ring, and everything inside the 5% overscan safe area.
        ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineWidth")
        assert float(ring.removesuffix("px")) >= 4
        safe = page.evaluate("() => { const s = getComputedStyle(document.querySelector('.tv-safe'));"
                             " return [s.paddingLeft, s.paddingTop]; }")  # fmt: skip
        assert safe == ["96px", "54px"]  # 5% of 1920 and of 1080
        # Arrows move between rows (the spatial navigation): down to the videos, up again to the course.
        _press(page, "ArrowDown")
        expect(page.locator("#row-videos + .tv-cards .tv-card").first).to_be_focused()
        _press(page, "ArrowUp")
        expect(course_card).to_be_focused()
        _press(page, "Enter")
        page.wait_for_url("**/tv/course/")
        page.wait_for_selector(READY, state="attached")
        expect(page.locator(".tv-lesson").first).to_be_focused()  # the reading: not for a TV, says so
        _press(page, "ArrowDown")
        expect(page.locator(".tv-lesson").nth(1)).to_be_focused()
        _press(page, "Enter")
        page.wait_for_url(f"**/tv/watch/{lecture.pk}/?from=course")
        page.wait_for_selector(READY, state="attached")
        expect(page.get_by_role("button", name="播放")).to_be_focused()
        _press(page, "Enter")
        page.wait_for_function(
            "() => { const v = document.querySelector('.tv-video');"
            " return v.dataset.state === 'playing' && v.currentTime > 0.5; }",
            timeout=60_000,
        )
        played = page.evaluate("() => document.querySelector('.tv-video').currentTime")
        page.wait_for_function(
            "(at) => document.querySelector('.tv-video').currentTime > at + 1", arg=played, timeout=60_000
        )
        # Back closes the player (focus back on 播放), Back again returns to the course's lessons.
        _press(page, "Escape")
        expect(page.locator(".tv-player")).to_be_hidden()
        expect(page.get_by_role("button", name="播放")).to_be_focused()
        _press(page, "Escape")
        page.wait_for_url("**/tv/course/")
        browser.close()


def test_a_signed_in_tv_counts_study_time_and_plays_the_next_lesson(live_server, unit, tmp_path):
    """A member's TV plays a course lesson to its end: the viewing counts on their study clock (the lesson is
    completed, its seconds credited), and the next lesson is announced and plays by itself. The TV's session is one
    a phone signed in, held to the TV's pages: the player's playlists and the study clock still count it."""
    from playwright.sync_api import expect, sync_playwright

    from library.models import ItemProgress

    asset = _processed(make_clip(tmp_path / "short.mp4", size="320x180", seconds=3))
    first = VideoFactory(owning_unit=unit, title="第一讲 沂蒙精神的由来", media_asset=asset)
    second = VideoFactory(owning_unit=unit, title="第二讲 新时代的沂蒙精神", media_asset=asset)
    _course([first, second])
    member = MemberFactory(username="litv", real_name="李电视", org_unit=unit)
    client = Client()
    client.force_login(member, backend="screens.tv.session.TvSignInBackend")  # a TV session, as the phone makes it
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        context = browser.new_context(locale="zh-CN", viewport=TV)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{live_server.url}/tv/watch/{first.pk}/?from=course")
        _press(page, "Enter")
        notice = page.locator(".tv-next")
        expect(notice).to_be_visible(timeout=60_000)  # the lesson ended
        expect(notice).to_contain_text("第二讲 新时代的沂蒙精神")
        _press(page, "Enter")  # OK: the next lesson now, playing without another key
        page.wait_for_url(f"**/tv/watch/{second.pk}/?from=course&autoplay=1")
        page.wait_for_function(
            "() => { const v = document.querySelector('.tv-video'); return v && v.currentTime > 0.5; }",
            timeout=60_000,
        )
        expect(page.locator("[data-study-clock]")).to_contain_text("已学习")
        browser.close()
    progress = ItemProgress.objects.get(member=member, item=first)
    assert progress.completed and progress.study_seconds >= 1


def test_a_phone_signs_the_tv_in_by_scanning_its_code(live_server, unit):
    from playwright.sync_api import expect, sync_playwright

    VideoFactory(owning_unit=unit, title="党员专享讲座", access="members", media_asset=_asset_row())
    member = MemberFactory(username="zhangtv", real_name="张电视", org_unit=unit)
    client = Client()
    client.force_login(member)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        tv = _tv_page(browser)
        tv.goto(live_server.url + "/tv/")
        tv.wait_for_selector(READY, state="attached")
        expect(tv.get_by_text("党员专享讲座")).to_have_count(0)  # an anonymous TV shows public items only
        tv.goto(live_server.url + "/tv/signin/")
        tv.wait_for_selector(READY, state="attached")
        expect(tv.locator(".tv-qr svg")).to_be_visible()
        link = tv.locator("[data-signin-url]").get_attribute("data-signin-url")
        # The member scans it on their phone (signed in there) and confirms.
        phone_context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        phone_context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        phone = phone_context.new_page()
        phone.goto(link)
        phone.get_by_role("button", name="登录电视").click()
        expect(phone.get_by_text("电视已登录，请看电视屏幕。")).to_be_visible()
        # The TV, polling, is signed in as that member and goes home, where members-only items now show.
        tv.wait_for_url(live_server.url + "/tv/", timeout=30_000)
        expect(tv.get_by_text("已登录：张电视")).to_be_visible()
        expect(tv.get_by_text("党员专享讲座")).to_be_visible()
        # The same code again is refused.
        phone.goto(link)
        expect(phone.get_by_text("这个二维码已经用过了，请在电视上重新显示二维码。")).to_be_visible()
        browser.close()


def _asset_row() -> MediaAsset:
    """A ready asset row (no files): enough for an item to be listed as a video on the TV."""
    return MediaAssetFactory(state=MediaAsset.State.READY, duration=30.0)
