"""Playback: playlists rewritten per request, posters, the job status the admin polls, and local media files
behind signed URLs.

Every playlist (master, variant, I-frame, subtitle) is served here, never cached: the segment URLs inside are
presigned and expire. Access is the session user's (the MEDIA_PLAYBACK_ACCESS_CHECK seam) or, for apps with no
session, a playback token the API signed (selectors.playback_token), which a master passes on to the playlists it
names. Segments themselves go straight from storage, where long immutable caching belongs (their names never change
content within a rendition).
"""

import math
import posixpath
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_safe
from django.views.static import serve

from .delivery.access import image_file_public, playback_allowed
from .delivery.playlists import (
    audio_only_master,
    is_plain_file_name,
    playlist_seconds,
    resolve_inside,
    rewrite_master,
    rewrite_media,
    subtitle_key,
    subtitle_uri,
)
from .delivery.ranges import ranged_response
from .ffmpeg.commands import PLAYLIST_NAME
from .models import MediaAsset, Rendition
from .selectors import (
    playback_token_valid,
    rendition_file_url,
    rendition_poster_get,
    transcode_job_status,
    transcode_jobs_managed_by,
)
from .steps.iframes import IFRAME_PLAYLIST_NAME
from .storage import (
    URL_GRANULARITY_SECONDS,
    is_canonical_name,
    is_canonical_request_path,
    is_protected,
    object_parameters,
    response_parameters,
    signature_valid,
)

HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"


def _token_query(request: HttpRequest, asset: MediaAsset) -> str | None:
    """ "?e=…&t=…" when the request carries a valid playback token for this asset, else None."""
    expires, token = request.GET.get("e", ""), request.GET.get("t", "")
    if not token or not playback_token_valid(asset_id=asset.pk, expires=expires, token=token):
        return None
    return "?" + urlencode({"e": expires, "t": token})


def _may_play(request: HttpRequest, asset: MediaAsset) -> bool:
    return _token_query(request, asset) is not None or playback_allowed(user=request.user, asset=asset)


def _hls_rendition_or_404(request: HttpRequest, rendition_id: int) -> Rendition:
    rendition = get_object_or_404(Rendition.objects.select_related("asset"), pk=rendition_id, kind="hls")
    if not _may_play(request, rendition.asset):
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
    if request.GET.get("rungs") == "audio":  # 仅声音（省流量）: the web player's audio-only choice
        text = audio_only_master(text)
        if text is None:
            raise Http404
    pk = rendition.pk
    # A player that came with a token (no session) needs it on every playlist the master names too.
    query = _token_query(request, rendition.asset) or ""
    return _playlist_response(
        rewrite_master(
            text,
            lambda variant: reverse("media_pipeline:hls_variant", args=[pk, variant]) + query,
            subtitles_url=lambda uri: reverse("media_pipeline:hls_subtitles", args=[pk, subtitle_key(uri)]) + query,
            iframe_url=lambda variant: reverse("media_pipeline:hls_iframes", args=[pk, variant]) + query,
        )
    )


@require_GET
def hls_variant(request: HttpRequest, rendition_id: int, variant: str) -> HttpResponse:
    rendition = _hls_rendition_or_404(request, rendition_id)
    return _media_playlist_response(f"{_master_dir(rendition)}/{variant}", PLAYLIST_NAME)


@require_GET
def hls_iframes(request: HttpRequest, rendition_id: int, variant: str) -> HttpResponse:
    rendition = _hls_rendition_or_404(request, rendition_id)
    return _media_playlist_response(f"{_master_dir(rendition)}/{variant}", IFRAME_PLAYLIST_NAME)


@require_GET
def hls_subtitles(request: HttpRequest, rendition_id: int, language: str) -> HttpResponse:
    """Only a subtitle playlist the master itself names, and only inside this job's folder."""
    rendition = _hls_rendition_or_404(request, rendition_id)
    master_dir = _master_dir(rendition)
    uri = subtitle_uri(_read_text(rendition.path), language)
    name = resolve_inside(master_dir, uri, root=posixpath.dirname(master_dir)) if uri else None
    if name is None:
        raise Http404
    base, file_name = name.rsplit("/", 1)
    return _media_playlist_response(base, file_name)


def _master_dir(rendition: Rendition) -> str:
    return rendition.path.rsplit("/", 1)[0]


def _media_playlist_response(base: str, playlist_name: str) -> HttpResponse:
    text = _read_text(f"{base}/{playlist_name}")
    urls: dict[str, str] = {}  # an I-frame playlist names each segment several times: sign it once
    # Long enough to play the whole playlist through, plus a margin (pauses, slow starts); a player back after a
    # longer pause asks for the playlist again, and so for the access decision again (static/js/player.js).
    lifetime = math.ceil(playlist_seconds(text)) + settings.MEDIA_PLAYBACK_URL_MARGIN_SECONDS

    def segment_url(name: str) -> str:
        if not is_plain_file_name(name):
            raise Http404
        if name not in urls:
            urls[name] = default_storage.url(f"{base}/{name}", expire=lifetime)
        return urls[name]

    return _playlist_response(rewrite_media(text, segment_url))


@require_GET
def poster(request: HttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, pk=asset_id)
    rendition = rendition_poster_get(asset=asset)
    if rendition is None or not _may_play(request, asset):
        raise Http404
    response = HttpResponseRedirect(rendition_file_url(rendition=rendition))
    add_never_cache_headers(response)
    return response


@require_GET
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    if not request.user.has_perm("wagtailadmin.access_admin"):
        return JsonResponse({"error": "forbidden"}, status=403)
    job = get_object_or_404(transcode_jobs_managed_by(request.user), pk=job_id)  # another unit's job: a 404
    response = JsonResponse(transcode_job_status(job=job), json_dumps_params={"ensure_ascii": False})
    add_never_cache_headers(response)
    return response


# The response parameters a signed local URL may carry (named as S3 names them) and the header each one sets.
SIGNED_HEADERS = {"response-content-disposition": "Content-Disposition", "response-cache-control": "Cache-Control"}


@require_safe  # HEAD too: podcast apps check an enclosure's size and ranges with HEAD after the redirect
def media_file(request: HttpRequest, path: str) -> HttpResponse:
    """Local media (the embedded default), deny by default: Wagtail's images as they are, unless the library says
    one is a page of an issue not everyone may read; any other file (and such an image) only by the exact path
    storage wrote and a valid, unexpired signature for that name and its response parameters.
    Everything else is the same 404 as a missing file: no hint whether it exists."""
    name = _requested_name(request, path)
    if name is None:
        raise Http404
    private = is_protected(name) or not image_file_public(name=name)
    signed_headers = _signed_headers_or_404(request, name) if private else None
    response = serve(request, name, document_root=settings.MEDIA_ROOT)
    response["Content-Type"] = object_parameters(name)["ContentType"]
    if signed_headers is not None:
        response["Cache-Control"] = f"private, max-age={URL_GRANULARITY_SECONDS}"
        response["X-Content-Type-Options"] = "nosniff"
        for parameter, value in signed_headers.items():
            response[SIGNED_HEADERS[parameter]] = value
    return ranged_response(request, Path(settings.MEDIA_ROOT) / name, response)


def _signed_headers_or_404(request: HttpRequest, name: str) -> dict[str, str]:
    """The response parameters of a correctly signed request for ``name`` (a reader link's "inline, no-store", a
    download link's attachment and file name); 404 when the signature does not cover exactly these."""
    parameters = response_parameters(request.GET)
    if not signature_valid(name, request.GET.get("e", ""), request.GET.get("s", ""), response=parameters):
        raise Http404
    return parameters


def _requested_name(request: HttpRequest, path: str) -> str | None:
    """The storage name a /media/ request asks for, or None when the path is not spelled the one way storage
    URLs spell it. ``//``, ``/./``, ``/../``, backslashes, NUL and trailing dots show in the decoded path too;
    where the server passes the undecoded one on (gunicorn's RAW_URI, uwsgi's REQUEST_URI) any encoding that
    changes under decoding (``%2F``, ``%2e``) is refused as well. Decided before the file system is asked."""
    if not is_canonical_name(path):
        return None
    raw = _raw_path(request)
    if raw is not None and not is_canonical_request_path(raw, request.path):
        return None
    return path


def _raw_path(request: HttpRequest) -> str | None:
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if not raw:
        return None  # runserver and the test client decode before we see it: the decoded checks stand alone
    target = raw.split("#", 1)[0].split("?", 1)[0]
    # An absolute-form request-target ("http://host/media/…"); "//…" is a path here, not a host.
    return target if target.startswith("/") else urlsplit(target).path
