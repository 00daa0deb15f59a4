"""The end-to-end slice: an editor uploads a video, a worker transcodes it, a member plays it and finds it."""

import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from library.models import LibraryItem
from media_pipeline.models import MediaAsset
from media_pipeline.synthetic.media import make_clip
from search.selectors import search_items

# serialized_rollback: the browser tests before this one flushed the database; it brings back Wagtail's root page.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "hongchuan.mp4", size="640x360", seconds=12)


def _wait_for_media(item_title: str, timeout: float = 300) -> MediaAsset:
    """Until every job the upload started (analysis, then ladder, TV, audio edition, pictures) has ended."""
    deadline, asset = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        asset = LibraryItem.objects.select_related("media_asset").get(title=item_title).media_asset
        if asset.state in {MediaAsset.State.READY, MediaAsset.State.FAILED}:
            return asset
        time.sleep(1)
    raise AssertionError(f"转码任务没有在 {timeout} 秒内结束：{asset and asset.state}")


def test_editor_uploads_member_plays_and_finds(live_server, task_worker, browser_page, clip):
    """Upload in the Wagtail admin → ffprobe/ffmpeg in a worker → hls.js plays it → a 2-character search finds it."""
    call_command("load_demo", "--no-media")
    page, title = browser_page, "党史故事：红船精神永放光芒"

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "sheng_editor")
    page.fill("input[name=password]", "lighthouse-demo")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/admin/library_items/new/")
    page.click("a[data-kind=video]")  # a new item starts with its kind (one form per kind)
    assert (
        page.locator("footer .actions--primary button[type=submit]").inner_text().strip() == "创建"
    )  # admin in Chinese
    page.fill("input[name=title]", title)
    page.fill("textarea[name=summary]", "浙江嘉兴南湖红船的故事。")
    page.select_option("select[name=owning_unit]", label="山东省")
    page.set_input_files("input[name=upload]", str(clip))
    page.click("footer .actions--primary button[type=submit]")
    page.wait_for_url("**/admin/library_items/")

    asset = _wait_for_media(title)
    assert asset.state == MediaAsset.State.READY, asset.state_error

    page.goto(f"{live_server.url}/library/")
    page.click(f"text={title}")
    page.wait_for_selector("video#player")
    page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return v.dataset.state === 'playing' && v.currentTime > 1; }",
        timeout=60_000,
    )
    # The member picks a lower rung from the quality menu: hls.js switches and the picture gets smaller.
    options = page.locator("#quality option").all_inner_texts()
    assert options[0] == "自动" and "360p" in options and "234p" in options
    page.select_option("#quality", label="234p")
    page.wait_for_function("() => document.getElementById('player').videoHeight === 234", timeout=60_000)

    # The search outbox drains in the worker; give it a few seconds as a member would.
    for _attempt in range(20):
        page.goto(f"{live_server.url}/search/?q=党史")
        if page.locator(f"main a:has-text('{title}')").count():
            break
        time.sleep(1)
    assert page.locator(f"main a:has-text('{title}')").count() == 1
    # …and the answer came from the search engine, not the embedded fallback.
    assert not search_items(query="党史", user=AnonymousUser()).degraded
