"""The premiere "live" in real browsers (Debian's Chromium through Playwright): a member who joins late joins in the
middle, at the point the broadcast has reached by the server's clock — even on a phone whose own clock is ten
minutes slow — and a second member who joins later sees the same moment as the first."""

import os
import time
from datetime import timedelta

import pytest
from django.core.files import File
from django.utils import timezone

from library.models import LibraryItem
from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.services import media_asset_create, transcode_job_run
from media_pipeline.synthetic.media import make_clip

from .conftest import make_course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here
SLOW_CLOCK = "(() => { const real = Date.now.bind(Date); Date.now = () => real() - 600000; })();"
LATE_S = 20  # the first member opens the page this long after the premiere


def _premiere_lesson(tmp_path, units) -> LibraryItem:
    """A one-minute video made through the pipeline's adaptive ladder (only that group: the test needs HLS)."""
    clip = make_clip(tmp_path / "premiere.mp4", size="320x180", seconds=60)
    with clip.open("rb") as handle:
        asset = media_asset_create(file=File(handle, name="premiere.mp4"), options={"only_groups": ["ladder"]})
    while job := TranscodeJob.objects.filter(state=TranscodeJob.State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="test-premiere")
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.READY, asset.state_error
    return LibraryItem.objects.create(
        kind="video", title="首播课：学习贯彻党的二十大精神", owning_unit=units["shandong"], media_asset=asset
    )


def _join(browser, url: str, *, init_script: str = "") -> tuple[float, float]:
    """Opens the course page on a phone, presses 收看首播 and returns (the player's position once it plays, the
    seconds since the premiere by this machine's clock at that moment)."""
    from playwright.sync_api import expect

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    if init_script:
        phone.add_init_script(init_script)
    page = phone.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    expect(page.get_by_role("heading", name="正在首播：首播课：学习贯彻党的二十大精神")).to_be_visible()
    page.evaluate("document.querySelector('[data-live] video').muted = true")  # autoplay with sound needs a gesture
    page.get_by_role("button", name="收看首播").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-live] video'); return !v.paused && v.currentTime > 1; }"
    )
    position = page.evaluate("document.querySelector('[data-live] video').currentTime")
    phone.close()
    return position, time.time()


def test_a_member_who_joins_late_joins_in_the_middle_at_the_same_moment_as_everyone(
    live_server, local_media, tmp_path, index_page, units
):
    from playwright.sync_api import sync_playwright

    item = _premiere_lesson(tmp_path, units)
    course = make_course(
        index_page, issue=41, premiere=timezone.now() - timedelta(seconds=LATE_S), lessons=[(item, True)]
    )
    premiere = course.premiere_at.timestamp()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # A phone whose clock is ten minutes slow still starts where the broadcast is, not ten minutes back.
            first, first_at = _join(browser, live_server.url + course.url, init_script=SLOW_CLOCK)
            assert first >= LATE_S - 2, f"joined at {first:.1f} s, the premiere began {first_at - premiere:.1f} s ago"
            assert abs(first - (first_at - premiere)) < 4, (first, first_at - premiere)
            # A second member, a few seconds later, with a right clock: the same moment of the broadcast.
            second, second_at = _join(browser, live_server.url + course.url)
            assert second > first
            assert abs(second - (second_at - premiere)) < 4, (second, second_at - premiere)
        finally:
            browser.close()
