"""The premiere as a broadcast (同聚灯塔网、同上一堂课): from the premiere time until the first lesson has played once,
the course page shows it "live" — every member's player starts at the same point of it, computed from the
server's clock (courses/static/courses/js/live.mjs), so joining late means joining in the middle, as on the
satellite channel. Afterwards the lesson is an ordinary on-demand item."""

from datetime import timedelta

from django.utils import timezone

from library.selectors import item_study_lengths, items_visible_to
from media_pipeline.selectors import asset_playback_urls

from .. import selectors
from ..models import CoursePage

MEDIA = ("video", "audio")


def live_premiere(request, *, page: CoursePage) -> dict | None:
    """The live block's data while the premiere is on air, else None."""
    now = timezone.now()
    if now < page.premiere_at:
        return None
    lessons = selectors.course_lessons(page)
    if not lessons or lessons[0].item.kind not in MEDIA or not lessons[0].item.media_asset_id:
        return None
    item = lessons[0].item
    duration = item_study_lengths([item.pk]).get(item.pk, {}).get("duration")
    if not duration or now >= page.premiere_at + timedelta(seconds=duration):
        return None
    if not items_visible_to(request.user).filter(pk=item.pk).exists():
        return None
    urls = asset_playback_urls(asset=item.media_asset)
    if "hls" not in urls:
        return None
    return {
        "item": item,
        "hls": urls["hls"],
        "poster": urls.get("poster", ""),
        "start_ms": int(page.premiere_at.timestamp() * 1000),
        "duration": float(duration),
    }
