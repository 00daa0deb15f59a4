"""Reads for screens: which channels, rules and devices an editor manages, and the resolver's database side —
"what plays on device D at time T, and why" — built from the rules reaching the device and its channels' loops.

Content for a screen comes through the other apps' front doors only: library items the public may open
(``library.selectors.items_visible_to`` with an anonymous visitor: a screen in a lobby shows nothing members-only),
their renditions by profile name (``media_pipeline.selectors.renditions_by_profile``), the organisation tree
(``cms.selectors``).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import OrgUnit
from cms.selectors import unit_and_ancestor_paths, units_managed_by
from library.selectors import items_visible_to
from media_pipeline.selectors import renditions_by_profile

from .devices.credentials import credential_parts, secret_matches
from .errors import CredentialRefused
from .models import (
    SCHEDULE_TIME_ZONE,
    Channel,
    Device,
    PairingRequest,
    PlaylistEntry,
    PlayRecord,
    Priority,
    ScheduleRule,
    ScreenType,
)
from .schedule import timeline
from .schedule.timeline import Decision, Loop, Plan, Rule, Step
from .slides import ClosedReason, course_step, image_step, info_step, newspaper_step

PREVIEW_HOURS = 48
IMAGE_FILTER = "max-{width}x{height}"
SUBTREE_PRIORITIES = (Priority.EMERGENCY, Priority.QUOTA, Priority.FILLER)  # reach every screen below the unit
OWN_PRIORITIES = (Priority.OWN, Priority.SUBSCRIBED)  # reach the unit's own screens only


# --- What an editor manages ---------------------------------------------------------------------------------------


def channels_managed_by(user) -> QuerySet[Channel]:
    return Channel.objects.filter(owning_unit__in=units_managed_by(user))


def rules_managed_by(user) -> QuerySet[ScheduleRule]:
    return ScheduleRule.objects.filter(unit__in=units_managed_by(user))


def devices_managed_by(user) -> QuerySet[Device]:
    return Device.objects.filter(unit__in=units_managed_by(user))


def channels_schedulable_by(user) -> QuerySet[Channel]:
    """Channels an editor may name in a rule: their units' own, and those of every unit above them (to subscribe)."""
    managed = units_managed_by(user)
    paths = {path for unit in managed for path in unit_and_ancestor_paths(unit.path)}
    return Channel.objects.filter(Q(owning_unit__in=managed) | Q(owning_unit__path__in=paths))


# --- Which rendition a screen plays -------------------------------------------------------------------------------


def rendition_profiles(*, screen_type: str, rotated: bool, muted: bool) -> tuple[str, ...]:
    """The pipeline's profile names this screen plays, best first (media_pipeline/steps/profiles.py): a muted screen
    needs the screens' versions (captions burned in, no sound); a TV with sound prefers the TV version."""
    if screen_type == ScreenType.AUDIO:
        return ("audio_m4a", "audio_mp3")
    if screen_type == ScreenType.PORTRAIT:
        return ("screen_portrait_rotated",) if rotated else ("screen_portrait",)
    return ("screen_landscape",) if muted else ("tv_1080p", "screen_landscape")


def device_profiles(device: Device) -> tuple[str, ...]:
    return rendition_profiles(screen_type=device.screen_type, rotated=device.rotated, muted=device.muted)


def device_image_filter(device: Device) -> str:
    """The Wagtail image filter of a slide on this screen: the picture as the screen shows it (a turned portrait
    screen composes a portrait picture)."""
    width, height = device.width, device.height
    if device.rotated:
        width, height = min(width, height), max(width, height)
    return IMAGE_FILTER.format(width=width, height=height)


# --- The plan of one device ---------------------------------------------------------------------------------------


def rules_reaching(device: Device) -> QuerySet[ScheduleRule]:
    """Active rules for this device's screen type: subtree classes from its unit and every unit above, own and
    subscribed classes from its own unit."""
    path = OrgUnit.objects.filter(pk=device.unit_id).values_list("path", flat=True).first() or ""
    above = OrgUnit.objects.filter(path__in=unit_and_ancestor_paths(path)) if path else OrgUnit.objects.none()
    reach = Q(priority__in=SUBTREE_PRIORITIES, unit__in=above) | Q(priority__in=OWN_PRIORITIES, unit_id=device.unit_id)
    rules = ScheduleRule.objects.filter(reach, is_active=True, channel__screen_type=device.screen_type)
    return rules.select_related("unit", "channel")


def _rule(row: ScheduleRule) -> Rule:
    return Rule(
        id=row.pk,
        priority=row.priority,
        unit_id=row.unit_id,
        unit_name=row.unit.name,
        unit_depth=row.unit.depth,
        channel_id=row.channel_id,
        days=frozenset(int(day) for day in row.days if day.isdigit()),
        start=row.start_time,
        end=row.end_time,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        quota_seconds=row.quota_seconds,
    )


def _loop(channel: Channel, device: Device, public_items: set[int], now: datetime) -> Loop:
    steps, skipped = [], []
    for entry in channel.entries.select_related("item__media_asset", "image").order_by("sort_order", "id"):
        step, reason = _step(entry, device, public_items, channel=channel, now=now)
        if step is None:
            skipped.append((entry.pk, reason))
        else:
            steps.append(step)
    return Loop(channel_id=channel.pk, channel_name=channel.name, steps=tuple(steps), skipped=tuple(skipped))


def _step(
    entry: PlaylistEntry, device: Device, public_items: set[int], *, channel: Channel, now: datetime
) -> tuple[Step | None, str]:
    """The entry as this device can play it, or None and why not (a short Chinese sentence for the editor). A
    newspaper's issue and the promoted course are the ones of ``now`` (screens.slides)."""
    kind = entry.kind
    if kind == PlaylistEntry.Kind.VIDEO:
        return _video_step(entry, device, public_items)
    if device.screen_type == ScreenType.AUDIO:
        return None, _("音频屏幕不能显示图片或文字。")
    image_filter = device_image_filter(device)
    if kind == PlaylistEntry.Kind.IMAGE:
        return image_step(entry, image_filter=image_filter)
    if kind == PlaylistEntry.Kind.NEWSPAPER:
        return newspaper_step(entry, image_filter=image_filter, public_items=public_items)
    if kind == PlaylistEntry.Kind.COURSE:
        return course_step(entry, unit_id=channel.owning_unit_id, image_filter=image_filter, now=now)
    if kind == PlaylistEntry.Kind.INFO:
        return info_step(entry), ""
    return Step(entry.pk, kind, float(entry.duration), entry.text[:40]), ""


def _video_step(entry: PlaylistEntry, device: Device, public_items: set[int]) -> tuple[Step | None, str]:
    item = entry.item
    if item.pk not in public_items:
        return None, ClosedReason(_("“%(title)s”未发布或不是公开条目，屏幕不播放。") % {"title": item.title})
    if item.media_asset is None:
        return None, _("“%(title)s”没有音视频文件。") % {"title": item.title}
    renditions = renditions_by_profile(asset=item.media_asset)
    for profile in device_profiles(device):
        rendition = renditions.get(profile)
        seconds = rendition and (rendition.duration or item.media_asset.duration)
        if seconds:
            # An audio screen shows what it plays on a now-playing card: the title comes with the entry (``slide``).
            detail = (("title", item.title),) if device.screen_type == ScreenType.AUDIO else ()
            return Step(entry.pk, entry.kind, float(seconds), item.title, f"rendition:{rendition.pk}", detail), ""
    return None, _("“%(title)s”还没有适合这块屏幕的版本（%(profiles)s），请在条目里勾选“公共屏幕”并等待转码完成。") % {
        "title": item.title,
        "profiles": "、".join(device_profiles(device)),
    }


def device_plan(device: Device, *, extra_channels: tuple[int, ...] = (), now: datetime | None = None) -> Plan:
    """Everything that decides this device's screen, as the pure resolver's plain data. ``extra_channels``: loops to
    build besides the rules' (an emergency's channel). ``now``: the moment slides are chosen for (a newspaper's
    latest issue, the current course); the present unless given."""
    now = now or timezone.now()
    rows = list(rules_reaching(device))
    channels = Channel.objects.filter(pk__in={row.channel_id for row in rows} | set(extra_channels))
    item_ids = PlaylistEntry.objects.filter(channel__in=channels, item__isnull=False).values("item_id")
    public_items = set(items_visible_to(AnonymousUser()).filter(pk__in=item_ids).values_list("pk", flat=True))
    loops = {channel.pk: _loop(channel, device, public_items, now) for channel in channels}
    return Plan(rules=tuple(_rule(row) for row in rows), loops=loops)


# --- The answers --------------------------------------------------------------------------------------------------


def device_decision(*, device: Device, moment: datetime, plan: Plan | None = None) -> Decision:
    """What plays on ``device`` at ``moment`` (an aware datetime), and why."""
    return timeline.resolve(plan or device_plan(device, now=moment), moment)


@dataclass(frozen=True)
class Preview:
    """The preview page: the answer for one moment, the blocks of the next hours, and what editors should fix."""

    decision: Decision
    reason: str
    blocks: list
    warnings: list[str]
    skipped: list[tuple[str, str]]  # (channel name, why an entry is skipped)


def device_preview(*, device: Device, moment: datetime, hours: int = PREVIEW_HOURS) -> Preview:
    plan = device_plan(device, now=moment)
    decision = timeline.resolve(plan, moment)
    blocks, warnings = timeline.timeline(plan, moment, moment + timedelta(hours=hours))
    skipped = [(loop.channel_name, reason) for loop in plan.loops.values() for _entry, reason in loop.skipped]
    return Preview(decision, decision_reason(decision), blocks, warnings, skipped)


def decision_reason(decision: Decision) -> str:
    """The "why" in one Chinese sentence: which rule, which level, which quota, and who it beat."""
    if decision.rule is None:
        return _("此刻没有任何规则安排节目，屏幕显示待机画面。")
    rule, loop = decision.rule, decision.loop
    words = {
        "rule": rule.id,
        "unit": rule.unit_name,
        "channel": loop.channel_name,
        "class": Priority(rule.priority).label,
        "start": decision.window_start.strftime("%m-%d %H:%M"),
        "end": decision.window_end.strftime("%m-%d %H:%M"),
        "item": decision.step.label,
        "offset": int(decision.step_offset),
    }
    if decision.quota is not None:
        words["quota"] = decision.quota.wanted
        text = _(
            "%(class)s：%(unit)s 的规则 #%(rule)s 要求下级每块屏幕每小时播出 %(quota)s 秒“%(channel)s”，"
            "本小时排在 %(start)s–%(end)s；正在播“%(item)s”第 %(offset)s 秒。"
        )
    else:
        text = _(
            "%(class)s：%(unit)s 的规则 #%(rule)s 在 %(start)s–%(end)s 播出“%(channel)s”；"
            "正在播“%(item)s”第 %(offset)s 秒。"
        )
    text = text % words
    if decision.passed_over:
        ids = "、".join(f"#{other.id}" for other, _why in decision.passed_over)
        text += _("同时有效但让位的规则：%(ids)s。") % {"ids": ids}
    return text


def device_for_credential(credential_id: str) -> Device | None:
    # The stored manifest is joined (its version; the document itself is read only for a 200): a manifest request
    # with If-None-Match is this one indexed query. No ordering: the credential id is unique.
    rows = Device.objects.select_related("unit", "stored_manifest").defer("stored_manifest__document")
    return next(iter(rows.filter(credential_id=credential_id).order_by()[:1]), None)


def device_authenticated(*, credential: str) -> Device:
    """The device a credential stands for, or CredentialRefused saying why (forged, unknown, revoked)."""
    parts = credential_parts(credential)
    device = device_for_credential(parts[0]) if parts else None
    if device is None or not secret_matches(parts[1], device.secret_hash):
        raise CredentialRefused(_("屏幕凭证无效，请在屏幕上重新获取配对码并配对。"))
    if device.is_revoked:
        raise CredentialRefused(_("这块屏幕已被停用，请联系管理员重新配对。"))
    return device


def pairing_for_credential(*, credential: str):
    """The pairing request a waiting screen's credential belongs to, or None (unknown or forged)."""
    parts = credential_parts(credential)
    pairing = PairingRequest.objects.filter(credential_id=parts[0]).first() if parts else None
    if pairing is None or not secret_matches(parts[1], pairing.secret_hash):
        return None
    return pairing


# --- Proof of play rolled up: the delivery rate of a unit's subtree -----------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Of what was scheduled on the screens of a unit's subtree over one Beijing day, how much played."""

    day: date
    screens: int
    scheduled_seconds: float
    played_seconds: float

    @property
    def rate(self) -> float | None:
        return self.played_seconds / self.scheduled_seconds if self.scheduled_seconds else None


def delivery_rate(*, unit: OrgUnit, day: date, moment: datetime | None = None) -> Delivery:
    """Scheduled seconds come from the resolver (blocks with a channel on each active screen of the subtree, up to
    ``moment`` when the day is not over); played seconds are the plays each of those screens reported that day, each
    screen's at most its own scheduled time: a report sent twice, a clock off or one screen reporting too much cannot
    make a screen more than 100 %, nor hide another screen's silence."""
    start = datetime.combine(day, datetime.min.time(), SCHEDULE_TIME_ZONE)
    end = start + timedelta(days=1)
    if moment is not None:
        end = max(start, min(end, moment))
    devices = list(Device.objects.filter(unit__path__startswith=unit.path, revoked_at__isnull=True, paired_at__lt=end))
    played_by = dict(
        PlayRecord.objects.filter(unit__path__startswith=unit.path, started_at__gte=start, started_at__lt=end)
        .values_list("device_id")
        .annotate(total=Sum("seconds"))
        .order_by()
    )
    scheduled = played = 0.0
    for device in devices:
        blocks, _warnings = timeline.timeline(device_plan(device), start, end) if end > start else ([], [])
        own = sum((block.end - block.start).total_seconds() for block in blocks if block.channel_id)
        scheduled += own
        played += min(played_by.get(device.pk) or 0.0, own)
    return Delivery(day, len(devices), scheduled, played)


# --- Offline screens ----------------------------------------------------------------------------------------------

OFFLINE_AFTER = timedelta(minutes=15)  # three missed five-minute polls


def devices_offline(user, *, now: datetime, after: timedelta = OFFLINE_AFTER) -> QuerySet[Device]:
    """The screens of the editor's units that should be on but said nothing for ``after``: the last heartbeat is
    older, or none came since a pairing older than that. Revoked screens are not missed."""
    since = now - after
    silent = Q(last_heartbeat_at__lt=since) | Q(last_heartbeat_at__isnull=True, paired_at__lt=since)
    rows = devices_managed_by(user).filter(silent, revoked_at__isnull=True)
    return rows.select_related("unit").order_by("last_heartbeat_at", "unit__path", "name")


# --- Emergencies --------------------------------------------------------------------------------------------------


def emergencies_managed_by(user) -> QuerySet:
    from .models import Emergency

    return Emergency.objects.filter(unit__in=units_managed_by(user)).select_related("unit", "channel")


def devices_reached_by(emergency) -> QuerySet[Device]:
    """The live screens an emergency reaches: its unit's subtree, of its channel's type (a message: every screen
    but an audio one)."""
    rows = Device.objects.filter(unit__path__startswith=emergency.unit.path, revoked_at__isnull=True)
    if emergency.channel_id:
        return rows.filter(screen_type=emergency.channel.screen_type)
    return rows.exclude(screen_type=ScreenType.AUDIO)
