"""What the screens' tests build: channels with playlists, rules, paired devices, and videos whose renditions are
plain rows (no transcoding: a ``Rendition`` row with a tiny stored file, as tests/library/test_api.py does)."""

import hashlib
from datetime import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from screens.models import Channel, PlaylistEntry, Priority, ScheduleRule
from screens.services import device_pair, pairing_request_create
from tests.factories import MediaAssetFactory, VideoFactory

SCREEN_PROFILES = ("screen_landscape", "screen_portrait", "screen_portrait_rotated", "tv_1080p")


def video_with_renditions(unit, *, profiles=SCREEN_PROFILES, duration=30.0, **fields):
    """A public, published video item whose asset has a stored MP4 rendition of each profile named."""
    asset = MediaAssetFactory(state=MediaAsset.State.READY, duration=duration)
    job = TranscodeJob.objects.create(asset=asset, group="screens", state="done")
    for profile in profiles:
        path = f"renditions/{asset.pk}/{job.pk}/{profile}.mp4"
        default_storage.save(path, ContentFile(b"\x00\x00\x00\x18ftypmp42" + profile.encode()))
        Rendition.objects.create(
            asset=asset, job=job, profile=profile, kind="mp4", path=path, size=21, duration=duration, width=1920
        )
    return VideoFactory(owning_unit=unit, media_asset=asset, **fields)


def stored_rendition(data: bytes, *, group: str, profile: str, kind: str, suffix: str, duration: float, **fields):
    """A ready asset with one stored rendition of these real bytes and their SHA-256 (as the pipeline stores them)."""
    asset = MediaAssetFactory(state=MediaAsset.State.READY, duration=duration)
    job = TranscodeJob.objects.create(asset=asset, group=group, state="done")
    path = default_storage.save(f"renditions/{asset.pk}/{job.pk}/{profile}.{suffix}", ContentFile(data))
    Rendition.objects.create(
        asset=asset,
        job=job,
        profile=profile,
        kind=kind,
        path=path,
        size=len(data),
        duration=duration,
        meta={"sha256": hashlib.sha256(data).hexdigest()},
        **fields,
    )
    return asset


def channel(unit, *, name="频道", screen_type="landscape", entries=()):
    """A channel and its entries: each a library item (video), an image, or a str (a notice)."""
    made = Channel.objects.create(name=name, owning_unit=unit, screen_type=screen_type)
    for order, content in enumerate(entries):
        if isinstance(content, str):
            PlaylistEntry.objects.create(channel=made, kind="notice", text=content, duration=10, sort_order=order)
        elif hasattr(content, "media_asset_id"):
            PlaylistEntry.objects.create(channel=made, kind="video", item=content, sort_order=order)
        else:
            PlaylistEntry.objects.create(channel=made, kind="image", image=content, duration=8, sort_order=order)
    return made


def rule(unit, made_channel, priority=Priority.OWN, start="00:00", end="00:00", **fields):
    return ScheduleRule.objects.create(
        unit=unit,
        channel=made_channel,
        priority=priority,
        start_time=time.fromisoformat(start),
        end_time=time.fromisoformat(end),
        **fields,
    )


def paired_device(unit, editor, *, name="大厅屏", screen_type="landscape", **fields):
    """(device, credential): a screen that asked for a code and was paired by ``editor`` to ``unit``."""
    _pairing, credential, code = pairing_request_create()
    device = device_pair(code=code, unit=unit, name=name, screen_type=screen_type, paired_by=editor, **fields)
    return device, credential


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Tasks run where they are enqueued: a change's recomputation is done when its transaction commits (the tests
    commit with django_capture_on_commit_callbacks(execute=True))."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": settings.TASK_QUEUES}
    }


@pytest.fixture
def tree(unit_tree, editors):
    return {"units": unit_tree, "editors": editors}


@pytest.fixture
def screen(tree, local_media, django_capture_on_commit_callbacks):
    """邹平's portrait screen playing its own channel, all day; ``fill(*entries)`` adds entries after commit."""
    units, editors = tree["units"], tree["editors"]
    with django_capture_on_commit_callbacks(execute=True):
        own = channel(units["zouping"], name="邹平大厅", screen_type="portrait")
        rule(units["zouping"], own, Priority.OWN)
        device, credential = paired_device(units["zouping"], editors["zouping_editor"], screen_type="portrait")
    return {"device": device, "credential": credential, "channel": own, **tree}
