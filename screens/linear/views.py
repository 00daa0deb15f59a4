"""The linear channel's public routes (anonymous, like broadcast): the live master and media playlist of a channel,
and a unit's guide (XMLTV) and channel list (M3U) for IPTV set-top boxes. Only channels marked 对外直播 of the TV
screen type exist here; every other id is a 404.

Caching: the media playlist changes with every segment, so a CDN may keep it for half a target duration; the
segment URLs inside are signed for the window plus the playback margin (rounded up to ten minutes), so a copy that
young never names an expired one. The master, the guide and the list change only with an edit.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from media_pipeline.selectors import hls_file_signed_url

from . import guide, playlist
from .selectors import channel_loop, linear_channel, linear_channels_of_unit

HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"
RUNG = "1080p"  # the one rung: the TV edition's HLS copy, which every item on the channel has
GUIDE_HOURS = 48
GUIDE_LIMIT = 5000  # programmes per channel in the guide: a loop of very short clips stops here
LISTING_MAX_AGE = 300
MASTER_MAX_AGE = 60


def _response(body, content_type: str, max_age: int) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    patch_cache_control(response, public=True, max_age=max_age)
    return response


def _channel_and_loop(channel_id: int):
    channel = linear_channel(channel_id)
    if channel is None:
        raise Http404
    loop, renditions = channel_loop(channel)
    if not loop.programmes:
        raise Http404  # nothing playable yet: a box tries the next channel
    return channel, loop, renditions


@require_safe
def master(request: HttpRequest, channel_id: int) -> HttpResponse:
    _channel, _loop, renditions = _channel_and_loop(channel_id)
    rows = list(renditions.values())
    codecs = []
    for rendition in rows:
        for codec in (rendition.meta.get("codecs") or "").split(","):
            if codec and codec not in codecs:
                codecs.append(codec)
    averages = [rendition.meta.get("average_bandwidth") or 0 for rendition in rows]
    rates = [rendition.meta.get("frame_rate") or 0 for rendition in rows]
    rung = playlist.Rung(
        url=reverse("screens_linear:media", args=[channel_id, RUNG]),
        bandwidth=max(rendition.bandwidth or 0 for rendition in rows),
        average_bandwidth=max(averages) or None,
        codecs=",".join(codecs),
        width=max(rendition.width or 0 for rendition in rows),
        height=max(rendition.height or 0 for rendition in rows),
        frame_rate=max(rates) or None,
    )
    return _response(playlist.master_playlist([rung]), HLS_CONTENT_TYPE, MASTER_MAX_AGE)


@require_safe
def media(request: HttpRequest, channel_id: int, rung: str) -> HttpResponse:
    if rung != RUNG:
        raise Http404
    _channel, loop, renditions = _channel_and_loop(channel_id)
    live = playlist.window(loop, timezone.now())
    seconds = sum(entry.micros for entry in live.entries) / playlist.MICROS
    lifetime = math.ceil(seconds) + settings.MEDIA_PLAYBACK_URL_MARGIN_SECONDS
    urls: dict[str, str] = {}

    def url(programme: playlist.Programme, name: str) -> str:
        if name not in urls:
            urls[name] = hls_file_signed_url(rendition=renditions[programme.key], name=name, lifetime=lifetime)
        return urls[name]

    text = playlist.media_playlist(live, url)
    return _response(text, HLS_CONTENT_TYPE, max(1, live.target_duration // 2))


def _guide_channels(request: HttpRequest, code: str) -> list[guide.GuideChannel]:
    channels = linear_channels_of_unit(code)
    if channels is None:
        raise Http404
    start = timezone.now()
    end = start + timedelta(hours=GUIDE_HOURS)
    rows = []
    for channel in channels:
        loop, _renditions = channel_loop(channel)
        if not loop.programmes:
            continue
        airings = playlist.airings(loop, start, end, limit=GUIDE_LIMIT)
        rows.append(
            guide.GuideChannel(
                tvg_id=tvg_id(channel.pk),
                name=channel.name,
                group=channel.owning_unit.name,
                master_url=request.build_absolute_uri(reverse("screens_linear:master", args=[channel.pk])),
                airings=[(programme.title, begin, stop) for programme, begin, stop in airings],
            )
        )
    return rows


def tvg_id(channel_id: int) -> str:
    """The channel's id in the guide and the list: stable for as long as the channel exists."""
    return f"lighthouse-{channel_id}"


@require_safe
def guide_xml(request: HttpRequest, code: str) -> HttpResponse:
    body = guide.xmltv(_guide_channels(request, code), generator="Lighthouse")
    return _response(body, "application/xml; charset=utf-8", LISTING_MAX_AGE)


@require_safe
def channels_m3u(request: HttpRequest, code: str) -> HttpResponse:
    channels = _guide_channels(request, code)
    guide_url = request.build_absolute_uri(reverse("screens_linear:guide", args=[code]))
    return _response(guide.m3u(channels, guide_url=guide_url), "audio/x-mpegurl; charset=utf-8", LISTING_MAX_AGE)
