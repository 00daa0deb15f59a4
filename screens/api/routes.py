"""The screens' JSON API, for players: ask for a pairing code, wait to be paired, fetch the manifest, send
heartbeats, acknowledge an emergency, read the keys that sign emergencies. Mounted at /api/v1/screens/.

A screen authenticates with its own credential (``Authorization: Bearer <credential id>.<secret>``), never a
member's token: a missing, malformed, forged or revoked credential is a 401 with a Chinese ``detail`` saying what
to do. A device only ever reads its own manifest (the credential names the device; no route takes a device id).
"""

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.schema import DjangoGetter
from ninja.security import HttpBearer
from pydantic import AwareDatetime, Field, model_validator
from pydantic import ValidationError as SchemaError
from pydantic_core import PydanticCustomError

from cms.login_throttle import AddressRateThrottle

from ..delivery.manifest import manifest_served
from ..delivery.polling import poll_after
from ..delivery.store import manifest_current
from ..emergency.signing import SIGNATURE_HEADER, public_keys, signature_header
from ..errors import CredentialRefused, EmergencyRefused
from ..plays.recording import ReportedPlay
from ..selectors import device_authenticated, pairing_for_credential
from ..services import device_heartbeat, emergency_acknowledge, pairing_request_create, plays_record

router = Router(tags=["screens"])
logger = logging.getLogger(__name__)


class DeviceAuth(HttpBearer):
    """A paired, not revoked device. Unlike HttpBearer, a request without the header is refused with words a person
    setting up a screen understands, not a silent fall-through."""

    def __call__(self, request: HttpRequest):
        header = request.headers.get(self.header, "")
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != self.openapi_scheme or not token:
            raise AuthenticationError(message=_("缺少屏幕凭证（Authorization: Bearer <凭证>）。"))
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str):
        try:
            return device_authenticated(credential=token.strip())
        except CredentialRefused as refused:
            raise AuthenticationError(message=str(refused)) from refused


class PairingAuth(DeviceAuth):
    """A screen still waiting for its pairing: the credential it was given with its code."""

    def authenticate(self, request: HttpRequest, token: str):
        pairing = pairing_for_credential(credential=token.strip())
        if pairing is None:
            raise AuthenticationError(message=_("屏幕凭证无效，请重新获取配对码。"))
        return pairing


# What a device sends is checked strictly: PostgreSQL text cannot hold NUL (a 500 instead of a 422), an id beyond
# 32 bits or a size beyond 64 overflows its column, ``true`` is not 1 pixel, and a time without a zone cannot be
# compared with ours.
NO_NUL = r"^[^\x00]*$"
ROW_ID = {"ge": 1, "le": 2**31 - 1, "strict": True}


class DeviceIn(Schema):
    """What a device sends: a JSON object (ninja's Schema wraps anything in a DjangoGetter and would read a bare
    ``[]`` as an object of defaults)."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data._obj if isinstance(data, DjangoGetter) else data, dict):
            raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
        return data


device_auth = DeviceAuth()
pairing_auth = PairingAuth()


class ErrorOut(Schema):
    detail: str


class PairingIn(DeviceIn):
    width: int | None = Field(None, ge=1, le=20000, strict=True, description="屏幕实际宽度（像素），不知道可不填")
    height: int | None = Field(None, ge=1, le=20000, strict=True, description="屏幕实际高度（像素）")


class PairingOut(Schema):
    credential: str = Field(description="这块屏幕的凭证，只出现这一次：保存好，配对后用它取节目单")
    code: str = Field(description="请屏幕显示给管理员的配对码")
    expires_at: datetime


class PairingStateOut(Schema):
    paired: bool
    expires_at: datetime
    device_name: str | None = None


class HeartbeatIn(DeviceIn):
    manifest_version: str = Field("", max_length=64, pattern=NO_NUL)
    free_disk: int | None = Field(None, ge=0, le=2**63 - 1, strict=True, description="剩余磁盘空间（字节）")
    screen_width: int | None = Field(None, ge=1, le=20000, strict=True)
    screen_height: int | None = Field(None, ge=1, le=20000, strict=True)
    device_time: AwareDatetime | None = Field(None, description="设备自己的时钟（带时区的 ISO 8601）")
    manifests_refused: int | None = Field(
        None, ge=0, le=10**9, strict=True, description="启动以来因签名不符拒绝的节目单数"
    )


class HeartbeatOut(Schema):
    server_time: datetime
    clock_offset: float | None = Field(description="设备时钟比服务器快多少秒（负数为慢）")
    manifest_current: bool
    poll_after: int = Field(description="过多少秒再来取节目单（每块屏幕固定在五分钟里的不同时刻）")


@router.post(
    "/pairings",
    response={201: PairingOut, 429: ErrorOut},  # 400 and 422: bad JSON or sizes (the API root's handlers)
    auth=None,
    throttle=[AddressRateThrottle("10/m")],
    summary="新屏幕申请配对码",
)
def pairing_create(request: HttpRequest, payload: PairingIn):
    pairing, credential, code = pairing_request_create(width=payload.width, height=payload.height)
    return Status(201, {"credential": credential, "code": code, "expires_at": pairing.expires_at})


@router.get(
    "/pairings/me",
    response={200: PairingStateOut, 401: ErrorOut, 410: ErrorOut},
    auth=pairing_auth,
    summary="等待配对的屏幕查询是否已配对",
)
def pairing_state(request: HttpRequest):
    pairing = request.auth
    if pairing.device is not None:
        return Status(200, {"paired": True, "expires_at": pairing.expires_at, "device_name": pairing.device.name})
    if pairing.expires_at <= timezone.now():
        return Status(410, {"detail": _("配对码已过期，请重新获取配对码。")})
    return Status(200, {"paired": False, "expires_at": pairing.expires_at})


@router.get(
    "/device/manifest",
    response={200: dict, 304: None, 401: ErrorOut},
    auth=device_auth,
    summary="本屏幕未来 48 小时的节目单（ETag / If-None-Match；poll_after 为下次来取的秒数；"
    "X-Lighthouse-Signature 为响应正文的 Ed25519 签名）",
)
def device_manifest(request: HttpRequest):
    device = request.auth
    now = timezone.now()
    stored = manifest_current(device=device, now=now)
    wait = poll_after(device.credential_id, now)
    if _matches(request.headers.get("If-None-Match", ""), stored.version):
        response: HttpResponse = HttpResponseNotModified()
    else:
        document = manifest_served(stored.document, now=now, poll_after=wait)
        response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
        response[SIGNATURE_HEADER] = signature_header(response.content)  # a player refuses a body it cannot verify
    response["ETag"] = f'"{stored.version}"'
    response["Cache-Control"] = "private, no-cache"
    response["Retry-After"] = str(wait)
    return response


def _matches(header: str, version: str) -> bool:
    """If-None-Match names this version (weakly: gzip on the way out turns our ETag into W/"…")."""
    if header.strip() == "*":
        return True
    return any(tag.removeprefix("W/").strip('"') == version for tag in parse_etags(header.replace("W/", "")))


@router.post(
    "/device/heartbeat",
    response={200: HeartbeatOut, 401: ErrorOut},  # 422: wrong types, NUL, a clock a century off
    auth=device_auth,
    summary="屏幕心跳：节目单版本、剩余空间、实际分辨率、时钟",
)
def device_heartbeat_post(request: HttpRequest, response: HttpResponse, payload: HeartbeatIn):
    device = request.auth
    now = timezone.now()
    offset = device_heartbeat(
        device=device,
        manifest_version=payload.manifest_version,
        free_disk=payload.free_disk,
        screen_width=payload.screen_width,
        screen_height=payload.screen_height,
        device_time=payload.device_time,
        now=now,
    )
    if payload.manifests_refused:
        # A screen that received bodies not signed by us: something between it and us changes what it is sent.
        logger.warning("screen %s refused %s manifests (bad signature)", device.pk, payload.manifests_refused)
    current = manifest_current(device=device, now=now).version
    wait = poll_after(device.credential_id, now)
    response["Retry-After"] = str(wait)
    return {
        "server_time": now,
        "clock_offset": offset,
        "manifest_current": current == payload.manifest_version,
        "poll_after": wait,
    }


class PlayIn(DeviceIn):
    id: UUID = Field(description="这次播放的编号（设备生成；同一批重发只记一次）")
    channel: int | None = Field(None, **ROW_ID, description="节目单里的频道编号（不在本屏节目单里的不记）")
    entry: int | None = Field(None, **ROW_ID, description="节目单里的条目编号")
    asset: str = Field("", max_length=200, pattern=NO_NUL)
    started_at: AwareDatetime = Field(description="开始播放的时刻（按服务器时钟，带时区）")
    seconds: float = Field(ge=0, le=86400, strict=True, allow_inf_nan=False)
    manifest_version: str = Field("", max_length=64, pattern=NO_NUL)


class PlaysIn(DeviceIn):
    # Each play is checked on its own (PlayIn): the good ones of a batch are stored even when one is refused (422),
    # so a bad play cannot keep the good ones queued with it out for ever (the player drops a refused batch).
    plays: list[Any] = Field(max_length=500, description="播放记录，每条的字段见 PlayIn；有误的单条不记，见 refused")


class RefusedPlayOut(Schema):
    index: int = Field(description="在这一批里的位置（从 0 起）")
    id: str | None
    detail: str


class PlaysOut(Schema):
    stored: int
    duplicates: int
    refused: list[RefusedPlayOut] = Field(description="有误而不记的播放（不必重发）")


class PlaysRefusedOut(PlaysOut):
    detail: str


@router.post(
    "/device/plays",
    response={200: PlaysOut, 401: ErrorOut, 422: PlaysRefusedOut},
    auth=device_auth,
    summary="屏幕上报播放记录（成批，可重发；有误的单条不记，其余照记，答 422 并列出不记的）",
)
def device_plays_post(request: HttpRequest, payload: PlaysIn):
    plays, refused = [], []
    for index, sent in enumerate(payload.plays):
        try:
            plays.append(ReportedPlay(**PlayIn.model_validate(sent).dict()))
        except SchemaError as error:
            refused.append({"index": index, "id": _play_id(sent), "detail": _play_refusal(index, error)})
    stored, duplicates = plays_record(device=request.auth, plays=plays)
    answer = {"stored": stored, "duplicates": duplicates, "refused": refused}
    if refused:  # the good plays are stored all the same; the player drops the batch (docs/screens.md)
        return Status(422, {**answer, "detail": "；".join(play["detail"] for play in refused)})
    return answer


def _play_id(sent: Any) -> str | None:
    value = sent.get("id") if isinstance(sent, dict) else None
    return value[:64] if isinstance(value, str) else None


def _play_refusal(index: int, error: SchemaError) -> str:
    fields = "、".join(sorted({".".join(str(part) for part in item["loc"]) or "plays" for item in error.errors()}))
    return _("第 %(index)s 条播放记录有误（%(fields)s），不记录。") % {"index": index + 1, "fields": fields}


class AckIn(DeviceIn):
    key_id: str = Field(max_length=32, pattern=NO_NUL, description="节目单里这条紧急插播的 key_id")
    signature: str = Field(
        max_length=128, pattern=NO_NUL, description="节目单里这条紧急插播的 signature（屏幕已验证过）"
    )


class AckOut(Schema):
    emergency: int
    acknowledged_at: datetime


@router.post(
    "/device/emergencies/{emergency_id}/ack",
    response={200: AckOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 410: ErrorOut},
    auth=device_auth,
    summary="屏幕确认已收到并验证一条紧急插播",
)
def emergency_ack(request: HttpRequest, payload: AckIn, emergency_id: int = Path(..., ge=1, le=2**62)):
    try:
        ack = emergency_acknowledge(
            device=request.auth, emergency_id=emergency_id, key_id=payload.key_id, signature=payload.signature
        )
    except EmergencyRefused as refused:
        return Status(refused.status, {"detail": str(refused)})
    return {"emergency": ack.emergency_id, "acknowledged_at": ack.acknowledged_at}


class KeysOut(Schema):
    keys: dict[str, str] = Field(description="编号 → Ed25519 公钥（32 字节，base64）：屏幕用它验证紧急插播")


@router.get("/device/keys", response={200: KeysOut, 401: ErrorOut}, auth=device_auth, summary="验证紧急插播签名的公钥")
def signing_keys_get(request: HttpRequest):
    return {"keys": public_keys()}
