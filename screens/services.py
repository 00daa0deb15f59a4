"""Writes for screens: a new screen asks to be paired, an editor pairs it with the code it shows, a device is
revoked, a device reports its heartbeat and its plays; an emergency is sent, cancelled and acknowledged by each
device. Keyword-only arguments; a refusal is a ``screens.errors`` exception with a Chinese sentence, and nothing is
half written."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import Member, OrgUnit
from cms.selectors import units_managed_by

from .devices.credentials import code_digest, credential_text, new_code, new_credential
from .emergency.document import emergencies_aimed_at, emergency_payload
from .emergency.signing import sign, signature_valid
from .errors import EmergencyRefused, PairingRefused
from .models import (
    SCHEDULE_TIME_ZONE,
    Channel,
    Device,
    Emergency,
    EmergencyAck,
    PairingRequest,
    PlaylistEntry,
    PlayRecord,
    ScreenType,
    StoredManifest,
)
from .plays.partitions import partitions_drop_old, partitions_ensure
from .plays.recording import Attributable, record_of
from .selectors import rules_reaching

PAIRING_LIFETIME = timedelta(minutes=10)
PAIRING_GUESSES = 10  # wrong codes an editor may type ...
PAIRING_GUESS_WINDOW = 15 * 60  # ... within this many seconds
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1920, 1080
CODE_ATTEMPTS = 8  # fresh codes tried when one is already showing on another screen


def pairing_request_create(
    *, width: int | None = None, height: int | None = None, now: datetime | None = None
) -> tuple[PairingRequest, str, str]:
    """A new screen's pairing request: (the row, its credential shown once to the screen, the code to display).
    ``width`` and ``height``: the screen's real pixels, if it knows them (the pairing form's default)."""
    now = now or timezone.now()
    PairingRequest.objects.filter(expires_at__lt=now - PAIRING_LIFETIME, device__isnull=True).delete()
    for _attempt in range(CODE_ATTEMPTS):
        code = new_code()
        digest = code_digest(code)
        if not PairingRequest.objects.filter(code_digest=digest, expires_at__gt=now, device__isnull=True).exists():
            break
    credential_id, secret, secret_hash = new_credential()
    pairing = PairingRequest.objects.create(
        credential_id=credential_id,
        secret_hash=secret_hash,
        code_digest=digest,
        expires_at=now + PAIRING_LIFETIME,
        width=width,
        height=height,
    )
    return pairing, credential_text(credential_id, secret), code


def _guesses_key(user: Member) -> str:
    return f"screens:pairing-guesses:{user.pk}"


@transaction.atomic
def device_pair(
    *,
    code: str,
    unit: OrgUnit,
    name: str,
    screen_type: str,
    paired_by: Member,
    width: int | None = None,
    height: int | None = None,
    rotated: bool = False,
    muted: bool = True,
    location: str = "",
    now: datetime | None = None,
) -> Device:
    """Pair the screen showing ``code`` to ``unit``: its waiting credential becomes the device's. The code works
    once and only before it expires; an editor who types too many wrong codes waits. A size not given is the one
    the screen reported, else 1920×1080."""
    now = now or timezone.now()
    if not units_managed_by(paired_by).filter(pk=unit.pk).exists():
        raise PairingRefused(_("你不能为这个单位配对屏幕。"))
    if screen_type not in ScreenType.values:
        raise PairingRefused(_("请选择屏幕类型。"))
    if cache.get(_guesses_key(paired_by), 0) >= PAIRING_GUESSES:
        raise PairingRefused(_("配对码输错次数太多，请 15 分钟后再试。"))
    pairing = (
        PairingRequest.objects.select_for_update()
        .filter(code_digest=code_digest(code), expires_at__gt=now, device__isnull=True)
        .first()
    )
    if pairing is None:
        cache.add(_guesses_key(paired_by), 0, PAIRING_GUESS_WINDOW)
        cache.incr(_guesses_key(paired_by))
        raise PairingRefused(_("配对码不对，或已过期、已用过。请核对屏幕上显示的配对码。"))
    device = Device.objects.create(
        name=name,
        unit=unit,
        screen_type=screen_type,
        width=width or pairing.width or DEFAULT_WIDTH,
        height=height or pairing.height or DEFAULT_HEIGHT,
        rotated=rotated,
        muted=muted,
        location=location,
        credential_id=pairing.credential_id,
        secret_hash=pairing.secret_hash,
        paired_by=paired_by,
    )
    pairing.device = device
    pairing.save(update_fields=["device"])
    return device


def device_revoke(*, device: Device, now: datetime | None = None) -> Device:
    """Stop a device: its credential is refused from now on (pairing again gives it a new one)."""
    if device.revoked_at is None:
        device.revoked_at = now or timezone.now()
        device.save(update_fields=["revoked_at"])
    return device


# A clock that lost its time restarts at 1970 or 2000: that screen still counts as alive and the admin shows how far
# off it is (as plays, which keep a wrong clock's play and flag it). Only a clock no device can have is refused.
CLOCK_FARTHEST = timedelta(days=100 * 365)


def device_heartbeat(
    *,
    device: Device,
    manifest_version: str,
    free_disk: int | None,
    screen_width: int | None,
    screen_height: int | None,
    device_time: datetime | None,
    now: datetime | None = None,
) -> float | None:
    """Record what the device reports; returns its clock's offset from ours in seconds (positive: it is ahead).
    A clock more than ``CLOCK_FARTHEST`` off is refused (ValidationError, nothing recorded): no real clock is."""
    now = now or timezone.now()
    if device_time is not None and abs(device_time - now) > CLOCK_FARTHEST:
        raise ValidationError(_("device_time 与服务器时钟相差一百年以上，请校准设备时钟。"))
    offset = round((device_time - now).total_seconds(), 3) if device_time else None
    Device.objects.filter(pk=device.pk).update(
        last_heartbeat_at=now,
        last_manifest_version=manifest_version[:64],
        last_free_disk=free_disk,
        last_screen_width=screen_width,
        last_screen_height=screen_height,
        last_clock_offset=offset,
    )
    return offset


def plays_record(*, device: Device, plays: list, now: datetime | None = None) -> tuple[int, int]:
    """Store a device's batch of plays (``screens.plays.recording.ReportedPlay``), append-only: a play whose id is
    already stored (a batch sent again after a lost answer) is skipped. Returns (stored, already there)."""
    now = now or timezone.now()
    today = now.astimezone(SCHEDULE_TIME_ZONE).date()
    if cache.add(f"screens:play-partitions:{today}", True, 24 * 3600):
        partitions_ensure(today=today)
        partitions_drop_old(today=today)
    attributable = plays_attributable(device=device)
    records = {play.id: record_of(play, device=device, now=now, attributable=attributable) for play in plays}
    known = set(PlayRecord.objects.filter(id__in=list(records)).values_list("id", flat=True))
    fresh = [record for key, record in records.items() if key not in known]
    PlayRecord.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh), len(plays) - len(fresh)


def plays_attributable(*, device: Device) -> Attributable:
    """The channels and entries this device may have played: those of its stored manifest, plus those of the rules
    and emergencies reaching it now (a play reported after the six-hour window rolled came from an older manifest,
    which is no longer stored)."""
    channels: set[int] = set(rules_reaching(device).values_list("channel_id", flat=True))
    channels |= set(emergencies_aimed_at(device).filter(channel__isnull=False).values_list("channel_id", flat=True))
    stored = StoredManifest.objects.filter(device_id=device.pk).values_list("document", flat=True).first() or {}
    entries: set[int] = set()
    for loop in stored.get("channels", []):
        channels.add(loop["id"])
        entries |= {entry["entry"] for entry in loop.get("entries", []) if entry.get("entry") is not None}
    entries |= set(PlaylistEntry.objects.filter(channel_id__in=channels).values_list("pk", flat=True))
    return Attributable(channels=frozenset(channels), entries=frozenset(entries))


# --- Emergencies --------------------------------------------------------------------------------------------------

EMERGENCY_LONGEST = timedelta(hours=24)


@transaction.atomic
def emergency_create(
    *,
    unit: OrgUnit,
    created_by: Member,
    starts_at: datetime,
    ends_at: datetime,
    channel: Channel | None = None,
    message: str = "",
    now: datetime | None = None,
) -> Emergency:
    """An emergency takeover on every screen of ``unit``'s subtree, signed with the current screens key. Refused
    (nothing written) for a unit the editor does not manage, another unit's channel, neither channel nor message,
    or times that are backwards, already past or longer than a day."""
    now = now or timezone.now()
    message = (message or "").strip()
    if not units_managed_by(created_by).filter(pk=unit.pk).exists():
        raise EmergencyRefused(_("你不能为这个单位发布紧急插播。"))
    if channel is not None and channel.owning_unit_id != unit.pk:
        raise EmergencyRefused(_("只能插播发布单位自己的频道。"))
    if channel is None and not message:
        raise EmergencyRefused(_("请选择插播频道或填写插播文字。"))
    if ends_at <= starts_at or ends_at <= now:
        raise EmergencyRefused(_("结束时间应晚于开始时间和现在。"))
    if ends_at - starts_at > EMERGENCY_LONGEST:
        raise EmergencyRefused(_("紧急插播最长 24 小时，请缩短时间。"))
    emergency = Emergency.objects.create(
        unit=unit, channel=channel, message=message, starts_at=starts_at, ends_at=ends_at, created_by=created_by
    )
    emergency.key_id, emergency.signature = sign(emergency_payload(emergency))
    emergency.save(update_fields=["key_id", "signature"])
    transaction.on_commit(lambda: _recompute_when_over(emergency))
    return emergency


def _recompute_when_over(emergency: Emergency) -> None:
    # An ended emergency leaves the manifests at its end, not only at the next window roll.
    from .tasks import manifests_recompute_task

    if manifests_recompute_task.get_backend().supports_defer:  # the queues do; the tests' immediate backend not
        manifests_recompute_task.using(run_after=emergency.ends_at).enqueue("unit", [emergency.unit_id])


def emergency_cancel(*, emergency: Emergency, now: datetime | None = None) -> Emergency:
    """End an emergency at once: it leaves every manifest (recomputed by the change signal)."""
    if emergency.cancelled_at is None:
        emergency.cancelled_at = now or timezone.now()
        emergency.save(update_fields=["cancelled_at"])
    return emergency


def emergency_acknowledge(
    *, device: Device, emergency_id: int, key_id: str, signature: str, now: datetime | None = None
) -> EmergencyAck:
    """Record that ``device`` holds the emergency with a valid signature (again: the same row). Refused for an
    emergency that does not reach it (404), a signature that is not ours over that emergency (400: forged or
    tampered), an emergency cancelled or over (410: whatever its signature, the device stops showing it)."""
    now = now or timezone.now()
    # Only among the emergencies aimed at this screen: another unit's cancelled one is a 404 like an unknown id,
    # so a device cannot enumerate what other units sent and cancelled.
    emergency = emergencies_aimed_at(device).filter(pk=emergency_id).first()
    if emergency is None:
        raise EmergencyRefused(_("没有发给这块屏幕的这条紧急插播。"), status=404)
    if emergency.cancelled_at is not None:
        raise EmergencyRefused(_("这条紧急插播已撤销，请停止播放。"), status=410)
    if emergency.ends_at <= now:
        raise EmergencyRefused(_("这条紧急插播已过期，请停止播放。"), status=410)
    if signature != emergency.signature or not signature_valid(
        emergency_payload(emergency), key_id=key_id, signature=signature
    ):
        raise EmergencyRefused(_("紧急插播的签名无效：内容可能被篡改，请重新获取节目单。"), status=400)
    ack, _created = EmergencyAck.objects.get_or_create(
        emergency=emergency, device=device, defaults={"acknowledged_at": now}
    )
    return ack
