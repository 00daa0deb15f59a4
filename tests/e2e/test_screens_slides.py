"""The slides of the screens' web player (issue 18) in Debian's Chromium: a paired portrait screen plays a
newspaper's front page, a 灯塔大课堂 course promotion and the clock, one after another. Each is visibly on screen
(its layer in front with its picture drawn and its words, a screenshot that is not one flat colour) and each
follows the last with no gap over 100 ms, measured as the video test measures it (from one item's end to the
first frame drawn with the next)."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from screens.models import PlaylistEntry
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import NewspaperFactory, demo_editors, unit_tree
from tests.screens.conftest import channel, paired_device, rule
from tests.screens.test_slide_kinds import _course, issue_with_page, picture

pytestmark = [pytest.mark.browser]
GAP_LIMIT_MS = 100
SLIDE_SECONDS = 2
STATE = "() => window.lighthousePlayer"
IN_FRONT = "(kind) => { const s = document.querySelector('#slide.front'); return s && s.dataset.kind === kind; }"


@pytest.fixture
def slide_screen(transactional_db, django_db_serialized_rollback, library_page, local_media):
    units = unit_tree()
    zouping = units["zouping"]
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=zouping)
    issue_with_page(title, issued=date(2026, 12, 6), number="第9999期")
    _course(premiere=datetime.now(UTC) + timedelta(days=3), cover=picture("course-cover", "navy"))
    made = channel(zouping, name="竖屏图文", screen_type="portrait")
    for order, (kind, fields) in enumerate(
        (("newspaper", {"item": title}), ("course", {}), ("info", {"text": "欢迎来到党群服务中心"}))
    ):
        PlaylistEntry.objects.create(channel=made, kind=kind, duration=SLIDE_SECONDS, sort_order=order, **fields)
    rule(zouping, made)
    editor = demo_editors(units)["zouping_editor"]
    return paired_device(zouping, editor, name="大厅竖屏", screen_type="portrait", width=1080, height=1920)


def _not_flat(png: bytes) -> bool:
    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1_000_000)
    return colours is None or len(colours) > 8


def test_portrait_player_shows_front_page_course_and_clock_without_gaps(live_server, slide_screen):
    from playwright.sync_api import sync_playwright

    _device, credential = slide_screen
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 360, "height": 640})
        page.goto(f"{live_server.url}/screens/player/?screen=slides#credential={credential}")
        page.wait_for_function("() => document.body.dataset.cache === 'ready'", timeout=60_000)

        seen = {}
        for kind in ("newspaper", "course", "info"):
            page.wait_for_function(IN_FRONT, arg=kind, timeout=30_000)
            if kind != "info":  # the front page and the course's cover are drawn, not just asked for
                page.wait_for_function(
                    "() => { const p = document.querySelector('#slide.front .slide-picture');"
                    " return p && p.complete && p.naturalWidth > 0; }",
                    timeout=10_000,
                )
            seen[kind] = page.inner_text("#slide")
            assert _not_flat(page.screenshot()), kind
        print(f"\nslides shown: {seen}")
        assert "邹平日报" in seen["newspaper"] and "2026年12月6日 第9999期" in seen["newspaper"]
        assert "灯塔大课堂" in seen["course"] and "学习贯彻党的二十大精神" in seen["course"]
        assert "北京时间" in seen["info"] and "欢迎来到党群服务中心" in seen["info"]
        assert page.locator("#slide .slide-time").inner_text().count(":") == 2  # the clock's hh:mm:ss

        # Each slide to the next, and the loop's turn back to the front page.
        page.wait_for_function(f"{STATE}.transitions.length >= 4", timeout=30_000)
        transitions = page.evaluate(STATE)["transitions"]
        gaps = [round(t["gap_ms"], 1) for t in transitions]
        print(f"gaps between slides (end → next drawn): {gaps} ms; {[t['to'] for t in transitions]}")
        assert len({t["to"] for t in transitions}) == 3 and max(gaps) < GAP_LIMIT_MS
        browser.close()
