"""Playback: playlists rewritten per request, posters, and the job status the admin polls."""

from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from .access import playback_allowed
from .commands import PLAYLIST_NAME
from .models import MediaAsset, Rendition, TranscodeJob
from .playlists import is_plain_file_name, rewrite_master, rewrite_media
from .selectors import rendition_file_url, rendition_poster_get, transcode_job_status

HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"


def _hls_rendition_or_404(request: HttpRequest, rendition_id: int) -> Rendition:
    rendition = get_object_or_404(Rendition.objects.select_related("asset"), pk=rendition_id, kind="hls")
    if not playback_allowed(user=request.user, asset=rendition.asset):
        raise Http404  # no hint that the item exists
    return rendition


def _read_text(name: str) -> str:
    if not default_storage.exists(name):
        raise Http404
    with default_storage.open(name, "rb") as handle:
        return handle.read().decode("utf-8")


def _playlist_response(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type=HLS_CONTENT_TYPE)
    # The segment URLs inside are presigned and expire: a cached copy would stop playing.
    add_never_cache_headers(response)
    return response


@require_GET
def hls_master(request: HttpRequest, rendition_id: int) -> HttpResponse:
    rendition = _hls_rendition_or_404(request, rendition_id)
    text = _read_text(rendition.path)
    return _playlist_response(
        rewrite_master(text, lambda variant: reverse("media_pipeline:hls_variant", args=[rendition.pk, variant]))
    )


@require_GET
def hls_variant(request: HttpRequest, rendition_id: int, variant: str) -> HttpResponse:
    rendition = _hls_rendition_or_404(request, rendition_id)
    base = f"{rendition.path.rsplit('/', 1)[0]}/{variant}"
    text = _read_text(f"{base}/{PLAYLIST_NAME}")

    def segment_url(name: str) -> str:
        if not is_plain_file_name(name):
            raise Http404
        return default_storage.url(f"{base}/{name}")

    return _playlist_response(rewrite_media(text, segment_url))


@require_GET
def poster(request: HttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, pk=asset_id)
    rendition = rendition_poster_get(asset=asset)
    if rendition is None or not playback_allowed(user=request.user, asset=asset):
        raise Http404
    response = HttpResponseRedirect(rendition_file_url(rendition=rendition))
    add_never_cache_headers(response)
    return response


@require_GET
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    if not request.user.has_perm("wagtailadmin.access_admin"):
        return JsonResponse({"error": "forbidden"}, status=403)
    job = get_object_or_404(TranscodeJob, pk=job_id)
    response = JsonResponse(transcode_job_status(job=job), json_dumps_params={"ensure_ascii": False})
    add_never_cache_headers(response)
    return response
