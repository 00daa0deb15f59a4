"""Findings of an outside attack on screens/ and the TV app (issue 18): each test is one attack, failing until the
application is fixed. The docstring says the attack and what should happen instead. Three fail on PostgreSQL only
(NUL in a play, a channel id beyond 32 bits) or SQLite only (the delivery page for year 1): run both."""

import unicodedata
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from django.test import Client
from django.utils import timezone

from library.models import LibraryItem
from screens.models import SCHEDULE_TIME_ZONE, Device, PlayRecord, Priority
from screens.plays.recording import ReportedPlay
from screens.selectors import delivery_rate
from screens.services import (
    device_pair,
    emergency_cancel,
    emergency_create,
    pairing_request_create,
    plays_record,
)

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


def test_heartbeat_with_a_naive_device_time_is_a_clear_400_not_a_500(device):
    """Attack: a heartbeat whose ``device_time`` has no time zone ("2026-12-07T10:00:00"). pydantic accepts it and
    ``device_heartbeat`` subtracts it from an aware now -> TypeError -> 500. Expected: a 4xx with a Chinese detail,
    nothing recorded."""
    _made, credential = device
    answer = _client().post(
        HEARTBEAT, {"device_time": "2026-12-07T10:00:00"}, content_type="application/json", **_bearer(credential)
    )
    assert 400 <= answer.status_code < 500


def test_plays_with_a_naive_started_at_are_a_clear_400_not_a_500(device):
    """Attack: a play whose ``started_at`` has no time zone. ``record_of`` compares it with an aware now ->
    TypeError -> 500 (and the player retries the batch for ever). Expected: 4xx with a Chinese detail."""
    _made, credential = device
    answer = _client().post(
        PLAYS, _play(started_at="2026-12-07T10:00:00"), content_type="application/json", **_bearer(credential)
    )
    assert 400 <= answer.status_code < 500
    assert PlayRecord.objects.count() == 0


def test_a_heartbeat_with_free_disk_beyond_64_bits_is_refused_cleanly(device):
    """Attack: ``free_disk`` = 2**64 (no upper bound in HeartbeatIn). The BigIntegerField overflows on write ->
    500 (PostgreSQL: bigint out of range; SQLite: OverflowError). Expected: 422/400, the device row unchanged."""
    made, credential = device
    answer = _client().post(HEARTBEAT, {"free_disk": 2**64}, content_type="application/json", **_bearer(credential))
    assert 400 <= answer.status_code < 500
    assert Device.objects.get(pk=made.pk).last_heartbeat_at is None


def test_a_play_with_a_channel_id_beyond_32_bits_is_refused_cleanly(device):
    """Attack: a play naming ``channel`` = 2**40 (PlayIn.channel is an unbounded int, PlayRecord.channel_id an
    IntegerField). PostgreSQL: integer out of range -> 500 and the whole batch is lost at each retry. Expected: 4xx
    (or the id dropped), no 500."""
    _made, credential = device
    answer = _client().post(PLAYS, _play(channel=2**40), content_type="application/json", **_bearer(credential))
    assert answer.status_code != 500


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


def test_a_pairing_code_typed_in_full_width_characters_pairs_the_screen(tree):
    """Attack/odd user: an editor whose Chinese IME is in full-width mode types the code as "２３ＡＢＣＤ".
    ``code_normalised`` only upper-cases and strips spaces, so the code is refused (and counts as a wrong guess towards
    the 10-in-15-minutes lock-out). Expected: NFKC-normalised (full-width digits/letters, 全角空格 too), it pairs."""
    _pairing, _credential, code = pairing_request_create()
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in code)  # ASCII -> full-width forms
    assert unicodedata.normalize("NFKC", wide) == code
    device = device_pair(
        code=wide,
        unit=tree["units"]["zouping"],
        name="全角",
        screen_type="tv",
        paired_by=tree["editors"]["zouping_editor"],
    )
    assert device.pk


def test_an_ack_does_not_reveal_another_units_cancelled_emergency(tree):
    """Attack: a 沂南 screen POSTs /device/emergencies/<id>/ack for ids it was never sent. A cancelled emergency of
    邹平 answers 410 (这条紧急插播已撤销) while an id that does not exist answers 404, so any device can enumerate
    which emergencies other units sent and cancelled. Expected: 404 for every emergency not reaching this screen
    (``emergency_acknowledge`` checks ``cancelled_at`` among ``emergencies_reaching`` only)."""
    units, editors = tree["units"], tree["editors"]
    now = timezone.now()
    sent = emergency_create(
        unit=units["zouping"],
        created_by=editors["zouping_editor"],
        message="邹平停水通知",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
    )
    emergency_cancel(emergency=sent)
    _yinan_screen, credential = paired_device(units["yinan"], editors["yinan_editor"])
    answer = _client().post(
        f"/api/v1/screens/device/emergencies/{sent.pk}/ack",
        {"key_id": "dev", "signature": "x"},
        content_type="application/json",
        **_bearer(credential),
    )
    assert answer.status_code == 404


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


def test_a_heartbeat_carrying_a_nul_byte_is_refused_cleanly(device):
    """Attack: a heartbeat with ``"manifest_version": "abc\\u0000"`` (64 characters at most, any characters). PostgreSQL
    text cannot hold NUL: psycopg raises ValueError on the UPDATE -> 500 (SQLite stores it). Expected: 422/400 with a
    Chinese detail, the device row unchanged."""
    made, credential = device
    answer = _client().post(
        HEARTBEAT, {"manifest_version": "abc\u0000"}, content_type="application/json", **_bearer(credential)
    )
    assert 400 <= answer.status_code < 500
    assert Device.objects.get(pk=made.pk).last_heartbeat_at is None


def test_a_play_carrying_a_nul_byte_is_refused_without_losing_the_batch_for_ever(device):
    """Attack: one play of a batch with ``"asset": "video:1\\u0000"``. On PostgreSQL the bulk insert raises ValueError
    -> 500; the player keeps the batch and resends it for ever, so every good play queued with it is never stored.
    Expected: a 4xx naming the bad field (or the NUL dropped), never a 500."""
    _made, credential = device
    answer = _client().post(PLAYS, _play(asset="video:1\u0000"), content_type="application/json", **_bearer(credential))
    assert answer.status_code != 500


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


@pytest.mark.parametrize(
    "body",
    ["[]", '{"screen_width": true, "free_disk": false}', '{"device_time": "9999-12-31T23:59:59+14:00"}'],
)
def test_a_heartbeat_of_the_wrong_shape_or_an_impossible_clock_is_refused(device, body):
    """Attack: heartbeats of the wrong JSON types: a bare array ``[]`` (a 200 that wipes the last reported size and
    free disk), booleans where pixels and bytes go (pydantic's lax mode turns ``true`` into 1 pixel), a device clock in
    year 9999 (stored as an offset of 8,000 years, shown in the admin). Expected: 422 with a Chinese detail (strict
    types; a clock offset bounded, e.g. a day), nothing recorded."""
    made, credential = device
    answer = _client().post(HEARTBEAT, body, content_type="application/json", **_bearer(credential))
    assert 400 <= answer.status_code < 500
    assert Device.objects.get(pk=made.pk).last_heartbeat_at is None


def test_a_play_of_a_channel_never_sent_to_the_screen_is_not_stored_as_that_channels_play(tree):
    """Attack: a 邹平 screen reports plays naming 沂南's channel (or channel -1, entry -5). ``record_of`` stores any
    integer as ``channel_id``/``entry_id``, so per-channel proof of play (who aired 沂南's programme, and where) can be
    forged by any screen of another unit. Expected: a channel/entry not in the screen's manifest is refused (4xx) or
    stored without it."""
    units, editors = tree["units"], tree["editors"]
    foreign = channel(units["yinan"], name="沂南自办", entries=["沂南通知"])
    _zouping_screen, credential = paired_device(units["zouping"], editors["zouping_editor"])
    _client().post(PLAYS, _play(channel=foreign.pk), content_type="application/json", **_bearer(credential))
    assert not PlayRecord.objects.filter(channel_id=foreign.pk).exists()
