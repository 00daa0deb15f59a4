"""The player's audio-track menu (issue 15, item 13): a master with several audio tracks shows their names, and
choosing one makes hls.js fetch that rendition while the video keeps playing.

The page is served as static files (the ladder's output, player.js, hls.js) so no services are needed; the
library page itself renders the same markup (library/templates/library/items/video.html)."""

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from media_pipeline.ffmpeg.loudness import loudness_measure
from media_pipeline.ffmpeg.probe import probe_upload
from media_pipeline.steps import web_hls
from media_pipeline.steps.contract import StepContext
from media_pipeline.steps.profiles import HLS_WEB, LOUDNESS_MOBILE
from media_pipeline.synthetic.media import make_corpus_clip

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGE = """<!doctype html><meta charset="utf-8">
<div class="player">
  <video id="player" controls playsinline muted data-src="hls_web/master.m3u8" data-item="1"
         data-hls-js="hls.min.js"></video>
  <div class="player-controls">
    <span class="control" hidden><label for="audio-track">音轨</label><select id="audio-track"></select></span>
  </div>
</div>
<script src="player.js"></script>
"""


@pytest.fixture
def site(tmp_path):
    """The ladder of the three-language corpus clip, player.js and hls.js, served over HTTP from one folder."""
    source = make_corpus_clip("audio_languages", tmp_path / "languages.mkv")
    probe = probe_upload(source)
    loudness = loudness_measure(source=source, probe=probe, target=LOUDNESS_MOBILE)
    root = tmp_path / "site"
    web_hls.produce(
        StepContext(source=source, probe=probe, out_dir=root, work_dir=tmp_path / "w", loudness=loudness), HLS_WEB
    )
    shutil.copy(ROOT / "static" / "js" / "player.js", root / "player.js")
    shutil.copy(settings.BASE_DIR / "node_modules" / "hls.js" / "dist" / "hls.min.js", root / "hls.min.js")
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_member_switches_to_another_audio_track(site, browser_page):
    """The menu lists 中文 (chosen), 英语, 粤语原声; picking 英语 fetches audio_track_1 and playback goes on."""
    page = browser_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{site}/index.html")
    page.evaluate("() => document.getElementById('player').play()")
    page.wait_for_function("() => document.getElementById('player').dataset.state === 'playing'", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('#audio-track option').length === 3")
    assert page.locator("#audio-track").is_visible()  # the menu was shown
    assert page.locator("#audio-track option").all_inner_texts() == ["中文", "英语", "粤语原声"]
    assert page.locator("#audio-track").input_value() == "0"
    assert not any("audio_track_" in url for url in requested)  # nothing fetched for tracks nobody chose
    with page.expect_request(lambda request: request.url.endswith("audio_track_1/index.m3u8")):
        page.select_option("#audio-track", label="英语")
    for _attempt in range(100):  # its segments follow: hls.js plays the English rendition
        if any("audio_track_1/" in url and url.endswith(".m4s") for url in requested):
            break
        page.wait_for_timeout(100)
    assert any("audio_track_1/" in url and url.endswith(".m4s") for url in requested)
    state = page.evaluate("() => ({...document.getElementById('player').dataset})")
    assert state["state"] != "error", state  # data-error names hls.js's fatal error
