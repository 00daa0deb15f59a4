"""The screens' web player (issue 18) in Debian's Chromium, under an emergency and a tampered manifest: an emergency
sent to the screen's unit takes the whole screen over (its words, the playlist's video paused and still muted) as
soon as the player reads its manifest, which it acknowledges once (the acknowledgement is in the database); a
manifest whose bytes were changed on the way is refused (its signature fails) and changes nothing; the genuine one
without the emergency (cancelled) gives the playlist back."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from screens.models import EmergencyAck
from screens.services import emergency_cancel, emergency_create
from tests.e2e import test_screens_player as player_test
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_screens_player import STATE, _wait_transitions

pytestmark = [pytest.mark.browser]
MESSAGE = "暴雨红色预警：请勿外出"
portrait_screen = player_test.portrait_screen  # the player test's screen: three tiny portrait videos, paired


@pytest.fixture
def immediate_tasks(settings):
    """An emergency's save recomputes the manifests when it commits (screens.signal_handlers), in this process."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": settings.TASK_QUEUES}
    }


def _network_back(context):
    """The network drops and returns: the player's heartbeat runs at once and reads a manifest that changed (what
    its 60-second heartbeat does otherwise)."""
    context.set_offline(True)
    context.set_offline(False)


def _tamper(route):
    """The manifest as the server sent it, signature header and all, with one byte of its body changed."""
    response = route.fetch()
    body = response.body()
    changed = body.replace(b"Asia/Shanghai", b"Asia/Shanghaj", 1)
    assert changed != body
    route.fulfill(response=response, body=changed)


def test_emergency_takes_over_is_acknowledged_a_tampered_manifest_is_refused_and_the_playlist_resumes(
    live_server, portrait_screen, immediate_tasks
):
    from playwright.sync_api import sync_playwright

    device, credential = portrait_screen
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 640})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{live_server.url}/screens/player/?screen=portrait#credential={credential}")
        page.wait_for_function("() => document.body.dataset.cache === 'ready'", timeout=60_000)
        _wait_transitions(page, 1)  # the playlist's videos play

        # 1. An emergency for the screen's unit: the screen is taken over and acknowledges it.
        now = timezone.now()
        emergency = emergency_create(
            unit=device.unit,
            created_by=device.paired_by,
            message=MESSAGE,
            starts_at=now - timedelta(seconds=5),
            ends_at=now + timedelta(hours=1),
        )
        _network_back(context)
        page.wait_for_function("() => document.body.dataset.state === 'emergency'", timeout=30_000)
        assert page.text_content("#emergency-message") == MESSAGE
        assert page.evaluate("() => document.getElementById('emergency').classList.contains('front')")
        videos = page.evaluate("() => [...document.querySelectorAll('video')].map(v => [v.paused, v.muted])")
        assert videos == [[True, True], [True, True]]  # the playlist's video paused, the screen still muted
        deadline = time.time() + 30
        while time.time() < deadline and not EmergencyAck.objects.filter(emergency=emergency, device=device).exists():
            page.wait_for_timeout(300)
        assert EmergencyAck.objects.filter(emergency=emergency, device=device).count() == 1
        acked_version = page.evaluate(STATE)["manifest"]["version"]

        # 2. Cancelled, but the new manifest arrives with a byte changed: refused, the takeover stays.
        emergency_cancel(emergency=emergency)
        context.route("**/api/v1/screens/device/manifest", _tamper)
        _network_back(context)
        page.wait_for_function("() => window.lighthousePlayer.refused >= 1", timeout=30_000)
        after_tamper = page.evaluate(STATE)
        print(f"\nrefused manifests: {after_tamper['refused']}; console errors: {errors}")
        assert after_tamper["manifest"]["version"] == acked_version
        assert page.evaluate("() => document.body.dataset.state") == "emergency"
        assert any("manifest refused" in error for error in errors)

        # 3. The genuine manifest (without the cancelled emergency): the playlist plays again.
        context.unroute("**/api/v1/screens/device/manifest")
        before = len(page.evaluate(STATE)["transitions"])
        _network_back(context)
        page.wait_for_function("() => document.body.dataset.state === 'playing'", timeout=30_000)
        _wait_transitions(page, before + 1)
        resumed = page.evaluate(STATE)
        assert resumed["emergency"] is None and resumed["manifest"]["emergencies"] == []
        assert not page.evaluate("() => document.getElementById('emergency').classList.contains('front')")
        context.close()
        browser.close()
