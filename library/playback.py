"""What the player needs for an item: stream and poster URLs, or the state of the job making them."""

from media_pipeline.selectors import asset_playback_urls, transcode_job_latest, transcode_job_state_display

from .models import LibraryItem


def item_playback(item: LibraryItem) -> dict:
    if item.media_asset_id is None:
        return {"hls_url": "", "poster_url": "", "state": "", "job_state": "", "error": ""}
    urls = asset_playback_urls(asset=item.media_asset)
    job = transcode_job_latest(asset=item.media_asset)
    return {
        "hls_url": urls.get("hls", ""),
        "poster_url": urls.get("poster", ""),
        "state": transcode_job_state_display(job=job) if job else "",
        "job_state": job.state if job else "",
        "error": job.error if job and job.state == "failed" else "",
    }
