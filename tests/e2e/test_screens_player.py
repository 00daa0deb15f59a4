"""The screens' web player (issue 18) in Debian's Chromium: a paired portrait screen plays three short videos with
no visible gap between them (measured from one video's end to the next one's first frame), keeps playing through a
network cut and a restart while offline (from its Service Worker's cache), reports its proof of play once the network
is back, and downloads again a cached file found corrupt."""

import subprocess
import time
from collections import Counter

import pytest
from django.conf import settings
from django.core.signals import request_started
from django.utils import timezone

from screens.models import PlayRecord
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import VideoFactory, demo_editors, unit_tree
from tests.screens.conftest import channel, paired_device, rule, stored_rendition

pytestmark = [pytest.mark.browser]
CLIP_SECONDS = 3
GAP_LIMIT_MS = 100
PATTERNS = ("testsrc2", "smptebars", "rgbtestsrc")
STATE = "() => window.lighthousePlayer"
# Each request the page makes with fetch() (heartbeat and plays, manifests) as [when, path, method, onLine], on the
# browser's clock (the machine's, as the server's hits): Playwright's own request events reach Python when it next
# reads its connection, which can be after a later set_offline() has returned. Kept across the restart.
FETCH_LOG = """(() => {
  const sent = () => JSON.parse(sessionStorage.getItem("fetches") || "[]");
  const fetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const entry = [Date.now() / 1000, new URL(String(input), location.href).pathname, (init && init.method) || "GET"];
    sessionStorage.setItem("fetches", JSON.stringify([...sent(), [...entry, navigator.onLine]]));
    return fetch(input, init);
  };
})()"""
READ_FETCH_LOG = '() => JSON.parse(sessionStorage.getItem("fetches") || "[]")'


def _portrait_clip(pattern: str, path) -> bytes:
    """A 3 s, 180×320, 25 fps H.264 clip without sound, its index first (as the pipeline's screen files are)."""
    args = [settings.FFMPEG_BINARY, "-v", "error", "-f", "lavfi", "-i", f"{pattern}=size=180x320:rate=25:duration=3"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    subprocess.run([*args, str(path)], check=True)
    return path.read_bytes()


def _video(unit, title: str, pattern: str, tmp_path):
    """A public video whose screen_portrait rendition is a real tiny file with its SHA-256 (as the pipeline stores)."""
    data = _portrait_clip(pattern, tmp_path / f"{pattern}.mp4")
    asset = stored_rendition(
        data,
        group="screens",
        profile="screen_portrait",
        kind="mp4",
        suffix="mp4",
        duration=CLIP_SECONDS,
        width=180,
        height=320,
    )
    return VideoFactory(owning_unit=unit, media_asset=asset, title=title)


@pytest.fixture
def portrait_screen(transactional_db, django_db_serialized_rollback, library_page, local_media, tmp_path):
    units = unit_tree()
    editors = demo_editors(units)
    zouping = units["zouping"]
    videos = [_video(zouping, f"短片{index}", pattern, tmp_path) for index, pattern in enumerate(PATTERNS, 1)]
    rule(zouping, channel(zouping, name="竖屏轮播", screen_type="portrait", entries=videos))
    device, credential = paired_device(
        zouping, editors["zouping_editor"], name="大厅竖屏", screen_type="portrait", width=1080, height=1920
    )
    return device, credential


@pytest.fixture
def server_hits():
    """Every request the live server (a thread of this process) receives: (when, path)."""
    hits: list[tuple[float, str]] = []

    def received(sender, environ, **kwargs):
        hits.append((time.time(), environ["PATH_INFO"]))

    request_started.connect(received, weak=False, dispatch_uid="screens-player-e2e")
    yield hits
    request_started.disconnect(dispatch_uid="screens-player-e2e")


def _wait_transitions(page, count: int, timeout=60_000):
    page.wait_for_function(
        f"() => window.lighthousePlayer && window.lighthousePlayer.transitions.length >= {count}", timeout=timeout
    )


def test_portrait_player_gapless_offline_restart_proof_of_play_and_repair(live_server, portrait_screen, server_hits):
    from playwright.sync_api import sync_playwright

    device, credential = portrait_screen
    url = f"{live_server.url}/screens/player/?screen=portrait"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 640})
        finished: list = []  # (when, request): every request that got an answer, the worker's own included
        context.on("requestfinished", lambda request: finished.append((time.time(), request)))
        context.add_init_script(FETCH_LOG)
        page = context.new_page()
        page.goto(f"{url}#credential={credential}")

        # 1. Three items, each following the last with no visible gap.
        page.wait_for_function("() => document.body.dataset.cache === 'ready'", timeout=60_000)
        _wait_transitions(page, 3)
        gaps = [round(t["gap_ms"], 1) for t in page.evaluate(STATE)["transitions"]]
        sources = {t["to"] for t in page.evaluate(STATE)["transitions"]}
        print(f"\ngaps between videos (ended → next first frame): {gaps} ms")
        assert all(source.startswith("/screens/player/asset/") for source in sources)  # played from the cache
        assert len(sources) >= 2 and max(gaps[:3]) < GAP_LIMIT_MS

        # 2. The network is cut: playing goes on.
        cut = timezone.now()
        context.set_offline(True)
        cut_at = time.time()
        before = len(page.evaluate(STATE)["transitions"])
        _wait_transitions(page, before + 3)
        offline_gaps = [round(t["gap_ms"], 1) for t in page.evaluate(STATE)["transitions"][before:]]
        print(f"offline gaps: {offline_gaps} ms")

        # 3. Restarted while offline: the page, its script, the manifest and the files come from the cache.
        issued = page.evaluate(READ_FETCH_LOG)  # before the restart's page can add to it
        navigation = page.reload()
        assert navigation.from_service_worker
        _wait_transitions(page, 2)
        restarted = page.evaluate(STATE)
        assert restarted["online"] is False
        print(f"after an offline restart: gaps {[round(t['gap_ms'], 1) for t in restarted['transitions']]} ms")
        # Nothing reached the server while offline: not the page's requests, not the worker's own fetches. (The
        # browser's own update check of the worker script, made by register() at the restart, is not held back by
        # DevTools' offline emulation; on a real cut it fails and the installed worker goes on, as the player expects.)
        # A request the page made before the cut may reach this (loaded) server just after it: not sent offline.
        in_flight = Counter(path for at, path, _method, _online in issued if at <= cut_at)
        in_flight -= Counter(path for at, path in server_hits if at <= cut_at)
        late = Counter(path for at, path in server_hits if at > cut_at and path != "/screens/player/sw.js")
        reached = sorted((late - in_flight).elements())
        worker = sum(1 for at, request in finished if request.service_worker is not None and at <= cut_at)
        reports = [entry for entry in issued if entry[2] == "POST"]
        offline = [path for at, path, _method, _online in reports if at > cut_at]
        print(f"server requests while offline: {reached}; worker fetches before the cut: {worker}")
        print(f"reports the page sent: {len(reports) - len(offline)} before the cut, {offline} after it")
        timeline = {
            "cut_at": cut_at,
            "fetches": issued,
            "server_hits": [(at, path) for at, path in server_hits if at > cut_at - 5],
        }
        assert reached == [], timeline
        assert worker > 0
        # The player sends no report while the browser says it has no network (kept until the "online" event).
        assert not [entry for entry in reports if not entry[3]], timeline

        # 4. The network returns: the plays made while offline arrive.
        context.set_offline(False)
        deadline = time.time() + 45
        while (
            time.time() < deadline and not PlayRecord.objects.filter(device_id=device.pk, started_at__gt=cut).exists()
        ):
            page.wait_for_timeout(500)
        plays = PlayRecord.objects.filter(device_id=device.pk)
        offline_plays = plays.filter(started_at__gt=cut).count()
        print(f"proof of play: {plays.count()} plays stored, {offline_plays} of them played while offline")
        assert offline_plays >= 2
        assert not plays.filter(clock_suspect=True).exists()

        # 5. A cached file corrupted on disk is found at the next start and downloaded again.
        key = page.evaluate("() => window.lighthousePlayer.manifest.assets[0].key")
        expected = page.evaluate("() => window.lighthousePlayer.manifest.assets[0].sha256")
        page.evaluate(
            "async (key) => { const cache = await caches.open('lighthouse-screen-assets-v1');"
            " await cache.put('/screens/player/asset/' + encodeURIComponent(key),"
            " new Response('not a video', {headers: {'Content-Type': 'video/mp4'}})); }",
            key,
        )
        # ... and the first download of it arrives damaged too (wrong bytes once): the worker downloads it again.
        damaged: list[str] = []

        def damage_once(route):
            if damaged:
                return route.fallback()
            damaged.append(route.request.url)
            return route.fulfill(status=200, body=b"damaged on the way", content_type="video/mp4")

        context.route("**/media/renditions/**", damage_once)
        page.reload()
        page.wait_for_function("() => document.body.dataset.cache === 'ready'", timeout=60_000)
        reports = [r for r in page.evaluate(STATE)["cache"] if r["key"] == key]
        stored = page.evaluate(
            "async (key) => { const cache = await caches.open('lighthouse-screen-assets-v1');"
            " const r = await cache.match('/screens/player/asset/' + encodeURIComponent(key));"
            " const d = await crypto.subtle.digest('SHA-256', await r.arrayBuffer());"
            " return Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, '0')).join(''); }",
            key,
        )
        print(f"corrupt cached file: {reports}")
        assert reports[0]["action"] == "repaired" and stored == expected
        assert damaged and reports[0]["tries"] == 2  # the damaged download was refused, the second one kept
        _wait_transitions(page, 1)
        context.close()
        browser.close()


def test_demo_landscape_screen_plays_its_notices_from_the_printed_link(
    live_server, transactional_db, django_db_serialized_rollback, library_page
):
    """``make run``'s landscape demo screen (screens/demo.py): its printed link opens a player that shows the
    channel's notices one after another, each for its seconds."""
    from playwright.sync_api import sync_playwright

    from screens.demo import demo_player_path, screens_demo_load

    screens_demo_load(unit=unit_tree()["zouping"], log=lambda line: None)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 640, "height": 360})
        page.goto(live_server.url + demo_player_path("landscape"))
        page.wait_for_selector("#notice.front", timeout=60_000)
        first = page.text_content("#notice")
        page.wait_for_function(
            "(first) => document.getElementById('notice').textContent !== first", arg=first, timeout=20_000
        )
        second = page.text_content("#notice")
        print(f"\ndemo landscape screen: {first!r} then {second!r}")
        assert "邹平" in first + second or "灯塔" in first + second
        assert page.evaluate("() => document.body.dataset.state") == "playing"
        browser.close()
