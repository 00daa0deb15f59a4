"""What the player needs for an item: stream and poster URLs, or the state of the jobs making them."""

from django.urls import reverse

from library.models import LibraryItem
from media_pipeline.selectors import (
    asset_notices,
    asset_playback_urls,
    asset_progress,
    asset_state_display,
    rendition_previews,
)


def item_playback(item: LibraryItem) -> dict:
    if item.media_asset_id is None:
        return {
            "hls_url": "",
            "poster_url": "",
            "state": "",
            "job_state": "",
            "error": "",
            "notices": [],
            "status_url": "",
            "renditions": [],
        }
    asset = item.media_asset
    urls = asset_playback_urls(asset=asset)
    summary = asset_progress(asset=asset)
    return {
        "hls_url": urls.get("hls", ""),
        "poster_url": urls.get("poster", ""),
        "state": asset_state_display(asset=asset),
        "job_state": summary.state,  # pending / processing / ready / failed
        "progress": round(summary.progress * 100),
        "error": summary.error,
        "notices": asset_notices(asset=asset),
        "status_url": reverse("media_pipeline_admin:asset_status", args=[asset.pk]),
        "renditions": rendition_previews(asset=asset),
    }
