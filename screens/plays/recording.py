"""What a device's reported play becomes: a PlayRecord with its start clamped to what the server can believe.

A device plays on the server's clock (it learns the offset from its heartbeats), but a device that restarted
offline may report on its own wrong clock. A start later than the arrival (plus ``FUTURE_SLACK``) or older than
``PAST_LIMIT`` cannot be true: it is set to the arrival moment and flagged ``clock_suspect``, so the play still
counts (it did happen) without filling a day it was not in. Seconds are bounded by a day.

A play names its channel and entry only when they could have been sent to this screen (``Attributable``): a
channel or entry another unit's screen never had is stored as null, so proof of play per channel cannot be forged
by a screen of another unit; the play itself still counts as the screen's air time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ..models import Device, PlayRecord
from .partitions import DAYS_BEHIND

FUTURE_SLACK = timedelta(minutes=5)
PAST_LIMIT = timedelta(days=DAYS_BEHIND - 1)  # inside the partitions that exist (screens.plays.partitions)
MAX_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class ReportedPlay:
    id: UUID
    channel: int | None
    entry: int | None
    asset: str
    started_at: datetime
    seconds: float
    manifest_version: str


@dataclass(frozen=True)
class Attributable:
    """The channel and entry ids a device's plays may name (``screens.services.plays_attributable``)."""

    channels: frozenset[int]
    entries: frozenset[int]


def record_of(play: ReportedPlay, *, device: Device, now: datetime, attributable: Attributable) -> PlayRecord:
    started, suspect = play.started_at, False
    if started > now + FUTURE_SLACK or started < now - PAST_LIMIT:
        started, suspect = now, True
    channel = play.channel if play.channel in attributable.channels else None
    entry = play.entry if channel is not None and play.entry in attributable.entries else None
    return PlayRecord(
        id=play.id,
        device_id=device.pk,
        unit_id=device.unit_id,
        channel_id=channel,
        entry_id=entry,
        asset=play.asset[:200],
        started_at=started,
        seconds=min(max(play.seconds, 0.0), MAX_SECONDS),
        manifest_version=play.manifest_version[:64],
        received_at=now,
        clock_suspect=suspect,
    )
