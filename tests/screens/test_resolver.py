"""The resolver with the database (screens.selectors): which rules reach a device through the organisation tree,
which rendition a screen plays, what is skipped and why, and the same answers whatever the server's TIME_ZONE."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from screens.models import PlaylistEntry, Priority
from screens.selectors import decision_reason, device_decision, device_plan, device_preview, rendition_profiles

from .conftest import channel, paired_device, rule, video_with_renditions

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def world(tree):
    units, editors = tree["units"], tree["editors"]
    province_promo = channel(units["shandong"], name="省级课程推广", entries=[video_with_renditions(units["shandong"])])
    zouping_own = channel(units["zouping"], name="邹平自办", entries=[video_with_renditions(units["zouping"]), "通知"])
    binzhou_own = channel(units["binzhou"], name="滨州自办", entries=[video_with_renditions(units["binzhou"])])
    rule(units["shandong"], province_promo, Priority.QUOTA, quota_seconds=120)
    rule(units["zouping"], zouping_own, Priority.OWN, "08:00", "22:00")
    rule(units["binzhou"], binzhou_own, Priority.OWN)
    device, _credential = paired_device(units["zouping"], editors["zouping_editor"])
    return {"device": device, "promo": province_promo, "own": zouping_own, "binzhou": binzhou_own, **tree}


def test_upper_quota_reaches_the_county_screen_and_a_city_own_rule_does_not(world):
    plan = device_plan(world["device"])
    assert {rule.channel_id for rule in plan.rules} == {world["promo"].pk, world["own"].pk}
    decision = device_decision(device=world["device"], moment=at(2026, 12, 7, 9, 1))
    assert decision.rule.priority == Priority.QUOTA and decision.loop.channel_name == "省级课程推广"
    reason = decision_reason(decision)
    assert "山东省" in reason and "120 秒" in reason and "省级课程推广" in reason
    later = device_decision(device=world["device"], moment=at(2026, 12, 7, 9, 5))
    assert later.loop.channel_name == "邹平自办" and "邹平市" in decision_reason(later)


def test_other_screen_types_are_not_reached(world):
    portrait, _credential = paired_device(
        world["units"]["zouping"], world["editors"]["zouping_editor"], name="竖屏", screen_type="portrait"
    )
    assert device_plan(portrait).rules == ()
    assert device_decision(device=portrait, moment=at(2026, 12, 7, 9, 5)).rule is None


@pytest.mark.parametrize("server_zone", ["UTC", "America/New_York", "Asia/Shanghai"])
def test_the_server_time_zone_changes_nothing(world, settings, server_zone):
    """The own rule runs 08:00–22:00 Shanghai time: 07:59 and 22:05 Shanghai (past the quota block) have nothing,
    in every zone the server may be set to (moments are passed as UTC, as timezone.now() gives them)."""
    settings.TIME_ZONE = server_zone
    timezone.activate(ZoneInfo(server_zone))
    device = world["device"]
    before = device_decision(device=device, moment=at(2026, 12, 7, 7, 59).astimezone(ZoneInfo("UTC")))
    inside = device_decision(device=device, moment=at(2026, 12, 7, 8, 30).astimezone(ZoneInfo("UTC")))
    after = device_decision(device=device, moment=at(2026, 12, 7, 22, 5).astimezone(ZoneInfo("UTC")))
    assert before.rule is None and after.rule is None
    assert inside.rule.channel_id == world["own"].pk
    assert inside.window_start == at(2026, 12, 7, 8, 0)


def test_items_without_a_screen_rendition_or_not_public_are_skipped_with_a_reason(world):
    units = world["units"]
    not_ready = video_with_renditions(units["zouping"], profiles=("tv_1080p",), title="未转码")
    members_only = video_with_renditions(units["zouping"], title="党员专享", access="members")
    PlaylistEntry.objects.create(channel=world["own"], kind="video", item=not_ready, sort_order=5)
    PlaylistEntry.objects.create(channel=world["own"], kind="video", item=members_only, sort_order=6)
    loop = device_plan(world["device"]).loops[world["own"].pk]
    reasons = list(dict(loop.skipped).values())
    assert len(loop.steps) == 2
    assert any("未转码" in reason and "screen_landscape" in reason for reason in reasons)
    assert any("党员专享" in reason and "公开" in reason for reason in reasons)


def test_renditions_follow_the_screen_profile():
    assert rendition_profiles(screen_type="portrait", rotated=True, muted=True) == ("screen_portrait_rotated",)
    assert rendition_profiles(screen_type="portrait", rotated=False, muted=True) == ("screen_portrait",)
    assert rendition_profiles(screen_type="tv", rotated=False, muted=False)[0] == "tv_1080p"
    assert rendition_profiles(screen_type="landscape", rotated=False, muted=True) == ("screen_landscape",)
    assert rendition_profiles(screen_type="audio", rotated=False, muted=False)[0] == "audio_m4a"


def test_the_preview_covers_48_hours_and_names_what_is_skipped(world):
    moment = at(2026, 12, 7, 7, 0)
    preview = device_preview(device=world["device"], moment=moment)
    assert preview.blocks[0].start == moment and preview.blocks[-1].end == moment + timedelta(hours=48)
    assert sum(block.quota for block in preview.blocks) == 48
    assert "省级课程推广" in preview.reason
    assert preview.skipped == []
