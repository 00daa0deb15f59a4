"""One device's manifest: what it plays over the next 48 hours and the files it needs, versioned.

The window starts at the last whole ``WINDOW_STEP`` (six hours, Asia/Shanghai) and runs ``WINDOW`` past it, so it
always covers at least 48 hours ahead and stays the same document for six hours: a device polling every few minutes
mostly gets a 304.

``version`` (the ETag) is a SHA-256 over everything that decides playback — the blocks, the loops, every asset's
storage name, size and checksum — and nothing that changes by itself: the signed links expire (``links_expire_at``)
and are left out, so a device whose links have run out asks again without ``If-None-Match`` to get fresh ones. Any
edit to an item, a rendition, a playlist, a rule, an emergency or a device changes the version when it is
recomputed: ``screens.delivery.store`` keeps each device's document (``StoredManifest``) and recomputes it after
every such change and when the window rolls, so a request is a lookup.

Asset links come from the pipeline's front doors (``rendition_file_url``, ``stored_file_signed_url``): presigned on
S3, signed and expiring on local disk.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils.translation import gettext as _
from wagtail.images.models import get_rendition_storage

from cms.models import LighthouseImage
from media_pipeline.models import Rendition
from media_pipeline.selectors import rendition_file_url, stored_file_signed_url

from ..models import Device
from ..schedule import timeline
from ..schedule.timeline import Plan
from ..slides import ClosedReason, closed_reason_for_devices

WINDOW_STEP = timedelta(hours=6)
WINDOW = timedelta(hours=48) + WINDOW_STEP
LINK_LIFETIME = timedelta(hours=1)  # the storage's own URL lifetime (media_pipeline.storage.URL_LIFETIME_SECONDS)


def window_of(moment: datetime) -> tuple[datetime, datetime]:
    here = timeline.local(moment)
    start = here.replace(hour=here.hour - here.hour % int(WINDOW_STEP.total_seconds() // 3600), minute=0)
    start = start.replace(second=0, microsecond=0)
    return start, start + WINDOW


def manifest_for(*, device: Device, plan: Plan, now: datetime, emergencies: list[dict] = ()) -> dict:
    """The manifest as JSON-ready data, ``version`` included, signed links and all (computed from scratch)."""
    return manifest_served(manifest_document(device=device, plan=plan, now=now, emergencies=emergencies), now=now)


def manifest_body(*, device: Device, plan: Plan, now: datetime, extra_channels: tuple[int, ...] = ()) -> dict:
    """What every device reached by the same rules with the same kind of screen shares: blocks, loops, assets
    (without links). ``extra_channels``: loops listed even when no block uses them (an emergency's channel)."""
    start, end = window_of(now)
    blocks, warnings = timeline.timeline(plan, start, end)
    used = {block.channel_id for block in blocks if block.channel_id}
    used |= {channel_id for channel_id in extra_channels if channel_id in plan.loops}
    loops = [plan.loops[channel_id] for channel_id in sorted(used)]
    assets, missing = _assets(loops)
    return {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "time_zone": "Asia/Shanghai",
        "blocks": [_block(block) for block in blocks],
        "channels": [_channel(loop) for loop in loops],
        "assets": assets,
        "skipped": _skipped(loops) + missing,
        "warnings": warnings,
    }


def manifest_document(
    *, device: Device, plan: Plan | None = None, now: datetime, emergencies: list[dict] = (), body: dict | None = None
) -> dict:
    """The stored form: ``body`` (computed from ``plan`` when not given) for this device, with its emergencies (each
    signed, docs/screens.md), ``version`` and ``generated_at``; no links."""
    body = body if body is not None else manifest_body(device=device, plan=plan, now=now)
    document = {"device": {"id": device.pk, "name": device.name, "screen_type": device.screen_type}, **body}
    document["emergencies"] = list(emergencies)
    document["version"] = version_of(document)
    document["generated_at"] = now.isoformat()
    return document


def manifest_served(document: dict, *, now: datetime, poll_after: int | None = None) -> dict:
    """The stored document as a device gets it: each asset with a fresh signed link, when they expire, and (when
    given) how many seconds to wait before asking again."""
    served = {**document, "assets": [{**asset, "url": _link(asset)} for asset in document["assets"]]}
    served["links_expire_at"] = (now + LINK_LIFETIME).isoformat()
    if poll_after is not None:
        served["poll_after"] = poll_after
    return served


def version_of(document: dict) -> str:
    """SHA-256 of the document without its links, its own version, the moment it was made and the poll hint."""
    stable = {key: value for key, value in document.items() if key not in UNVERSIONED}
    stable["assets"] = [{k: v for k, v in asset.items() if k != "url"} for asset in document["assets"]]
    text = json.dumps(stable, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


UNVERSIONED = ("version", "generated_at", "links_expire_at", "poll_after")


@dataclass(frozen=True)
class _StoredName:
    """A stored file named by the manifest (what ``stored_file_signed_url`` reads of a FieldFile)."""

    storage: object
    name: str


def _link(asset: dict) -> str:
    """A signed, expiring link to an asset, made from its stored name alone (no query per asset)."""
    if asset["key"].startswith("rendition:"):
        return rendition_file_url(rendition=Rendition(path=asset["name"]))
    return stored_file_signed_url(file=_StoredName(get_rendition_storage(), asset["name"]))


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
    entries = [_entry(step) for step in loop.steps]
    return {"id": loop.channel_id, "name": loop.channel_name, "loop_seconds": loop.seconds, "entries": entries}


def _entry(step: timeline.Step) -> dict:
    """One entry of a loop. A newspaper, course or clock slide adds ``slide``: what it shows besides its file
    (docs/screens.md); other entries are as they always were, so their manifests keep their versions."""
    entry = {"entry": step.entry_id, "kind": step.kind, "seconds": step.seconds, "asset": step.asset_key}
    entry["text"] = _text(step)
    if step.detail:
        entry["slide"] = dict(step.detail)
    return entry


def _text(step: timeline.Step) -> str | None:
    return step.label if step.kind == "notice" else None


def _skipped(loops) -> list[dict]:
    """What is left out and why; a reason that names content closed to the public is not sent to a screen."""
    closed = closed_reason_for_devices()
    return [
        {
            "channel": loop.channel_id,
            "entry": entry_id,
            "reason": closed if isinstance(reason, ClosedReason) else reason,
        }
        for loop in loops
        for entry_id, reason in loop.skipped
    ]


def _assets(loops) -> tuple[list[dict], list[dict]]:
    """Every file the loops name, once (its link is added when served); an image whose file is gone is reported,
    not listed."""
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
    }


def _image_asset(key: str) -> dict | None:
    _kind, image_id, spec = key.split(":")[:3]  # image:<id>:<filter>:<fingerprint of the file>
    image = LighthouseImage.objects.filter(pk=int(image_id)).first()
    if image is None:
        return None
    try:
        rendition = image.get_rendition(spec)
        size = rendition.file.size
        digest = _file_sha256(rendition.file, size)
    except (OSError, ValueError):
        return None
    return {
        "key": key,
        "kind": "image",
        "profile": spec,
        "name": rendition.file.name,
        "size": size,
        "sha256": digest,
        "width": rendition.width,
        "height": rendition.height,
        "duration": None,
    }


def _file_sha256(file, size: int) -> str:
    """SHA-256 of a stored picture, so the player checks it as it checks video files. A rendition's file is never
    rewritten under its name (a replaced picture gets new renditions, under new names): the digest is read once, then
    cached for good by name and size."""
    key = f"screens:sha256:{hashlib.sha256(file.name.encode()).hexdigest()}:{size}"
    digest = cache.get(key)
    if digest is None:
        hasher = hashlib.sha256()
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
        digest = hasher.hexdigest()
        cache.set(key, digest, None)
    return digest
