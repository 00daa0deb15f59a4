"""Pairing (a code shown on the screen, entered by an editor; single use, expiring, throttled) and the device API:
the manifest with its ETag and 304, skipped items reported, signed asset links, heartbeats, and the clear 401s for
a missing, forged or revoked credential."""

import hashlib
import io
import unicodedata
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from cms.models import LighthouseImage
from screens.errors import PairingRefused
from screens.models import Device, PlaylistEntry, Priority
from screens.services import PAIRING_GUESSES, device_pair, device_revoke, pairing_request_create

from .conftest import channel, paired_device, rule, video_with_renditions

pytestmark = pytest.mark.django_db
MANIFEST = "/api/v1/screens/device/manifest"
HEARTBEAT = "/api/v1/screens/device/heartbeat"


def bearer(credential: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {credential}"}


@pytest.fixture
def zouping(tree):
    units, editors = tree["units"], tree["editors"]
    video = video_with_renditions(units["zouping"], title="邹平新闻")
    own = channel(units["zouping"], name="邹平自办", entries=[video, "今晚停电检修"])
    rule(units["zouping"], own, Priority.OWN)
    device, credential = paired_device(units["zouping"], editors["zouping_editor"])
    return {"device": device, "credential": credential, "channel": own, "video": video, **tree}


# --- Pairing ------------------------------------------------------------------------------------------------------


def test_a_screen_is_paired_over_http_and_its_credential_then_reads_the_manifest(tree):
    client = Client()
    answer = client.post("/api/v1/screens/pairings", {"width": 1080, "height": 1920}, content_type="application/json")
    assert answer.status_code == 201
    body = answer.json()
    waiting = client.get("/api/v1/screens/pairings/me", **bearer(body["credential"]))
    assert waiting.status_code == 200 and waiting.json()["paired"] is False
    assert client.get(MANIFEST, **bearer(body["credential"])).status_code == 401  # not paired yet
    device_pair(
        code=body["code"].lower(),  # typed in lower case: still the code
        unit=tree["units"]["zouping"],
        name="村委会大厅",
        screen_type="portrait",
        paired_by=tree["editors"]["zouping_editor"],
    )
    paired = client.get("/api/v1/screens/pairings/me", **bearer(body["credential"])).json()
    assert paired == {"paired": True, "expires_at": paired["expires_at"], "device_name": "村委会大厅"}
    assert client.get(MANIFEST, **bearer(body["credential"])).status_code == 200
    device = Device.objects.get()
    assert (device.width, device.height) == (1080, 1920)  # as the screen reported it
    assert client.post("/api/v1/screens/pairings", {"width": 0}, content_type="application/json").status_code == 422
    assert body["credential"].split(".")[1] not in device.secret_hash  # only the hash is stored


def test_a_code_works_once_and_not_after_it_expires(tree):
    editor, unit = tree["editors"]["zouping_editor"], tree["units"]["zouping"]
    _pairing, _credential, code = pairing_request_create()
    device_pair(code=code, unit=unit, name="一", screen_type="tv", paired_by=editor)
    with pytest.raises(PairingRefused, match="已用过"):
        device_pair(code=code, unit=unit, name="二", screen_type="tv", paired_by=editor)
    _pairing, _credential, old = pairing_request_create(now=timezone.now() - timedelta(minutes=11))
    with pytest.raises(PairingRefused, match="过期"):
        device_pair(code=old, unit=unit, name="三", screen_type="tv", paired_by=editor)
    assert Device.objects.count() == 1


def test_wrong_codes_are_throttled_per_editor(tree):
    """After PAIRING_GUESSES wrong codes even the right one is refused for a while: guessing another unit's code
    is hopeless."""
    editor, unit = tree["editors"]["zouping_editor"], tree["units"]["zouping"]
    _pairing, _credential, code = pairing_request_create()
    for _attempt in range(PAIRING_GUESSES):
        with pytest.raises(PairingRefused, match="不对"):
            device_pair(
                code="ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", unit=unit, name="x", screen_type="tv", paired_by=editor
            )
    with pytest.raises(PairingRefused, match="太多"):
        device_pair(code=code, unit=unit, name="x", screen_type="tv", paired_by=editor)
    cache.clear()
    assert device_pair(code=code, unit=unit, name="x", screen_type="tv", paired_by=editor).unit == unit


def test_an_editor_cannot_pair_a_screen_to_a_unit_outside_their_subtree(tree):
    _pairing, _credential, code = pairing_request_create()
    with pytest.raises(PairingRefused, match="不能为这个单位"):
        device_pair(
            code=code,
            unit=tree["units"]["yinan"],
            name="x",
            screen_type="tv",
            paired_by=tree["editors"]["zouping_editor"],
        )
    assert not Device.objects.exists()


# --- Credentials --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ({}, "缺少屏幕凭证"),
        ({"HTTP_AUTHORIZATION": "Bearer nonsense"}, "凭证无效"),
        ({"HTTP_AUTHORIZATION": "Token abc"}, "缺少屏幕凭证"),
    ],
)
def test_missing_or_malformed_credentials_get_a_clear_401(zouping, header, words):
    answer = Client().get(MANIFEST, **header)
    assert answer.status_code == 401 and words in answer.json()["detail"]


def test_a_forged_secret_and_a_revoked_device_get_a_clear_401(zouping):
    credential_id, secret = zouping["credential"].split(".")
    forged = Client().get(MANIFEST, **bearer(f"{credential_id}.{secret[:-2]}xx"))
    assert forged.status_code == 401 and "凭证无效" in forged.json()["detail"]
    device_revoke(device=zouping["device"])
    revoked = Client().get(MANIFEST, **bearer(zouping["credential"]))
    assert revoked.status_code == 401 and "停用" in revoked.json()["detail"]
    beat = Client().post(HEARTBEAT, {}, content_type="application/json", **bearer(zouping["credential"]))
    assert beat.status_code == 401


# --- The manifest -------------------------------------------------------------------------------------------------


def test_manifest_etag_304_and_a_new_version_after_a_playlist_edit(
    zouping, local_media, django_capture_on_commit_callbacks
):
    client = Client()
    first = client.get(MANIFEST, **bearer(zouping["credential"]))
    assert first.status_code == 200
    body, etag = first.json(), first["ETag"]
    assert etag == f'"{body["version"]}"'
    assert [block["channel"] for block in body["blocks"]] == [zouping["channel"].pk]
    again = client.get(MANIFEST, HTTP_IF_NONE_MATCH=etag, **bearer(zouping["credential"]))
    assert again.status_code == 304 and again.content == b""
    weak = client.get(MANIFEST, HTTP_IF_NONE_MATCH=f"W/{etag}", **bearer(zouping["credential"]))
    assert weak.status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        PlaylistEntry.objects.create(channel=zouping["channel"], kind="notice", text="新通知", sort_order=9)
    changed = client.get(MANIFEST, HTTP_IF_NONE_MATCH=etag, **bearer(zouping["credential"]))
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_manifest_assets_are_the_screen_rendition_with_a_signed_link_to_its_bytes(local_media, zouping):
    """The manifest names the rendition made for the screen's profile, with its size and a signed link whose bytes
    are the file (local disk: local_media comes first, so the fixture's files are stored there)."""
    client = Client()
    body = client.get(MANIFEST, **bearer(zouping["credential"])).json()
    (asset,) = body["assets"]
    assert asset["profile"] == "screen_landscape" and asset["size"] == 21 and "sha256" in asset
    assert "?e=" in asset["url"] and "&s=" in asset["url"]
    data = b"".join(client.get(asset["url"]).streaming_content)
    assert data.endswith(b"screen_landscape")
    entries = body["channels"][0]["entries"]
    assert [entry["kind"] for entry in entries] == ["video", "notice"]
    assert entries[0]["asset"] == asset["key"] and entries[1]["text"] == "今晚停电检修"
    start = timezone.datetime.fromisoformat(body["window"]["start"])
    end = timezone.datetime.fromisoformat(body["window"]["end"])
    assert end - start == timedelta(hours=54) and start <= timezone.now() < start + timedelta(hours=6)


def test_an_item_without_a_ready_rendition_is_skipped_and_reported(zouping, django_capture_on_commit_callbacks):
    waiting = video_with_renditions(zouping["units"]["zouping"], profiles=(), title="还在转码")
    with django_capture_on_commit_callbacks(execute=True):
        PlaylistEntry.objects.create(channel=zouping["channel"], kind="video", item=waiting, sort_order=3)
    body = Client().get(MANIFEST, **bearer(zouping["credential"])).json()
    (skipped,) = body["skipped"]
    assert "还在转码" in skipped["reason"]
    assert len(body["channels"][0]["entries"]) == 2 and len(body["assets"]) == 1


def test_heartbeat_records_what_the_device_reports_and_its_clock_offset(zouping):
    client = Client()
    version = client.get(MANIFEST, **bearer(zouping["credential"])).json()["version"]
    ahead = (timezone.now() + timedelta(hours=3)).isoformat()
    payload = {
        "manifest_version": version,
        "free_disk": 5_000_000_000,
        "screen_width": 1080,
        "screen_height": 1920,
        "device_time": ahead,
    }
    answer = client.post(HEARTBEAT, payload, content_type="application/json", **bearer(zouping["credential"]))
    assert answer.status_code == 200
    body = answer.json()
    assert body["manifest_current"] is True and 3 * 3600 - 60 < body["clock_offset"] < 3 * 3600 + 60
    assert 1 <= body["poll_after"] <= 300 and answer["Retry-After"] == str(body["poll_after"])
    device = Device.objects.get(pk=zouping["device"].pk)
    assert (device.last_free_disk, device.last_screen_width, device.last_screen_height) == (5_000_000_000, 1080, 1920)
    assert device.last_heartbeat_at is not None and device.last_manifest_version == version
    bad = client.post(HEARTBEAT, {"free_disk": -1}, content_type="application/json", **bearer(zouping["credential"]))
    assert bad.status_code == 422


def test_an_image_slide_is_a_rendition_sized_for_the_screen_with_a_link(zouping, local_media):
    """A portrait screen's slide is a Wagtail rendition inside its own size (a rotated one composes portrait too),
    with the SHA-256 of the file its link serves."""
    stream = io.BytesIO()
    Image.new("RGB", (400, 300), "red").save(stream, "PNG")
    image = LighthouseImage.objects.create(title="宣传画", file=ContentFile(stream.getvalue(), name="poster.png"))
    units, editor = zouping["units"], zouping["editors"]["zouping_editor"]
    portrait = channel(units["zouping"], name="竖屏", screen_type="portrait", entries=[image])
    rule(units["zouping"], portrait, Priority.OWN)
    _device, credential = paired_device(
        units["zouping"], editor, screen_type="portrait", width=1920, height=1080, rotated=True
    )
    body = Client().get(MANIFEST, **bearer(credential)).json()
    (asset,) = body["assets"]
    assert asset["kind"] == "image" and asset["profile"] == "max-1080x1920" and asset["size"] > 0
    assert body["channels"][0]["entries"][0] == {
        "entry": portrait.entries.get().pk,
        "kind": "image",
        "seconds": 8.0,
        "asset": asset["key"],
        "text": None,
    }
    served = Client().get(asset["url"])
    assert served.status_code == 200
    body_bytes = b"".join(served.streaming_content) if served.streaming else served.content
    assert asset["sha256"] == hashlib.sha256(body_bytes).hexdigest()  # the player checks pictures too


def test_the_pairing_throttle_cannot_be_dodged_by_a_forged_x_forwarded_for(tree):
    """POST /api/v1/screens/pairings 11 times from one address, each with a different made-up
    ``X-Forwarded-For``. ninja's AnonRateThrottle keys on the whole XFF header when NINJA_NUM_PROXIES is unset, so
    the 10-a-minute limit never applies (a flood of pairing rows and codes). Expected: the 11th is a 429, keyed on the
    address the project trusts (cms.login_throttle.client_ip_address)."""
    client = Client()
    codes = [
        client.post(
            "/api/v1/screens/pairings", {}, content_type="application/json", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}"
        ).status_code
        for n in range(11)
    ]
    assert codes[-1] == 429


# --- Attacks on the device API (issue 18) ---------------------------------------------------------------------------


def _client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def device(tree):
    made, credential = paired_device(tree["units"]["zouping"], tree["editors"]["zouping_editor"])
    return made, credential


def test_heartbeat_with_a_naive_device_time_is_a_clear_400_not_a_500(device):
    """Attack: a heartbeat whose ``device_time`` has no time zone ("2026-12-07T10:00:00"). pydantic accepts it and
    ``device_heartbeat`` subtracts it from an aware now -> TypeError -> 500. Expected: a 4xx with a Chinese detail,
    nothing recorded."""
    _made, credential = device
    answer = _client().post(
        HEARTBEAT, {"device_time": "2026-12-07T10:00:00"}, content_type="application/json", **bearer(credential)
    )
    assert 400 <= answer.status_code < 500


def test_a_heartbeat_with_free_disk_beyond_64_bits_is_refused_cleanly(device):
    """Attack: ``free_disk`` = 2**64 (no upper bound in HeartbeatIn). The BigIntegerField overflows on write ->
    500 (PostgreSQL: bigint out of range; SQLite: OverflowError). Expected: 422/400, the device row unchanged."""
    made, credential = device
    answer = _client().post(HEARTBEAT, {"free_disk": 2**64}, content_type="application/json", **bearer(credential))
    assert 400 <= answer.status_code < 500
    assert Device.objects.get(pk=made.pk).last_heartbeat_at is None


def test_a_heartbeat_carrying_a_nul_byte_is_refused_cleanly(device):
    """Attack: a heartbeat with ``"manifest_version": "abc\\u0000"`` (64 characters at most, any characters). PostgreSQL
    text cannot hold NUL: psycopg raises ValueError on the UPDATE -> 500 (SQLite stores it). Expected: 422/400 with a
    Chinese detail, the device row unchanged."""
    made, credential = device
    answer = _client().post(
        HEARTBEAT, {"manifest_version": "abc\u0000"}, content_type="application/json", **bearer(credential)
    )
    assert 400 <= answer.status_code < 500
    assert Device.objects.get(pk=made.pk).last_heartbeat_at is None


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
    answer = _client().post(HEARTBEAT, body, content_type="application/json", **bearer(credential))
    assert 400 <= answer.status_code < 500
    assert Device.objects.get(pk=made.pk).last_heartbeat_at is None


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


def test_a_clock_that_lost_its_time_still_heartbeats_and_a_naive_one_is_told_why(device):
    """A screen whose clock restarted at 1970 is alive: its heartbeat is recorded with its (large) offset, only a
    clock a century off is refused. A time without a zone is refused with a Chinese reason naming the field."""
    made, credential = device
    lost = _client().post(
        HEARTBEAT, {"device_time": "1970-01-01T00:00:00+00:00"}, content_type="application/json", **bearer(credential)
    )
    assert lost.status_code == 200 and lost.json()["clock_offset"] < -50 * 365 * 86400
    naive = _client().post(
        HEARTBEAT, {"device_time": "2026-12-07T10:00:00"}, content_type="application/json", **bearer(credential)
    )
    assert naive.status_code == 422 and "device_time" in naive.json()["detail"] and "时区" in naive.json()["detail"]
    assert Device.objects.get(pk=made.pk).last_clock_offset < 0
