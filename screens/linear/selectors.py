"""Reads for the linear channel: which channels go out, and each one's loop as ``playlist.Loop`` — the TV edition's
HLS copy (profile ``tv_1080p_hls``, one 1080p rung every TV item has) of each public, published video, in the
editor's order. Slides and notices have no segments and are left out; so is an item without that rendition.

A rendition's files never change, so its parsed playlist is cached for a day; a channel's loop for a minute under
the channel's last edit and ``LOOPS_GENERATION`` (a box polling every few seconds costs no query; an edit of the
channel, or of an item or rendition on any playlist, shows at the next request).
"""

import uuid

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import QuerySet

from cms.selectors import subtree_of, unit_by_code
from library.selectors import items_visible_to
from media_pipeline.selectors import hls_variant_files, renditions_by_profile

from ..models import Channel, PlaylistEntry, ScreenType
from .playlist import Loop, Programme, seconds_to_micros

TV_HLS_PROFILE = "tv_1080p_hls"
LOOP_CACHE_SECONDS = 60
FILES_CACHE_SECONDS = 24 * 3600


def linear_channels() -> QuerySet[Channel]:
    return Channel.objects.filter(is_linear=True, screen_type=ScreenType.TV).select_related("owning_unit")


def linear_channel(channel_id: int) -> Channel | None:
    return linear_channels().filter(pk=channel_id).first()


def linear_channels_of_unit(code: str) -> QuerySet[Channel] | None:
    """The linear channels of a unit and every unit below it (a province lists its cities' too); None: no unit."""
    unit = unit_by_code(code)
    if unit is None:
        return None
    return linear_channels().filter(owning_unit__in=subtree_of([unit])).order_by("owning_unit__path", "name", "id")


# Bumped when an item or a rendition on any playlist changes (screens.signal_handlers, after commit): an item closed
# to the public must leave every live channel and guide at once, not when its channel's minute of cache runs out.
LOOPS_GENERATION = "screens:linear:generation"


def loops_forget() -> None:
    """Make every cached channel loop stale (the next request of each channel computes it again)."""
    cache.set(LOOPS_GENERATION, uuid.uuid4().hex, None)


def channel_loop(channel: Channel) -> tuple[Loop, dict]:
    """(the loop, {rendition id: rendition}) of a linear channel; the loop may have no programme."""
    generation = cache.get(LOOPS_GENERATION, "0")
    key = f"screens:linear:loop:{channel.pk}:{channel.updated_at.timestamp()}:{generation}"
    cached = cache.get(key)
    if cached is None:
        cached = _channel_loop(channel)
        cache.set(key, cached, LOOP_CACHE_SECONDS)
    return cached


def _channel_loop(channel: Channel) -> tuple[Loop, dict]:
    entries = channel.entries.filter(kind=PlaylistEntry.Kind.VIDEO).select_related("item__media_asset")
    entries = list(entries.order_by("sort_order", "id"))
    public = items_visible_to(AnonymousUser()).filter(pk__in=[entry.item_id for entry in entries])
    public_ids = set(public.values_list("pk", flat=True))
    programmes, renditions = [], {}
    for entry in entries:
        item = entry.item
        if item.pk not in public_ids or item.media_asset is None:
            continue
        rendition = renditions_by_profile(asset=item.media_asset).get(TV_HLS_PROFILE)
        files = _variant_files(rendition) if rendition is not None else None
        if files is None or not files.segments:
            continue
        segments = tuple((seconds_to_micros(seconds), name) for seconds, name in files.segments)
        programmes.append(Programme(key=rendition.pk, title=item.title, init=files.init, segments=segments))
        renditions[rendition.pk] = rendition
    return Loop(tuple(programmes)), renditions


def _variant_files(rendition):
    key = f"screens:linear:files:{rendition.pk}"
    files = cache.get(key)
    if files is None:
        files = hls_variant_files(rendition=rendition)
        if files is not None:
            cache.set(key, files, FILES_CACHE_SECONDS)
    return files
