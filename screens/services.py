"""Writes for screens: a new screen asks to be paired, an editor pairs it with the code it shows, a device is
revoked, a device reports its heartbeat and its plays. Keyword-only arguments; a refusal is a ``screens.errors``
exception with a Chinese sentence, and nothing is half written."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import Member, OrgUnit
from cms.selectors import units_managed_by

from .devices.credentials import code_digest, credential_text, new_code, new_credential
from .errors import PairingRefused
from .models import SCHEDULE_TIME_ZONE, Device, PairingRequest, PlayRecord, ScreenType
from .plays.partitions import partitions_ensure
from .plays.recording import record_of

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
    """Record what the device reports; returns its clock's offset from ours in seconds (positive: it is ahead)."""
    now = now or timezone.now()
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
    records = {play.id: record_of(play, device=device, now=now) for play in plays}
    known = set(PlayRecord.objects.filter(id__in=list(records)).values_list("id", flat=True))
    fresh = [record for key, record in records.items() if key not in known]
    PlayRecord.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh), len(plays) - len(fresh)
