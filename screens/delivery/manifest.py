"""One device's manifest: what it plays over the next 48 hours and the files it needs, versioned.

The window starts at the last whole ``WINDOW_STEP`` (six hours, Asia/Shanghai) and runs ``WINDOW`` past it, so it
always covers at least 48 hours ahead and stays the same document for six hours: a device polling every few minutes
mostly gets a 304.

``version`` (the ETag) is a SHA-256 over everything that decides playback — the blocks, the loops, every asset's
storage name, size and checksum — and nothing that changes by itself: the signed links expire (``links_expire_at``)
and are left out, so a device whose links have run out asks again without ``If-None-Match`` to get fresh ones. Any
edit to an item, a rendition, a playlist, a rule or a device changes the version the next time it is computed (it
is computed on each request; stored manifests and push invalidation are later work, docs/screens.md).

Asset links come from the pipeline's front doors (``rendition_file_url``, ``stored_file_signed_url``): presigned on
S3, signed and expiring on local disk.
"""

import hashlib
import json
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from cms.models import LighthouseImage
from media_pipeline.models import Rendition
from media_pipeline.selectors import rendition_file_url, stored_file_signed_url

from ..models import Device
from ..schedule import timeline
from ..schedule.timeline import Plan

WINDOW_STEP = timedelta(hours=6)
WINDOW = timedelta(hours=48) + WINDOW_STEP
LINK_LIFETIME = timedelta(hours=1)  # the storage's own URL lifetime (media_pipeline.storage.URL_LIFETIME_SECONDS)


def window_of(moment: datetime) -> tuple[datetime, datetime]:
    here = timeline.local(moment)
    start = here.replace(hour=here.hour - here.hour % int(WINDOW_STEP.total_seconds() // 3600), minute=0)
    start = start.replace(second=0, microsecond=0)
    return start, start + WINDOW


def manifest_for(*, device: Device, plan: Plan, now: datetime) -> dict:
    """The manifest as JSON-ready data, ``version`` included."""
    start, end = window_of(now)
    blocks, warnings = timeline.timeline(plan, start, end)
    used = {block.channel_id for block in blocks if block.channel_id}
    loops = [plan.loops[channel_id] for channel_id in sorted(used)]
    assets, missing = _assets(loops)
    document = {
        "device": {"id": device.pk, "name": device.name, "screen_type": device.screen_type},
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "time_zone": "Asia/Shanghai",
        "blocks": [_block(block) for block in blocks],
        "channels": [_channel(loop) for loop in loops],
        "assets": assets,
        "skipped": _skipped(loops) + missing,
        "warnings": warnings,
    }
    document["version"] = version_of(document)
    document["generated_at"] = now.isoformat()
    document["links_expire_at"] = (now + LINK_LIFETIME).isoformat()
    return document


def version_of(document: dict) -> str:
    """SHA-256 of the document without its links, its own version and the moment it was made."""
    stable = {
        key: value for key, value in document.items() if key not in ("version", "generated_at", "links_expire_at")
    }
    stable["assets"] = [{k: v for k, v in asset.items() if k != "url"} for asset in document["assets"]]
    text = json.dumps(stable, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _block(block: timeline.Block) -> dict:
    rule = block.rule
    return {
        "start": block.start.isoformat(),
        "end": block.end.isoformat(),
        "channel": block.channel_id,
        "loop_offset": block.loop_offset,
        "rule": rule.id if rule else None,
        "priority": rule.priority if rule else None,
        "unit": rule.unit_name if rule else None,
        "quota": block.quota,
    }


def _channel(loop: timeline.Loop) -> dict:
    entries = [
        {
            "entry": step.entry_id,
            "kind": step.kind,
            "seconds": step.seconds,
            "asset": step.asset_key,
            "text": _text(step),
        }
        for step in loop.steps
    ]
    return {"id": loop.channel_id, "name": loop.channel_name, "loop_seconds": loop.seconds, "entries": entries}


def _text(step: timeline.Step) -> str | None:
    return step.label if step.kind == "notice" else None


def _skipped(loops) -> list[dict]:
    return [
        {"channel": loop.channel_id, "entry": entry_id, "reason": reason}
        for loop in loops
        for entry_id, reason in loop.skipped
    ]


def _assets(loops) -> tuple[list[dict], list[dict]]:
    """Every file the loops name, once, with a signed link; an image whose file is gone is reported, not listed."""
    keys = sorted({step.asset_key for loop in loops for step in loop.steps if step.asset_key})
    assets, missing = [], []
    for key in keys:
        asset = _rendition_asset(key) if key.startswith("rendition:") else _image_asset(key)
        if asset is None:
            missing.append({"asset": key, "reason": _("文件不存在或暂时无法读取，屏幕跳过它。")})
        else:
            assets.append(asset)
    return assets, missing


def _rendition_asset(key: str) -> dict | None:
    rendition = Rendition.objects.filter(pk=int(key.split(":")[1])).first()
    if rendition is None:
        return None
    return {
        "key": key,
        "kind": rendition.kind,
        "profile": rendition.profile,
        "name": rendition.path,
        "size": rendition.size,
        "sha256": (rendition.meta or {}).get("sha256"),
        "width": rendition.width,
        "height": rendition.height,
        "duration": rendition.duration,
        "url": rendition_file_url(rendition=rendition),
    }


def _image_asset(key: str) -> dict | None:
    _kind, image_id, spec = key.split(":", 2)
    image = LighthouseImage.objects.filter(pk=int(image_id)).first()
    if image is None:
        return None
    try:
        rendition = image.get_rendition(spec)
        size = rendition.file.size
    except (OSError, ValueError):
        return None
    return {
        "key": key,
        "kind": "image",
        "profile": spec,
        "name": rendition.file.name,
        "size": size,
        "sha256": None,
        "width": rendition.width,
        "height": rendition.height,
        "duration": None,
        "url": stored_file_signed_url(file=rendition.file),
    }
