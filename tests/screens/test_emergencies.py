"""Emergency takeovers: signed with Ed25519 when sent, in the manifests of the screens they reach with their key id
and signature (verifiable with the public key from /device/keys), acknowledged by each device; a forged, tampered,
expired, cancelled or foreign one is refused with a Chinese sentence. Editors send and cancel only their units'
emergencies and see who acknowledged; the dashboard lists their screens gone silent."""

import base64
import json
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client
from django.utils import timezone

from screens.emergency.document import emergency_payload
from screens.emergency.signing import bytes_signature_valid, signature_header_parts, signature_valid
from screens.errors import EmergencyRefused
from screens.models import Device, Emergency, EmergencyAck, Priority
from screens.selectors import devices_offline
from screens.services import emergency_cancel, emergency_create

from .conftest import channel, paired_device, rule

pytestmark = pytest.mark.django_db
MANIFEST = "/api/v1/screens/device/manifest"


def bearer(credential: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {credential}"}


def ack_url(emergency_id: int) -> str:
    return f"/api/v1/screens/device/emergencies/{emergency_id}/ack"


@pytest.fixture
def alarm(tree, django_capture_on_commit_callbacks):
    """滨州市 sends a message to its subtree: 邹平's screen gets it, 沂南's (under 临沂) does not."""
    units, editors = tree["units"], tree["editors"]
    own = channel(units["zouping"], name="邹平自办", entries=["日常通知"])
    rule(units["zouping"], own, Priority.OWN)
    zouping, credential = paired_device(units["zouping"], editors["zouping_editor"])
    _yinan, yinan_credential = paired_device(units["yinan"], editors["yinan_editor"], name="沂南屏")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        emergency = emergency_create(
            unit=units["binzhou"],
            created_by=editors["binzhou_editor"],
            message="暴雨红色预警：请勿外出",
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=2),
        )
    return {
        "emergency": emergency,
        "device": zouping,
        "credential": credential,
        "yinan_credential": yinan_credential,
        **tree,
    }


def _entry(alarm) -> dict:
    (entry,) = Client().get(MANIFEST, **bearer(alarm["credential"])).json()["emergencies"]
    return entry


def test_the_manifest_carries_the_signed_emergency_and_a_device_verifies_it_with_the_public_key(alarm):
    entry = _entry(alarm)
    assert entry["message"] == "暴雨红色预警：请勿外出" and entry["id"] == alarm["emergency"].pk
    assert Client().get("/api/v1/screens/device/keys").status_code == 401  # for paired screens only
    keys = Client().get("/api/v1/screens/device/keys", **bearer(alarm["credential"])).json()["keys"]
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[entry["key_id"]]))
    signed = {key: value for key, value in entry.items() if key not in ("key_id", "signature")}
    text = json.dumps(signed, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    public.verify(base64.b64decode(entry["signature"]), text)  # raises when it does not verify
    tampered = json.dumps({**signed, "message": "一切正常"}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(entry["signature"]), tampered.encode())
    assert Client().get(MANIFEST, **bearer(alarm["yinan_credential"])).json()["emergencies"] == []


def test_a_device_acknowledges_once_and_the_editor_sees_it(alarm):
    entry = _entry(alarm)
    body = {"key_id": entry["key_id"], "signature": entry["signature"]}
    client = Client()
    answer = client.post(ack_url(entry["id"]), body, content_type="application/json", **bearer(alarm["credential"]))
    assert answer.status_code == 200 and answer.json()["emergency"] == entry["id"]
    again = client.post(ack_url(entry["id"]), body, content_type="application/json", **bearer(alarm["credential"]))
    assert again.status_code == 200 and EmergencyAck.objects.count() == 1
    editor = Client()
    editor.force_login(alarm["editors"]["binzhou_editor"])
    page = editor.get(f"/admin/screens-emergency/{entry['id']}/").content.decode()
    assert "1 / 1 块屏幕已确认收到" in page and alarm["device"].name in page


@pytest.mark.parametrize(
    ("forge", "status", "words"),
    [
        (lambda e: {**e, "signature": base64.b64encode(b"x" * 64).decode()}, 400, "签名无效"),
        (lambda e: {**e, "key_id": "old"}, 400, "签名无效"),
        (lambda e: {**e, "signature": "不是base64"}, 400, "签名无效"),
    ],
)
def test_a_forged_signature_is_refused_in_chinese(alarm, forge, status, words):
    entry = _entry(alarm)
    body = forge({"key_id": entry["key_id"], "signature": entry["signature"]})
    answer = Client().post(ack_url(entry["id"]), body, content_type="application/json", **bearer(alarm["credential"]))
    assert answer.status_code == status and words in answer.json()["detail"]
    assert not EmergencyAck.objects.exists()


def test_a_row_tampered_in_the_database_no_longer_verifies(alarm):
    emergency = alarm["emergency"]
    Emergency.objects.filter(pk=emergency.pk).update(message="一切正常")
    emergency.refresh_from_db()
    assert not signature_valid(emergency_payload(emergency), key_id=emergency.key_id, signature=emergency.signature)
    body = {"key_id": emergency.key_id, "signature": emergency.signature}
    answer = Client().post(ack_url(emergency.pk), body, content_type="application/json", **bearer(alarm["credential"]))
    assert answer.status_code == 400


def test_an_expired_a_cancelled_and_a_foreign_emergency_are_refused(alarm, django_capture_on_commit_callbacks):
    entry = _entry(alarm)
    body = {"key_id": entry["key_id"], "signature": entry["signature"]}
    foreign = Client().post(
        ack_url(entry["id"]), body, content_type="application/json", **bearer(alarm["yinan_credential"])
    )
    assert foreign.status_code == 404 and "没有发给这块屏幕" in foreign.json()["detail"]
    Emergency.objects.filter(pk=entry["id"]).update(ends_at=timezone.now() - timedelta(seconds=1))
    expired = Client().post(ack_url(entry["id"]), body, content_type="application/json", **bearer(alarm["credential"]))
    assert expired.status_code == 410 and "已过期" in expired.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        emergency_cancel(emergency=alarm["emergency"])
    cancelled = Client().post(
        ack_url(entry["id"]), body, content_type="application/json", **bearer(alarm["credential"])
    )
    assert cancelled.status_code == 410 and "已撤销" in cancelled.json()["detail"]
    assert Client().get(MANIFEST, **bearer(alarm["credential"])).json()["emergencies"] == []


def test_an_emergency_is_refused_whole_when_it_cannot_be_sent(tree):
    units, editors = tree["units"], tree["editors"]
    now = timezone.now()
    hour = timedelta(hours=1)
    cases = [
        ({"unit": units["yinan"], "message": "x"}, "不能为这个单位"),
        ({"unit": units["binzhou"]}, "请选择插播频道或填写插播文字"),
        ({"unit": units["binzhou"], "message": "x", "ends_at": now - hour}, "结束时间"),
        ({"unit": units["binzhou"], "message": "x", "ends_at": now + timedelta(hours=25)}, "最长 24 小时"),
        ({"unit": units["binzhou"], "channel": channel(units["zouping"], name="下级频道")}, "自己的频道"),
    ]
    for fields, words in cases:
        arguments = {"created_by": editors["binzhou_editor"], "starts_at": now, "ends_at": now + hour, **fields}
        with pytest.raises(EmergencyRefused, match=words):
            emergency_create(**arguments)
    assert not Emergency.objects.exists()


def test_editors_send_and_see_only_their_units_emergencies(alarm):
    other = Client()
    other.force_login(alarm["editors"]["yinan_editor"])
    assert other.get(f"/admin/screens-emergency/{alarm['emergency'].pk}/").status_code == 404
    assert "暴雨" not in other.get("/admin/screens_emergencies/").content.decode()
    own = Client()
    own.force_login(alarm["editors"]["binzhou_editor"])
    assert "暴雨" in own.get("/admin/screens_emergencies/").content.decode()
    own.post(f"/admin/screens-emergency/{alarm['emergency'].pk}/")
    assert Emergency.objects.get().cancelled_at is not None


# --- Offline screens ----------------------------------------------------------------------------------------------


def test_screens_silent_for_fifteen_minutes_are_offline_for_their_units_editors(alarm):
    now = timezone.now()
    device = alarm["device"]
    Device.objects.filter(pk=device.pk).update(last_heartbeat_at=now - timedelta(minutes=16))
    editors = alarm["editors"]
    assert list(devices_offline(editors["zouping_editor"], now=now)) == [device]
    assert list(devices_offline(editors["binzhou_editor"], now=now)) == [device]  # the unit above sees it too
    assert list(devices_offline(editors["yinan_editor"], now=now)) == []  # 沂南's own screen was just paired
    Device.objects.filter(pk=device.pk).update(last_heartbeat_at=now - timedelta(minutes=5))
    assert list(devices_offline(editors["zouping_editor"], now=now)) == []
    never = now + timedelta(hours=1)  # a screen paired but never heard from counts once it is old enough
    assert {d.name for d in devices_offline(editors["sheng_editor"], now=never)} == {"大厅屏", "沂南屏"}
    Device.objects.filter(name="沂南屏").update(revoked_at=now)
    assert {d.name for d in devices_offline(editors["sheng_editor"], now=never)} == {"大厅屏"}


def test_the_dashboard_lists_the_offline_screens(alarm):
    Device.objects.filter(pk=alarm["device"].pk).update(last_heartbeat_at=timezone.now() - timedelta(hours=1))
    client = Client()
    client.force_login(alarm["editors"]["zouping_editor"])
    page = client.get("/admin/").content.decode()
    assert "屏幕离线" in page and "大厅屏" in page
    other = Client()
    other.force_login(alarm["editors"]["yinan_editor"])
    assert "大厅屏" not in other.get("/admin/").content.decode()


def test_the_admin_form_sends_a_signed_emergency_and_shows_a_refusal_on_the_form(tree):
    client = Client()
    client.force_login(tree["editors"]["binzhou_editor"])
    start = timezone.localtime(timezone.now())
    fields = {
        "unit": tree["units"]["binzhou"].pk,
        "message": "停水通知",
        "starts_at": start.strftime("%Y-%m-%d %H:%M"),
        "ends_at": (start + timedelta(hours=30)).strftime("%Y-%m-%d %H:%M"),
    }
    refused = client.post("/admin/screens_emergencies/new/", fields)
    assert refused.status_code == 200 and "最长 24 小时" in refused.content.decode()
    assert not Emergency.objects.exists()
    fields["ends_at"] = (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    sent = client.post("/admin/screens_emergencies/new/", fields)
    emergency = Emergency.objects.get()
    assert sent.status_code == 302 and sent["Location"].endswith(f"/screens-emergency/{emergency.pk}/")
    assert signature_valid(emergency_payload(emergency), key_id=emergency.key_id, signature=emergency.signature)


def test_an_emergency_channel_is_in_the_manifest_even_when_no_block_uses_it(tree, django_capture_on_commit_callbacks):
    units, editors = tree["units"], tree["editors"]
    _device, credential = paired_device(units["zouping"], editors["zouping_editor"])
    alert = channel(units["binzhou"], name="防汛专题", entries=["请转移到安全地带"])  # scheduled nowhere
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        emergency_create(
            unit=units["binzhou"],
            created_by=editors["binzhou_editor"],
            channel=alert,
            starts_at=now,
            ends_at=now + timedelta(hours=1),
        )
    body = Client().get(MANIFEST, **bearer(credential)).json()
    assert [entry["channel"] for entry in body["emergencies"]] == [alert.pk]
    assert [made["id"] for made in body["channels"]] == [alert.pk]
    assert all(block["channel"] != alert.pk for block in body["blocks"])


def _public_key(credential: str, key_id: str) -> Ed25519PublicKey:
    keys = Client().get("/api/v1/screens/device/keys", **bearer(credential)).json()["keys"]
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[key_id]))


def test_the_manifest_response_is_signed_over_its_exact_bytes_and_one_changed_byte_fails(alarm):
    """X-Lighthouse-Signature is an Ed25519 signature of the body as sent (fresh links included): it verifies with
    the public key of /device/keys, and not once a byte of the body (or of the signature) is changed."""
    response = Client().get(MANIFEST, **bearer(alarm["credential"]))
    header = response["X-Lighthouse-Signature"]
    assert header.startswith("keyid=dev, sig=")
    key_id, signature = signature_header_parts(header)
    public = _public_key(alarm["credential"], key_id)
    public.verify(base64.b64decode(signature), response.content)  # raises when it does not verify
    tampered = response.content.replace("暴雨红色预警".encode(), "一切正常无事".encode())
    assert tampered != response.content and len(tampered) == len(response.content)
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature), tampered)
    one_byte = bytearray(response.content)
    one_byte[len(one_byte) // 2] ^= 1
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature), bytes(one_byte))
    assert not bytes_signature_valid(bytes(one_byte), key_id=key_id, signature=signature)
    assert bytes_signature_valid(response.content, key_id=key_id, signature=signature)


def test_the_304_fast_path_still_answers_a_signed_manifest_without_a_body(alarm):
    """The signature costs the 304 nothing: the same version with If-None-Match is still a bodiless 304."""
    first = Client().get(MANIFEST, **bearer(alarm["credential"]))
    again = Client().get(MANIFEST, HTTP_IF_NONE_MATCH=first["ETag"], **bearer(alarm["credential"]))
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]


def test_a_heartbeat_reports_refused_manifests_and_the_server_logs_them(alarm, caplog):
    answer = Client().post(
        "/api/v1/screens/device/heartbeat",
        {"manifest_version": "", "manifests_refused": 2},
        content_type="application/json",
        **bearer(alarm["credential"]),
    )
    assert answer.status_code == 200
    assert "refused 2 manifests" in caplog.text


def _client() -> Client:
    return Client(raise_request_exception=False)


def _bearer(credential: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {credential}"}


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
