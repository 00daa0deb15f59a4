"""Findings of an outside attack on screens/ and the TV app (issue 18): each test is one attack, failing until the
application is fixed. The docstring says the attack and what should happen instead. Three fail on PostgreSQL only
(NUL in a play, a channel id beyond 32 bits) or SQLite only (the delivery page for year 1): run both."""

from datetime import datetime
from uuid import uuid4

import pytest
from django.test import Client
from django.utils import timezone

from library.models import LibraryItem
from screens.models import SCHEDULE_TIME_ZONE, Priority
from screens.plays.recording import ReportedPlay
from screens.selectors import delivery_rate
from screens.services import (
    plays_record,
)
from tests.factories import VideoFactory

from .conftest import channel, paired_device, rule
from .test_linear import linear_world, tv_editions  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
HEARTBEAT = "/api/v1/screens/device/heartbeat"
PLAYS = "/api/v1/screens/device/plays"


def _client() -> Client:
    return Client(raise_request_exception=False)


def _bearer(credential: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {credential}"}


@pytest.fixture
def device(tree):
    made, credential = paired_device(tree["units"]["zouping"], tree["editors"]["zouping_editor"])
    return made, credential


def _play(**fields) -> dict:
    play = {
        "id": "6f1c1f1e-4c1e-4f1e-9c1e-1f1e1f1e1f1e",
        "started_at": "2026-12-07T10:00:00+08:00",
        "seconds": 5,
    }
    play.update(fields)
    return {"plays": [play]}


def test_the_pairing_throttle_cannot_be_dodged_by_a_forged_x_forwarded_for(tree):
    """Attack: POST /api/v1/screens/pairings 11 times from one address, each with a different made-up
    ``X-Forwarded-For``. ninja's AnonRateThrottle keys on the whole XFF header when NINJA_NUM_PROXIES is unset, so
    the 10-a-minute limit never applies (a flood of pairing rows and codes). Expected: the 11th is a 429, keyed on the
    address the project trusts (cms.login_throttle.client_ip_address)."""
    client = _client()
    codes = [
        client.post(
            "/api/v1/screens/pairings", {}, content_type="application/json", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}"
        ).status_code
        for n in range(11)
    ]
    assert codes[-1] == 429


def test_tv_watch_with_a_superscript_digit_offset_is_not_a_500(tree):
    """Attack: /tv/watch/<item>/?t=² — ``"²".isdigit()`` is True but ``int("²")`` raises ValueError -> 500 (any
    item: a members-only one for an anonymous TV reaches the same line). Expected: the page, offset ignored."""
    item = VideoFactory(owning_unit=tree["units"]["zouping"])
    answer = _client().get(f"/tv/watch/{item.pk}/", {"t": "²"})
    assert answer.status_code != 500


def test_an_item_closed_to_the_public_leaves_the_linear_channel_and_its_guide_at_once(client, linear_world):  # noqa: F811
    """Attack: watch /linear/<id>/1080p.m3u8 and /linear/units/<code>/guide.xml of a public channel, then the
    library closes one of its items (access 仅党员). The loop is cached a minute under the *channel's* updated_at
    (screens.linear.selectors.channel_loop), which an item's change does not touch: for that minute the anonymous
    guide still names the members-only item and the live playlist keeps handing out freshly signed links to its
    segments. Expected: the item's change (screens.signal_handlers already notes item saves) invalidates the loop, so
    the next guide and playlist leave it out."""
    assert "党课 第1讲" in client.get("/linear/units/shandong/guide.xml").content.decode()
    client.get(f"/linear/{linear_world['province'].pk}/1080p.m3u8")
    closed = LibraryItem.objects.get(title="党课 第1讲")
    closed.access = LibraryItem.Access.MEMBERS
    closed.save()
    assert "党课 第1讲" not in client.get("/linear/units/shandong/guide.xml").content.decode()
    playlist_text = client.get(f"/linear/{linear_world['province'].pk}/1080p.m3u8").content.decode()
    assert f"/renditions/{closed.media_asset_id}/" not in playlist_text


def test_one_screen_over_reporting_cannot_hide_the_silence_of_the_others(tree):
    """Attack: of 邹平's two lobby screens (both scheduled all day) one is dark and reports nothing; the other (or
    anything holding its credential) POSTs one play of 86,400 s, or 500 overlapping plays per batch. ``delivery_rate``
    sums the subtree's seconds and caps only the *total* at the subtree's scheduled time, so 邹平 shows 100 % although
    half its screen time played. Expected: each screen's played time is capped at its own schedule (overlapping plays
    of one screen counted once), so the rate is at most 50 %."""
    units, editors = tree["units"], tree["editors"]
    lobby = channel(units["zouping"], name="邹平大厅", screen_type="landscape", entries=["欢迎"])
    rule(units["zouping"], lobby, Priority.OWN)
    talker, _credential = paired_device(units["zouping"], editors["zouping_editor"], name="一号屏")
    paired_device(units["zouping"], editors["zouping_editor"], name="二号屏")
    now = timezone.now()
    day = now.astimezone(SCHEDULE_TIME_ZONE).date()
    start_of_day = datetime.combine(day, datetime.min.time(), SCHEDULE_TIME_ZONE)
    plays = [
        ReportedPlay(
            id=uuid4(),
            channel=lobby.pk,
            entry=None,
            asset="",
            started_at=start_of_day,
            seconds=86400,
            manifest_version="",
        )
        for _twice in range(2)  # two overlapping whole-day plays: more than both screens' schedule together
    ]
    plays_record(device=talker, plays=plays, now=now)
    delivery = delivery_rate(unit=units["zouping"], day=day, moment=now)
    assert delivery.screens == 2 and delivery.scheduled_seconds > 0
    assert delivery.rate <= 0.5


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_delivery_page_for_a_day_at_the_calendars_edge_is_not_a_500(tree, day):
    """Attack: an editor opens /admin/screens-delivery/?day=9999-12-31 (or 0001-01-01); the DateField accepts it and
    ``delivery_rate`` adds a day / converts it to UTC -> OverflowError -> 500. Expected: the form says the day is out
    of range (Chinese), the page still renders."""
    client = _client()
    client.force_login(tree["editors"]["zouping_editor"])
    assert client.get("/admin/screens-delivery/", {"day": day}).status_code == 200


@pytest.mark.parametrize("at", ["9999-12-31T23:59"])
def test_the_device_preview_at_a_moment_at_the_calendars_edge_is_not_a_500(tree, at):
    """Attack: /admin/screens-device/<id>/preview/?at=9999-12-31T23:59: the preview adds 48 hours past the calendar
    -> OverflowError -> 500. Expected: a Chinese form error, the page renders for now."""
    made, _credential = paired_device(tree["units"]["zouping"], tree["editors"]["zouping_editor"])
    client = _client()
    client.force_login(tree["editors"]["zouping_editor"])
    assert client.get(f"/admin/screens-device/{made.pk}/preview/", {"at": at}).status_code == 200


def test_a_tv_signed_in_by_phone_gets_no_more_than_the_tv(tree):
    """Attack (QR login phishing): the attacker opens /tv/signin/ in their own browser and passes its QR code on
    (a poster "扫码登录大厅电视", a chat message); an editor scans it and presses 登录电视. The attacker's browser is
    now signed in with a full site session (``login()`` in ``screens.tv.views.signin_poll``): /admin/, the editor's
    channels, emergencies, member data. The phone page does not say which TV or where. Expected: a session signed in
    through a TV code is held to the TV's pages (no admin, no account changes; or editors/staff cannot sign a TV in),
    and the phone page names the TV's address/time before 登录电视."""
    from .test_tv import _code, _confirm

    tv, phone = _client(), _client()
    phone.force_login(tree["editors"]["zouping_editor"])
    assert phone.get("/admin/").status_code == 200  # the editor's own session opens the admin
    token = _code(tv)
    _confirm(phone, token)
    assert tv.get("/tv/signin/poll/").json()["state"] == "signed_in"
    assert tv.get("/admin/").status_code != 200
