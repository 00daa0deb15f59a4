"""Stored manifests: each device's document computed ahead, so a manifest request is a lookup and a 304 is one
indexed query (the credential's row, joined to its stored version).

A change anything depends on (an item, a rendition, a playlist, a rule or quota, an emergency, the device itself)
reaches ``screens.signal_handlers``, which only notes it and enqueues ``manifests_recompute_task`` after commit; the
task finds the devices it touches (``devices_affected``) and recomputes them in batches. Devices reached by the
same rules with the same kind of screen share everything but their name (``_group_key``), so a batch computes each
group's plan, timeline and assets once. When the six-hour window rolls, the first request that finds its document old
recomputes it on the spot and enqueues ``manifests_roll_task`` (once per window) for everyone else.
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from cms.models import OrgUnit
from courses.models import CoursePage
from library.models import IssuePage, LibraryItem

from ..emergency.document import emergencies_for
from ..models import Device, Emergency, PlaylistEntry, ScheduleRule, StoredManifest
from ..selectors import device_plan, rules_reaching
from .manifest import manifest_body, manifest_document, window_of

BATCH = 500
SCOPES = ("device", "unit", "channel", "item", "asset", "issue", "image", "course", "all")


# --- Which devices a change touches --------------------------------------------------------------------------------


def devices_affected(*, scope: str, ids: Iterable[int]) -> list[int]:
    """The ids of the paired, not revoked devices whose manifest may change when these rows changed (a superset:
    a rule reaches at most its unit's subtree, a channel at most the subtrees of the rules and emergencies naming
    it)."""
    ids = list(ids)
    live = Device.objects.filter(revoked_at__isnull=True)
    if scope == "all":
        return list(live.values_list("pk", flat=True))
    if scope == "device":
        return list(live.filter(pk__in=ids).values_list("pk", flat=True))
    if scope == "unit":
        return list(live.filter(_subtrees(OrgUnit.objects.filter(pk__in=ids))).values_list("pk", flat=True))
    entries = entries_touched(scope=scope, ids=ids)
    if entries is None:
        return _devices_of_channels(live, ids)
    return _devices_of_channels(live, list(entries.values_list("channel_id", flat=True).distinct()))


def entries_touched(*, scope: str, ids: Iterable[int]) -> QuerySet | None:
    """The playlist entries that may show these changed rows (an item, its media asset, a newspaper issue's page,
    a picture, a course); None for scopes that name channels, units or devices themselves. The after-commit note
    asks it whether anything on a screen changed at all; the task, which devices."""
    ids = list(ids)
    if scope == "asset":
        ids = list(LibraryItem.objects.filter(media_asset_id__in=ids).values_list("pk", flat=True))
        scope = "item"
    if scope == "issue":  # a page of an issue: its newspaper's front page
        ids = list(LibraryItem.objects.filter(pk__in=ids, parent__isnull=False).values_list("parent_id", flat=True))
        scope = "item"
    if scope == "item":  # an issue or title closed or opened also changes the image slides showing one of its pages
        pages = IssuePage.objects.filter(Q(issue_id__in=ids) | Q(issue__parent_id__in=ids), image__isnull=False)
        pages = pages.values("image_id")
        return PlaylistEntry.objects.filter(Q(item_id__in=ids) | Q(image_id__in=pages))
    if scope == "image":
        return PlaylistEntry.objects.filter(_showing_images(ids))
    if scope == "course":  # any course may become the current one
        return PlaylistEntry.objects.filter(kind=PlaylistEntry.Kind.COURSE)
    return None


def _showing_images(ids: list[int]) -> Q:
    """Entries that may show one of these pictures: an image slide, a newspaper with a page drawn on it (any issue:
    a superset of the front pages), a course promotion when a course's poster is one of them."""
    titles = IssuePage.objects.filter(image_id__in=ids, issue__parent__isnull=False).values("issue__parent_id")
    condition = Q(image_id__in=ids) | Q(kind=PlaylistEntry.Kind.NEWSPAPER, item_id__in=titles)
    if CoursePage.objects.filter(cover_id__in=ids).exists():
        condition |= Q(kind=PlaylistEntry.Kind.COURSE)
    return condition


def _subtrees(units) -> Q:
    condition = Q(pk__in=[])
    for path in {unit.path for unit in units}:
        condition |= Q(unit__path__startswith=path)
    return condition


def _devices_of_channels(live, channel_ids: list[int]) -> list[int]:
    placed = [(row.unit, row.channel.screen_type) for row in _placements(channel_ids)]
    condition = Q(pk__in=[])
    for unit, screen_type in set(placed):
        condition |= Q(unit__path__startswith=unit.path, screen_type=screen_type)
    return list(live.filter(condition).values_list("pk", flat=True))


def _placements(channel_ids: list[int]):
    rules = ScheduleRule.objects.filter(channel_id__in=channel_ids).select_related("unit", "channel")
    emergencies = Emergency.objects.filter(channel_id__in=channel_ids).select_related("unit", "channel")
    return [*rules, *emergencies]


# --- Computing and storing ----------------------------------------------------------------------------------------


def _group_key(device: Device, rules: tuple[int, ...], extra: tuple[int, ...]) -> tuple:
    """Everything besides its name and id that decides a device's document: the rules reaching it, the channels of
    its emergencies, and what selectors.device_plan reads of the device itself."""
    return (rules, extra, device.screen_type, device.rotated, device.muted, device.width, device.height)


def manifests_recompute(*, device_ids: Iterable[int], now: datetime | None = None) -> int:
    """Recompute and store the manifests of these devices, ``BATCH`` at a time; returns how many were stored.
    A revoked or deleted device's stored manifest is dropped."""
    now = now or timezone.now()
    ids = sorted(set(device_ids))
    StoredManifest.objects.filter(device_id__in=ids, device__revoked_at__isnull=False).delete()
    stored = 0
    groups: dict[tuple, dict] = {}
    reach: dict[tuple, tuple] = {}
    for first in range(0, len(ids), BATCH):
        devices = Device.objects.filter(pk__in=ids[first : first + BATCH], revoked_at__isnull=True)
        rows = [_stored_row(device, now, groups, reach) for device in devices.select_related("unit")]
        StoredManifest.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["device"],
            update_fields=["version", "document", "window_start", "computed_at"],
        )
        stored += len(rows)
    return stored


def _stored_row(device: Device, now: datetime, groups: dict, reach: dict) -> StoredManifest:
    """One device's row. Per unit and screen type: which rules and emergencies reach it (three small queries); per
    distinct set of rules and kind of screen: the plan, timeline and assets (the costly part), shared by every
    county under the same province rules."""
    start, end = window_of(now)
    unit_key = (device.unit_id, device.screen_type)
    if unit_key not in reach:
        rules = tuple(sorted(rules_reaching(device).values_list("pk", flat=True)))
        reach[unit_key] = (rules, emergencies_for(device=device, now=now, window_end=end))
    rules, emergencies = reach[unit_key]
    extra = tuple(sorted({entry["channel"] for entry in emergencies if entry["channel"]}))
    key = _group_key(device, rules, extra)
    if key not in groups:
        plan = device_plan(device, extra_channels=extra, now=now)
        groups[key] = manifest_body(device=device, plan=plan, now=now, extra_channels=extra)
    document = manifest_document(device=device, now=now, emergencies=emergencies, body=groups[key])
    return StoredManifest(
        device=device, version=document["version"], document=document, window_start=start, computed_at=now
    )


def manifest_current(*, device: Device, now: datetime | None = None) -> StoredManifest:
    """The device's stored manifest for the window holding ``now``: the one already stored (the credential's query
    joined it: no further query), else computed on the spot — the first of a new window also enqueues the roll."""
    now = now or timezone.now()
    stored = _joined(device)
    start = window_of(now)[0]
    if stored is not None and stored.window_start == start:
        return stored
    manifests_recompute(device_ids=[device.pk], now=now)
    if stored is not None:
        _roll_once(start)
    return StoredManifest.objects.get(device_id=device.pk)


def _joined(device: Device) -> StoredManifest | None:
    try:
        return device.stored_manifest
    except StoredManifest.DoesNotExist:
        return None


def _roll_once(start: datetime) -> None:
    if cache.add(f"screens:manifest-roll:{start.isoformat()}", 1, 6 * 3600):
        from ..tasks import manifests_roll_task

        manifests_roll_task.enqueue()


def manifests_roll(*, now: datetime | None = None) -> int:
    """Recompute every stored manifest whose window is older than the current one (the six-hour roll)."""
    now = now or timezone.now()
    old = StoredManifest.objects.filter(window_start__lt=window_of(now)[0]).values_list("device_id", flat=True)
    return manifests_recompute(device_ids=list(old), now=now)
