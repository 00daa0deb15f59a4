"""An audio screen in Debian's Chromium: the web player plays the channel's audio edition files one after another
from its Service Worker's cache, with no gap over 100 ms (from one file's end to the next one playing), shows a
large now-playing card with the title, and reports its proof of play."""

import subprocess
import time

import pytest
from django.conf import settings

from screens.models import PlayRecord
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import AudioFactory, demo_editors, unit_tree
from tests.screens.conftest import channel, paired_device, rule, stored_rendition

pytestmark = [pytest.mark.browser]
CLIP_SECONDS = 2
GAP_LIMIT_MS = 100
STATE = "() => window.lighthousePlayer"


def _audio(unit, title: str, frequency: int, tmp_path):
    """A public audio item whose audio_m4a rendition is a real 2 s AAC file with its SHA-256 (as the pipeline
    stores)."""
    path = tmp_path / f"{frequency}.m4a"
    args = [settings.FFMPEG_BINARY, "-v", "error", "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration=2"]
    subprocess.run([*args, "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(path)], check=True)
    data = path.read_bytes()
    asset = stored_rendition(
        data, group="audio_edition", profile="audio_m4a", kind="audio", suffix="m4a", duration=CLIP_SECONDS
    )
    return AudioFactory(owning_unit=unit, media_asset=asset, title=title)


@pytest.fixture
def audio_screen(transactional_db, django_db_serialized_rollback, library_page, local_media, tmp_path):
    units = unit_tree()
    zouping = units["zouping"]
    items = [_audio(zouping, f"党课录音{n}", frequency, tmp_path) for n, frequency in enumerate((440, 660, 880), 1)]
    rule(zouping, channel(zouping, name="广播", screen_type="audio", entries=items))
    editor = demo_editors(units)["zouping_editor"]
    return paired_device(zouping, editor, name="广播音箱", screen_type="audio")


def test_audio_screen_plays_its_channel_gaplessly_with_a_now_playing_card(live_server, audio_screen):
    from playwright.sync_api import sync_playwright

    device, credential = audio_screen
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 640, "height": 360})
        page.goto(f"{live_server.url}/screens/player/?screen=audio#credential={credential}")
        page.wait_for_function("() => document.body.dataset.cache === 'ready'", timeout=60_000)
        page.wait_for_selector("#now-playing.front", timeout=30_000)
        title = page.inner_text("#now-playing-title")
        assert title.startswith("党课录音") and page.inner_text("#now-playing-channel") == "广播"
        page.wait_for_function(f"{STATE}.transitions.length >= 3", timeout=30_000)
        transitions = page.evaluate(STATE)["transitions"]
        gaps = [round(t["gap_ms"], 1) for t in transitions]
        print(f"\ngaps between audio files (ended → next playing): {gaps} ms; now playing {title!r}")
        assert all(t["to"].startswith("/screens/player/asset/") for t in transitions)  # played from the cache
        assert len({t["to"] for t in transitions}) >= 2 and max(gaps) < GAP_LIMIT_MS
        assert page.evaluate("() => document.getElementById('audio-a').muted") is False
        deadline = time.time() + 20
        while time.time() < deadline and not PlayRecord.objects.filter(device_id=device.pk).exists():
            page.wait_for_timeout(500)
        assert PlayRecord.objects.filter(device_id=device.pk, seconds__gt=1).exists()
        browser.close()
