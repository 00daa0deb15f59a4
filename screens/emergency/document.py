"""What a device receives of an emergency: the signed payload, the key id and the signature (docs/screens.md)."""

from datetime import UTC, datetime

from django.db.models import Q

from cms.selectors import unit_and_ancestor_paths

from ..models import Device, Emergency


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def emergency_payload(emergency: Emergency) -> dict:
    """Exactly what is signed: integers, strings and null only."""
    return {
        "id": emergency.pk,
        "unit": emergency.unit_id,
        "channel": emergency.channel_id,
        "message": emergency.message,
        "starts_at": _utc(emergency.starts_at),
        "ends_at": _utc(emergency.ends_at),
    }


def emergency_entry(emergency: Emergency) -> dict:
    """The manifest's entry: the payload as signed, plus ``key_id`` and ``signature`` over it."""
    return {**emergency_payload(emergency), "key_id": emergency.key_id, "signature": emergency.signature}


def emergencies_aimed_at(device: Device):
    """Emergencies of the device's unit and every unit above it, for its kind of screen (a message reaches every
    screen but an audio one; a channel the screens of its type), cancelled ones included."""
    paths = unit_and_ancestor_paths(device.unit.path)
    kind = Q(channel__screen_type=device.screen_type)
    if device.screen_type != "audio":
        kind |= Q(channel__isnull=True)
    return Emergency.objects.filter(kind, unit__path__in=paths)


def emergencies_reaching(device: Device):
    """The emergencies aimed at the device that are not cancelled."""
    return emergencies_aimed_at(device).filter(cancelled_at__isnull=True)


def emergencies_for(*, device: Device, now: datetime, window_end: datetime) -> list[dict]:
    """The manifest's ``emergencies``: those not yet ended that start before the window ends, earliest first."""
    rows = emergencies_reaching(device).filter(ends_at__gt=now, starts_at__lt=window_end).order_by("starts_at", "id")
    return [emergency_entry(row) for row in rows]
