"""Findings of an outside attack on screens/ and the TV app (issue 18): each test is one attack, failing until the
application is fixed. The docstring says the attack and what should happen instead. Three fail on PostgreSQL only
(NUL in a play, a channel id beyond 32 bits) or SQLite only (the delivery page for year 1): run both."""

import unicodedata
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from screens.models import Device, PlayRecord
from screens.services import (
    device_pair,
    emergency_cancel,
    emergency_create,
    pairing_request_create,
)
from tests.factories import VideoFactory

from .conftest import channel, paired_device
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


def test_tv_watch_with_a_superscript_digit_offset_is_not_a_500(tree):
    """Attack: /tv/watch/<item>/?t=² — ``"²".isdigit()`` is True but ``int("²")`` raises ValueError -> 500 (any
    item: a members-only one for an anonymous TV reaches the same line). Expected: the page, offset ignored."""
    item = VideoFactory(owning_unit=tree["units"]["zouping"])
    answer = _client().get(f"/tv/watch/{item.pk}/", {"t": "²"})
    assert answer.status_code != 500


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
