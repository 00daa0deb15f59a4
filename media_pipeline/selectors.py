"""Reads: jobs and renditions of an asset, and what to tell an editor about them."""

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import MediaAsset, Rendition, TranscodeJob


def transcode_job_latest(*, asset: MediaAsset) -> TranscodeJob | None:
    return asset.transcode_jobs.order_by("-created_at", "-id").first()


def transcode_job_list() -> QuerySet[TranscodeJob]:
    return TranscodeJob.objects.select_related("asset").order_by("-created_at", "-id")


def rendition_latest(*, asset: MediaAsset, kind: str) -> Rendition | None:
    """The newest published rendition of a kind (after a file replacement, the new job's)."""
    return asset.renditions.filter(kind=kind).order_by("-created_at", "-id").first()


def rendition_hls_get(*, asset: MediaAsset) -> Rendition | None:
    return rendition_latest(asset=asset, kind=Rendition.Kind.HLS)


def rendition_poster_get(*, asset: MediaAsset) -> Rendition | None:
    return rendition_latest(asset=asset, kind=Rendition.Kind.POSTER)


def rendition_file_url(*, rendition: Rendition) -> str:
    """Storage URL of a single-file rendition (presigned on S3, so it expires)."""
    return default_storage.url(rendition.path)


def asset_playback_urls(*, asset: MediaAsset) -> dict[str, str]:
    """Our own URLs for a player: {"hls": master playlist, "poster": image}; keys absent when not ready."""
    urls = {}
    if (master := rendition_hls_get(asset=asset)) is not None:
        urls["hls"] = reverse("media_pipeline:hls_master", args=[master.pk])
    if rendition_poster_get(asset=asset) is not None:
        urls["poster"] = reverse("media_pipeline:poster", args=[asset.pk])
    return urls


def transcode_job_state_display(*, job: TranscodeJob | None) -> str:
    """What the library item shows: "转码中 45%", or the reason it failed."""
    if job is None:
        return _("未转码")
    if job.state in TranscodeJob.ACTIVE_STATES:
        return _("%(state)s %(percent)d%%") % {"state": job.get_state_display(), "percent": round(job.progress * 100)}
    if job.state == TranscodeJob.State.FAILED:
        return _("转码失败：%(error)s") % {"error": job.error}
    return job.get_state_display()


def transcode_job_status(*, job: TranscodeJob) -> dict:
    """The JSON the admin page polls."""
    return {
        "id": job.pk,
        "asset": job.asset_id,
        "state": job.state,
        "state_display": transcode_job_state_display(job=job),
        "progress": round(job.progress, 4),
        "attempts": job.attempts,
        "error": job.error,
    }
