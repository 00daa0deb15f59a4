"""Reads: the current jobs of an asset and what to tell an editor about them; renditions for players.

Which jobs an editor may see is not media_pipeline's to know (it knows no library items or units): the setting
``MEDIA_ADMIN_ASSET_SCOPE = "library.<module>.<function>"`` names a function ``(*, user) -> ids of the assets that
user manages`` (a queryset of ids, or any iterable). Unset, only superusers see jobs: the screens fail closed.
Whatever an editor is shown of a job's error is cleaned of server paths (``server_paths_hidden``); the raw log
tail is for superusers.

This module is also the pipeline's front door for reads by other apps (``__all__``): besides its own reads it hands
out the few pure checks and formats they share with the pipeline (the EPUB archive vetting, caption decoding,
canonical request paths, the document profile and a document file's text), so that nobody imports its internals.
"""

import codecs
import hmac
import re
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.signing import Signer
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .delivery.playlists import media_segments
from .ffmpeg.commands import PLAYLIST_NAME
from .models import MediaAsset, Rendition, TranscodeJob
from .steps.captions import clean_vtt
from .steps.documents.epub import check_epub_archive, is_safe_member_name
from .steps.documents.text import DocumentText, document_file_text
from .steps.profiles import DOCUMENT
from .storage import (
    URL_GRANULARITY_SECONDS,
    URL_LIFETIME_SECONDS,
    MediaS3Storage,
    is_canonical_request_path,
    signed_url,
)

__all__ = [
    "DOCUMENT",
    "AssetProgress",
    "DocumentText",
    "HlsVariantFiles",
    "asset_jobs_current",
    "asset_playback_urls",
    "asset_progress",
    "asset_state_display",
    "asset_status",
    "check_epub_archive",
    "clean_vtt",
    "document_file_text",
    "hls_file_signed_url",
    "hls_variant_files",
    "is_canonical_request_path",
    "is_safe_member_name",
    "media_assets_managed_by",
    "playback_token",
    "playback_token_query",
    "playback_token_valid",
    "rendition_file_url",
    "rendition_hls_get",
    "rendition_latest",
    "rendition_poster_get",
    "rendition_previews",
    "renditions_by_profile",
    "server_paths_hidden",
    "stored_document_text",
    "stored_file_signed_url",
    "transcode_job_latest",
    "transcode_job_list",
    "transcode_job_state_display",
    "transcode_job_status",
    "transcode_jobs_failed",
    "transcode_jobs_managed_by",
]

State = TranscodeJob.State
ANALYSE_SHARE = 0.05  # of the overall progress: probing and measuring loudness are quick next to encoding
WEB_HLS_PROFILE = "hls_web"
DOCUMENT_TEXT_PROFILE = f"{DOCUMENT.name}_text"  # the text rendition the document step writes (text/all.txt)
UTF8_MAX_BYTES = 4  # per character: reading limit × 4 bytes gives at least ``limit`` characters


@dataclass(frozen=True)
class AssetProgress:
    state: str  # MediaAsset.State value
    progress: float  # 0..1 over all current jobs
    error: str
    jobs: tuple[TranscodeJob, ...]


def transcode_job_latest(*, asset: MediaAsset, group: str | None = None) -> TranscodeJob | None:
    """The asset's newest job, or its newest job of one group ("analyse", "ladder", …)."""
    jobs = asset.transcode_jobs.all() if group is None else asset.transcode_jobs.filter(group=group)
    return jobs.order_by("-created_at", "-id").first()


def transcode_job_list() -> QuerySet[TranscodeJob]:
    return TranscodeJob.objects.select_related("asset").order_by("-created_at", "-id")


def media_assets_managed_by(user) -> QuerySet[MediaAsset]:
    """The assets whose jobs and status this user may see and act on: all for a superuser, what the
    MEDIA_ADMIN_ASSET_SCOPE function returns for anyone else, nothing when the setting is missing."""
    if getattr(user, "is_superuser", False):
        return MediaAsset.objects.all()
    scope_path = getattr(settings, "MEDIA_ADMIN_ASSET_SCOPE", "")
    if not scope_path or not getattr(user, "is_authenticated", False):
        return MediaAsset.objects.none()
    return MediaAsset.objects.filter(pk__in=import_string(scope_path)(user=user))


def transcode_jobs_managed_by(user) -> QuerySet[TranscodeJob]:
    """The jobs list and every job screen or action: jobs of the assets the user manages."""
    return transcode_job_list().filter(asset__in=media_assets_managed_by(user))


def transcode_jobs_failed(user, *, limit: int = 8) -> list[TranscodeJob]:
    """The dashboard's failed transcodes: jobs of the assets the user manages that failed and were not run again
    since (a retry is a newer job of the same asset and group), newest first."""
    superseded = TranscodeJob.objects.filter(asset=OuterRef("asset"), group=OuterRef("group"), pk__gt=OuterRef("pk"))
    jobs = transcode_jobs_managed_by(user).filter(state=State.FAILED).exclude(Exists(superseded))
    return list(jobs.order_by("-finished_at", "-id")[:limit])


def _path_prefixes() -> list[str]:
    roots = {str(settings.MEDIA_ROOT), str(getattr(settings, "MEDIA_WORK_DIR", "")), tempfile.gettempdir()}
    return sorted((root.rstrip("/") for root in roots if root and root != "/"), key=len, reverse=True)


# An absolute path left after the known roots are gone (another temp or work folder, a tool's install path):
# reduced to its last part, which is the file's own name and tells the editor which file failed.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:[^\s'\"/:]+/)+([^\s'\"/:]*)")


def server_paths_hidden(text: str) -> str:
    """The text with every server path cut down to the file's name: no MEDIA_ROOT, MEDIA_WORK_DIR or temp path
    in anything an editor sees (errors and log tails name the files ffmpeg was working on)."""
    if not text:
        return text
    for prefix in _path_prefixes():
        text = re.sub(re.escape(prefix) + r"/(?:[^\s'\"]*/)?", "", text)
    return ABSOLUTE_PATH.sub(r"\1", text)


def asset_jobs_current(*, asset: MediaAsset) -> list[TranscodeJob]:
    """The latest analysis and, per group, the latest job it started (a retry replaces a failed one)."""
    analysis = transcode_job_latest(asset=asset, group="analyse")
    if analysis is None:
        return []
    latest: dict[str, TranscodeJob] = {}
    for job in analysis.children.order_by("-id"):
        latest.setdefault(job.group, job)
    return [analysis, *sorted(latest.values(), key=lambda job: job.pk)]


def asset_progress(*, asset: MediaAsset) -> AssetProgress:
    jobs = asset_jobs_current(asset=asset)
    if not jobs:
        return AssetProgress(MediaAsset.State.PENDING, 0.0, "", ())
    analysis, children = jobs[0], jobs[1:]
    if analysis.state in (State.FAILED, State.CANCELLED):
        reason = server_paths_hidden(analysis.error) or analysis.get_state_display()
        return AssetProgress(MediaAsset.State.FAILED, 0.0, reason, tuple(jobs))
    if analysis.state != State.DONE:
        state = MediaAsset.State.PENDING if analysis.state == State.QUEUED else MediaAsset.State.PROCESSING
        return AssetProgress(state, analysis.progress * ANALYSE_SHARE, "", tuple(jobs))
    # A cancelled rendition job means that rendition will not exist: the asset is not ready.
    failed = [job for job in children if job.state in (State.FAILED, State.CANCELLED)]
    progress = ANALYSE_SHARE + (1 - ANALYSE_SHARE) * (
        sum(1.0 if job.state == State.DONE else job.progress for job in children) / len(children) if children else 1
    )
    if failed:
        reason = server_paths_hidden(failed[0].error) or failed[0].get_state_display()
        return AssetProgress(MediaAsset.State.FAILED, progress, reason, tuple(jobs))
    if any(job.state == State.QUEUED or job.state in TranscodeJob.ACTIVE_STATES for job in children):
        return AssetProgress(MediaAsset.State.PROCESSING, progress, "", tuple(jobs))
    return AssetProgress(MediaAsset.State.READY, 1.0, "", tuple(jobs))


def asset_notices(*, asset: MediaAsset) -> list[str]:
    """What the editor should know about an asset that did not fail: embedded picture subtitles not published,
    which of several audio tracks every output uses and which are offered as alternatives."""
    from .steps.audio_tracks import notices as audio_track_notices
    from .steps.captions import image_subtitle_notices

    probe = asset.probe or {}
    notices = image_subtitle_notices(probe.get("subtitle_streams"))
    if asset.kind in (MediaAsset.Kind.VIDEO, MediaAsset.Kind.AUDIO):
        notices += audio_track_notices(probe)
    return notices


def asset_state_display(*, asset: MediaAsset) -> str:
    """What the library item shows: "转码中 45%", or the reason it failed."""
    summary = asset_progress(asset=asset)
    if summary.state == MediaAsset.State.PROCESSING:
        return _("转码中 %(percent)d%%") % {"percent": round(summary.progress * 100)}
    if summary.state == MediaAsset.State.FAILED:
        return _("转码失败：%(error)s") % {"error": summary.error}
    return MediaAsset.State(summary.state).label


def rendition_latest(*, asset: MediaAsset, kind: str, profile: str | None = None) -> Rendition | None:
    """The newest published rendition of a kind (after a file replacement, the new job's)."""
    renditions = asset.renditions.filter(kind=kind)
    if profile is not None:
        renditions = renditions.filter(profile=profile)
    return renditions.order_by("-created_at", "-id").first()


def rendition_hls_get(*, asset: MediaAsset) -> Rendition | None:
    return rendition_latest(asset=asset, kind=Rendition.Kind.HLS, profile=WEB_HLS_PROFILE)


def rendition_poster_get(*, asset: MediaAsset) -> Rendition | None:
    return rendition_latest(asset=asset, kind=Rendition.Kind.POSTER)


def renditions_by_profile(*, asset: MediaAsset) -> dict[str, Rendition]:
    """The newest rendition of every profile the asset has (for players, feeds and the API)."""
    latest: dict[str, Rendition] = {}
    for rendition in asset.renditions.order_by("-created_at", "-id"):
        latest.setdefault(rendition.profile, rendition)
    return latest


def rendition_file_url(*, rendition: Rendition, http_method: str = "GET") -> str:
    """Storage URL of a single-file rendition (presigned on S3, so it expires). ``http_method="HEAD"`` for a HEAD
    that will follow the redirect (Apple's podcast validator checks every enclosure so): S3's signature covers the
    method and refuses a HEAD on a GET-signed URL. Local disk's signed URLs serve both."""
    if http_method == "HEAD" and isinstance(default_storage, MediaS3Storage):
        return default_storage.url(rendition.path, http_method="HEAD")
    return default_storage.url(rendition.path)


@dataclass(frozen=True)
class HlsVariantFiles:
    """The first variant of a stored HLS rendition: its folder name, init segment and segments (storage names)
    with their EXTINF seconds, as the playlist stored them (the linear channel stitches these)."""

    variant: str
    init: str | None
    segments: tuple[tuple[float, str], ...]


def hls_variant_files(*, rendition: Rendition) -> HlsVariantFiles | None:
    """The stored files of an HLS rendition's first variant, read from storage; None when the master or the
    variant playlist is missing or names anything but files beside it. A rendition's files never change."""
    base = rendition.path.rsplit("/", 1)[0]
    try:
        with default_storage.open(rendition.path, "rb") as handle:
            master = handle.read().decode("utf-8")
        variant = next(line.split("/", 1)[0] for line in master.splitlines() if line and not line.startswith("#"))
        with default_storage.open(f"{base}/{variant}/{PLAYLIST_NAME}", "rb") as handle:
            init, segments = media_segments(handle.read().decode("utf-8"))
    except (OSError, StopIteration, ValueError, UnicodeDecodeError):
        return None
    folder = f"{base}/{variant}"
    return HlsVariantFiles(
        variant=variant,
        init=f"{folder}/{init}" if init else None,
        segments=tuple((seconds, f"{folder}/{name}") for seconds, name in segments),
    )


def hls_file_signed_url(*, rendition: Rendition, name: str, lifetime: int) -> str:
    """A signed URL, valid at least ``lifetime`` seconds, of one stored file of an HLS rendition (a name given by
    ``hls_variant_files``): presigned on S3, signed on local disk, like the segments of the VOD playlists."""
    if not name.startswith(rendition.path.rsplit("/", 1)[0] + "/"):
        raise ValueError(name)
    return default_storage.url(name, expire=lifetime)


def stored_document_text(*, asset: MediaAsset, limit: int) -> DocumentText | None:
    """The text the document step stored for this asset (its ``text/all.txt``), at least ``limit`` characters of it
    where it is that long; None where the pipeline has made none (not a document, not processed yet, or failed) or
    the stored file is gone. Nothing is parsed: a 3,000-page book is read as the text it already is."""
    rendition = rendition_latest(asset=asset, kind=Rendition.Kind.TEXT, profile=DOCUMENT_TEXT_PROFILE)
    if rendition is None:
        return None
    try:
        with default_storage.open(rendition.path, "rb") as handle:
            data = handle.read(limit * UTF8_MAX_BYTES)
    except OSError:
        return None
    # The read may stop inside a character: the incremental decoder keeps such a tail back instead of mangling it.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=False)
    return DocumentText(kind="epub" if "chapters" in rendition.meta else "pdf", text=text)


def stored_file_signed_url(*, file) -> str:
    """A short-lived URL of a stored file (a FieldFile, e.g. a Wagtail image rendition's) that works even where its
    plain URL is refused: the page image of an issue not everyone may read (library.access.image_file_public)."""
    return signed_url(file.storage, file.name)


def asset_playback_urls(*, asset: MediaAsset) -> dict[str, str]:
    """Our own URLs for a player: {"hls": master playlist, "poster": image}; keys absent when not ready."""
    urls = {}
    if (master := rendition_hls_get(asset=asset)) is not None:
        urls["hls"] = reverse("media_pipeline:hls_master", args=[master.pk])
    if rendition_poster_get(asset=asset) is not None:
        urls["poster"] = reverse("media_pipeline:poster", args=[asset.pk])
    return urls


# --- Playback tokens: the playlist views without a session ----------------------------------------------------

# An app signed in with a bearer token has no session cookie for the playlist and poster views to check. The API,
# having checked the member may read the item, hands out URLs carrying ``e=<expiry>&t=<signature over the asset id
# and expiry>``; the views accept that instead of the session, and pass it on to the playlists they name. Expiries
# are rounded up like signed storage URLs, so a player sees the same URL for ten minutes and may cache it.
PLAYBACK_TOKEN_SALT = "lighthouse.media.playback"


def _playback_signature(asset_id: int, expires: int) -> str:
    return Signer(salt=PLAYBACK_TOKEN_SALT).signature(f"{asset_id}:{expires}")


def playback_token(*, asset_id: int, now: float | None = None) -> dict[str, str]:
    """{"e": expiry, "t": signature} letting anyone holding it play this asset until the expiry."""
    moment = time.time() if now is None else now
    expires = int((moment + URL_LIFETIME_SECONDS) // URL_GRANULARITY_SECONDS + 1) * URL_GRANULARITY_SECONDS
    return {"e": str(expires), "t": _playback_signature(asset_id, expires)}


def playback_token_query(*, asset_id: int, now: float | None = None) -> str:
    """The token as a query string (without "?") to append to our playlist or poster URLs."""
    return urlencode(playback_token(asset_id=asset_id, now=now))


def playback_token_valid(*, asset_id: int, expires: str, token: str) -> bool:
    try:
        expiry = int(expires)
    except (TypeError, ValueError):
        return False
    if expiry < time.time():
        return False
    return hmac.compare_digest(_playback_signature(asset_id, expiry), token or "")


def transcode_job_state_display(*, job: TranscodeJob | None) -> str:
    """One job's state for the jobs list: "转码中 45%", or the reason it failed."""
    if job is None:
        return _("未转码")
    if job.state in TranscodeJob.ACTIVE_STATES:
        return _("%(state)s %(percent)d%%") % {"state": job.get_state_display(), "percent": round(job.progress * 100)}
    if job.state == TranscodeJob.State.FAILED:
        return _("转码失败：%(error)s") % {"error": server_paths_hidden(job.error)}
    return job.get_state_display()


def transcode_job_status(*, job: TranscodeJob) -> dict:
    """The JSON the admin page polls for one job."""
    return {
        "id": job.pk,
        "asset": job.asset_id,
        "group": job.group,
        "group_display": job.get_group_display(),
        "state": job.state,
        "state_display": transcode_job_state_display(job=job),
        "progress": round(job.progress, 4),
        "attempts": job.attempts,
        "error": server_paths_hidden(job.error),
    }


def asset_status(*, asset: MediaAsset) -> dict:
    """The JSON an item's edit page polls: the overall state and each current job."""
    summary = asset_progress(asset=asset)
    return {
        "asset": asset.pk,
        "state": summary.state,
        "state_display": asset_state_display(asset=asset),
        "progress": round(summary.progress, 4),
        "error": summary.error,
        "notices": asset_notices(asset=asset),
        "jobs": [transcode_job_status(job=job) for job in summary.jobs],
    }


def rendition_previews(*, asset: MediaAsset) -> list[dict]:
    """For the admin: every current rendition with a URL an editor can open (the master through our view,
    files straight from storage, presigned on S3)."""
    previews = []
    for profile, rendition in sorted(renditions_by_profile(asset=asset).items()):
        if rendition.kind == Rendition.Kind.HLS:
            url = reverse("media_pipeline:hls_master", args=[rendition.pk])
        else:
            url = default_storage.url(rendition.path)
        previews.append(
            {
                "profile": profile,
                "kind": rendition.kind,
                "kind_display": rendition.get_kind_display(),
                "url": url,
                "size": rendition.size,
                "dimensions": f"{rendition.width}×{rendition.height}" if rendition.width else "",
            }
        )
    return previews
